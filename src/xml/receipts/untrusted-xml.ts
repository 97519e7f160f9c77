import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { stripBom } from '../bom';
import { ReceiptParseError } from './receipt-errors';

/**
 * Parses XML that arrives from outside (customs receipts, possibly forged) into a small
 * namespace-resolved tree, refusing everything an attacker could use against the parser:
 * - size: checked on the raw bytes before any work (XML_TOO_LARGE);
 * - DTDs: any `<!DOCTYPE` / `<!ENTITY` / other markup declaration is refused outright, so no entity
 *   can be declared, expanded or fetched (XML_DOCTYPE_FORBIDDEN); the parser also runs with entity
 *   processing off, and we decode only the five predefined entities and character references ourselves;
 * - depth: a linear pre-scan counts nesting before the parser builds anything (XML_TOO_DEEP);
 * - well-formedness: fast-xml-parser's validator, plus our own checks for undeclared entities and unbound
 *   prefixes (XML_MALFORMED).
 * Elements are identified by namespace URI and local name, never by prefix.
 */

export interface UntrustedXmlLimits {
  /** Maximum size in bytes (UTF-8). */
  maxBytes: number;
  /** Maximum element nesting depth (the root is depth 1). */
  maxDepth: number;
  /** Maximum number of elements: bounds parser work on wide, flat documents (default 100,000). */
  maxElements?: number;
}

export const DEFAULT_XML_LIMITS: Required<UntrustedXmlLimits> = {
  // The largest legitimate input is a CEB900 echoing one of our messages (one order each, ≤ 99 lines,
  // well under 200 KB) or a 100-return receipt (~30 KB). fast-xml-parser reads ~3 MB/s here, so the
  // limit also caps the CPU one message can cost (< 1 s).
  maxBytes: 2 * 1024 * 1024,
  // Receipts are 3–4 levels deep (a signed one reaches 6 inside ds:Signature).
  maxDepth: 32,
  // A full CEB816 (100 tax bills × 99 lines) has ~71,000 elements; a 100-return receipt ~800.
  maxElements: 100_000,
};

export interface XmlElement {
  ns: string | null;
  local: string;
  /** Unqualified attributes only (namespace declarations and prefixed attributes are not kept). */
  attributes: Record<string, string>;
  children: XmlElement[];
  /** Character data directly inside this element (text and CDATA), entity references decoded. */
  text: string;
}

const XML_NS = 'http://www.w3.org/XML/1998/namespace';

function toText(input: string | Buffer, limits: UntrustedXmlLimits): string {
  const size = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.length;
  if (size > limits.maxBytes) {
    throw new ReceiptParseError('XML_TOO_LARGE', `message is ${size} bytes; the limit is ${limits.maxBytes}`);
  }
  let text: string;
  if (typeof input === 'string') {
    text = input;
  } else {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(input);
    } catch {
      throw new ReceiptParseError('XML_MALFORMED', 'message is not valid UTF-8');
    }
  }
  text = stripBom(text); // official samples carry one; TextDecoder already drops it from Buffers
  const decl = /^<\?xml[^>]*?encoding\s*=\s*["']([^"']+)["']/.exec(text);
  if (decl && !/^utf-?8$/i.test(decl[1] as string)) {
    throw new ReceiptParseError('XML_ENCODING_UNSUPPORTED', `declared encoding "${decl[1]}"; only UTF-8 is accepted`);
  }
  return text;
}

/** Linear scan: refuses markup declarations, excessive nesting and element counts before anything is parsed. */
function prescan(xml: string, limits: UntrustedXmlLimits): void {
  const { maxDepth } = limits;
  const maxElements = limits.maxElements ?? DEFAULT_XML_LIMITS.maxElements;
  let depth = 0;
  let elements = 0;
  let i = xml.indexOf('<');
  while (i !== -1) {
    if (xml.startsWith('<!--', i)) {
      const end = xml.indexOf('-->', i + 4);
      if (end === -1) throw new ReceiptParseError('XML_MALFORMED', 'unterminated comment');
      i = xml.indexOf('<', end + 3);
      continue;
    }
    if (xml.startsWith('<![CDATA[', i)) {
      const end = xml.indexOf(']]>', i + 9);
      if (end === -1) throw new ReceiptParseError('XML_MALFORMED', 'unterminated CDATA section');
      i = xml.indexOf('<', end + 3);
      continue;
    }
    if (xml.startsWith('<!', i)) {
      const what = /^<!([A-Za-z]*)/.exec(xml.slice(i, i + 12))?.[1] || 'markup declaration';
      throw new ReceiptParseError(
        'XML_DOCTYPE_FORBIDDEN',
        `<!${what}> is not allowed (DTDs and entity declarations are refused)`,
      );
    }
    if (xml.startsWith('<?', i)) {
      const end = xml.indexOf('?>', i + 2);
      if (end === -1) throw new ReceiptParseError('XML_MALFORMED', 'unterminated processing instruction');
      i = xml.indexOf('<', end + 2);
      continue;
    }
    // A tag: find its end, skipping quoted attribute values (they may contain '>').
    let j = i + 1;
    let quote = '';
    for (; j < xml.length; j++) {
      const c = xml[j];
      if (quote) {
        if (c === quote) quote = '';
      } else if (c === '"' || c === "'") quote = c;
      else if (c === '>') break;
    }
    if (j >= xml.length) throw new ReceiptParseError('XML_MALFORMED', 'unterminated tag');
    if (xml[i + 1] === '/') depth--;
    else {
      if (++elements > maxElements) throw new ReceiptParseError('XML_TOO_LARGE', `more than ${maxElements} elements`);
      if (xml[j - 1] !== '/' && ++depth > maxDepth)
        throw new ReceiptParseError('XML_TOO_DEEP', `elements nest deeper than ${maxDepth} levels`);
    }
    i = xml.indexOf('<', j + 1);
  }
}

const PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeReferences(raw: string): string {
  if (raw.indexOf('&') === -1) return raw;
  return raw.replace(/&([^;&\s]*);?/g, (whole, name: string) => {
    if (!whole.endsWith(';'))
      throw new ReceiptParseError('XML_MALFORMED', `bare "&" in character data near "${whole}"`);
    if (name in PREDEFINED) return PREDEFINED[name] as string;
    const num = /^#(?:x([0-9a-fA-F]{1,6})|([0-9]{1,7}))$/.exec(name);
    if (num) {
      const cp = num[1] !== undefined ? parseInt(num[1], 16) : parseInt(num[2] as string, 10);
      const allowed =
        cp === 0x9 ||
        cp === 0xa ||
        cp === 0xd ||
        (cp >= 0x20 && cp <= 0xd7ff) ||
        (cp >= 0xe000 && cp <= 0xfffd) ||
        (cp >= 0x10000 && cp <= 0x10ffff);
      if (!allowed)
        throw new ReceiptParseError('XML_MALFORMED', `character reference &${name}; is not an XML character`);
      return String.fromCodePoint(cp);
    }
    throw new ReceiptParseError('XML_MALFORMED', `undeclared entity &${name};`);
  });
}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  processEntities: false,
  htmlEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  cdataPropName: '#cdata',
});

type RawNode = Record<string, unknown>;

function resolveTree(raw: RawNode, scope: ReadonlyMap<string, string>): XmlElement {
  const rawAttrs = (raw[':@'] ?? {}) as Record<string, string>;
  let nsScope = scope;
  for (const [name, value] of Object.entries(rawAttrs)) {
    if (name === 'xmlns' || name.startsWith('xmlns:')) {
      if (nsScope === scope) nsScope = new Map(scope);
      (nsScope as Map<string, string>).set(name === 'xmlns' ? '' : name.slice(6), decodeReferences(value));
    }
  }
  const qname = Object.keys(raw).find((k) => k !== ':@') as string;
  const colon = qname.indexOf(':');
  const prefix = colon === -1 ? '' : qname.slice(0, colon);
  const local = colon === -1 ? qname : qname.slice(colon + 1);
  const uri = prefix === 'xml' ? XML_NS : nsScope.get(prefix);
  if (prefix !== '' && uri === undefined)
    throw new ReceiptParseError('XML_MALFORMED', `unbound namespace prefix "${prefix}" on <${qname}>`);
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(rawAttrs)) {
    if (name === 'xmlns' || name.includes(':')) continue;
    attributes[name] = decodeReferences(value);
  }
  const element: XmlElement = {
    ns: uri === undefined || uri === '' ? null : uri,
    local,
    attributes,
    children: [],
    text: '',
  };
  for (const child of (raw[qname] ?? []) as RawNode[]) {
    if ('#text' in child) element.text += decodeReferences(String(child['#text']));
    else if ('#cdata' in child) {
      for (const part of child['#cdata'] as RawNode[]) element.text += String(part['#text'] ?? '');
    } else element.children.push(resolveTree(child, nsScope));
  }
  return element;
}

export function parseUntrustedXml(input: string | Buffer, limits: UntrustedXmlLimits = DEFAULT_XML_LIMITS): XmlElement {
  const xml = toText(input, limits);
  prescan(xml, limits);
  let raw: RawNode[];
  try {
    const valid = XMLValidator.validate(xml);
    if (valid !== true) {
      throw new ReceiptParseError(
        'XML_MALFORMED',
        `${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`,
      );
    }
    raw = parser.parse(xml) as RawNode[];
  } catch (err) {
    // The validator and the parser disagree on some broken input (a damaged XML declaration passes one
    // and makes the other throw a plain Error): whatever they raise, the input is malformed.
    if (err instanceof ReceiptParseError) throw err;
    throw new ReceiptParseError('XML_MALFORMED', (err as Error).message, { cause: err });
  }
  const top = raw.filter((n) => !('#text' in n) && !('#cdata' in n));
  if (top.length !== 1) throw new ReceiptParseError('XML_MALFORMED', `expected one root element, found ${top.length}`);
  return resolveTree(top[0] as RawNode, new Map([['xml', XML_NS]]));
}
