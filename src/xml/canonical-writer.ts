import { escapeCanonicalAttribute, escapeCanonicalText } from './canonical-text';

/**
 * Writes XML that is ALREADY in Canonical XML 1.0 form (inclusive, without comments), so the signing
 * layer can digest the bytes as they are and never re-canonicalises. The invariants, each one a rule of
 * the C14N spec, are:
 * 1. no XML declaration, no DOCTYPE, no comments, no whitespace outside the root element;
 * 2. every element written as a start/end tag pair — never self-closing (`<a></a>`, not `<a/>`);
 * 3. on each start tag, namespace declarations first, sorted by prefix (default namespace first), then
 *    attributes sorted by namespace URI then local name (unqualified ones first, by local name);
 * 4. character data escaped as C14N does (see canonical-text.ts), attribute values in double quotes;
 * 5. namespace declarations only where they are not already in scope (we declare them on the root);
 * 6. output is a JS string whose UTF-8 encoding is the canonical byte sequence.
 * The writer also adds no whitespace between elements: the CEB messages are data-only, and insignificant
 * whitespace would have to survive unchanged through transport to verify.
 * Test: test/xml/canonical-identity.test.ts checks `xmllint --c14n` of every message type gives back
 * the same bytes.
 *
 * It is an append-only array of string parts joined once: no DOM on the signing hot path.
 */
export class CanonicalXmlWriter {
  private readonly parts: string[] = [];

  /**
   * Opens an element. `namespaces` maps prefix ('' for default) → URI; `attributes` are unqualified
   * attributes. Both are sorted here, so callers cannot break rule 3.
   */
  open(
    qname: string,
    namespaces?: Readonly<Record<string, string>>,
    attributes?: Readonly<Record<string, string>>,
  ): this {
    let tag = '<' + qname;
    if (namespaces) {
      for (const prefix of Object.keys(namespaces).sort()) {
        const uri = escapeCanonicalAttribute(namespaces[prefix] as string);
        tag += prefix === '' ? ` xmlns="${uri}"` : ` xmlns:${prefix}="${uri}"`;
      }
    }
    if (attributes) {
      for (const name of Object.keys(attributes).sort()) {
        tag += ` ${name}="${escapeCanonicalAttribute(attributes[name] as string)}"`;
      }
    }
    this.parts.push(tag + '>');
    return this;
  }

  close(qname: string): this {
    this.parts.push('</' + qname + '>');
    return this;
  }

  /** `<qname>text</qname>`; `text` is raw (unescaped) character data. */
  leaf(qname: string, text: string): this {
    this.parts.push('<' + qname + '>' + escapeCanonicalText(text) + '</' + qname + '>');
    return this;
  }

  toString(): string {
    return this.parts.join('');
  }
}
