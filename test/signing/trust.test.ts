import { expect } from 'chai';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  checkCertificate,
  checkReceiptSigner,
  loadTrustLists,
  oidIsUnder,
  parseCertificate,
  TrustListError,
  type TrustLists,
} from '../../src/signing/trust';
import { buildCertificate, buildCrl } from '../../src/signing/trust/x509-build';
import { toPem } from '../../src/signing/trust/der';

const CERTS = 'certs-dev';
const TRUST = join(CERTS, 'trust-lists');

interface Identity {
  id: string;
  role: string;
  region: string;
  algorithm: 'RSA' | 'SM2';
  certPath: string;
  keyPath: string;
  chainPath: string | null;
  serialHex: string;
  negativeCase: string | null;
  trustList: string | null;
}
const index = JSON.parse(readFileSync(join(CERTS, 'index.json'), 'utf8')) as { identities: Identity[] };
const byId = (id: string): Identity => {
  const found = index.identities.find((i) => i.id === id);
  if (!found) throw new Error(`no identity ${id} in certs-dev/index.json`);
  return found;
};
const certOf = (id: string): Buffer => readFileSync(join(CERTS, byId(id).certPath));
const chainOf = (id: string): string[] => {
  const path = byId(id).chainPath;
  return path
    ? (readFileSync(join(CERTS, path), 'latin1').match(
        /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g,
      ) ?? [])
    : [];
};

/** The precise reason each negative case must produce (code and the start of its detail). */
const EXPECTED_REASON: Record<string, RegExp> = {
  expired: /^CERT_EXPIRED: certificate expired on 2025-01-31T23:59:59Z/,
  'not-yet-valid': /^CERT_NOT_YET_VALID: certificate is not valid before 2046-01-01T00:00:00Z/,
  revoked:
    /^CERT_REVOKED: serial [0-9a-f]+ is on the CRL of ".*Baygate Dev e-Cert CA 2" \(revoked 2025-05-01T00:00:00Z, reason keyCompromise\)$/,
  'wrong-policy':
    /^MR_POLICY_MISSING: certificatePolicies has no OID under 2\.16\.344\.8\.2\.2008\.810\.2 \(present: 2\.16\.344\.8\.2\.2008\.810\.1\.2022\.1\.0\)$/,
  'no-type-name':
    /^MR_CERT_TYPE_MISSING: certificate carries none of the certificate-type names "Hongkong Post e-Cert \(Personal\)", "Hongkong Post e-Cert \(Organisational\)"/,
  'untrusted-issuer':
    /^UNTRUSTED_ISSUER: issuer ".*Baygate Dev Unlisted Issuing CA" is neither a designated issuing CA nor a recognised root on any trust list/,
  'mr-period-ended':
    /^MR_PERIOD_ENDED: MR period of ".*e-Cert CA 1 \(MR period ended\)" on trust list hk \(2015-07-11T00:00:00Z – 2020-12-31T23:59:59Z\) ended before/,
  'undesignated-issuer':
    /^MR_ISSUER_NOT_DESIGNATED: issuer ".*General Purpose CA \(not MR\)" chains to recognised root ".*Guangdong Root CA" but is not designated on trust list gd$/,
};

describe('signing/trust: relying-party MR check against certs-dev', () => {
  let trust: TrustLists;
  before(() => {
    trust = loadTrustLists(TRUST);
  });

  it('loads the four trust lists and the three clearance-center receipt signers', () => {
    expect(trust.lists.map((l) => l.id).sort()).to.deep.equal(['eport', 'gd', 'hk', 'mo']);
    expect(trust.receiptSigners.map((s) => s.id).sort()).to.deep.equal(['center-gd', 'center-hk', 'center-mo']);
    expect(trust.lists.find((l) => l.id === 'eport')?.checks).to.include({
      mrPolicy: false,
      certificateTypeName: false,
      mrPeriod: false,
    });
  });

  const leaves = index.identities.filter((i) => i.role !== 'ca');

  for (const identity of leaves.filter((i) => i.negativeCase === null)) {
    it(`trusts ${identity.id} (${identity.algorithm}) on trust list ${identity.trustList}`, () => {
      const verdict = checkCertificate(certOf(identity.id), trust);
      expect(verdict.reason).to.equal(undefined);
      expect(verdict.ok).to.equal(true);
      expect(verdict.trustList).to.equal(identity.trustList);
      expect(verdict.serialHex).to.equal(identity.serialHex);
      expect(verdict.algorithm).to.equal(identity.algorithm);
      expect(verdict.checks.map((c) => c.name)).to.deep.equal([
        'mr-period',
        'recognised-root',
        'designated-issuer',
        'certificate-type-name',
        'mr-policy',
        'chain-signature',
        'validity',
        'revocation',
        'key-usage',
        'end-entity',
      ]);
      expect(verdict.checks.every((c) => c.ok)).to.equal(true);
    });
  }

  for (const identity of leaves.filter((i) => i.negativeCase !== null)) {
    it(`rejects ${identity.id} (${identity.negativeCase}) with the precise reason`, () => {
      const verdict = checkCertificate(certOf(identity.id), trust, { intermediates: chainOf(identity.id) });
      expect(verdict.ok).to.equal(false);
      expect(verdict.reason).to.match(EXPECTED_REASON[identity.negativeCase as string] as RegExp);
      expect(verdict.checks.some((c) => !c.ok)).to.equal(true);
    });
  }

  it('covers every required negative case in certs-dev', () => {
    const cases = new Set(leaves.map((i) => i.negativeCase).filter((c) => c !== null));
    expect([...cases].sort()).to.deep.equal(Object.keys(EXPECTED_REASON).sort());
  });

  it('without the offered chain, a certificate from an undesignated CA is simply untrusted', () => {
    const verdict = checkCertificate(certOf('seller-gd-undesignated-ca'), trust);
    expect(verdict.reason).to.match(/^UNTRUSTED_ISSUER: /);
  });

  it('E-port operator certificates pass without MR policy or type name: those checks are off for that list', () => {
    const verdict = checkCertificate(certOf('operator-rsa'), trust);
    expect(verdict.ok).to.equal(true);
    expect(verdict.checks.find((c) => c.name === 'mr-policy')?.detail).to.match(/^not required by trust list eport/);
    expect(verdict.serialHex).to.match(/^00/);
  });

  it('the HK type name is read from the policy user notice, the GD one from the subject OU', () => {
    expect(
      checkCertificate(certOf('seller-hk-personal'), trust).checks.find((c) => c.name === 'certificate-type-name')
        ?.detail,
    ).to.equal('"Hongkong Post e-Cert (Personal)" in user notice of policy 2.16.344.8.2.2008.810.2.2022.1.0');
    expect(checkCertificate(certOf('seller-gd'), trust).certificateTypeName).to.equal(
      'Baygate Dev GD MR Certificate (Organisational)',
    );
  });

  it('honours the check time: the expired certificate was fine in 2024-06, a revoked one before its revocation date', () => {
    expect(checkCertificate(certOf('seller-gd-expired'), trust, { at: new Date('2024-06-01T00:00:00Z') }).ok).to.equal(
      true,
    );
    const before = checkCertificate(certOf('seller-hk-revoked'), trust, { at: new Date('2025-03-01T00:00:00Z') });
    expect(before.ok).to.equal(true);
    expect(before.checks.find((c) => c.name === 'revocation')?.detail).to.match(/revoked later, on 2025-05-01/);
  });

  it('a CRL past its nextUpdate fails revocation checking with CRL_STALE', () => {
    const verdict = checkCertificate(certOf('seller-hk'), trust, { at: new Date('2046-06-30T12:00:00Z') });
    expect(verdict.reason).to.match(/^CRL_STALE: CRL nextUpdate 2046-06-30T00:00:00Z has passed/);
  });

  it('accepts PEM (also after an openssl preamble), DER and an X509Certificate object alike', () => {
    const pem = certOf('seller-mo');
    const der = new X509Certificate(pem).raw;
    const withPreamble = Buffer.concat([
      Buffer.from('Bag Attributes\n    friendlyName: seller-mo\nsubject=C = MO\n'),
      pem,
    ]);
    for (const input of [pem, pem.toString(), der, new X509Certificate(pem), withPreamble])
      expect(checkCertificate(input, trust).ok).to.equal(true);
  });

  it('reports an unreadable certificate as CERT_UNPARSEABLE instead of throwing', () => {
    expect(checkCertificate(Buffer.from('not a certificate'), trust).reason).to.match(/^CERT_UNPARSEABLE: /);
  });

  for (const id of ['seller-hk', 'seller-gd-sm2']) {
    it(`a flipped signature byte in ${id} fails with SIGNATURE_INVALID`, () => {
      const der = Buffer.from(new X509Certificate(certOf(id)).raw);
      der[der.length - 10] = (der[der.length - 10] as number) ^ 0x01;
      expect(checkCertificate(der, trust).reason).to.match(
        /^SIGNATURE_INVALID: certificate signature does not verify with the key of /,
      );
    });
  }

  it('a look-alike certificate (designated CA name and key id, attacker key) fails with SIGNATURE_INVALID', () => {
    const real = parseCertificate(certOf('seller-hk'));
    const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const ecertCaName = {
      C: 'HK',
      O: 'Baygate Dev Hong Kong e-Cert Authority',
      OU: ['DEVELOPMENT ONLY'],
      CN: 'Baygate Dev e-Cert CA 2',
    };
    const forge = (copyKeyId: boolean): Buffer =>
      buildCertificate({
        ...(copyKeyId ? { authorityKeyId: Buffer.from(real.authorityKeyId as string, 'hex') } : {}),
        serial: Buffer.from('0badc0de', 'hex'),
        subject: { C: 'HK', O: 'Mallory Ltd', CN: 'Mallory' },
        subjectKey: attacker,
        issuer: ecertCaName,
        issuerKey: attacker,
        notBefore: real.notBefore,
        notAfter: real.notAfter,
        ca: false,
        keyUsage: ['digitalSignature'],
        policies: [{ oid: '2.16.344.8.2.2008.810.2.2022.1.0', noticeText: 'Hongkong Post e-Cert (Organisational)' }],
      });
    const verdict = checkCertificate(forge(true), trust);
    expect(verdict.trustList).to.equal('hk');
    expect(verdict.reason).to.match(/^SIGNATURE_INVALID: /);
    // With its own key id the forgery does not even link to the designated CA.
    expect(checkCertificate(forge(false), trust).reason).to.match(/^UNTRUSTED_ISSUER: /);
  });

  it("SM2 chain signatures use the standard ID: Node's own X509Certificate.verify rejects them, checkCertificate accepts", () => {
    const leaf = new X509Certificate(certOf('operator-sm2'));
    const issuer = new X509Certificate(certOf('eport-sm2-ca'));
    expect(leaf.verify(issuer.publicKey)).to.equal(false);
    expect(checkCertificate(leaf, trust).checks.find((c) => c.name === 'chain-signature')?.ok).to.equal(true);
  });

  it('purpose "signature" rejects a certificate whose keyUsage is certificate signing only', () => {
    // A CA certificate used as a signer: attach it under its root by offering nothing; its issuer is the GD root.
    const verdict = checkCertificate(certOf('gd-general-ca'), trust);
    expect(verdict.checks.find((c) => c.name === 'key-usage')).to.deep.include({ ok: false });
    expect(
      checkCertificate(certOf('gd-general-ca'), trust, { purpose: 'any' }).checks.find((c) => c.name === 'key-usage')
        ?.ok,
    ).to.equal(true);
  });

  it('matches the MR policy prefix arc by arc', () => {
    expect(oidIsUnder('2.16.344.8.2.2008.810.2.2022.1.0', '2.16.344.8.2.2008.810.2')).to.equal(true);
    expect(oidIsUnder('2.16.344.8.2.2008.810.2', '2.16.344.8.2.2008.810.2')).to.equal(true);
    expect(oidIsUnder('2.16.344.8.2.2008.810.20.1', '2.16.344.8.2.2008.810.2')).to.equal(false);
    expect(oidIsUnder('2.16.344.8.2.2008.810.1.2022.1.0', '2.16.344.8.2.2008.810.2')).to.equal(false);
  });
});

describe('signing/trust: trust-list loading errors name the file and the path', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'baygate-trust-'));
    cpSync(CERTS, join(dir, 'certs-dev'), { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const listFile = (name: string): string => join(dir, 'certs-dev', 'trust-lists', `${name}.json`);
  const edit = (
    name: string,
    change: (
      json: Record<string, unknown> & {
        entries: { root: Record<string, unknown>; issuingCas: Record<string, unknown>[] }[];
      },
    ) => void,
  ): void => {
    const json = JSON.parse(readFileSync(listFile(name), 'utf8'));
    change(json);
    writeFileSync(listFile(name), JSON.stringify(json));
  };
  const loadError = (): TrustListError => {
    try {
      loadTrustLists(join(dir, 'certs-dev', 'trust-lists'));
    } catch (err) {
      if (err instanceof TrustListError) return err;
      throw err;
    }
    throw new Error('expected loadTrustLists to fail');
  };

  it('a schema violation names the file and the JSON path', () => {
    edit('hk', (j) => {
      (j.entries[0]?.issuingCas[0] as { mrPeriod: { from: string } }).mrPeriod.from = 'last tuesday';
    });
    const err = loadError();
    expect(err.file).to.match(/hk\.json$/);
    expect(err.path).to.equal('entries[0].issuingCas[0].mrPeriod.from');
    expect(err.message).to.match(
      /hk\.json at entries\[0\]\.issuingCas\[0\]\.mrPeriod\.from: expected an ISO 8601 date-time/,
    );
  });

  it('an MR list without type names is refused', () => {
    edit('mo', (j) => {
      (j.entries[0]?.issuingCas[0] as { certificateTypeNames: string[] }).certificateTypeNames = [];
    });
    expect(loadError().message).to.match(
      /mo\.json at entries\[0\]\.issuingCas\[0\]\.certificateTypeNames: must not be empty/,
    );
  });

  it('a fingerprint that does not match the certificate file is refused', () => {
    edit('gd', (j) => {
      (j.entries[0]?.root as { sha256: string }).sha256 = '0'.repeat(64);
    });
    expect(loadError().message).to.match(
      /gd\.json at entries\[0\]\.root\.sha256: fingerprint does not match \.\.\/gd\/gd-root\.cert\.pem/,
    );
  });

  it('a missing certificate file is refused with its path', () => {
    rmSync(join(dir, 'certs-dev', 'eport', 'eport-sm2-ca.cert.pem'));
    expect(loadError().message).to.match(
      /eport\.json at entries\[1\]\.issuingCas\[0\]\.certPath: cannot read eport-sm2-ca\.cert\.pem \(ENOENT\)/,
    );
  });

  it('an issuing CA that its entry root did not issue is refused', () => {
    edit('hk', (j) => {
      const gdCa = JSON.parse(readFileSync(listFile('gd'), 'utf8')).entries[0].issuingCas[0];
      j.entries[0]?.issuingCas.push(gdCa);
    });
    expect(loadError().message).to.match(
      /hk\.json at entries\[0\]\.issuingCas\[2\]: \.\.\/gd\/gd-mr-ca\.cert\.pem is not issued by the entry's root/,
    );
  });

  it('invalid JSON is reported with the file name', () => {
    writeFileSync(listFile('mo'), '{ "id": ');
    expect(loadError().message).to.match(/mo\.json: invalid JSON/);
  });

  it('a CRL not signed by its CA fails revocation with CRL_INVALID', () => {
    const ca = parseCertificate(readFileSync(join(CERTS, 'hk', 'hk-ecert-ca.cert.pem')));
    const forgedCrl = buildCrl({
      issuer: {
        C: 'HK',
        O: 'Baygate Dev Hong Kong e-Cert Authority',
        OU: ['DEVELOPMENT ONLY'],
        CN: 'Baygate Dev e-Cert CA 2',
      },
      issuerKey: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
      thisUpdate: new Date('2025-06-01T00:00:00Z'),
      nextUpdate: new Date('2046-06-30T00:00:00Z'),
      crlNumber: 2,
      revoked: [],
    });
    expect(ca.isCa).to.equal(true);
    writeFileSync(join(dir, 'certs-dev', 'hk', 'hk-ecert-ca.crl.pem'), toPem(forgedCrl, 'X509 CRL'));
    const lists = loadTrustLists(join(dir, 'certs-dev', 'trust-lists'));
    const verdict = checkCertificate(readFileSync(join(CERTS, 'hk', 'seller-hk-revoked.cert.pem')), lists);
    expect(verdict.reason).to.match(/^CRL_INVALID: CRL signature does not verify with the key of ".*e-Cert CA 2"$/);
  });
});

describe('signing/trust: receipt signers (trust-lists/centers.json)', () => {
  let trust: TrustLists;
  before(() => {
    trust = loadTrustLists(TRUST);
  });

  for (const id of ['center-gd', 'center-hk', 'center-mo']) {
    it(`${id} is a pinned receipt signer that passes its trust list`, () => {
      const verdict = checkReceiptSigner(certOf(id), trust);
      expect(verdict.reason).to.equal(undefined);
      expect(verdict.ok).to.equal(true);
      expect(verdict.centerId).to.equal(id);
    });
  }

  it('an MR-trusted seller is not a receipt signer', () => {
    expect(checkCertificate(certOf('seller-hk'), trust).ok).to.equal(true);
    const verdict = checkReceiptSigner(certOf('seller-hk'), trust);
    expect(verdict.ok).to.equal(false);
    expect(verdict.reason).to.match(
      /^RECEIPT_SIGNER_NOT_PINNED: certificate [0-9a-f]+ \(.*Baygate Dev Kowloon Trading\) is not a pinned clearance-center receipt signer \(known: center-gd, center-hk, center-mo\)$/,
    );
  });

  it('a pinned center certificate still fails when the relying-party check fails (e.g. after its validity)', () => {
    const verdict = checkReceiptSigner(certOf('center-hk'), trust, { at: new Date('2047-01-01T00:00:00Z') });
    expect(verdict.ok).to.equal(false);
    expect(verdict.centerId).to.equal('center-hk');
    expect(verdict.reason).to.match(/^CERT_EXPIRED: /);
  });
});
