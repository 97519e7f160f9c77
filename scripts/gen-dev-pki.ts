/**
 * Generates Baygate's DEVELOPMENT PKI into certs-dev/ (run: `npm run certs:dev`).
 *
 * Everything here is for development and tests only: private keys are committed, the PKCS#12 password is
 * public, and the "trust lists" are our own imitations of the Guangdong / Hong Kong / Macao mutual
 * recognition (MR) lists and of the customs E-port CA. Regenerating is safe: keys and serials change,
 * the structure (ids, paths, negative cases) stays the same, and tests read everything through index.json.
 *
 * Usage: node --import tsx scripts/gen-dev-pki.ts [--out <dir>] [--readme-only]
 */
import {
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  randomBytes,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCertificate, buildCrl, type NameSpec, type PolicySpec } from '../src/signing/trust/x509-build';
import { toPem } from '../src/signing/trust/der';
import { MR_POLICY_OID_PREFIX, type TrustListFile, type ReceiptSignersFile } from '../src/signing/trust/schema';

export const DEV_P12_PASSWORD = 'baygate-dev-only';

const MR_POLICY_OID = `${MR_POLICY_OID_PREFIX}.2022.1.0`;
/** A sibling arc that looks like the MR policy but is not under it: the "wrong policy" negative case. */
const LOOKALIKE_POLICY_OID = '2.16.344.8.2.2008.810.1.2022.1.0';
/** Our own CPS policy for the dev E-port CA, under IANA's documentation enterprise number 32473 (RFC 5612). */
const DEV_EPORT_CPS_OID = '1.3.6.1.4.1.32473.8610.1';

const CA_VALIDITY = { notBefore: new Date('2024-01-01T00:00:00Z'), notAfter: new Date('2046-12-31T23:59:59Z') };
const LEAF_VALIDITY = { notBefore: new Date('2025-01-01T00:00:00Z'), notAfter: new Date('2046-06-30T23:59:59Z') };
const CRL_TIMES = { thisUpdate: new Date('2025-06-01T00:00:00Z'), nextUpdate: new Date('2046-06-30T00:00:00Z') };

type Region = 'GD' | 'HK' | 'MO' | 'EPORT';
type Algorithm = 'RSA' | 'SM2';
type Role = 'seller' | 'center' | 'operator' | 'ca';
export type NegativeCase =
  | 'expired'
  | 'not-yet-valid'
  | 'revoked'
  | 'wrong-policy'
  | 'no-type-name'
  | 'untrusted-issuer'
  | 'mr-period-ended'
  | 'undesignated-issuer';

interface CaDef {
  id: string;
  region: Region;
  algorithm: Algorithm;
  dir: string;
  subject: NameSpec;
  /** Issuer CA id; absent for a self-signed root. */
  issuer?: string;
  trustList: string | null;
  negativeCase?: NegativeCase;
  /** Publishes a CRL (issuing CAs do). */
  publishesCrl?: boolean;
}

interface LeafDef {
  id: string;
  role: Exclude<Role, 'ca'>;
  region: Region;
  algorithm: Algorithm;
  dir: string;
  issuer: string;
  subject: NameSpec;
  /** Where the certificate-type name goes: subject OU (GD, MO) or the MR policy's user notice (HK e-Cert). */
  typeName?: { text: string; where: 'ou' | 'notice' };
  policy: 'mr' | 'lookalike' | 'eport-cps';
  serialStyle?: 'leading-zero-byte' | 'leading-zero-nibble';
  validity?: { notBefore: Date; notAfter: Date };
  revoked?: boolean;
  trustList: string | null;
  negativeCase?: NegativeCase;
}

const DEV = 'DEVELOPMENT ONLY';

const TYPE_NAMES = {
  GD: { org: 'Baygate Dev GD MR Certificate (Organisational)', personal: 'Baygate Dev GD MR Certificate (Personal)' },
  HK: { org: 'Hongkong Post e-Cert (Organisational)', personal: 'Hongkong Post e-Cert (Personal)' },
  MO: {
    org: 'Baygate Dev Macao eSign MR Certificate (Organisational)',
    personal: 'Baygate Dev Macao eSign MR Certificate (Personal)',
  },
};

const CAS: CaDef[] = [
  {
    id: 'gd-root',
    region: 'GD',
    algorithm: 'RSA',
    dir: 'gd',
    trustList: 'gd',
    subject: {
      C: 'CN',
      ST: 'Guangdong',
      O: 'Baygate Dev Guangdong Root Authority',
      OU: [DEV],
      CN: 'Baygate Dev Guangdong Root CA',
    },
  },
  {
    id: 'gd-mr-ca',
    region: 'GD',
    algorithm: 'RSA',
    dir: 'gd',
    issuer: 'gd-root',
    trustList: 'gd',
    publishesCrl: true,
    subject: {
      C: 'CN',
      ST: 'Guangdong',
      O: 'Baygate Dev Guangdong CA',
      OU: [DEV],
      CN: 'Baygate Dev Guangdong MR Issuing CA',
    },
  },
  {
    id: 'gd-sm2-root',
    region: 'GD',
    algorithm: 'SM2',
    dir: 'gd',
    trustList: 'gd',
    subject: {
      C: 'CN',
      ST: 'Guangdong',
      O: 'Baygate Dev Guangdong Root Authority',
      OU: [DEV],
      CN: 'Baygate Dev Guangdong SM2 Root CA',
    },
  },
  {
    id: 'gd-sm2-mr-ca',
    region: 'GD',
    algorithm: 'SM2',
    dir: 'gd',
    issuer: 'gd-sm2-root',
    trustList: 'gd',
    publishesCrl: true,
    subject: {
      C: 'CN',
      ST: 'Guangdong',
      O: 'Baygate Dev Guangdong CA',
      OU: [DEV],
      CN: 'Baygate Dev Guangdong SM2 MR Issuing CA',
    },
  },
  // Chains to the recognised GD root but is not designated for MR certificates.
  {
    id: 'gd-general-ca',
    region: 'GD',
    algorithm: 'RSA',
    dir: 'gd',
    issuer: 'gd-root',
    trustList: null,
    negativeCase: 'undesignated-issuer',
    publishesCrl: true,
    subject: {
      C: 'CN',
      ST: 'Guangdong',
      O: 'Baygate Dev Guangdong CA',
      OU: [DEV],
      CN: 'Baygate Dev Guangdong General Purpose CA (not MR)',
    },
  },
  {
    id: 'hk-root',
    region: 'HK',
    algorithm: 'RSA',
    dir: 'hk',
    trustList: 'hk',
    subject: { C: 'HK', O: 'Baygate Dev Hong Kong Root Authority', OU: [DEV], CN: 'Baygate Dev Hong Kong Root CA' },
  },
  {
    id: 'hk-ecert-ca',
    region: 'HK',
    algorithm: 'RSA',
    dir: 'hk',
    issuer: 'hk-root',
    trustList: 'hk',
    publishesCrl: true,
    subject: { C: 'HK', O: 'Baygate Dev Hong Kong e-Cert Authority', OU: [DEV], CN: 'Baygate Dev e-Cert CA 2' },
  },
  // Was designated, but its MR validity period on the HK trust list has ended.
  {
    id: 'hk-ecert-ca-retired',
    region: 'HK',
    algorithm: 'RSA',
    dir: 'hk',
    issuer: 'hk-root',
    trustList: 'hk',
    negativeCase: 'mr-period-ended',
    publishesCrl: true,
    subject: {
      C: 'HK',
      O: 'Baygate Dev Hong Kong e-Cert Authority',
      OU: [DEV],
      CN: 'Baygate Dev e-Cert CA 1 (MR period ended)',
    },
  },
  {
    id: 'mo-root',
    region: 'MO',
    algorithm: 'RSA',
    dir: 'mo',
    trustList: 'mo',
    subject: { C: 'MO', O: 'Baygate Dev Macao Root Authority', OU: [DEV], CN: 'Baygate Dev Macao Root CA' },
  },
  {
    id: 'mo-mr-ca',
    region: 'MO',
    algorithm: 'RSA',
    dir: 'mo',
    issuer: 'mo-root',
    trustList: 'mo',
    publishesCrl: true,
    subject: { C: 'MO', O: 'Baygate Dev Macao eSign Authority', OU: [DEV], CN: 'Baygate Dev Macao eSign MR CA' },
  },
  {
    id: 'eport-root',
    region: 'EPORT',
    algorithm: 'RSA',
    dir: 'eport',
    trustList: 'eport',
    subject: { C: 'CN', O: 'Baygate Dev E-port Certificate Center', OU: [DEV], CN: 'Baygate Dev E-port Root CA' },
  },
  {
    id: 'eport-rsa-ca',
    region: 'EPORT',
    algorithm: 'RSA',
    dir: 'eport',
    issuer: 'eport-root',
    trustList: 'eport',
    publishesCrl: true,
    subject: {
      C: 'CN',
      O: 'Baygate Dev E-port Certificate Center',
      OU: [DEV],
      CN: 'Baygate Dev E-port RSA Operator CA',
    },
  },
  {
    id: 'eport-sm2-root',
    region: 'EPORT',
    algorithm: 'SM2',
    dir: 'eport',
    trustList: 'eport',
    subject: { C: 'CN', O: 'Baygate Dev E-port Certificate Center', OU: [DEV], CN: 'Baygate Dev E-port SM2 Root CA' },
  },
  {
    id: 'eport-sm2-ca',
    region: 'EPORT',
    algorithm: 'SM2',
    dir: 'eport',
    issuer: 'eport-sm2-root',
    trustList: 'eport',
    publishesCrl: true,
    subject: {
      C: 'CN',
      O: 'Baygate Dev E-port Certificate Center',
      OU: [DEV],
      CN: 'Baygate Dev E-port SM2 Operator CA',
    },
  },
  // On no trust list at all.
  {
    id: 'untrusted-root',
    region: 'HK',
    algorithm: 'RSA',
    dir: 'untrusted',
    trustList: null,
    negativeCase: 'untrusted-issuer',
    subject: { C: 'HK', O: 'Baygate Dev Unlisted Authority', OU: [DEV], CN: 'Baygate Dev Unlisted Root CA' },
  },
  {
    id: 'untrusted-ca',
    region: 'HK',
    algorithm: 'RSA',
    dir: 'untrusted',
    issuer: 'untrusted-root',
    trustList: null,
    negativeCase: 'untrusted-issuer',
    publishesCrl: true,
    subject: { C: 'HK', O: 'Baygate Dev Unlisted Authority', OU: [DEV], CN: 'Baygate Dev Unlisted Issuing CA' },
  },
];

const org = (C: string, O: string, CN: string, OU: string[] = []): NameSpec => ({ C, O, OU, CN });

const LEAVES: LeafDef[] = [
  // Sellers (valid)
  {
    id: 'seller-gd',
    role: 'seller',
    region: 'GD',
    algorithm: 'RSA',
    dir: 'gd',
    issuer: 'gd-mr-ca',
    trustList: 'gd',
    policy: 'mr',
    typeName: { text: TYPE_NAMES.GD.org, where: 'ou' },
    subject: org('CN', 'Baygate Dev Shenzhen Seller Co., Ltd.', 'Baygate Dev Shenzhen Seller'),
  },
  {
    id: 'seller-gd-sm2',
    role: 'seller',
    region: 'GD',
    algorithm: 'SM2',
    dir: 'gd',
    issuer: 'gd-sm2-mr-ca',
    trustList: 'gd',
    policy: 'mr',
    typeName: { text: TYPE_NAMES.GD.org, where: 'ou' },
    subject: org('CN', 'Baygate Dev Guangzhou SM2 Seller Co., Ltd.', 'Baygate Dev Guangzhou SM2 Seller'),
  },
  {
    id: 'seller-hk',
    role: 'seller',
    region: 'HK',
    algorithm: 'RSA',
    dir: 'hk',
    issuer: 'hk-ecert-ca',
    trustList: 'hk',
    policy: 'mr',
    serialStyle: 'leading-zero-nibble',
    typeName: { text: TYPE_NAMES.HK.org, where: 'notice' },
    subject: org('HK', 'Baygate Dev Kowloon Trading Limited', 'Baygate Dev Kowloon Trading'),
  },
  {
    id: 'seller-hk-personal',
    role: 'seller',
    region: 'HK',
    algorithm: 'RSA',
    dir: 'hk',
    issuer: 'hk-ecert-ca',
    trustList: 'hk',
    policy: 'mr',
    typeName: { text: TYPE_NAMES.HK.personal, where: 'notice' },
    subject: { C: 'HK', CN: 'CHAN Tai Man (Baygate Dev)' },
  },
  {
    id: 'seller-mo',
    role: 'seller',
    region: 'MO',
    algorithm: 'RSA',
    dir: 'mo',
    issuer: 'mo-mr-ca',
    trustList: 'mo',
    policy: 'mr',
    typeName: { text: TYPE_NAMES.MO.org, where: 'ou' },
    subject: org('MO', 'Baygate Dev Taipa Merchants Lda.', 'Baygate Dev Taipa Merchants'),
  },
  // Clearance centers (sign receipts)
  {
    id: 'center-gd',
    role: 'center',
    region: 'GD',
    algorithm: 'SM2',
    dir: 'gd',
    issuer: 'gd-sm2-mr-ca',
    trustList: 'gd',
    policy: 'mr',
    typeName: { text: TYPE_NAMES.GD.org, where: 'ou' },
    subject: org('CN', 'Baygate Dev Guangdong Clearance Center', 'center-gd'),
  },
  {
    id: 'center-hk',
    role: 'center',
    region: 'HK',
    algorithm: 'RSA',
    dir: 'hk',
    issuer: 'hk-ecert-ca',
    trustList: 'hk',
    policy: 'mr',
    typeName: { text: TYPE_NAMES.HK.org, where: 'notice' },
    subject: org('HK', 'Baygate Dev Hong Kong Clearance Center', 'center-hk'),
  },
  {
    id: 'center-mo',
    role: 'center',
    region: 'MO',
    algorithm: 'RSA',
    dir: 'mo',
    issuer: 'mo-mr-ca',
    trustList: 'mo',
    policy: 'mr',
    typeName: { text: TYPE_NAMES.MO.org, where: 'ou' },
    subject: org('MO', 'Baygate Dev Macao Clearance Center', 'center-mo'),
  },
  // E-port operators: serials start with a zero byte, so KeyName must keep leading zeros.
  {
    id: 'operator-rsa',
    role: 'operator',
    region: 'EPORT',
    algorithm: 'RSA',
    dir: 'eport',
    issuer: 'eport-rsa-ca',
    trustList: 'eport',
    policy: 'eport-cps',
    serialStyle: 'leading-zero-byte',
    subject: org('CN', 'Baygate Dev Customs Broker Co., Ltd.', 'Baygate Dev Operator (RSA)'),
  },
  {
    id: 'operator-sm2',
    role: 'operator',
    region: 'EPORT',
    algorithm: 'SM2',
    dir: 'eport',
    issuer: 'eport-sm2-ca',
    trustList: 'eport',
    policy: 'eport-cps',
    serialStyle: 'leading-zero-byte',
    subject: org('CN', 'Baygate Dev Customs Broker Co., Ltd.', 'Baygate Dev Operator (SM2)'),
  },
  // Negative cases
  {
    id: 'seller-gd-expired',
    role: 'seller',
    region: 'GD',
    algorithm: 'RSA',
    dir: 'gd',
    issuer: 'gd-mr-ca',
    trustList: 'gd',
    negativeCase: 'expired',
    policy: 'mr',
    typeName: { text: TYPE_NAMES.GD.org, where: 'ou' },
    validity: { notBefore: new Date('2024-02-01T00:00:00Z'), notAfter: new Date('2025-01-31T23:59:59Z') },
    subject: org('CN', 'Baygate Dev Expired Seller Co., Ltd.', 'Baygate Dev Expired Seller'),
  },
  {
    id: 'seller-gd-not-yet-valid',
    role: 'seller',
    region: 'GD',
    algorithm: 'RSA',
    dir: 'gd',
    issuer: 'gd-mr-ca',
    trustList: 'gd',
    negativeCase: 'not-yet-valid',
    policy: 'mr',
    typeName: { text: TYPE_NAMES.GD.org, where: 'ou' },
    validity: { notBefore: new Date('2046-01-01T00:00:00Z'), notAfter: new Date('2046-12-31T00:00:00Z') },
    subject: org('CN', 'Baygate Dev Future Seller Co., Ltd.', 'Baygate Dev Future Seller'),
  },
  {
    id: 'seller-gd-undesignated-ca',
    role: 'seller',
    region: 'GD',
    algorithm: 'RSA',
    dir: 'gd',
    issuer: 'gd-general-ca',
    trustList: 'gd',
    negativeCase: 'undesignated-issuer',
    policy: 'mr',
    typeName: { text: TYPE_NAMES.GD.org, where: 'ou' },
    subject: org('CN', 'Baygate Dev Undesignated Seller Co., Ltd.', 'Baygate Dev Undesignated Seller'),
  },
  {
    id: 'seller-hk-revoked',
    role: 'seller',
    region: 'HK',
    algorithm: 'RSA',
    dir: 'hk',
    issuer: 'hk-ecert-ca',
    trustList: 'hk',
    negativeCase: 'revoked',
    revoked: true,
    policy: 'mr',
    typeName: { text: TYPE_NAMES.HK.org, where: 'notice' },
    subject: org('HK', 'Baygate Dev Revoked Trading Limited', 'Baygate Dev Revoked Trading'),
  },
  {
    id: 'seller-hk-no-type-name',
    role: 'seller',
    region: 'HK',
    algorithm: 'RSA',
    dir: 'hk',
    issuer: 'hk-ecert-ca',
    trustList: 'hk',
    negativeCase: 'no-type-name',
    policy: 'mr',
    subject: org('HK', 'Baygate Dev Untyped Trading Limited', 'Baygate Dev Untyped Trading'),
  },
  {
    id: 'seller-hk-mr-period-ended',
    role: 'seller',
    region: 'HK',
    algorithm: 'RSA',
    dir: 'hk',
    issuer: 'hk-ecert-ca-retired',
    trustList: 'hk',
    negativeCase: 'mr-period-ended',
    policy: 'mr',
    typeName: { text: TYPE_NAMES.HK.org, where: 'notice' },
    subject: org('HK', 'Baygate Dev Retired-CA Trading Limited', 'Baygate Dev Retired-CA Trading'),
  },
  {
    id: 'seller-mo-wrong-policy',
    role: 'seller',
    region: 'MO',
    algorithm: 'RSA',
    dir: 'mo',
    issuer: 'mo-mr-ca',
    trustList: 'mo',
    negativeCase: 'wrong-policy',
    policy: 'lookalike',
    typeName: { text: TYPE_NAMES.MO.org, where: 'ou' },
    subject: org('MO', 'Baygate Dev Wrong Policy Lda.', 'Baygate Dev Wrong Policy'),
  },
  {
    id: 'seller-untrusted',
    role: 'seller',
    region: 'HK',
    algorithm: 'RSA',
    dir: 'untrusted',
    issuer: 'untrusted-ca',
    trustList: null,
    negativeCase: 'untrusted-issuer',
    policy: 'mr',
    typeName: { text: TYPE_NAMES.HK.org, where: 'notice' },
    subject: org('HK', 'Baygate Dev Unlisted Trading Limited', 'Baygate Dev Unlisted Trading'),
  },
];

/** MR periods on the trust lists. The retired HK CA's period ended in 2020. */
const MR_PERIODS: Record<string, { from: string; to: string | null }> = {
  'gd-mr-ca': { from: '2024-01-01T00:00:00Z', to: null },
  'gd-sm2-mr-ca': { from: '2024-01-01T00:00:00Z', to: null },
  'hk-ecert-ca': { from: '2024-01-01T00:00:00Z', to: null },
  'hk-ecert-ca-retired': { from: '2015-07-11T00:00:00Z', to: '2020-12-31T23:59:59Z' },
  'mo-mr-ca': { from: '2024-01-01T00:00:00Z', to: null },
  'eport-rsa-ca': { from: '2024-01-01T00:00:00Z', to: null },
  'eport-sm2-ca': { from: '2024-01-01T00:00:00Z', to: null },
};

// ---------------------------------------------------------------------------------------------

function serialFor(style: LeafDef['serialStyle'] | undefined): Buffer {
  const serial = randomBytes(16);
  if (style === 'leading-zero-byte') {
    // DER keeps a 0x00 byte only before a byte with the high bit set: 00 8x … → hex "008x…".
    serial[0] = 0x00;
    serial[1] = (serial[1] as number) | 0x80;
  } else if (style === 'leading-zero-nibble') {
    serial[0] = 0x01 + ((serial[0] as number) % 0x0f); // 0x01..0x0f → hex starts with "0"
  } else {
    serial[0] = 0x10 + ((serial[0] as number) % 0x60); // positive, no leading zero
  }
  return serial;
}

function generateKey(algorithm: Algorithm): KeyObject {
  const pair =
    algorithm === 'RSA'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'SM2' });
  // Round-trip through PKCS#8 so SM2 keys are the OpenSSL SM2 type, as they will be when loaded from disk.
  return createPrivateKey(pair.privateKey.export({ format: 'pem', type: 'pkcs8' }));
}

interface Issued {
  id: string;
  key: KeyObject;
  keyPem: string;
  certDer: Buffer;
  subject: NameSpec;
  serial: Buffer;
  chain: string[]; // issuer ids up to the root
}

interface IndexEntry {
  id: string;
  role: Role;
  region: Region;
  algorithm: Algorithm;
  subject: string;
  issuerId: string | null;
  keyPath: string;
  certPath: string;
  p12Path: string;
  chainPath: string | null;
  crlPath: string | null;
  serialHex: string;
  sha256: string;
  notBefore: string;
  notAfter: string;
  certificateTypeName: string | null;
  negativeCase: NegativeCase | null;
  trustList: string | null;
}

function sha256Hex(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex');
}

function main(): void {
  const args = process.argv.slice(2);
  const outIndex = args.indexOf('--out');
  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const out = outIndex >= 0 && args[outIndex + 1] ? resolve(args[outIndex + 1] as string) : join(repoRoot, 'certs-dev');
  if (args.includes('--readme-only')) {
    // Rewrites README.md from the existing index.json without touching keys (fixtures may depend on them).
    const existing = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')) as { identities: IndexEntry[] };
    writeFileSync(join(out, 'README.md'), readme(existing.identities));
    process.stdout.write(`README.md rewritten in ${out}\n`);
    return;
  }

  for (const dir of ['gd', 'hk', 'mo', 'eport', 'untrusted', 'trust-lists'])
    rmSync(join(out, dir), { recursive: true, force: true });
  rmSync(join(out, 'index.json'), { force: true });
  mkdirSync(out, { recursive: true });

  const issued = new Map<string, Issued>();
  const entries: IndexEntry[] = [];
  const rel = (p: string): string => relative(out, p).split('\\').join('/');

  const write = (path: string, data: string | Buffer): void => {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, data);
  };

  const revokedByCa = new Map<string, Buffer[]>();

  const issue = (
    def: { id: string; dir: string; algorithm: Algorithm; subject: NameSpec; issuer?: string },
    certificate: (key: KeyObject, serial: Buffer, issuer: Issued | null) => Buffer,
    serial: Buffer,
  ): Issued => {
    const key = generateKey(def.algorithm);
    const issuer = def.issuer ? issued.get(def.issuer) : null;
    if (def.issuer && !issuer) throw new Error(`${def.id}: issuer ${def.issuer} must be generated first`);
    const certDer = certificate(key, serial, issuer ?? null);
    const result: Issued = {
      id: def.id,
      key,
      keyPem: key.export({ format: 'pem', type: 'pkcs8' }).toString(),
      certDer,
      subject: def.subject,
      serial,
      chain: issuer ? [issuer.id, ...issuer.chain] : [],
    };
    issued.set(def.id, result);
    return result;
  };

  const paths = (dir: string, id: string) => ({
    key: join(out, dir, `${id}.key.pem`),
    cert: join(out, dir, `${id}.cert.pem`),
    p12: join(out, dir, `${id}.p12`),
    chain: join(out, dir, `${id}.chain.pem`),
    crl: join(out, dir, `${id}.crl.pem`),
  });

  const persist = (it: Issued, dir: string): ReturnType<typeof paths> => {
    const p = paths(dir, it.id);
    write(p.key, it.keyPem);
    write(p.cert, toPem(it.certDer, 'CERTIFICATE'));
    const chainPem = it.chain.map((id) => toPem((issued.get(id) as Issued).certDer, 'CERTIFICATE')).join('');
    if (chainPem) write(p.chain, chainPem);
    // PKCS#12 through the OpenSSL CLI: forge cannot parse SM2 certificates. AES-256/PBKDF2 (OpenSSL 3 default).
    const pkcs12Args = [
      'pkcs12',
      '-export',
      '-inkey',
      p.key,
      '-in',
      p.cert,
      '-name',
      it.id,
      '-passout',
      `pass:${DEV_P12_PASSWORD}`,
      '-out',
      p.p12,
    ];
    if (chainPem) pkcs12Args.push('-certfile', p.chain);
    execFileSync('openssl', pkcs12Args, { stdio: ['ignore', 'ignore', 'pipe'] });
    return p;
  };

  // Certificate authorities, roots first (CAS is ordered so issuers precede subjects).
  for (const ca of CAS) {
    const serial = serialFor(undefined);
    const it = issue(
      ca,
      (key, s, issuer) =>
        buildCertificate({
          serial: s,
          subject: ca.subject,
          subjectKey: key,
          issuer: issuer ? issuer.subject : ca.subject,
          issuerKey: issuer ? issuer.key : key,
          ...CA_VALIDITY,
          ca: true,
          pathLength: issuer ? 0 : 1,
          keyUsage: ['keyCertSign', 'cRLSign'],
        }),
      serial,
    );
    const p = persist(it, ca.dir);
    entries.push({
      id: ca.id,
      role: 'ca',
      region: ca.region,
      algorithm: ca.algorithm,
      subject: new X509Certificate(it.certDer).subject.split('\n').join(', '),
      issuerId: ca.issuer ?? null,
      keyPath: rel(p.key),
      certPath: rel(p.cert),
      p12Path: rel(p.p12),
      chainPath: it.chain.length ? rel(p.chain) : null,
      crlPath: ca.publishesCrl ? rel(p.crl) : null,
      serialHex: serial.toString('hex'),
      sha256: sha256Hex(it.certDer),
      notBefore: CA_VALIDITY.notBefore.toISOString(),
      notAfter: CA_VALIDITY.notAfter.toISOString(),
      certificateTypeName: null,
      negativeCase: ca.negativeCase ?? null,
      trustList: ca.trustList,
    });
  }

  for (const leaf of LEAVES) {
    const serial = serialFor(leaf.serialStyle);
    const subject: NameSpec = { ...leaf.subject, OU: [...(leaf.subject.OU ?? []), DEV] };
    if (leaf.typeName?.where === 'ou') subject.OU = [leaf.typeName.text, ...(subject.OU ?? [])];
    const policies: PolicySpec[] = [];
    if (leaf.policy === 'mr')
      policies.push({
        oid: MR_POLICY_OID,
        ...(leaf.typeName?.where === 'notice' ? { noticeText: leaf.typeName.text } : {}),
      });
    if (leaf.policy === 'lookalike') policies.push({ oid: LOOKALIKE_POLICY_OID });
    if (leaf.policy === 'eport-cps')
      policies.push({ oid: DEV_EPORT_CPS_OID, cpsUri: 'https://baygate.invalid/dev-eport-cps' });
    const validity = leaf.validity ?? LEAF_VALIDITY;
    const issuerDef = CAS.find((c) => c.id === leaf.issuer) as CaDef;
    const it = issue(
      { ...leaf, subject },
      (key, s, issuer) =>
        buildCertificate({
          serial: s,
          subject,
          subjectKey: key,
          issuer: (issuer as Issued).subject,
          issuerKey: (issuer as Issued).key,
          ...validity,
          ca: false,
          keyUsage: ['digitalSignature', 'nonRepudiation'],
          policies,
          crlUri: `https://baygate.invalid/dev-crl/${leaf.issuer}.crl`,
        }),
      serial,
    );
    const p = persist(it, leaf.dir);
    if (leaf.revoked) revokedByCa.set(leaf.issuer, [...(revokedByCa.get(leaf.issuer) ?? []), serial]);
    entries.push({
      id: leaf.id,
      role: leaf.role,
      region: leaf.region,
      algorithm: leaf.algorithm,
      subject: new X509Certificate(it.certDer).subject.split('\n').join(', '),
      issuerId: leaf.issuer,
      keyPath: rel(p.key),
      certPath: rel(p.cert),
      p12Path: rel(p.p12),
      chainPath: rel(p.chain),
      crlPath: rel(paths(issuerDef.dir, issuerDef.id).crl),
      serialHex: serial.toString('hex'),
      sha256: sha256Hex(it.certDer),
      notBefore: validity.notBefore.toISOString(),
      notAfter: validity.notAfter.toISOString(),
      certificateTypeName: leaf.typeName?.text ?? null,
      negativeCase: leaf.negativeCase ?? null,
      trustList: leaf.trustList,
    });
  }

  // CRLs: every issuing CA publishes one (signed with its own key, RSA or SM2).
  for (const ca of CAS.filter((c) => c.publishesCrl)) {
    const it = issued.get(ca.id) as Issued;
    const crl = buildCrl({
      issuer: ca.subject,
      issuerKey: it.key,
      ...CRL_TIMES,
      crlNumber: 1,
      revoked: (revokedByCa.get(ca.id) ?? []).map((serial) => ({
        serial,
        revokedAt: new Date('2025-05-01T00:00:00Z'),
        reasonCode: 1,
      })),
    });
    write(paths(ca.dir, ca.id).crl, toPem(crl, 'X509 CRL'));
  }

  writeTrustLists(out, issued, rel, paths);
  writeFileSync(
    join(out, 'index.json'),
    JSON.stringify(
      { development: true, p12Password: DEV_P12_PASSWORD, generatedBy: 'scripts/gen-dev-pki.ts', identities: entries },
      null,
      2,
    ) + '\n',
  );
  writeFileSync(join(out, 'README.md'), readme(entries));
  process.stdout.write(`dev PKI written to ${out}: ${entries.length} identities\n`);

  function writeTrustLists(
    dir: string,
    all: Map<string, Issued>,
    relPath: (p: string) => string,
    pathsOf: typeof paths,
  ): void {
    const tlDir = join(dir, 'trust-lists');
    const fromTl = (p: string): string => relative(tlDir, p).split('\\').join('/');
    const caEntry = (id: string) => {
      const def = CAS.find((c) => c.id === id) as CaDef;
      const it = all.get(id) as Issued;
      return { id, name: def.subject.CN, certPath: fromTl(pathsOf(def.dir, id).cert), sha256: sha256Hex(it.certDer) };
    };
    const designated = (id: string, typeNames: string[]) => ({
      ...caEntry(id),
      certificateTypeNames: typeNames,
      mrPeriod: MR_PERIODS[id] as { from: string; to: string | null },
      crlPath: fromTl(pathsOf((CAS.find((c) => c.id === id) as CaDef).dir, id).crl),
    });
    const mrChecks = {
      mrPeriod: true,
      recognisedRoot: true,
      designatedIssuer: true,
      certificateTypeName: true,
      mrPolicy: true,
    };
    const lists: TrustListFile[] = [
      {
        id: 'gd',
        region: 'GD',
        name: 'Guangdong MR trust list (DEVELOPMENT imitation)',
        development: true,
        domain: 'mutual-recognition',
        checks: mrChecks,
        policyOidPrefix: MR_POLICY_OID_PREFIX,
        entries: [
          {
            name: 'Baygate Dev Guangdong CA (RSA)',
            root: caEntry('gd-root'),
            issuingCas: [designated('gd-mr-ca', [TYPE_NAMES.GD.org, TYPE_NAMES.GD.personal])],
          },
          {
            name: 'Baygate Dev Guangdong CA (SM2)',
            root: caEntry('gd-sm2-root'),
            issuingCas: [designated('gd-sm2-mr-ca', [TYPE_NAMES.GD.org, TYPE_NAMES.GD.personal])],
          },
        ],
      },
      {
        id: 'hk',
        region: 'HK',
        name: 'Hong Kong MR trust list (DEVELOPMENT imitation)',
        development: true,
        domain: 'mutual-recognition',
        checks: mrChecks,
        policyOidPrefix: MR_POLICY_OID_PREFIX,
        entries: [
          {
            name: 'Baygate Dev e-Cert',
            root: caEntry('hk-root'),
            issuingCas: [
              designated('hk-ecert-ca', [TYPE_NAMES.HK.personal, TYPE_NAMES.HK.org]),
              designated('hk-ecert-ca-retired', [TYPE_NAMES.HK.personal, TYPE_NAMES.HK.org]),
            ],
          },
        ],
      },
      {
        id: 'mo',
        region: 'MO',
        name: 'Macao MR trust list (DEVELOPMENT imitation)',
        development: true,
        domain: 'mutual-recognition',
        checks: mrChecks,
        policyOidPrefix: MR_POLICY_OID_PREFIX,
        entries: [
          {
            name: 'Baygate Dev Macao eSign',
            root: caEntry('mo-root'),
            issuingCas: [designated('mo-mr-ca', [TYPE_NAMES.MO.org, TYPE_NAMES.MO.personal])],
          },
        ],
      },
      {
        id: 'eport',
        region: 'EPORT',
        name: 'Customs E-port operator CAs (DEVELOPMENT imitation; separate CPS trust domain, no MR requirements)',
        development: true,
        domain: 'eport',
        checks: {
          mrPeriod: false,
          recognisedRoot: true,
          designatedIssuer: true,
          certificateTypeName: false,
          mrPolicy: false,
        },
        policyOidPrefix: null,
        entries: [
          {
            name: 'Baygate Dev E-port (RSA)',
            root: caEntry('eport-root'),
            issuingCas: [designated('eport-rsa-ca', [])],
          },
          {
            name: 'Baygate Dev E-port (SM2)',
            root: caEntry('eport-sm2-root'),
            issuingCas: [designated('eport-sm2-ca', [])],
          },
        ],
      },
    ];
    for (const list of lists) write(join(tlDir, `${list.id}.json`), JSON.stringify(list, null, 2) + '\n');
    const centers: ReceiptSignersFile = {
      kind: 'receipt-signers',
      development: true,
      description:
        'Clearance-center certificates allowed to sign receipts (pinned by SHA-256), each also checked against its trust list.',
      signers: LEAVES.filter((l) => l.role === 'center').map((l) => {
        const it = all.get(l.id) as Issued;
        return {
          id: l.id,
          region: l.region as 'GD' | 'HK' | 'MO',
          trustList: l.trustList as string,
          certPath: fromTl(pathsOf(l.dir, l.id).cert),
          sha256: sha256Hex(it.certDer),
          serialHex: it.serial.toString('hex'),
        };
      }),
    };
    write(join(tlDir, 'centers.json'), JSON.stringify(centers, null, 2) + '\n');
    void relPath;
  }
}

function readme(entries: IndexEntry[]): string {
  const rows = entries
    .map(
      (e) =>
        `| \`${e.id}\` | ${e.role} | ${e.region} | ${e.algorithm} | ${e.trustList ?? '—'} | ${e.negativeCase ?? '—'} |`,
    )
    .join('\n');
  return `# certs-dev — DEVELOPMENT PKI (never for production)

This folder is a clearly marked **development PKI** generated by \`npm run certs:dev\`
(\`scripts/gen-dev-pki.ts\`). Its private keys are committed to the repository and its PKCS#12 password is
public, so **nothing here may ever be trusted in production**. The CAs imitate the Guangdong, Hong Kong and
Macao mutual-recognition (MR) trust lists and the customs E-port operator CA only so that the signing,
verification and relying-party code can be tested end to end; they are not the real authorities.

- PKCS#12 password (development only): \`${DEV_P12_PASSWORD}\`
- Keys: \`<id>.key.pem\` (PKCS#8, unencrypted), certificates \`<id>.cert.pem\`, issuer chain \`<id>.chain.pem\`
  (issuing CA then root), \`<id>.p12\` (key + certificate + chain).
- CRLs: \`<ca-id>.crl.pem\`, published by every issuing CA (the HK e-Cert CA's lists \`seller-hk-revoked\`).
- \`index.json\`: every identity (id, role, region, algorithm, paths, serialHex, negativeCase, trustList …).
- \`trust-lists/{gd,hk,mo,eport}.json\`: trust lists as data (paths inside are relative to that folder),
  loaded by \`loadTrustLists()\` in \`src/signing/trust\`; \`trust-lists/centers.json\` pins the
  clearance-center receipt signers.
- MR certificates carry certificatePolicies \`${MR_POLICY_OID}\` (under the MR prefix \`${MR_POLICY_OID_PREFIX}\`);
  GD and MO put the certificate-type name in the subject OU, the HK e-Cert imitation in the policy's user
  notice. E-port operator certificates carry a dev CPS policy instead and their serial numbers start with a
  zero byte (KeyName must keep leading zeros).
- Valid certificates last until 2046; CRLs have nextUpdate 2046-06-30.

Check a certificate: \`npx baygate certs check certs-dev/hk/seller-hk.cert.pem\` (add \`--chain <id>.chain.pem\` to
offer intermediates, \`--at <ISO time>\` to check at another time, \`--json\` for the verdict object).

## Trust-list files

Each \`trust-lists/<id>.json\` (validated by zod when loaded) has \`id\`, \`region\`, \`domain\`
(\`mutual-recognition\` or \`eport\`), \`checks\` (which MR checks the list requires: \`mrPeriod\`,
\`recognisedRoot\`, \`designatedIssuer\`, \`certificateTypeName\`, \`mrPolicy\`), \`policyOidPrefix\` and
\`entries[]\`: the recognised \`root\` (certPath + sha256) and its designated \`issuingCas[]\` (certPath, sha256,
\`certificateTypeNames\`, \`mrPeriod {from, to|null}\`, \`crlPath\`). The E-port list turns the MR-only
checks off: it is a separate trust domain with a CPS policy. Chain signatures, validity and CRL revocation
always apply.

SM2 certificates and CRLs here are signed with SM2/SM3 and the standard distinguishing ID
\`1234567812345678\`. Note that \`openssl verify\` (OpenSSL 3.0) checks SM2 certificate signatures with an
*empty* ID and therefore reports "certificate signature failure" for them, as Node's
\`X509Certificate.verify()\` does; verify the TBSCertificate with
\`openssl pkeyutl -verify -rawin -digest sm3 -pkeyopt distid:1234567812345678\` instead (see
\`test/signing/pki.test.ts\`). RSA chains verify with plain \`openssl verify -crl_check\`.

| id | role | region | algorithm | trust list | negative case |
|---|---|---|---|---|---|
${rows}
`;
}

main();
