import { expect } from 'chai';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCertificate, parseCrl } from '../../src/signing/trust';
import { keyAlgorithm } from '../../src/signing/trust/algorithms';
import { sm2SignatureToDer, sm2SignatureToRaw } from '../../src/signing/sm2';

const CERTS = 'certs-dev';
const P12_PASSWORD = 'baygate-dev-only';

interface Identity {
  id: string;
  role: 'seller' | 'center' | 'operator' | 'ca';
  region: 'GD' | 'HK' | 'MO' | 'EPORT';
  algorithm: 'RSA' | 'SM2';
  issuerId: string | null;
  keyPath: string;
  certPath: string;
  p12Path: string;
  chainPath: string | null;
  crlPath: string | null;
  serialHex: string;
  sha256: string;
  notAfter: string;
  negativeCase: string | null;
  trustList: string | null;
}
const index = JSON.parse(readFileSync(join(CERTS, 'index.json'), 'utf8')) as {
  development: boolean;
  p12Password: string;
  identities: Identity[];
};
const byId = (id: string): Identity => index.identities.find((i) => i.id === id) as Identity;
const at = (p: string): string => join(CERTS, p);

function openssl(args: string[]): { ok: boolean; out: string } {
  const run = spawnSync('openssl', args, { encoding: 'utf8' });
  return { ok: run.status === 0, out: `${run.stdout}${run.stderr}` };
}

/** The root of an identity's chain (last certificate of its chain file, or itself). */
function rootOf(identity: Identity): Identity {
  let current = identity;
  while (current.issuerId) current = byId(current.issuerId);
  return current;
}

describe('signing/pki: certs-dev development PKI', () => {
  it('index.json is marked development and lists the documented p12 password', () => {
    expect(index.development).to.equal(true);
    expect(index.p12Password).to.equal(P12_PASSWORD);
    const readme = readFileSync(at('README.md'), 'utf8');
    expect(readme).to.match(/DEVELOPMENT PKI \(never for production\)/);
    expect(readme).to.include(`\`${P12_PASSWORD}\``);
  });

  it('has unique ids, the required roles, regions, centers and at least one SM2 seller', () => {
    const ids = index.identities.map((i) => i.id);
    expect(new Set(ids).size).to.equal(ids.length);
    for (const id of ['center-gd', 'center-hk', 'center-mo', 'operator-rsa', 'operator-sm2'])
      expect(ids).to.include(id);
    expect(
      index.identities.some((i) => i.role === 'seller' && i.algorithm === 'SM2' && i.negativeCase === null),
    ).to.equal(true);
    for (const region of ['GD', 'HK', 'MO']) {
      expect(
        index.identities.some(
          (i) => i.role === 'seller' && i.region === region && i.algorithm === 'RSA' && i.negativeCase === null,
        ),
        region,
      ).to.equal(true);
    }
  });

  for (const identity of index.identities) {
    it(`${identity.id}: files exist and agree with index.json`, () => {
      for (const p of [identity.keyPath, identity.certPath, identity.p12Path])
        expect(existsSync(at(p)), p).to.equal(true);
      const certPem = readFileSync(at(identity.certPath));
      const cert = parseCertificate(certPem);
      expect(cert.serialHex).to.equal(identity.serialHex);
      expect(cert.sha256).to.equal(identity.sha256);
      expect(cert.algorithm).to.equal(identity.algorithm);
      expect(cert.isCa).to.equal(identity.role === 'ca');
      const key = createPrivateKey(readFileSync(at(identity.keyPath)));
      expect(keyAlgorithm(key)).to.equal(identity.algorithm);
      expect(
        createPublicKey(key)
          .export({ format: 'der', type: 'spki' })
          .equals(cert.publicKey.export({ format: 'der', type: 'spki' })),
        'key matches certificate',
      ).to.equal(true);
      if (identity.algorithm === 'RSA') expect(key.asymmetricKeyDetails?.modulusLength).to.equal(2048);
      if (identity.chainPath) {
        const chain =
          readFileSync(at(identity.chainPath), 'latin1').match(
            /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g,
          ) ?? [];
        expect(parseCertificate(chain[0] as string).sha256).to.equal(byId(identity.issuerId as string).sha256);
      } else {
        expect(identity.issuerId).to.equal(null);
      }
      if (identity.negativeCase === null) expect(new Date(identity.notAfter).getUTCFullYear()).to.be.at.least(2046);
    });
  }

  it('E-port operator serials start with a zero byte (KeyName keeps leading zeros), and one seller serial with a zero nibble', () => {
    for (const id of ['operator-rsa', 'operator-sm2']) {
      const hex = byId(id).serialHex;
      expect(hex, id).to.match(/^00[89a-f]/);
      // Node drops nothing either: its uppercase serial is the same bytes.
      expect(new X509Certificate(readFileSync(at(byId(id).certPath))).serialNumber.toLowerCase()).to.be.oneOf([
        hex,
        hex.replace(/^00/, ''),
      ]);
    }
    expect(byId('seller-hk').serialHex).to.match(/^0[1-9a-f]/);
  });

  it('every PKCS#12 opens with the development password and holds the key, certificate and chain', function () {
    this.timeout(60000);
    for (const identity of index.identities.filter(
      (i) => ['seller-hk', 'operator-sm2', 'center-gd', 'gd-root'].includes(i.id) || i.role !== 'ca',
    )) {
      const certs = openssl(['pkcs12', '-in', at(identity.p12Path), '-passin', `pass:${P12_PASSWORD}`, '-nokeys']);
      expect(certs.ok, `${identity.id}: ${certs.out}`).to.equal(true);
      const count = (certs.out.match(/BEGIN CERTIFICATE/g) ?? []).length;
      let depth = 1;
      for (let c = identity; c.issuerId; c = byId(c.issuerId)) depth++;
      expect(count, identity.id).to.equal(depth);
      const keys = openssl([
        'pkcs12',
        '-in',
        at(identity.p12Path),
        '-passin',
        `pass:${P12_PASSWORD}`,
        '-nocerts',
        '-nodes',
      ]);
      expect(keys.out, identity.id).to.include('BEGIN PRIVATE KEY');
      expect(openssl(['pkcs12', '-in', at(identity.p12Path), '-passin', 'pass:wrong', '-nokeys']).ok).to.equal(false);
    }
  });

  describe('openssl verify of the RSA chains', () => {
    const rsaChains = index.identities.filter(
      (i) => i.role !== 'ca' && rootOf(i).algorithm === 'RSA' && i.algorithm === 'RSA',
    );

    for (const identity of rsaChains) {
      const expectation =
        identity.negativeCase === 'expired'
          ? 'fails: certificate has expired'
          : identity.negativeCase === 'not-yet-valid'
            ? 'fails: certificate is not yet valid'
            : 'verifies (chain and CRL)';
      it(`${identity.id} ${expectation}`, () => {
        const root = rootOf(identity);
        const args = [
          'verify',
          '-CAfile',
          at(root.certPath),
          '-untrusted',
          at(identity.chainPath as string),
          '-purpose',
          'any',
        ];
        if (identity.crlPath && identity.negativeCase === null)
          args.push('-crl_check', '-CRLfile', at(identity.crlPath));
        const result = openssl([...args, at(identity.certPath)]);
        if (identity.negativeCase === 'expired') expect(result.out).to.match(/certificate has expired/);
        else if (identity.negativeCase === 'not-yet-valid') expect(result.out).to.match(/certificate is not yet valid/);
        else expect(result.ok, result.out).to.equal(true);
      });
    }

    it("the revoked seller fails openssl verify -crl_check against its CA's published CRL", () => {
      const revoked = byId('seller-hk-revoked');
      const result = openssl([
        'verify',
        '-crl_check',
        '-CRLfile',
        at(revoked.crlPath as string),
        '-CAfile',
        at(rootOf(revoked).certPath),
        '-untrusted',
        at(revoked.chainPath as string),
        at(revoked.certPath),
      ]);
      expect(result.ok).to.equal(false);
      expect(result.out).to.match(/certificate revoked/);
    });

    it('a seller from the unlisted CA does not verify against a listed root', () => {
      const untrusted = byId('seller-untrusted');
      expect(
        openssl([
          'verify',
          '-CAfile',
          at(byId('hk-root').certPath),
          '-untrusted',
          at(untrusted.chainPath as string),
          at(untrusted.certPath),
        ]).ok,
      ).to.equal(false);
    });
  });

  describe('SM2 certificates and CRLs interoperate with openssl using distid 1234567812345678', () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'baygate-pki-'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    const sm2Signed = index.identities.filter((i) => i.issuerId && byId(i.issuerId).algorithm === 'SM2');
    const sm2Crls = index.identities.filter((i) => i.role === 'ca' && i.algorithm === 'SM2' && i.crlPath);

    it('covers SM2-signed certificates (CA and leaves) and SM2-signed CRLs', () => {
      expect(sm2Signed.map((i) => i.id)).to.include.members([
        'gd-sm2-mr-ca',
        'seller-gd-sm2',
        'center-gd',
        'eport-sm2-ca',
        'operator-sm2',
      ]);
      expect(sm2Crls.length).to.be.at.least(2);
    });

    const opensslVerifiesTbs = (signed: { tbs: Buffer; signature: Buffer }, issuerCertPath: string): boolean => {
      writeFileSync(join(dir, 'tbs.bin'), signed.tbs);
      // Certificates carry DER signatures; round-trip through raw r‖s to exercise both converters.
      const raw = sm2SignatureToRaw(signed.signature);
      if (!raw) throw new Error('not an SM2 signature');
      writeFileSync(join(dir, 'sig.der'), sm2SignatureToDer(raw));
      execFileSync('openssl', ['x509', '-in', at(issuerCertPath), '-pubkey', '-noout', '-out', join(dir, 'pub.pem')]);
      return openssl([
        'pkeyutl',
        '-verify',
        '-pubin',
        '-inkey',
        join(dir, 'pub.pem'),
        '-rawin',
        '-digest',
        'sm3',
        '-in',
        join(dir, 'tbs.bin'),
        '-sigfile',
        join(dir, 'sig.der'),
        '-pkeyopt',
        'distid:1234567812345678',
      ]).ok;
    };

    it('each SM2-signed TBSCertificate verifies with openssl pkeyutl and the issuer key', () => {
      for (const identity of sm2Signed) {
        const cert = parseCertificate(readFileSync(at(identity.certPath)));
        expect(cert.signatureAlgorithmOid, identity.id).to.equal('1.2.156.10197.1.501');
        expect(opensslVerifiesTbs(cert, byId(identity.issuerId as string).certPath), identity.id).to.equal(true);
      }
    });

    it('each SM2 CRL verifies the same way, and openssl reads it as SM2-with-SM3', () => {
      for (const ca of sm2Crls) {
        const crl = parseCrl(readFileSync(at(ca.crlPath as string)));
        expect(opensslVerifiesTbs(crl, ca.certPath), ca.id).to.equal(true);
        expect(openssl(['crl', '-in', at(ca.crlPath as string), '-noout', '-text']).out).to.match(/SM2-with-SM3/);
      }
    });
  });

  it('RSA CRLs verify with openssl crl -CAfile', () => {
    for (const ca of index.identities.filter((i) => i.role === 'ca' && i.algorithm === 'RSA' && i.crlPath)) {
      const result = openssl(['crl', '-in', at(ca.crlPath as string), '-CAfile', at(ca.certPath), '-noout']);
      expect(result.out, ca.id).to.match(/verify OK/);
    }
  });

  it('regenerating into another folder gives the same identities, roles, paths and trust lists', function () {
    this.timeout(120000);
    const out = mkdtempSync(join(tmpdir(), 'baygate-pki-gen-'));
    try {
      execFileSync(process.execPath, ['--import', 'tsx', 'scripts/gen-dev-pki.ts', '--out', out], { stdio: 'pipe' });
      const regenerated = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')) as { identities: Identity[] };
      const shape = (list: Identity[]) =>
        list.map(
          ({
            id,
            role,
            region,
            algorithm,
            keyPath,
            certPath,
            p12Path,
            chainPath,
            crlPath,
            negativeCase,
            trustList,
          }) => ({
            id,
            role,
            region,
            algorithm,
            keyPath,
            certPath,
            p12Path,
            chainPath,
            crlPath,
            negativeCase,
            trustList,
          }),
        );
      expect(shape(regenerated.identities)).to.deep.equal(shape(index.identities));
      for (const name of ['gd', 'hk', 'mo', 'eport', 'centers'])
        expect(existsSync(join(out, 'trust-lists', `${name}.json`)), name).to.equal(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
