import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { SoftwareXmlSigner } from '../../src/signing/signers/software';
import { pinnedCertificateCheck, trustListCheck } from '../../src/signing/trust-check';
import { verifySignedXml } from '../../src/signing/verifier';
import { SigningError, VerificationError } from '../../src/signing/errors';
import { devIdentity, devP12Password, devTrustLists } from './support/dev-identities';

/** Signers and the verifier against the development PKI and its trust lists (H3's relying-party check). */
const unsigned = readFileSync(new URL('../fixtures/signing/ceb311-unsigned.xml', import.meta.url), 'utf8');
const attackFixture = readFileSync(
  new URL('../fixtures/signing/attacks/attacker-certificate.xml', import.meta.url),
  'utf8',
);

async function signerFor(id: string): Promise<SoftwareXmlSigner> {
  const identity = devIdentity(id);
  return SoftwareXmlSigner.fromFiles(
    { keyPath: identity.keyPath, certPath: identity.certPath },
    { trust: trustListCheck(devTrustLists()) },
  );
}

async function errorOf(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof SigningError || err instanceof VerificationError)
      return { code: err.code, message: err.message };
    throw err;
  }
  return { code: 'ACCEPTED', message: '' };
}

describe('signing/signers and verifier with the development trust lists', () => {
  it('an MR seller certificate (GD, RSA) signs, and the message verifies against the trust lists', async () => {
    const signer = await signerFor('seller-gd');
    expect(signer.identity.trustedBy).to.equal('gd');
    const verified = await verifySignedXml(signer.signSync(unsigned), { trustLists: devTrustLists() });
    expect(verified.signer).to.include({
      serialHex: devIdentity('seller-gd').serialHex,
      trustedBy: 'gd',
      trustList: 'gd',
      pinned: false,
      algorithm: 'rsa-sha1',
    });
    expect(verified.signedXml).to.equal(unsigned);
  });

  it('an E-port operator SM2 certificate signs from its PKCS#12 bundle, and verifies against the eport list', async () => {
    const identity = devIdentity('operator-sm2');
    const signer = await SoftwareXmlSigner.fromFiles(
      { keyPath: identity.p12Path, password: devP12Password() },
      { trust: trustListCheck(devTrustLists()) },
    );
    const signed = signer.signSync(unsigned);
    expect(/<ds:KeyName>([^<]+)</.exec(signed)?.[1]).to.equal(identity.serialHex);
    const verified = await verifySignedXml(signed, { trustLists: devTrustLists() });
    expect(verified.signer).to.include({ algorithm: 'sm2-sm3', trustedBy: 'eport' });
  });

  it('an RSA operator certificate signs from its PKCS#12 bundle (node-forge path)', async () => {
    const identity = devIdentity('operator-rsa');
    const signer = await SoftwareXmlSigner.fromFiles(
      { keyPath: identity.p12Path, password: devP12Password() },
      { trust: trustListCheck(devTrustLists()) },
    );
    expect(signer.identity.serialHex).to.equal(identity.serialHex);
  });

  for (const [id, reason] of [
    ['seller-gd-expired', 'CERT_EXPIRED'],
    ['seller-untrusted', 'UNTRUSTED_ISSUER'],
    ['seller-hk-revoked', 'CERT_REVOKED'],
  ] as const) {
    it(`refuses to build a signer for ${id}, giving the relying-party reason ${reason}`, async () => {
      const err = await errorOf(signerFor(id));
      expect(err.code).to.equal('SIGNER_CERT_UNTRUSTED');
      expect(err.message).to.include(reason);
    });
  }

  it('the verifier rejects a message signed by a revoked certificate (CERT_UNTRUSTED with the reason)', async () => {
    const identity = devIdentity('seller-hk-revoked');
    // Built with the certificate pinned so that a signature exists at all; the trust lists must still refuse it.
    const signer = await SoftwareXmlSigner.fromFiles(
      { keyPath: identity.keyPath, certPath: identity.certPath },
      { trust: pinnedCertificateCheck(readFileSync(identity.certPath)) },
    );
    const err = await errorOf(verifySignedXml(signer.signSync(unsigned), { trustLists: devTrustLists() }));
    expect(err.code).to.equal('CERT_UNTRUSTED');
    expect(err.message).to.include('CERT_REVOKED');
  });

  it("the verifier rejects the attacker's self-signed KeyInfo certificate against the trust lists too", async () => {
    const err = await errorOf(verifySignedXml(attackFixture, { trustLists: devTrustLists() }));
    expect(err.code).to.equal('CERT_UNTRUSTED');
  });
});
