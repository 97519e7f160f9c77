/**
 * The UTF-8 byte-order mark (U+FEFF at the start of a decoded text). Windows tools write it in front of
 * XML and JSON files, and E-port clients and centers in front of messages; it is an encoding signature,
 * not content (XML 1.0 §4.3.3, RFC 8259 §8.1), so every place text comes in drops it before parsing —
 * and a signature never covers it (C14N output has none). xmlsec1 accepts such files; so must we.
 */
const BOM = '\uFEFF';

export function stripBom(text: string): string {
  return text.startsWith(BOM) ? text.slice(1) : text;
}
