import { spawnSync } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { SigningError, VerificationError } from '../../src/signing/errors';
import { SoftwareXmlSigner } from '../../src/signing/signers/software';
import { checkCertificate } from '../../src/signing/trust';
import { toPem } from '../../src/signing/trust/der';
import { buildCertificate, type KeyUsageName } from '../../src/signing/trust/x509-build';
import { pinnedCertificateCheck, trustListCheck } from '../../src/signing/trust-check';
import { verifySignedXml } from '../../src/signing/verifier';
import { rejectionOf } from '../support/rejection';
import { CERTS_DEV, devTrustLists } from './support/dev-identities';

/**
 * Only end-entity certificates with a signing key usage may sign (issue 13 §3: a certificate with
 * basicConstraints CA:TRUE and keyCertSign, issued by a designated MR issuing CA, passed `certs check`,
 * signed messages, and those messages verified). Checked in the three places: the relying-party check
 * (`certs check`), signer construction and the verifier — through the trust lists and through a pin.
 */
const unsigned = readFileSync(new URL('../fixtures/signing/ceb311-unsigned.xml', import.meta.url), 'utf8');
const HK_ECERT_CA = {
  C: 'HK',
  O: 'Baygate Dev Hong Kong e-Cert Authority',
  OU: ['DEVELOPMENT ONLY'],
  CN: 'Baygate Dev e-Cert CA 2',
};
const MR_POLICY = [{ oid: '2.16.344.8.2.2008.810.2.2022.1.0', noticeText: 'Hongkong Post e-Cert (Organisational)' }];

/** A certificate the designated HK MR issuing CA really issued, with the MR policy and type name. */
function issuedByHkMrCa(
  serial: string,
  opts: { ca: boolean; keyUsage: KeyUsageName[] | null },
): {
  pem: string;
  key: KeyObject;
} {
  const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const der = buildCertificate({
    serial: Buffer.from(serial, 'hex'),
    subject: { C: 'HK', O: 'Sub-CA Trading Ltd', CN: `Baygate Test ${opts.ca ? 'sub-CA' : 'signer'} ${serial}` },
    subjectKey: key,
    issuer: HK_ECERT_CA,
    issuerKey: createPrivateKey(readFileSync(join(CERTS_DEV, 'hk', 'hk-ecert-ca.key.pem'))),
    notBefore: new Date('2025-01-01T00:00:00Z'),
    notAfter: new Date('2030-12-31T23:59:59Z'),
    ca: opts.ca,
    keyUsage: opts.keyUsage,
    policies: MR_POLICY,
  });
  return { pem: toPem(der, 'CERTIFICATE'), key };
}

async function errorOf(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  const err = await rejectionOf(promise);
  if (err instanceof SigningError || err instanceof VerificationError) return { code: err.code, message: err.message };
  throw err;
}

/** Signs without any check: how an attacker holding the CA key would produce the message. */
async function signedBy(identity: { pem: string; key: KeyObject }): Promise<string> {
  const signer = await SoftwareXmlSigner.create({
    privateKey: identity.key,
    certificate: identity.pem,
    trust: () => ({ ok: true, trustedBy: 'test: unchecked' }),
  });
  return signer.signSync(unsigned);
}

describe('signing/only end-entity certificates with a signing key usage may sign', function () {
  this.timeout(30_000);
  const trust = devTrustLists();
  const subCa = issuedByHkMrCa('5ca0c0de01', { ca: true, keyUsage: ['digitalSignature', 'keyCertSign', 'cRLSign'] });
  const noUsage = issuedByHkMrCa('5ca0c0de02', { ca: false, keyUsage: null });
  const encryptionOnly = issuedByHkMrCa('5ca0c0de03', { ca: false, keyUsage: ['keyEncipherment'] });
  const signing = issuedByHkMrCa('5ca0c0de04', { ca: false, keyUsage: ['digitalSignature', 'nonRepudiation'] });

  it('the control: an end-entity signing certificate from the same CA passes every check', () => {
    const verdict = checkCertificate(signing.pem, trust);
    expect(verdict.reason).to.equal(undefined);
    expect(verdict.ok).to.equal(true);
  });

  it('certs check refuses the CA certificate (CA_CERT_NOT_SIGNER) although every MR check passes', () => {
    const verdict = checkCertificate(subCa.pem, trust);
    expect(verdict.ok).to.equal(false);
    expect(verdict.reason).to.match(/^CA_CERT_NOT_SIGNER: basicConstraints CA:TRUE/);
    const failed = verdict.checks.filter((c) => !c.ok).map((c) => c.name);
    expect(failed).to.deep.equal(['end-entity']);
    // Inspecting a CA certificate as such stays possible.
    expect(checkCertificate(subCa.pem, trust, { purpose: 'any' }).ok).to.equal(true);
  });

  it('certs check refuses a certificate without keyUsage and one for encryption only', () => {
    expect(checkCertificate(noUsage.pem, trust).reason).to.match(/^KEY_USAGE_MISSING: /);
    expect(checkCertificate(encryptionOnly.pem, trust).reason).to.match(
      /^KEY_USAGE_NOT_SIGNING: keyUsage keyEncipherment allows neither/,
    );
  });

  it('the baygate certs check command prints NOT TRUSTED for the CA certificate and exits 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'baygate-subca-'));
    try {
      const file = join(dir, 'sub-ca.cert.pem');
      writeFileSync(file, subCa.pem);
      const r = spawnSync(
        process.execPath,
        ['bin/baygate.js', 'certs', 'check', file, '--trust', 'certs-dev/trust-lists'],
        {
          encoding: 'utf8',
        },
      );
      expect(r.status, r.stderr).to.equal(1);
      expect(r.stdout).to.match(/NOT TRUSTED/);
      expect(r.stdout).to.match(/\[FAIL\] end-entity/);
      expect(r.stdout).to.match(/reason: CA_CERT_NOT_SIGNER/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const [label, identity, code] of [
    ['the CA certificate', subCa, 'CA_CERT_NOT_SIGNER'],
    ['a certificate without keyUsage', noUsage, 'KEY_USAGE_MISSING'],
  ] as const) {
    it(`no signer can be built with ${label}, through the trust lists or pinned`, async () => {
      for (const check of [trustListCheck(trust), pinnedCertificateCheck(identity.pem)]) {
        const err = await errorOf(
          SoftwareXmlSigner.create({ privateKey: identity.key, certificate: identity.pem, trust: check }),
        );
        expect(err.code).to.equal('SIGNER_CERT_UNTRUSTED');
        expect(err.message).to.contain(code);
      }
    });

    it(`the verifier refuses a message signed with ${label}, through the trust lists or pinned`, async () => {
      const signed = await signedBy(identity);
      for (const options of [{ trustLists: trust }, { pinnedCertificate: identity.pem }]) {
        const err = await errorOf(verifySignedXml(signed, options));
        expect(err.code).to.equal('CERT_UNTRUSTED');
        expect(err.message).to.contain(code);
      }
    });
  }

  it('a message signed with the end-entity certificate verifies (the refusals above are about the certificate)', async () => {
    const signed = await signedBy(signing);
    const verified = await verifySignedXml(signed, { trustLists: trust });
    expect(verified.signer.trustList).to.equal('hk');
  });
});
