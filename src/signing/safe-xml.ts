import { DOMParser } from '@xmldom/xmldom';
import { C14nCanonicalization } from 'xml-crypto';
import { stripBom } from '../xml/bom';
import { XMLDSIG_NS } from './algorithms';
import { SigningError, VerificationError, type VerificationErrorCode } from './errors';

/**
 * Parsing of untrusted XML for the signing layer: size limit and DOCTYPE/ENTITY refusal BEFORE the
 * parser sees the text (no DTD → no entity expansion, no external entities), every parser warning
 * treated as an error, exactly one root element, no processing instructions outside it, and an
 * iterative depth check.
 */

const fail = (code: VerificationErrorCode, message: string): never => {
  throw new VerificationError(code, message);
};

export const ELEMENT = 1;
export const TEXT = 3;
export const CDATA = 4;
export const PI = 7;
export const COMMENT = 8;

// Minimal structural view of the xmldom nodes we touch (xmldom's own typings are the DOM lib's).
export interface XNode {
  nodeType: number;
  nodeName: string;
  nodeValue: string | null;
  parentNode: XNode | null;
  childNodes: { length: number; [i: number]: XNode };
  nextSibling: XNode | null;
}
export interface XAttr {
  name: string;
  value: string;
  prefix: string | null;
  localName: string;
}
export interface XElement extends XNode {
  localName: string;
  prefix: string | null;
  namespaceURI: string | null;
  attributes: { length: number; [i: number]: XAttr };
  getAttribute(name: string): string | null;
  hasAttribute(name: string): boolean;
  getElementsByTagNameNS(ns: string, local: string): { length: number; [i: number]: XElement };
  removeChild(child: XNode): XNode;
  replaceChild(newChild: XNode, oldChild: XNode): XNode;
}
export interface XDocument extends XNode {
  documentElement: XElement | null;
  getElementsByTagNameNS(ns: string, local: string): { length: number; [i: number]: XElement };
  createTextNode(data: string): XNode;
}

export const isWhitespace = (s: string): boolean => /^[ \t\r\n]*$/.test(s);

export function parseUntrusted(input: string, maxBytes: number, maxDepth: number): XDocument {
  // A byte-order mark is an encoding signature, not text before the root (xmldom would keep it as a text
  // node and the message would be refused as malformed, though xmlsec1 verifies it).
  const xml = stripBom(input);
  if (Buffer.byteLength(xml, 'utf8') > maxBytes) fail('XML_TOO_LARGE', `document is larger than ${maxBytes} bytes`);
  // Refused before any parsing: no DTD means no entity expansion, no external entities, no billion laughs.
  if (/<!DOCTYPE/i.test(xml) || /<!ENTITY/i.test(xml))
    fail('XML_DOCTYPE_FORBIDDEN', 'DOCTYPE and entity declarations are not accepted');
  // A linear pass before xmldom sees the text: xmldom silently drops text before the root element, and its
  // recovery from unclosed tags is quadratic (20,000 unclosed tags took 30 s; docs/CHAOS.md findings 9/10).
  prescanMarkup(xml, maxDepth);
  // Warnings count too: xmldom recovers from unclosed tags and similar with only a warning.
  const problems: string[] = [];
  const record = (msg: string): void => {
    problems.push(String(msg).split('\n')[0] ?? String(msg));
  };
  const doc = new DOMParser({ errorHandler: { warning: record, error: record, fatalError: record } }).parseFromString(
    xml,
    'text/xml',
  ) as unknown as XDocument;
  if (problems.some((p) => /only one element|Hierarchy request/i.test(p)))
    fail('XML_MULTIPLE_ROOTS', 'document has more than one root element');
  if (problems.length > 0) fail('XML_MALFORMED', problems[0] as string);
  const root = doc.documentElement;
  if (!root) return fail('XML_MALFORMED', 'document has no root element');
  let elements = 0;
  for (let i = 0; i < doc.childNodes.length; i++) {
    const n = doc.childNodes[i] as XNode;
    if (n.nodeType === ELEMENT) elements++;
    else if (n.nodeType === TEXT && !isWhitespace(n.nodeValue ?? ''))
      fail('XML_MALFORMED', 'text outside the root element');
    else if (n.nodeType === PI && n.nodeName !== 'xml')
      fail('XML_MALFORMED', `processing instruction <?${n.nodeName}?> outside the root element is not accepted`);
  }
  if (elements !== 1) fail('XML_MULTIPLE_ROOTS', `document has ${elements} root elements`);
  // Depth check without recursion (a deep document must not blow our stack either).
  const stack: [XNode, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [XNode, number];
    if (depth > maxDepth) fail('XML_TOO_DEEP', `elements nested deeper than ${maxDepth}`);
    for (let i = 0; i < node.childNodes.length; i++) {
      const child = node.childNodes[i] as XNode;
      if (child.nodeType === ELEMENT) stack.push([child, depth + 1]);
    }
  }
  return doc;
}

/** Most elements one untrusted document may hold (bounds parser CPU per message). */
export const MAX_ELEMENTS = 100_000;

/**
 * Tag-level scan in one pass: nothing but whitespace, the XML declaration, comments and processing
 * instructions before the root; every tag terminated and closed; nesting within `maxDepth`; at most
 * MAX_ELEMENTS elements. Start and end tags are only counted here; xmldom checks that they match.
 */
function prescanMarkup(xml: string, maxDepth: number): void {
  const first = xml.indexOf('<');
  if (first === -1) fail('XML_MALFORMED', 'document has no root element');
  if (!isWhitespace(xml.slice(0, first))) fail('XML_MALFORMED', 'text before the root element');
  let depth = 0;
  let elements = 0;
  let seenRoot = false;
  let i = first;
  while (i !== -1) {
    if (xml.startsWith('<!--', i)) {
      const end = xml.indexOf('-->', i + 4);
      if (end === -1) fail('XML_MALFORMED', 'unterminated comment');
      i = nextTag(xml, end + 3, depth, seenRoot);
      continue;
    }
    if (xml.startsWith('<![CDATA[', i)) {
      const end = xml.indexOf(']]>', i + 9);
      if (end === -1) fail('XML_MALFORMED', 'unterminated CDATA section');
      i = nextTag(xml, end + 3, depth, seenRoot);
      continue;
    }
    if (xml.startsWith('<!', i)) fail('XML_DOCTYPE_FORBIDDEN', 'DOCTYPE and entity declarations are not accepted');
    if (xml.startsWith('<?', i)) {
      const end = xml.indexOf('?>', i + 2);
      if (end === -1) fail('XML_MALFORMED', 'unterminated processing instruction');
      i = nextTag(xml, end + 2, depth, seenRoot);
      continue;
    }
    let j = i + 1;
    let quote = '';
    for (; j < xml.length; j++) {
      const c = xml[j];
      if (quote) {
        if (c === quote) quote = '';
      } else if (c === '"' || c === "'") quote = c;
      else if (c === '>') break;
    }
    if (j >= xml.length) fail('XML_MALFORMED', 'unterminated tag');
    if (xml[i + 1] === '/') {
      if (--depth < 0) fail('XML_MALFORMED', 'end tag without a start tag');
    } else {
      if (++elements > MAX_ELEMENTS) fail('XML_TOO_LARGE', `more than ${MAX_ELEMENTS} elements`);
      if (depth === 0 && seenRoot) fail('XML_MULTIPLE_ROOTS', 'document has more than one root element');
      seenRoot = true;
      if (xml[j - 1] !== '/' && ++depth > maxDepth) fail('XML_TOO_DEEP', `elements nested deeper than ${maxDepth}`);
    }
    i = nextTag(xml, j + 1, depth, seenRoot);
  }
  if (!seenRoot) fail('XML_MALFORMED', 'document has no root element');
  if (depth !== 0) fail('XML_MALFORMED', `${depth} element(s) not closed`);
}

/** Position of the next '<' from `from`; outside the root element only whitespace may come before it. */
function nextTag(xml: string, from: number, depth: number, seenRoot: boolean): number {
  const next = xml.indexOf('<', from);
  if (depth === 0) {
    const gap = xml.slice(from, next === -1 ? xml.length : next);
    if (!isWhitespace(gap))
      fail('XML_MALFORMED', seenRoot ? 'text after the root element' : 'text before the root element');
  }
  return next;
}

/**
 * Canonical XML 1.0 (inclusive, without comments) of an untrusted, unsigned document — for input that did not
 * come from our builder (CLI, files from partners). Off the hot path: the pipeline signs the builder's
 * output directly.
 */
export function canonicalizeForSigning(xml: string, limits: { maxBytes?: number; maxDepth?: number } = {}): string {
  const doc = parseUntrusted(xml, limits.maxBytes ?? 10 * 1024 * 1024, limits.maxDepth ?? 64);
  const existing = doc.getElementsByTagNameNS(XMLDSIG_NS, 'Signature').length;
  if (existing > 0)
    throw new SigningError(
      'INPUT_ALREADY_SIGNED',
      `the message already carries ${existing} ds:Signature element(s); remove it before signing again`,
    );
  return new C14nCanonicalization().process(doc.documentElement as never, {});
}
