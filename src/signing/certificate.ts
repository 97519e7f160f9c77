import { X509Certificate, type KeyObject } from 'node:crypto';
import type { KeyFamily } from './algorithms';

/**
 * A certificate as the signing layer needs it: DER for KeyInfo, the serial as E-port writes it in
 * KeyName, and the key family to pick the algorithm.
 */
export interface CertificateInfo {
  readonly x509: X509Certificate;
  readonly der: Buffer;
  readonly derBase64: string;
  /** Serial number in lower-case hex exactly as its DER INTEGER content bytes, leading zeros kept. */
  readonly serialHex: string;
  readonly subject: string;
  readonly keyFamily: KeyFamily;
  readonly publicKey: KeyObject;
}

const SM2_CURVE_OID_DER = Buffer.from('06082a811ccf5501822d', 'hex');
const PEM_CERT = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/;

/** Accepts PEM, DER or bare Base64 (what E-port tools return "as PEM"). */
export function loadCertificate(input: string | Buffer | X509Certificate): CertificateInfo {
  const x509 = input instanceof X509Certificate ? input : new X509Certificate(toDer(input));
  const der = x509.raw;
  return {
    x509,
    der,
    derBase64: der.toString('base64'),
    serialHex: serialHexFromDer(der),
    subject: x509.subject.replace(/\n/g, ', '),
    keyFamily: keyFamilyOf(x509.publicKey),
    publicKey: x509.publicKey,
  };
}

function toDer(input: string | Buffer): Buffer {
  const text = typeof input === 'string' ? input : input[0] === 0x30 ? null : input.toString('latin1');
  if (text === null) return input as Buffer;
  const pem = PEM_CERT.exec(text);
  const b64 = (pem ? (pem[1] ?? '') : text).replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new Error('certificate is neither PEM, DER nor Base64');
  return Buffer.from(b64, 'base64');
}

/** RSA or SM2, from the key itself (Node reports SM2 keys with an undefined type; the curve OID decides). */
export function keyFamilyOf(key: KeyObject): KeyFamily {
  if (key.asymmetricKeyType === 'rsa') return 'rsa';
  const der =
    key.type === 'private' ? key.export({ format: 'der', type: 'pkcs8' }) : key.export({ format: 'der', type: 'spki' });
  if (der.includes(SM2_CURVE_OID_DER)) return 'sm2';
  throw new Error(
    `unsupported key type ${key.asymmetricKeyType ?? 'unknown'} (only RSA and SM2 are used for CEB signatures)`,
  );
}

// --- minimal DER reading: just enough to reach the serialNumber of a TBSCertificate ---------------

interface Tlv {
  tag: number;
  start: number; // first content byte
  end: number; // one past the last content byte
}

function readTlv(der: Buffer, at: number): Tlv {
  const tag = der[at];
  let len = der[at + 1];
  if (tag === undefined || len === undefined) throw new Error('certificate DER truncated');
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new Error('certificate DER length not supported');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (der[start + i] ?? 0);
    start += n;
  }
  if (start + len > der.length) throw new Error('certificate DER truncated');
  return { tag, start, end: start + len };
}

/** Certificate ::= SEQUENCE { tbs SEQUENCE { [0] version OPTIONAL, serialNumber INTEGER, … } … } */
export function serialHexFromDer(der: Buffer): string {
  const cert = readTlv(der, 0);
  const tbs = readTlv(der, cert.start);
  let field = readTlv(der, tbs.start);
  if (field.tag === 0xa0) field = readTlv(der, field.end);
  if (field.tag !== 0x02) throw new Error('certificate serialNumber not found');
  return der.subarray(field.start, field.end).toString('hex');
}
