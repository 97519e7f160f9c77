import { C14N_URI, ENVELOPED_SIGNATURE_URI, XMLDSIG_NS, type SignatureProfile } from './algorithms';
import { EXPORT_MESSAGE_TYPES } from '../domain/message-types';
import { SigningError } from './errors';
import { stripBom } from '../xml/bom';

/**
 * The E-port signature layout, built with string operations only (no DOM on the signing hot path).
 *
 * Input is a CEB message that is already Canonical XML 1.0 (our builder writes C14N directly), so its
 * bytes ARE the result of the enveloped-signature + C14N transforms once the Signature is removed:
 * we digest them as they are. The Signature is then inserted without adding any whitespace, which is
 * what makes "remove the Signature → exactly the digested bytes" hold.
 *
 * SignedInfo is written compactly. Its canonical form — the bytes that are signed — is the same text
 * with every namespace in scope at SignedInfo declared on its start tag (inclusive C14N of a document
 * subset renders inherited namespaces on the apex): the root's declarations (xmlns:ceb, xmlns:xsi, …)
 * plus xmlns:ds from the Signature element, sorted default-first then by prefix.
 */

export type MessageLayout = 'import' | 'export';

/**
 * Export messages (XSD: `ds:Signature` BEFORE `ExtendMessage`): the export declarations of the domain's
 * list; everything else (import declarations, receipts) is laid out as import.
 */
const EXPORT_MESSAGES: ReadonlySet<string> = new Set(EXPORT_MESSAGE_TYPES);

/** Layout for a root element local name such as `CEB303Message`. */
export function layoutForRootName(localName: string): MessageLayout {
  const type = /^(CEB\d{3})Message$/.exec(localName)?.[1];
  return type !== undefined && EXPORT_MESSAGES.has(type) ? 'export' : 'import';
}

export interface NamespaceDeclaration {
  /** '' for the default namespace. */
  readonly prefix: string;
  /** Value exactly as written in canonical form (already attribute-escaped). */
  readonly value: string;
}

export interface CanonicalDocument {
  /** XML declaration (and the line break after it) kept for output; never digested. */
  readonly prolog: string;
  /** The canonical document: the bytes that get digested. */
  readonly body: string;
  readonly rootQName: string;
  readonly rootPrefix: string;
  readonly rootLocalName: string;
  /** Namespace declarations and xml:* attributes on the root start tag, in canonical order. */
  readonly rootNamespaces: readonly NamespaceDeclaration[];
  readonly rootXmlAttributes: string;
}

const XML_DECLARATION = /^<\?xml\s[^?]*\?>\s*/;
const ROOT_START_TAG = /^<([A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?)((?:\s[^\s=<>]+="[^"<]*")*)>/;
const ATTRIBUTE = /\s([^\s=<>]+)="([^"<]*)"/g;

/**
 * Splits off an optional XML declaration and reads the root start tag. Cheap structural checks only:
 * the caller promises canonical input (see `canonicalize` for anything else).
 */
export function readCanonicalDocument(input: string): CanonicalDocument {
  // A byte-order mark is not part of the document (its canonical form has none): dropped, never digested.
  const xml = stripBom(input);
  const decl = XML_DECLARATION.exec(xml);
  const prolog = decl ? decl[0] : '';
  const body = decl ? xml.slice(prolog.length) : xml;
  const start = ROOT_START_TAG.exec(body);
  if (!start) {
    throw new SigningError(
      'INPUT_NOT_CANONICAL',
      'document must start with the root element written in canonical form (no comments, DOCTYPE or whitespace before it)',
    );
  }
  const rootQName = start[1] as string;
  if (!body.endsWith(`</${rootQName}>`)) {
    throw new SigningError('INPUT_NOT_CANONICAL', `document must end with </${rootQName}> and nothing after it`);
  }
  const colon = rootQName.indexOf(':');
  const rootNamespaces: NamespaceDeclaration[] = [];
  let rootXmlAttributes = '';
  for (const m of (start[2] ?? '').matchAll(ATTRIBUTE)) {
    const name = m[1] as string;
    const value = m[2] as string;
    if (name === 'xmlns') rootNamespaces.push({ prefix: '', value });
    else if (name.startsWith('xmlns:')) rootNamespaces.push({ prefix: name.slice(6), value });
    else if (name.startsWith('xml:')) rootXmlAttributes += ` ${name}="${value}"`;
  }
  return {
    prolog,
    body,
    rootQName,
    rootPrefix: colon < 0 ? '' : rootQName.slice(0, colon),
    rootLocalName: colon < 0 ? rootQName : rootQName.slice(colon + 1),
    rootNamespaces,
    rootXmlAttributes,
  };
}

/** Compact SignedInfo exactly as it appears inside the Signature (prefix `ds`, no declarations). */
export function compactSignedInfo(
  profile: Pick<SignatureProfile, 'signatureMethod' | 'digestMethod'>,
  digestBase64: string,
  prefix = 'ds',
  transforms: readonly string[] = [ENVELOPED_SIGNATURE_URI],
): string {
  const p = prefix ? prefix + ':' : '';
  let transformXml = '';
  for (const t of transforms) transformXml += `<${p}Transform Algorithm="${t}"></${p}Transform>`;
  return (
    `<${p}SignedInfo>` +
    `<${p}CanonicalizationMethod Algorithm="${C14N_URI}"></${p}CanonicalizationMethod>` +
    `<${p}SignatureMethod Algorithm="${profile.signatureMethod}"></${p}SignatureMethod>` +
    `<${p}Reference URI=""><${p}Transforms>${transformXml}</${p}Transforms>` +
    `<${p}DigestMethod Algorithm="${profile.digestMethod}"></${p}DigestMethod>` +
    `<${p}DigestValue>${digestBase64}</${p}DigestValue></${p}Reference>` +
    `</${p}SignedInfo>`
  );
}

/**
 * The namespace context SignedInfo inherits inside our Signature: the root's declarations, overridden
 * by `xmlns:ds` from the Signature element.
 */
export function signedInfoNamespaceContext(doc: CanonicalDocument): NamespaceDeclaration[] {
  return mergeNamespaces([doc.rootNamespaces, [{ prefix: 'ds', value: XMLDSIG_NS }]]);
}

/** Later scopes override earlier ones; result in C14N order (default namespace first, then by prefix). */
export function mergeNamespaces(scopes: readonly (readonly NamespaceDeclaration[])[]): NamespaceDeclaration[] {
  const byPrefix = new Map<string, string>();
  for (const scope of scopes) for (const ns of scope) byPrefix.set(ns.prefix, ns.value);
  // xmlns="" only undeclares; C14N never renders an empty default namespace on the apex.
  if (byPrefix.get('') === '') byPrefix.delete('');
  return [...byPrefix.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([prefix, value]) => ({ prefix, value }));
}

/**
 * Canonical form of a compact SignedInfo: its start tag gains the inherited namespace declarations
 * (and inherited xml:* attributes, per C14N 1.0 for document subsets). `signedInfo` must start with
 * `<prefix:SignedInfo>` with no attributes, as `compactSignedInfo` writes it.
 */
export function canonicalSignedInfo(
  signedInfo: string,
  namespaces: readonly NamespaceDeclaration[],
  xmlAttributes = '',
): string {
  const close = signedInfo.indexOf('>');
  let decls = '';
  for (const ns of namespaces) decls += ns.prefix ? ` xmlns:${ns.prefix}="${ns.value}"` : ` xmlns="${ns.value}"`;
  return signedInfo.slice(0, close) + decls + xmlAttributes + signedInfo.slice(close);
}

export interface KeyInfoContent {
  readonly serialHex: string;
  readonly derBase64: string;
}

export function signatureElement(signedInfo: string, signatureValueBase64: string, keyInfo: KeyInfoContent): string {
  return (
    `<ds:Signature xmlns:ds="${XMLDSIG_NS}">` +
    signedInfo +
    `<ds:SignatureValue>${signatureValueBase64}</ds:SignatureValue>` +
    `<ds:KeyInfo><ds:KeyName>${keyInfo.serialHex}</ds:KeyName>` +
    `<ds:X509Data><ds:X509Certificate>${keyInfo.derBase64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>` +
    `</ds:Signature>`
  );
}

/**
 * Where the Signature goes: import → last child of the root; export → immediately before the root's
 * `ExtendMessage` when there is one (it is the last element of the XSD sequence), else last child.
 * Nothing else changes, so removing the Signature gives back `doc.body` byte for byte.
 */
export function signatureInsertionIndex(doc: CanonicalDocument, layout: MessageLayout): number {
  const endTag = doc.body.length - doc.rootQName.length - 3;
  if (layout === 'import') return endTag;
  if (layout !== 'export')
    throw new SigningError('LAYOUT_INVALID', `layout must be 'import' or 'export', got ${String(layout)}`);
  const extendQName = (doc.rootPrefix ? doc.rootPrefix + ':' : '') + 'ExtendMessage';
  const extendEnd = `</${extendQName}>`;
  // Canonical documents from elsewhere may be indented: look past whitespace before the root end tag.
  let lastContent = endTag;
  while (lastContent > 0 && ' \t\r\n'.includes(doc.body.charAt(lastContent - 1))) lastContent--;
  if (!doc.body.startsWith(extendEnd, lastContent - extendEnd.length)) return endTag;
  // ExtendMessage is the root's last child; no earlier root child can contain an element of that
  // name (their content models are fixed by the XSD), so its first start tag is the one to precede.
  let at = doc.body.indexOf(`<${extendQName}`);
  while (at >= 0) {
    const next = doc.body.charCodeAt(at + extendQName.length + 1);
    if (next === 0x3e /* > */ || next === 0x20 /* space */) return at;
    at = doc.body.indexOf(`<${extendQName}`, at + 1);
  }
  throw new SigningError('INPUT_NOT_CANONICAL', `found </${extendQName}> without its start tag`);
}

export function insertSignature(doc: CanonicalDocument, signature: string, layout: MessageLayout): string {
  const at = signatureInsertionIndex(doc, layout);
  return doc.prolog + doc.body.slice(0, at) + signature + doc.body.slice(at);
}
