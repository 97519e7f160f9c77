/**
 * Escaping exactly as Canonical XML 1.0 (inclusive, without comments) serialises character data, so
 * text we write needs no re-canonicalisation before it is digested:
 * - text nodes: `&` → `&amp;`, `<` → `&lt;`, `>` → `&gt;`, CR → `&#xD;` (quotes stay literal);
 * - attribute values: `&` → `&amp;`, `<` → `&lt;`, `"` → `&quot;`, TAB → `&#x9;`, LF → `&#xA;`,
 *   CR → `&#xD;` (`>` stays literal).
 * Characters XML 1.0 forbids (C0 controls other than TAB/LF/CR, lone surrogates, U+FFFE/U+FFFF) cannot
 * be written at all; `invalidXmlCharIndex` finds them so callers can report the field.
 */

const TEXT_SPECIAL = /[&<>\r]/;
const ATTR_SPECIAL = /[&<"\t\n\r]/;
const INVALID_XML_CHAR =
  // eslint-disable-next-line no-control-regex -- the control characters XML 1.0 cannot carry are the point
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function escapeCanonicalText(value: string): string {
  // Fast path: most customs values (codes, numbers, names) contain nothing to escape.
  if (!TEXT_SPECIAL.test(value)) return value;
  let out = '';
  for (const ch of value) {
    switch (ch) {
      case '&':
        out += '&amp;';
        break;
      case '<':
        out += '&lt;';
        break;
      case '>':
        out += '&gt;';
        break;
      case '\r':
        out += '&#xD;';
        break;
      default:
        out += ch;
    }
  }
  return out;
}

export function escapeCanonicalAttribute(value: string): string {
  if (!ATTR_SPECIAL.test(value)) return value;
  let out = '';
  for (const ch of value) {
    switch (ch) {
      case '&':
        out += '&amp;';
        break;
      case '<':
        out += '&lt;';
        break;
      case '"':
        out += '&quot;';
        break;
      case '\t':
        out += '&#x9;';
        break;
      case '\n':
        out += '&#xA;';
        break;
      case '\r':
        out += '&#xD;';
        break;
      default:
        out += ch;
    }
  }
  return out;
}

/** Index of the first character XML 1.0 cannot carry, or -1. */
export function invalidXmlCharIndex(value: string): number {
  const m = INVALID_XML_CHAR.exec(value);
  return m ? m.index : -1;
}
