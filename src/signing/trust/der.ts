import forge from 'node-forge';

/**
 * Thin helpers over node-forge's ASN.1 layer, which (unlike forge's certificate parser) reads any key
 * algorithm, including SM2. forge works on "binary strings"; these helpers keep Buffers at the edges.
 */

export type Asn1 = forge.asn1.Asn1;
export const asn1 = forge.asn1;
const { Class, Type } = forge.asn1;

export const bin = (buf: Buffer): string => buf.toString('binary');
export const buf = (binary: string): Buffer => Buffer.from(binary, 'binary');

export function fromDer(der: Buffer): Asn1 {
  // decodeBitStrings: false — a signature or key BIT STRING must never be guessed as nested ASN.1.
  // (@types/node-forge still declares the old boolean-only second parameter.)
  const options = { strict: true, parseAllBytes: true, decodeBitStrings: false } as unknown as boolean;
  return asn1.fromDer(bin(der), options);
}

export function toDer(node: Asn1): Buffer {
  return buf(asn1.toDer(node).getBytes());
}

/** PEM (any label) or DER → DER. */
export function pemOrDerToDer(input: Buffer | string, label: string): Buffer {
  // DER always starts with a SEQUENCE tag; anything else is treated as PEM text (which may carry a preamble).
  if (typeof input !== 'string' && input[0] === 0x30) return input;
  const text = typeof input === 'string' ? input : input.toString('latin1');
  const match = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`).exec(text);
  if (!match) throw new Error(`expected a PEM block "${label}"`);
  return Buffer.from((match[1] as string).replace(/\s+/g, ''), 'base64');
}

export function toPem(der: Buffer, label: string): string {
  const b64 = der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

export function children(node: Asn1 | undefined, what: string): Asn1[] {
  if (!node || !Array.isArray(node.value)) throw new Error(`${what}: expected a constructed ASN.1 value`);
  return node.value;
}

export function child(node: Asn1 | undefined, index: number, what: string): Asn1 {
  const c = children(node, what)[index];
  if (!c) throw new Error(`${what}: missing element ${index}`);
  return c;
}

export function primitive(node: Asn1 | undefined, what: string): string {
  if (!node || typeof node.value !== 'string') throw new Error(`${what}: expected a primitive ASN.1 value`);
  return node.value;
}

export const isUniversal = (node: Asn1 | undefined, type: number): boolean =>
  !!node && node.tagClass === Class.UNIVERSAL && node.type === type;
export const isContext = (node: Asn1 | undefined, tag: number): boolean =>
  !!node && node.tagClass === Class.CONTEXT_SPECIFIC && node.type === tag;

export function oidOf(node: Asn1 | undefined, what: string): string {
  if (!isUniversal(node, Type.OID)) throw new Error(`${what}: expected an OBJECT IDENTIFIER`);
  return asn1.derToOid(primitive(node, what));
}

export function timeOf(node: Asn1 | undefined, what: string): Date {
  if (isUniversal(node, Type.UTCTIME)) return asn1.utcTimeToDate(primitive(node, what));
  if (isUniversal(node, Type.GENERALIZEDTIME)) return asn1.generalizedTimeToDate(primitive(node, what));
  throw new Error(`${what}: expected UTCTime or GeneralizedTime`);
}

/** Text of a DirectoryString / DisplayText (UTF8String, PrintableString, IA5String, VisibleString, BMPString). */
export function textOf(node: Asn1 | undefined): string | null {
  if (!node || node.tagClass !== Class.UNIVERSAL || typeof node.value !== 'string') return null;
  const raw = buf(node.value);
  switch (node.type as number) {
    case Type.UTF8:
      return raw.toString('utf8');
    case Type.PRINTABLESTRING:
    case Type.IA5STRING:
    case 26: // VisibleString
    case 20: // TeletexString (T61String)
      return raw.toString('latin1');
    case Type.BMPSTRING:
      return Buffer.from(raw).swap16().toString('utf16le');
    default:
      return null;
  }
}

/** Lower-case hex of an INTEGER's content bytes exactly as encoded (leading zero bytes kept). */
export function integerHex(node: Asn1 | undefined, what: string): string {
  if (!isUniversal(node, Type.INTEGER)) throw new Error(`${what}: expected an INTEGER`);
  return buf(primitive(node, what)).toString('hex');
}

/**
 * Splits a signed structure (Certificate or CertificateList: SEQUENCE { tbs, algorithm, BIT STRING })
 * into the exact TBS bytes as received — re-encoding could change them — plus algorithm and signature.
 */
export function splitSigned(
  der: Buffer,
  what: string,
): { tbs: Buffer; algorithmOid: string; signature: Buffer; root: Asn1 } {
  const readHeader = (at: number): { tag: number; headerLength: number; length: number } => {
    const tag = der[at];
    const first = der[at + 1];
    if (tag === undefined || first === undefined) throw new Error(`${what}: truncated DER`);
    if (first < 0x80) return { tag, headerLength: 2, length: first };
    const count = first & 0x7f;
    if (count === 0 || count > 4) throw new Error(`${what}: unsupported DER length`);
    let length = 0;
    for (let i = 0; i < count; i++) {
      const b = der[at + 2 + i];
      if (b === undefined) throw new Error(`${what}: truncated DER`);
      length = length * 256 + b;
    }
    return { tag, headerLength: 2 + count, length };
  };
  const outer = readHeader(0);
  if (outer.tag !== 0x30 || outer.headerLength + outer.length !== der.length)
    throw new Error(`${what}: not a DER SEQUENCE`);
  const inner = readHeader(outer.headerLength);
  if (inner.tag !== 0x30) throw new Error(`${what}: TBS is not a SEQUENCE`);
  const tbs = der.subarray(outer.headerLength, outer.headerLength + inner.headerLength + inner.length);
  const root = fromDer(der);
  const algorithmOid = oidOf(
    child(child(root, 1, `${what} signatureAlgorithm`), 0, `${what} signatureAlgorithm`),
    `${what} signatureAlgorithm`,
  );
  const bits = buf(primitive(child(root, 2, `${what} signatureValue`), `${what} signatureValue`));
  if (bits[0] !== 0) throw new Error(`${what}: signature BIT STRING has unused bits`);
  return { tbs: Buffer.from(tbs), algorithmOid, signature: bits.subarray(1), root };
}
