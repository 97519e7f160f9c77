import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { VerificationError } from '../../src/signing/errors';
import { SoftwareXmlSigner } from '../../src/signing/signers/software';
import { sm2SignatureToDer } from '../../src/signing/sm2';
import { pinnedCertificateCheck } from '../../src/signing/trust-check';
import { verifySignedXml } from '../../src/signing/verifier';
import { sharedTempPki } from './support/temp-pki';

/**
 * The E-port profile's SM2 SignatureValue is Base64 of raw r‖s (64 bytes). Strict verification accepted a
 * DER-encoded value too (issue 13 §3); DER is accepted only in eport compatibility mode.
 */
const unsigned = readFileSync(new URL('../fixtures/signing/ceb311-unsigned.xml', import.meta.url), 'utf8');

describe('signing/SM2 SignatureValue encoding: raw r‖s in strict mode, DER only in eport mode', () => {
  const pki = sharedTempPki();
  let raw: string;
  let der: string;
  before(async () => {
    const signer = await SoftwareXmlSigner.create({
      privateKey: createPrivateKey(pki.sm2.keyPem),
      certificate: pki.sm2.certPem,
      trust: pinnedCertificateCheck(pki.sm2.certPem),
    });
    raw = signer.signSync(unsigned);
    const value = /<ds:SignatureValue>([^<]+)<\/ds:SignatureValue>/.exec(raw)![1]!;
    expect(Buffer.from(value, 'base64')).to.have.length(64);
    const derValue = sm2SignatureToDer(Buffer.from(value, 'base64')).toString('base64');
    der = raw.replace(value, derValue);
  });

  it('strict mode accepts the raw r‖s value the profile prescribes', async () => {
    const verified = await verifySignedXml(raw, { pinnedCertificate: pki.sm2.certPem });
    expect(verified.signer.algorithm).to.equal('sm2-sm3');
  });

  it('strict mode refuses the same signature DER-encoded (SIGNATURE_INVALID)', async () => {
    let code = 'ACCEPTED';
    try {
      await verifySignedXml(der, { pinnedCertificate: pki.sm2.certPem });
    } catch (err) {
      if (!(err instanceof VerificationError)) throw err;
      code = err.code;
    }
    expect(code).to.equal('SIGNATURE_INVALID');
  });

  it('eport compatibility mode accepts the DER-encoded value, and the raw one', async () => {
    for (const xml of [der, raw]) {
      const verified = await verifySignedXml(xml, { pinnedCertificate: pki.sm2.certPem, mode: 'eport' });
      expect(verified.signedXml).to.equal(unsigned);
    }
  });
});
