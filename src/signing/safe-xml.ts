import { DOMParser } from '@xmldom/xmldom';
import { C14nCanonicalization } from 'xml-crypto';
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

export function parseUntrusted(xml: string, maxBytes: number, maxDepth: number): XDocument {
  if (Buffer.byteLength(xml, 'utf8') > maxBytes) fail('XML_TOO_LARGE', `document is larger than ${maxBytes} bytes`);
  // Refused before any parsing: no DTD means no entity expansion, no external entities, no billion laughs.
  if (/<!DOCTYPE/i.test(xml) || /<!ENTITY/i.test(xml)) fail('XML_DOCTYPE_FORBIDDEN', 'DOCTYPE and entity declarations are not accepted');
  // Warnings count too: xmldom recovers from unclosed tags and similar with only a warning.
  const problems: string[] = [];
  const record = (msg: string): void => {
    problems.push(String(msg).split('\n')[0] ?? String(msg));
  };
  const doc = new DOMParser({ errorHandler: { warning: record, error: record, fatalError: record } }).parseFromString(xml, 'text/xml') as unknown as XDocument;
  if (problems.some((p) => /only one element|Hierarchy request/i.test(p))) fail('XML_MULTIPLE_ROOTS', 'document has more than one root element');
  if (problems.length > 0) fail('XML_MALFORMED', problems[0] as string);
  const root = doc.documentElement;
  if (!root) return fail('XML_MALFORMED', 'document has no root element');
  let elements = 0;
  for (let i = 0; i < doc.childNodes.length; i++) {
    const n = doc.childNodes[i] as XNode;
    if (n.nodeType === ELEMENT) elements++;
    else if (n.nodeType === TEXT && !isWhitespace(n.nodeValue ?? '')) fail('XML_MALFORMED', 'text outside the root element');
    else if (n.nodeType === PI && n.nodeName !== 'xml') fail('XML_MALFORMED', `processing instruction <?${n.nodeName}?> outside the root element is not accepted`);
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


/**
 * Canonical XML 1.0 (inclusive, without comments) of an untrusted, unsigned document — for input that did not
 * come from our builder (CLI, files from partners). Off the hot path: the pipeline signs the builder's
 * output directly.
 */
export function canonicalizeForSigning(xml: string, limits: { maxBytes?: number; maxDepth?: number } = {}): string {
  const doc = parseUntrusted(xml, limits.maxBytes ?? 10 * 1024 * 1024, limits.maxDepth ?? 64);
  const existing = doc.getElementsByTagNameNS(XMLDSIG_NS, 'Signature').length;
  if (existing > 0) throw new SigningError('INPUT_ALREADY_SIGNED', `the message already carries ${existing} ds:Signature element(s); remove it before signing again`);
  return new C14nCanonicalization().process(doc.documentElement as never, {});
}
