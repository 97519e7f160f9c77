import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { asn1, bin, buf, fromDer, toDer, type Asn1 } from './der';
import { signatureAlgorithmFor, signTbs } from './algorithms';

/**
 * Minimal X.509 certificate and CRL builder on node-forge's ASN.1 layer. forge's own certificate API
 * only handles RSA keys; this one takes any SPKI, so RSA and SM2 subjects and issuers mix freely.
 * Used by the development PKI generator and by tests that need hand-made certificates.
 */

const { Class, Type } = asn1;
const seq = (items: Asn1[]): Asn1 => asn1.create(Class.UNIVERSAL, Type.SEQUENCE, true, items);
const set = (items: Asn1[]): Asn1 => asn1.create(Class.UNIVERSAL, Type.SET, true, items);
const oid = (value: string): Asn1 => asn1.create(Class.UNIVERSAL, Type.OID, false, asn1.oidToDer(value).getBytes());
const bool = (value: boolean): Asn1 => asn1.create(Class.UNIVERSAL, Type.BOOLEAN, false, value ? '\xff' : '\x00');
const octets = (data: Buffer): Asn1 => asn1.create(Class.UNIVERSAL, Type.OCTETSTRING, false, bin(data));
const utf8 = (text: string): Asn1 => asn1.create(Class.UNIVERSAL, Type.UTF8, false, bin(Buffer.from(text, 'utf8')));
const printable = (text: string): Asn1 => asn1.create(Class.UNIVERSAL, Type.PRINTABLESTRING, false, text);
const ia5 = (text: string): Asn1 => asn1.create(Class.UNIVERSAL, Type.IA5STRING, false, text);
const integerBytes = (content: Buffer): Asn1 => asn1.create(Class.UNIVERSAL, Type.INTEGER, false, bin(content));
const smallInt = (n: number): Asn1 => integerBytes(Buffer.from([n]));
const bitString = (data: Buffer, unusedBits = 0): Asn1 =>
  asn1.create(Class.UNIVERSAL, Type.BITSTRING, false, String.fromCharCode(unusedBits) + bin(data));
const explicit = (tag: number, inner: Asn1): Asn1 => asn1.create(Class.CONTEXT_SPECIFIC, tag, true, [inner]);

/** UTCTime up to 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5). */
function time(date: Date): Asn1 {
  return date.getUTCFullYear() < 2050
    ? asn1.create(Class.UNIVERSAL, Type.UTCTIME, false, asn1.dateToUtcTime(date))
    : asn1.create(Class.UNIVERSAL, Type.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(date));
}

export interface NameSpec {
  C?: string;
  ST?: string;
  L?: string;
  O?: string;
  OU?: string[];
  CN: string;
}

const NAME_OIDS = { C: '2.5.4.6', ST: '2.5.4.8', L: '2.5.4.7', O: '2.5.4.10', OU: '2.5.4.11', CN: '2.5.4.3' } as const;

export function buildName(name: NameSpec): Asn1 {
  const rdn = (type: string, value: Asn1): Asn1 => set([seq([oid(type), value])]);
  const rdns: Asn1[] = [];
  if (name.C) rdns.push(rdn(NAME_OIDS.C, printable(name.C)));
  if (name.ST) rdns.push(rdn(NAME_OIDS.ST, utf8(name.ST)));
  if (name.L) rdns.push(rdn(NAME_OIDS.L, utf8(name.L)));
  if (name.O) rdns.push(rdn(NAME_OIDS.O, utf8(name.O)));
  for (const ou of name.OU ?? []) rdns.push(rdn(NAME_OIDS.OU, utf8(ou)));
  rdns.push(rdn(NAME_OIDS.CN, utf8(name.CN)));
  return seq(rdns);
}

/** SHA-1 of the subjectPublicKey BIT STRING contents (RFC 5280 §4.2.1.2 method 1). */
export function keyIdentifier(publicKey: KeyObject): Buffer {
  const spki = fromDer(publicKey.export({ format: 'der', type: 'spki' }));
  const bits = (spki.value as Asn1[])[1]?.value;
  if (typeof bits !== 'string') throw new Error('keyIdentifier: unexpected SPKI structure');
  return createHash('sha1').update(buf(bits).subarray(1)).digest();
}

export interface PolicySpec {
  oid: string;
  /** userNotice explicitText qualifier (where the HK dev e-Cert carries its certificate-type name). */
  noticeText?: string;
  /** CPS URI qualifier. */
  cpsUri?: string;
}

export interface CertificateSpec {
  /** INTEGER content bytes exactly as they should be encoded (must be valid DER: no redundant leading zero). */
  serial: Buffer;
  subject: NameSpec;
  subjectKey: KeyObject;
  issuer: NameSpec;
  issuerKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
  ca: boolean;
  pathLength?: number;
  /** keyUsage bit names, e.g. ['digitalSignature', 'nonRepudiation'] or ['keyCertSign', 'cRLSign']; null: no extension (tests). */
  keyUsage: KeyUsageName[] | null;
  policies?: PolicySpec[];
  crlUri?: string;
  /** Overrides the authorityKeyIdentifier (tests imitate forgeries that copy the real CA's key id). */
  authorityKeyId?: Buffer;
}

export const KEY_USAGE_BITS = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;
export type KeyUsageName = (typeof KEY_USAGE_BITS)[number];

function keyUsageBits(names: KeyUsageName[]): Asn1 {
  let value = 0;
  for (const name of names) value |= 0x8000 >> KEY_USAGE_BITS.indexOf(name);
  const bytes = value & 0xff ? Buffer.from([value >> 8, value & 0xff]) : Buffer.from([value >> 8]);
  const last = bytes[bytes.length - 1] as number;
  let unused = 0;
  while (unused < 7 && !(last & (1 << unused))) unused++;
  return bitString(bytes, last === 0 ? 0 : unused);
}

const extension = (id: string, critical: boolean, value: Asn1): Asn1 =>
  seq(critical ? [oid(id), bool(true), octets(toDer(value))] : [oid(id), octets(toDer(value))]);

function policiesExtension(policies: PolicySpec[]): Asn1 {
  return seq(
    policies.map((p) => {
      const qualifiers: Asn1[] = [];
      if (p.cpsUri) qualifiers.push(seq([oid('1.3.6.1.5.5.7.2.1'), ia5(p.cpsUri)]));
      if (p.noticeText) qualifiers.push(seq([oid('1.3.6.1.5.5.7.2.2'), seq([utf8(p.noticeText)])]));
      return seq(qualifiers.length ? [oid(p.oid), seq(qualifiers)] : [oid(p.oid)]);
    }),
  );
}

function signed(tbs: Asn1, issuerKey: KeyObject): Buffer {
  const tbsDer = toDer(tbs);
  const { algorithmOid, signature } = signTbs(tbsDer, issuerKey);
  return toDer(seq([fromDer(tbsDer), seq([oid(algorithmOid)]), bitString(signature)]));
}

/** Builds and signs an X.509 v3 certificate; returns DER. */
export function buildCertificate(spec: CertificateSpec): Buffer {
  const subjectPublic = spec.subjectKey.type === 'private' ? createPublicKey(spec.subjectKey) : spec.subjectKey;
  const issuerPublic = createPublicKey(spec.issuerKey);
  const algorithmOid = signatureAlgorithmFor(spec.issuerKey);
  const extensions: Asn1[] = [
    extension(
      '2.5.29.19',
      true,
      seq(spec.ca ? [bool(true), ...(spec.pathLength !== undefined ? [smallInt(spec.pathLength)] : [])] : []),
    ),
    ...(spec.keyUsage ? [extension('2.5.29.15', true, keyUsageBits(spec.keyUsage))] : []),
    extension('2.5.29.14', false, octets(keyIdentifier(subjectPublic))),
    extension(
      '2.5.29.35',
      false,
      seq([asn1.create(Class.CONTEXT_SPECIFIC, 0, false, bin(spec.authorityKeyId ?? keyIdentifier(issuerPublic)))]),
    ),
  ];
  if (spec.policies?.length) extensions.push(extension('2.5.29.32', false, policiesExtension(spec.policies)));
  if (spec.crlUri) {
    // cRLDistributionPoints: DistributionPoint { distributionPoint [0] { fullName [0] { URI [6] } } }
    const uri = asn1.create(Class.CONTEXT_SPECIFIC, 6, false, spec.crlUri);
    extensions.push(
      extension(
        '2.5.29.31',
        false,
        seq([
          seq([asn1.create(Class.CONTEXT_SPECIFIC, 0, true, [asn1.create(Class.CONTEXT_SPECIFIC, 0, true, [uri])])]),
        ]),
      ),
    );
  }
  const tbs = seq([
    explicit(0, smallInt(2)),
    integerBytes(spec.serial),
    seq([oid(algorithmOid)]),
    buildName(spec.issuer),
    seq([time(spec.notBefore), time(spec.notAfter)]),
    buildName(spec.subject),
    fromDer(subjectPublic.export({ format: 'der', type: 'spki' })),
    explicit(3, seq(extensions)),
  ]);
  return signed(tbs, spec.issuerKey);
}

export interface RevokedEntry {
  serial: Buffer;
  revokedAt: Date;
  /** CRLReason code (1 = keyCompromise, 4 = superseded, 5 = cessationOfOperation …). */
  reasonCode?: number;
}

export interface CrlSpec {
  issuer: NameSpec;
  issuerKey: KeyObject;
  thisUpdate: Date;
  nextUpdate: Date;
  crlNumber: number;
  revoked: RevokedEntry[];
}

/** Builds and signs an X.509 v2 CRL; returns DER. */
export function buildCrl(spec: CrlSpec): Buffer {
  const algorithmOid = signatureAlgorithmFor(spec.issuerKey);
  const fields: Asn1[] = [
    smallInt(1),
    seq([oid(algorithmOid)]),
    buildName(spec.issuer),
    time(spec.thisUpdate),
    time(spec.nextUpdate),
  ];
  if (spec.revoked.length) {
    fields.push(
      seq(
        spec.revoked.map((r) => {
          const entry: Asn1[] = [integerBytes(r.serial), time(r.revokedAt)];
          if (r.reasonCode !== undefined) {
            entry.push(
              seq([
                extension(
                  '2.5.29.21',
                  false,
                  asn1.create(Class.UNIVERSAL, Type.ENUMERATED, false, String.fromCharCode(r.reasonCode)),
                ),
              ]),
            );
          }
          return seq(entry);
        }),
      ),
    );
  }
  fields.push(
    explicit(
      0,
      seq([
        extension(
          '2.5.29.35',
          false,
          seq([asn1.create(Class.CONTEXT_SPECIFIC, 0, false, bin(keyIdentifier(createPublicKey(spec.issuerKey))))]),
        ),
        extension('2.5.29.20', false, integerBytes(Buffer.from([spec.crlNumber]))),
      ]),
    ),
  );
  return signed(seq(fields), spec.issuerKey);
}
