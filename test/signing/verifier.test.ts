import { readFileSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';
import { expect } from 'chai';
import { verifySignedXml, type VerifyOptions } from '../../src/signing/verifier';
import { VerificationError } from '../../src/signing/errors';
import { SoftwareXmlSigner } from '../../src/signing/signers/software';
import { pinnedCertificateCheck } from '../../src/signing/trust-check';
import { ALGORITHM_URI } from '../../src/signing/algorithms';
import { sharedTempPki } from './support/temp-pki';
import { reindentLikeEport } from './support/reindent';

const dir = new URL('../fixtures/signing/', import.meta.url);
const read = (name: string): string => readFileSync(new URL(name, dir), 'utf8');
const fixtureCert = read('fixture-signer.crt.pem');
const unsigned = read('ceb311-unsigned.xml');

async function codeOf(xml: string, options: VerifyOptions): Promise<string> {
  try {
    await verifySignedXml(xml, options);
  } catch (err) {
    if (err instanceof VerificationError) return err.code;
    throw err;
  }
  return 'ACCEPTED';
}

describe('signing/verifier', () => {
  const pki = sharedTempPki();

  it('returns only the signed bytes (the document without its Signature, as digested) and the signer', async () => {
    const verified = await verifySignedXml(read('ceb311-signed-rsa.xml'), { pinnedCertificate: fixtureCert });
    expect(verified.signedXml).to.equal(unsigned);
    expect(verified.signedXml).to.not.include('Signature');
    expect(verified.mode).to.equal('strict');
    expect(verified.signer).to.include({
      serialHex: '0c0ffee1',
      algorithm: 'rsa-sha1',
      trustedBy: 'pinned',
      pinned: true,
    });
    expect(verified.signer.subject).to.include('Baygate Fixture Signer');
    expect(verified.signer.trustList).to.equal(undefined);
  });

  it('strict mode rejects a message re-indented after signing (DIGEST_MISMATCH)', async () => {
    expect(await codeOf(read('ceb311-signed-rsa-reindented.xml'), { pinnedCertificate: fixtureCert })).to.equal(
      'DIGEST_MISMATCH',
    );
  });

  it('eport mode accepts the re-indented message and returns the original compact bytes', async () => {
    const verified = await verifySignedXml(read('ceb311-signed-rsa-reindented.xml'), {
      pinnedCertificate: fixtureCert,
      mode: 'eport',
    });
    expect(verified.signedXml).to.equal(unsigned);
    expect(verified.mode).to.equal('eport');
  });

  it('eport mode still rejects a re-indented message whose body was changed', async () => {
    const tampered = read('ceb311-signed-rsa-reindented.xml').replace(
      '<ceb:freight>10</ceb:freight>',
      '<ceb:freight>1</ceb:freight>',
    );
    expect(await codeOf(tampered, { pinnedCertificate: fixtureCert, mode: 'eport' })).to.equal('DIGEST_MISMATCH');
  });

  it('eport mode rejects a pretty SignedInfo whose values were changed (SIGNATURE_INVALID)', async () => {
    const xml = read('ceb311-signed-rsa-reindented.xml').replace(
      '<ds:KeyName>0c0ffee1</ds:KeyName>',
      '<ds:KeyName>0c0ffee1</ds:KeyName>',
    );
    // Swap the DigestValue for the digest of a tampered body: the body matches, the signature cannot.
    const { createHash } = await import('node:crypto');
    const tamperedBody = unsigned.replace('<ceb:freight>10</ceb:freight>', '<ceb:freight>1</ceb:freight>');
    const forged = xml
      .replace('<ceb:freight>10</ceb:freight>', '<ceb:freight>1</ceb:freight>')
      .replace(
        /<ds:DigestValue>[^<]+</,
        `<ds:DigestValue>${createHash('sha1').update(tamperedBody).digest('base64')}<`,
      );
    expect(await codeOf(forged, { pinnedCertificate: fixtureCert, mode: 'eport' })).to.equal('SIGNATURE_INVALID');
  });

  it('verifies an SM2-signed message in strict mode', async () => {
    const signer = await SoftwareXmlSigner.create({
      privateKey: createPrivateKey(pki.sm2.keyPem),
      certificate: pki.sm2.certPem,
      trust: pinnedCertificateCheck(pki.sm2.certPem),
    });
    const verified = await verifySignedXml(signer.signSync(unsigned), { pinnedCertificate: pki.sm2.certPem });
    expect(verified.signer).to.include({ algorithm: 'sm2-sm3', serialHex: '00a1b2' });
  });

  it('eport mode accepts a re-indented SM2 message (wrapped Base64, pretty SignedInfo); strict mode does not', async () => {
    const signer = await SoftwareXmlSigner.create({
      privateKey: createPrivateKey(pki.sm2.keyPem),
      certificate: pki.sm2.certPem,
      trust: pinnedCertificateCheck(pki.sm2.certPem),
    });
    const reindented = reindentLikeEport(signer.signSync(unsigned));
    const verified = await verifySignedXml(reindented, { pinnedCertificate: pki.sm2.certPem, mode: 'eport' });
    expect(verified.signedXml).to.equal(unsigned);
    expect(await codeOf(reindented, { pinnedCertificate: pki.sm2.certPem })).to.equal('DIGEST_MISMATCH');
  });

  it('eport mode accepts a message whose only change is a pretty SignedInfo (the strict check fails on the signature)', async () => {
    const signed = read('ceb311-signed-rsa.xml');
    const prettySignedInfo = signed.replace(/<ds:SignedInfo>[\s\S]*<\/ds:SignedInfo>/, (si) =>
      si.replace(/><ds:/g, '>\n<ds:').replace(/><\/ds:(SignedInfo|Reference|Transforms)>/g, '>\n</ds:$1>'),
    );
    expect(await codeOf(prettySignedInfo, { pinnedCertificate: fixtureCert })).to.equal('SIGNATURE_INVALID');
    expect(await codeOf(prettySignedInfo, { pinnedCertificate: fixtureCert, mode: 'eport' })).to.equal('ACCEPTED');
  });

  it('enforces a narrowed allow-list (SHA-1 refused when the caller allows only SHA-256)', async () => {
    const options = {
      pinnedCertificate: fixtureCert,
      allowedSignatureMethods: [ALGORITHM_URI.rsaSha256],
      allowedDigestMethods: [ALGORITHM_URI.sha256],
    };
    expect(await codeOf(read('ceb311-signed-rsa.xml'), options)).to.equal('ALG_NOT_ALLOWED');
  });

  it('rejects a certificate that is not the pinned one (CERT_UNTRUSTED)', async () => {
    expect(await codeOf(read('ceb311-signed-rsa.xml'), { pinnedCertificate: pki.rsa.certPem })).to.equal(
      'CERT_UNTRUSTED',
    );
  });

  it('uses the pinned certificate when KeyInfo carries none', async () => {
    const noKeyInfo = read('ceb311-signed-rsa.xml').replace(/<ds:KeyInfo>[\s\S]*<\/ds:KeyInfo>/, '');
    expect((await verifySignedXml(noKeyInfo, { pinnedCertificate: fixtureCert })).signer.pinned).to.equal(true);
  });

  it('never trusts KeyInfo by itself: without trust lists or a pinned certificate it refuses to run', async () => {
    let error: unknown;
    try {
      await verifySignedXml(read('ceb311-signed-rsa.xml'), {});
    } catch (err) {
      error = err;
    }
    expect(String(error)).to.include('exactly one of trustLists or pinnedCertificate');
  });

  it('rejects a KeyName that is not the certificate serial in strict mode (KEYNAME_MISMATCH)', async () => {
    const xml = read('ceb311-signed-rsa.xml').replace(
      '<ds:KeyName>0c0ffee1</ds:KeyName>',
      '<ds:KeyName>0001</ds:KeyName>',
    );
    expect(await codeOf(xml, { pinnedCertificate: fixtureCert })).to.equal('KEYNAME_MISMATCH');
    expect(await codeOf(xml, { pinnedCertificate: fixtureCert, mode: 'eport' })).to.equal('ACCEPTED');
    const sameNumber = read('ceb311-signed-rsa.xml').replace(
      '<ds:KeyName>0c0ffee1</ds:KeyName>',
      '<ds:KeyName>C0FFEE1</ds:KeyName>',
    );
    expect(await codeOf(sameNumber, { pinnedCertificate: fixtureCert })).to.equal('ACCEPTED');
  });

  it('rejects documents over the size limit before parsing (XML_TOO_LARGE)', async () => {
    expect(await codeOf(read('ceb311-signed-rsa.xml'), { pinnedCertificate: fixtureCert, maxBytes: 1000 })).to.equal(
      'XML_TOO_LARGE',
    );
  });

  it('rejects nesting deeper than the limit without overflowing the stack (XML_TOO_DEEP)', async () => {
    const depth = 20000;
    const deep = '<a>'.repeat(depth) + '</a>'.repeat(depth);
    expect(await codeOf(deep, { pinnedCertificate: fixtureCert })).to.equal('XML_TOO_DEEP');
  });

  it('rejects malformed XML (XML_MALFORMED)', async () => {
    expect(
      await codeOf('<ceb:CEB311Message xmlns:ceb="x"><unclosed></ceb:CEB311Message>', {
        pinnedCertificate: fixtureCert,
      }),
    ).to.equal('XML_MALFORMED');
  });

  it('rejects an ENTITY declaration even without DOCTYPE keyword casing tricks (XML_DOCTYPE_FORBIDDEN)', async () => {
    expect(await codeOf('<!doctype x [<!ENTITY e "e">]><x>&e;</x>', { pinnedCertificate: fixtureCert })).to.equal(
      'XML_DOCTYPE_FORBIDDEN',
    );
  });

  it('rejects an SM2 SignatureMethod over an RSA certificate (ALG_KEY_MISMATCH)', async () => {
    const xml = read('ceb311-signed-rsa.xml').replace(ALGORITHM_URI.rsaSha1, ALGORITHM_URI.sm2Sm3Chinaport);
    expect(await codeOf(xml, { pinnedCertificate: fixtureCert })).to.equal('ALG_KEY_MISMATCH');
  });

  it('accepts ExtendMessage after the Signature in an export message only', async () => {
    const signer = await SoftwareXmlSigner.create({
      privateKey: createPrivateKey(pki.rsa.keyPem),
      certificate: pki.rsa.certPem,
      trust: pinnedCertificateCheck(pki.rsa.certPem),
    });
    const signedExport = signer.signSync(read('ceb303-unsigned.xml'));
    expect((await verifySignedXml(signedExport, { pinnedCertificate: pki.rsa.certPem })).signedXml).to.equal(
      read('ceb303-unsigned.xml'),
    );
    const asImport = signedExport.replace(/CEB303Message/g, 'CEB311Message');
    expect(await codeOf(asImport, { pinnedCertificate: pki.rsa.certPem })).to.equal('CONTENT_AFTER_SIGNING');
  });

  it('rejects algorithm parameters inside CanonicalizationMethod / DigestMethod (SIG_STRUCTURE)', async () => {
    const signed = read('ceb311-signed-rsa.xml');
    const withInclusive = signed.replace(
      'REC-xml-c14n-20010315"></ds:CanonicalizationMethod>',
      'REC-xml-c14n-20010315"><ds:Extra></ds:Extra></ds:CanonicalizationMethod>',
    );
    expect(await codeOf(withInclusive, { pinnedCertificate: fixtureCert })).to.equal('SIG_STRUCTURE');
    const withDigestParam = signed.replace(
      'xmldsig#sha1"></ds:DigestMethod>',
      'xmldsig#sha1"><ds:Extra></ds:Extra></ds:DigestMethod>',
    );
    expect(await codeOf(withDigestParam, { pinnedCertificate: fixtureCert })).to.equal('SIG_STRUCTURE');
  });

  it('rejects a SignatureValue with a comment inside (SIGNATURE_VALUE_MALFORMED)', async () => {
    const xml = read('ceb311-signed-rsa.xml').replace('<ds:SignatureValue>', '<ds:SignatureValue><!-- x -->');
    expect(await codeOf(xml, { pinnedCertificate: fixtureCert })).to.equal('SIGNATURE_VALUE_MALFORMED');
  });
  it('refuses text before the root element, which the DOM parser would silently drop (XML_MALFORMED)', async () => {
    const signed = read('ceb311-signed-rsa.xml');
    expect(await codeOf('garbage' + signed, { pinnedCertificate: fixtureCert })).to.equal('XML_MALFORMED');
    expect(
      await codeOf(signed.replace('<ceb:CEB311Message', '<?xml version="1.0"?>junk<ceb:CEB311Message'), {
        pinnedCertificate: fixtureCert,
      }),
    ).to.equal('XML_MALFORMED');
  });

  it('refuses thousands of unclosed tags in one linear pass, before the DOM parser (XML_MALFORMED, fast)', async () => {
    const started = Date.now();
    expect(await codeOf('<a>'.repeat(20000), { pinnedCertificate: fixtureCert, maxDepth: 100000 })).to.equal(
      'XML_MALFORMED',
    );
    // Not a speed target: the quadratic recovery took 30 s here; anything near that means the pre-scan is gone.
    expect(Date.now() - started).to.be.below(5000);
  });
});
