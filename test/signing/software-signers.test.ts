import { readFileSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';
import { expect } from 'chai';
import { SoftwareXmlSigner } from '../../src/signing/signers/software';
import { loadKeyMaterial } from '../../src/signing/signers/key-loader';
import { pinnedCertificateCheck, type CertificateTrustCheck } from '../../src/signing/trust-check';
import { verifySignedXml } from '../../src/signing/verifier';
import { SigningError } from '../../src/signing/errors';
import { ALGORITHM_URI } from '../../src/signing/algorithms';
import { sm2Verify, SM2_DEFAULT_ID } from '../../src/signing/sm2';
import { sharedTempPki } from './support/temp-pki';

const unsigned = readFileSync(new URL('../fixtures/signing/ceb311-unsigned.xml', import.meta.url), 'utf8');
const valueOf = (xml: string, el: string): string =>
  new RegExp(`<ds:${el}(?: Algorithm="([^"]+)"></ds:${el}>|>([^<]*)</ds:${el}>)`)
    .exec(xml)
    ?.slice(1)
    .find((v) => v !== undefined) ?? '';

async function rejectionOf(promise: Promise<unknown>): Promise<SigningError> {
  try {
    await promise;
  } catch (err) {
    expect(err).to.be.instanceOf(SigningError);
    return err as SigningError;
  }
  throw new Error('expected a rejection');
}

describe('signing/software signers', () => {
  const pki = sharedTempPki();

  it('signs RSA with rsa-sha1 and a SHA-1 digest by default (the spec profile)', async () => {
    const signer = await SoftwareXmlSigner.fromFiles(
      { keyPath: pki.rsa.keyPath, certPath: pki.rsa.certPath },
      { trust: pinnedCertificateCheck(pki.rsa.certPem) },
    );
    const signed = signer.signSync(unsigned);
    expect(signer.algorithm).to.equal('rsa-sha1');
    expect(valueOf(signed, 'SignatureMethod')).to.equal(ALGORITHM_URI.rsaSha1);
    expect(valueOf(signed, 'DigestMethod')).to.equal(ALGORITHM_URI.sha1);
    expect(Buffer.from(valueOf(signed, 'SignatureValue'), 'base64')).to.have.length(256);
    const verified = await verifySignedXml(signed, { pinnedCertificate: pki.rsa.certPem });
    expect(verified.signedXml).to.equal(unsigned);
  });

  it('signs RSA with rsa-sha256 and a SHA-256 digest when chosen', async () => {
    const signer = await SoftwareXmlSigner.fromFiles(
      { keyPath: pki.rsa.keyPath, certPath: pki.rsa.certPath },
      { trust: pinnedCertificateCheck(pki.rsa.certPem), algorithm: 'rsa-sha256' },
    );
    const signed = await signer.sign(unsigned);
    expect(valueOf(signed, 'SignatureMethod')).to.equal(ALGORITHM_URI.rsaSha256);
    expect(valueOf(signed, 'DigestMethod')).to.equal(ALGORITHM_URI.sha256);
    expect((await verifySignedXml(signed, { pinnedCertificate: pki.rsa.certPem })).signer.algorithm).to.equal(
      'rsa-sha256',
    );
  });

  it('signs SM2 with the chinaport 2022 URIs, an SM3 digest and a raw 64-byte r‖s SignatureValue over the ID 1234567812345678', async () => {
    const signer = await SoftwareXmlSigner.fromFiles(
      { keyPath: pki.sm2.keyPath, certPath: pki.sm2.certPath },
      { trust: pinnedCertificateCheck(pki.sm2.certPem) },
    );
    const signed = signer.signSync(unsigned);
    expect(signer.algorithm).to.equal('sm2-sm3');
    expect(valueOf(signed, 'SignatureMethod')).to.equal(ALGORITHM_URI.sm2Sm3Chinaport);
    expect(valueOf(signed, 'DigestMethod')).to.equal(ALGORITHM_URI.sm3Chinaport);
    const sig = Buffer.from(valueOf(signed, 'SignatureValue'), 'base64');
    expect(sig).to.have.length(64);
    // With a different ID the signature must NOT verify: the ID is really part of what was signed.
    const si = signed
      .slice(signed.indexOf('<ds:SignedInfo>'), signed.indexOf('</ds:SignedInfo>') + 16)
      .replace(
        '<ds:SignedInfo>',
        '<ds:SignedInfo xmlns:ceb="http://www.chinaport.gov.cn/ceb" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">',
      );
    const cert = loadKeyMaterial({ keyPath: pki.sm2.keyPath, certPath: pki.sm2.certPath }).certificate;
    expect(sm2Verify(cert.publicKey, si, sig, { id: SM2_DEFAULT_ID })).to.equal(true);
    expect(sm2Verify(cert.publicKey, si, sig, { id: '' })).to.equal(false);
  });

  it('signs SM2 with the w3.org sm2-sm3 URI and a SHA-1 digest when that destination variant is chosen', async () => {
    const signer = await SoftwareXmlSigner.fromFiles(
      { keyPath: pki.sm2.keyPath, certPath: pki.sm2.certPath },
      { trust: pinnedCertificateCheck(pki.sm2.certPem), algorithm: 'sm2-sm3-w3c' },
    );
    const signed = signer.signSync(unsigned);
    expect(valueOf(signed, 'SignatureMethod')).to.equal(ALGORITHM_URI.sm2Sm3W3c);
    expect(valueOf(signed, 'DigestMethod')).to.equal(ALGORITHM_URI.sha1);
    expect((await verifySignedXml(signed, { pinnedCertificate: pki.sm2.certPem })).signer.algorithm).to.equal(
      'sm2-sm3-w3c',
    );
  });

  it('loads an RSA PKCS#12 bundle (node-forge) with its certificate', async () => {
    const material = loadKeyMaterial({ keyPath: pki.rsa.p12Path, password: pki.password });
    expect(material.certificate.serialHex).to.equal('01691f7f');
    const signer = await SoftwareXmlSigner.create({ ...material, trust: pinnedCertificateCheck(pki.rsa.certPem) });
    expect(
      (await verifySignedXml(signer.signSync(unsigned), { pinnedCertificate: pki.rsa.certPem })).signer.serialHex,
    ).to.equal('01691f7f');
  });

  it('loads an SM2 PKCS#12 bundle (through the openssl CLI) with its certificate', async () => {
    const material = loadKeyMaterial({ keyPath: pki.sm2.p12Path, password: pki.password });
    expect(material.certificate.serialHex).to.equal('00a1b2');
    expect(material.certificate.keyFamily).to.equal('sm2');
    const signer = await SoftwareXmlSigner.create({ ...material, trust: pinnedCertificateCheck(pki.sm2.certPem) });
    expect(
      (await verifySignedXml(signer.signSync(unsigned), { pinnedCertificate: pki.sm2.certPem })).signer.algorithm,
    ).to.equal('sm2-sm3');
  });

  it('reports a wrong PKCS#12 password as KEY_LOAD_FAILED naming the file', () => {
    expect(() => loadKeyMaterial({ keyPath: pki.rsa.p12Path, password: 'wrong' }))
      .to.throw(SigningError)
      .that.satisfies((e: SigningError) => e.code === 'KEY_LOAD_FAILED' && e.message.includes(pki.rsa.p12Path));
  });

  it('reports a missing key file as KEY_LOAD_FAILED', () => {
    expect(() => loadKeyMaterial({ keyPath: '/nonexistent/key.pem' }))
      .to.throw(SigningError)
      .with.property('code', 'KEY_LOAD_FAILED');
  });

  it('refuses a private key that does not belong to the certificate (KEY_CERT_MISMATCH)', async () => {
    const err = await rejectionOf(
      SoftwareXmlSigner.create({
        privateKey: createPrivateKey(pki.attackerRsa.keyPem),
        certificate: pki.rsa.certPem,
        trust: pinnedCertificateCheck(pki.rsa.certPem),
      }),
    );
    expect(err.code).to.equal('KEY_CERT_MISMATCH');
  });

  it('refuses an algorithm that does not fit the key (sm2-sm3 with an RSA key)', async () => {
    const err = await rejectionOf(
      SoftwareXmlSigner.fromFiles(
        { keyPath: pki.rsa.keyPath, certPath: pki.rsa.certPath },
        { trust: pinnedCertificateCheck(pki.rsa.certPem), algorithm: 'sm2-sm3' },
      ),
    );
    expect(err.code).to.equal('ALG_KEY_MISMATCH');
  });

  it('refuses to build a signer whose certificate fails the relying-party check, with its reason', async () => {
    const reject: CertificateTrustCheck = () => ({ ok: false, reason: 'issuer not on any trust list' });
    const err = await rejectionOf(
      SoftwareXmlSigner.fromFiles({ keyPath: pki.rsa.keyPath, certPath: pki.rsa.certPath }, { trust: reject }),
    );
    expect(err.code).to.equal('SIGNER_CERT_UNTRUSTED');
    expect(err.message).to.include('issuer not on any trust list');
  });

  it('runs the relying-party check once per signer, not per message', async () => {
    let calls = 0;
    const counting: CertificateTrustCheck = () => {
      calls++;
      return { ok: true, trustedBy: 'test-list' };
    };
    const signer = await SoftwareXmlSigner.fromFiles(
      { keyPath: pki.rsa.keyPath, certPath: pki.rsa.certPath },
      { trust: counting },
    );
    for (let i = 0; i < 5; i++) await signer.sign(unsigned);
    expect(calls).to.equal(1);
    expect(signer.identity).to.include({
      subject: 'C=CN, O=Baygate Test, CN=Baygate Test RSA Signer',
      serialHex: '01691f7f',
      trustedBy: 'test-list',
    });
    expect(signer.identity.notAfter.getTime()).to.be.greaterThan(Date.now());
  });
});
