import { createHash, randomBytes, verify as rsaVerify } from 'node:crypto';
import { C14nCanonicalization } from 'xml-crypto';
import {
  C14N_URI,
  DIGEST_METHODS,
  ENVELOPED_SIGNATURE_URI,
  HASH_LENGTH,
  SIGNATURE_METHODS,
  XMLDSIG_NS,
  type HashName,
  type SignatureMethodInfo,
} from './algorithms';
import { loadCertificate, type CertificateInfo } from './certificate';
import {
  canonicalSignedInfo,
  compactSignedInfo,
  layoutForRootName,
  mergeNamespaces,
  type NamespaceDeclaration,
} from './eport-layout';
import { VerificationError, type VerificationErrorCode } from './errors';
import {
  CDATA,
  COMMENT,
  ELEMENT,
  isWhitespace,
  parseUntrusted,
  PI,
  TEXT,
  type XAttr,
  type XElement,
  type XNode,
} from './safe-xml';
import { sm2Verify, SM2_DEFAULT_ID } from './sm2';
import type { TrustLists } from './trust';
import { pinnedCertificateCheck, trustListCheck, type CertificateTrustCheck } from './trust-check';

/**
 * Verifies an enveloped CEB signature and hands back ONLY what was signed.
 *
 * Rules (xml-crypto's CVE history, domain doc §4): untrusted XML is size- and depth-limited, DOCTYPE /
 * entity declarations are refused before parsing, there must be exactly one root, exactly one
 * `ds:Signature` (a child of the root), exactly one SignedInfo with one Reference URI="" and only the
 * enveloped transform (+ optional C14N), algorithms come from an allow-list, DigestValue and
 * SignatureValue are plain text, and the certificate is accepted only through our trust lists or a
 * certificate the caller pinned — KeyInfo by itself proves nothing.
 *
 * Modes:
 * - `strict` (default): plain XML-DSig. The document minus the Signature is canonicalised and digested;
 *   the SignedInfo is canonicalised as it stands.
 * - `eport`: for messages re-indented after signing. The compact SignedInfo is rebuilt from its values,
 *   and the digest is also tried with the whitespace right before/after the Signature removed. An SM2
 *   SignatureValue may be DER instead of the profile's raw r‖s (strict mode accepts raw only).
 *
 * The result's `signedXml` is the canonical document exactly as digested; callers must process that
 * string and never the input they passed in.
 */

export type VerificationMode = 'strict' | 'eport';

export interface VerifyOptions {
  readonly mode?: VerificationMode;
  /** Trust lists for the relying-party check (H3's `loadTrustLists`). Exactly one of trustLists / pinnedCertificate. */
  readonly trustLists?: TrustLists;
  /** Accept only this certificate (PEM/DER/Base64). Used when KeyInfo carries no certificate. */
  readonly pinnedCertificate?: CertificateInfo | string | Buffer;
  /** Narrow the algorithm allow-lists (URIs); default: every algorithm in algorithms.ts. */
  readonly allowedSignatureMethods?: readonly string[];
  readonly allowedDigestMethods?: readonly string[];
  /** Time for certificate validity; default now. */
  readonly at?: Date;
  /** Input limits for untrusted XML. */
  readonly maxBytes?: number;
  readonly maxDepth?: number;
}

export interface VerifiedSigner {
  readonly subject: string;
  readonly serialHex: string;
  /** Short algorithm name: rsa-sha1 | rsa-sha256 | sm2-sm3 | sm2-sm3-w3c. */
  readonly algorithm: string;
  readonly signatureMethod: string;
  readonly digestMethod: string;
  /** Trust list that accepted the certificate, or 'pinned'. */
  readonly trustedBy: string;
  /** Id of the trust list (absent when the certificate was pinned by the caller). */
  readonly trustList?: string;
  readonly pinned: boolean;
}

export interface VerifiedDocument {
  /** The signed bytes: the canonical document without its Signature, exactly as digested. */
  readonly signedXml: string;
  readonly signer: VerifiedSigner;
  readonly mode: VerificationMode;
}

export const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;
export const DEFAULT_MAX_DEPTH = 64;

// --------------------------------------------------------------------------------------------------

const fail = (code: VerificationErrorCode, message: string): never => {
  throw new VerificationError(code, message);
};

/** Element children of a ds structure element; whitespace text is allowed between them, nothing else. */
function dsChildren(el: XElement, where: string): XElement[] {
  const out: XElement[] = [];
  for (let i = 0; i < el.childNodes.length; i++) {
    const n = el.childNodes[i] as XNode;
    if (n.nodeType === ELEMENT) out.push(n as XElement);
    else if (n.nodeType === TEXT && isWhitespace(n.nodeValue ?? '')) continue;
    else fail('SIG_STRUCTURE', `unexpected ${nodeKind(n)} inside ${where}`);
  }
  return out;
}

function nodeKind(n: XNode): string {
  switch (n.nodeType) {
    case TEXT:
      return 'text';
    case CDATA:
      return 'CDATA section';
    case COMMENT:
      return 'comment';
    case PI:
      return 'processing instruction';
    default:
      return n.nodeName;
  }
}

const isDs = (el: XElement, local: string): boolean => el.namespaceURI === XMLDSIG_NS && el.localName === local;

function expectDs(el: XElement | undefined, local: string, where: string): XElement {
  if (!el || !isDs(el, local))
    return fail('SIG_STRUCTURE', `expected ds:${local} in ${where}, found ${el ? el.nodeName : 'nothing'}`);
  return el;
}

/** Text content made of text nodes only (a comment or element inside is an attack, CVE-2025-29775). */
function plainText(el: XElement, code: VerificationErrorCode, what: string): string {
  let text = '';
  for (let i = 0; i < el.childNodes.length; i++) {
    const n = el.childNodes[i] as XNode;
    if (n.nodeType !== TEXT) fail(code, `${what} must contain only text, found a ${nodeKind(n)}`);
    text += n.nodeValue ?? '';
  }
  return text;
}

function base64Value(el: XElement, code: VerificationErrorCode, what: string): Buffer {
  const compact = plainText(el, code, what).replace(/[ \t\r\n]+/g, '');
  if (compact.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact) || compact.length % 4 !== 0)
    fail(code, `${what} is not Base64`);
  return Buffer.from(compact, 'base64');
}

function algorithmOf(el: XElement): string {
  const alg = el.getAttribute('Algorithm');
  if (alg === null || alg === '') fail('SIG_STRUCTURE', `${el.nodeName} has no Algorithm`);
  return alg as string;
}

/** In-scope namespace declarations of `el`'s ancestors (nearest wins), plus `el`'s own. */
function inScopeNamespaces(el: XElement): NamespaceDeclaration[] {
  const scopes: NamespaceDeclaration[][] = [];
  for (let n: XNode | null = el; n && n.nodeType === ELEMENT; n = n.parentNode) {
    const decls: NamespaceDeclaration[] = [];
    const attrs = (n as XElement).attributes;
    for (let i = 0; i < attrs.length; i++) {
      const a = attrs[i] as XAttr;
      if (a.name === 'xmlns') decls.push({ prefix: '', value: a.value });
      else if (a.prefix === 'xmlns') decls.push({ prefix: a.localName, value: a.value });
    }
    scopes.unshift(decls);
  }
  return mergeNamespaces(scopes);
}

const escapeAttr = (v: string): string =>
  v
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/"/g, '&quot;')
    .replace(/\t/g, '&#x9;')
    .replace(/\n/g, '&#xA;')
    .replace(/\r/g, '&#xD;');

function canonicalize(node: XNode, ancestorNamespaces: NamespaceDeclaration[] = []): string {
  const c14n = new C14nCanonicalization();
  const options = {
    ancestorNamespaces: ancestorNamespaces.map((ns) => ({ prefix: ns.prefix, namespaceURI: ns.value })),
  };
  return c14n.process(node as never, options);
}

function hashBase64(hash: HashName, data: string): string {
  return createHash(hash).update(data, 'utf8').digest('base64');
}

function signatureMatches(
  method: SignatureMethodInfo,
  cert: CertificateInfo,
  data: string,
  signature: Buffer,
  mode: VerificationMode,
): boolean {
  const bytes = Buffer.from(data, 'utf8');
  // The E-port profile's SM2 SignatureValue is raw r‖s (64 bytes). Some E-port clients send DER instead:
  // accepted only in the compatibility mode, so strict stays the profile (domain notes §4).
  if (method.keyFamily === 'sm2')
    return sm2Verify(cert.publicKey, bytes, signature, {
      id: SM2_DEFAULT_ID,
      encoding: mode === 'eport' ? 'either' : 'raw',
    });
  try {
    return rsaVerify(method.hash, bytes, cert.publicKey, signature);
  } catch {
    return false;
  }
}

// --------------------------------------------------------------------------------------------------

export async function verifySignedXml(xml: string, options: VerifyOptions): Promise<VerifiedDocument> {
  const mode = options.mode ?? 'strict';
  if (mode !== 'strict' && mode !== 'eport')
    throw new Error(`verification mode must be 'strict' or 'eport', got ${String(mode)}`);
  if ((options.trustLists === undefined) === (options.pinnedCertificate === undefined)) {
    // Never fall back to trusting KeyInfo: the caller must say whom to trust.
    throw new Error('verifySignedXml needs exactly one of trustLists or pinnedCertificate');
  }
  const pinned =
    options.pinnedCertificate === undefined
      ? undefined
      : typeof options.pinnedCertificate === 'string' || Buffer.isBuffer(options.pinnedCertificate)
        ? loadCertificate(options.pinnedCertificate)
        : options.pinnedCertificate;
  const trust: CertificateTrustCheck = pinned
    ? pinnedCertificateCheck(pinned)
    : trustListCheck(options.trustLists as TrustLists);
  const allowedSignature = new Set(options.allowedSignatureMethods ?? SIGNATURE_METHODS.keys());
  const allowedDigest = new Set(options.allowedDigestMethods ?? DIGEST_METHODS.keys());

  const doc = parseUntrusted(xml, options.maxBytes ?? DEFAULT_MAX_BYTES, options.maxDepth ?? DEFAULT_MAX_DEPTH);
  const root = doc.documentElement as XElement;

  // --- exactly one Signature, a child of the root ------------------------------------------------
  const signatures = doc.getElementsByTagNameNS(XMLDSIG_NS, 'Signature');
  if (signatures.length === 0) fail('SIG_MISSING', 'no ds:Signature in the document');
  if (signatures.length > 1)
    fail('SIG_MULTIPLE', `${signatures.length} ds:Signature elements; exactly one is accepted`);
  const signature = signatures[0] as XElement;
  if (signature.parentNode !== root)
    fail(
      'SIG_WRAPPED',
      `ds:Signature must be a child of the root ${root.nodeName}, found inside ${signature.parentNode?.nodeName ?? '?'}`,
    );

  const signedInfos = doc.getElementsByTagNameNS(XMLDSIG_NS, 'SignedInfo');
  if (signedInfos.length === 0) fail('SIGNEDINFO_MISSING', 'no ds:SignedInfo');
  if (signedInfos.length > 1)
    fail('SIGNEDINFO_MULTIPLE', `${signedInfos.length} ds:SignedInfo elements; exactly one is accepted`);

  // --- Signature = SignedInfo, SignatureValue, KeyInfo? --------------------------------------------
  const sigChildren = dsChildren(signature, 'ds:Signature');
  const signedInfo = expectDs(sigChildren[0], 'SignedInfo', 'ds:Signature');
  const signatureValueEl = expectDs(sigChildren[1], 'SignatureValue', 'ds:Signature');
  const keyInfo = sigChildren[2] ? expectDs(sigChildren[2], 'KeyInfo', 'ds:Signature') : undefined;
  if (sigChildren.length > 3)
    fail('SIG_STRUCTURE', `unexpected ${sigChildren[3]?.nodeName} in ds:Signature (ds:Object is not accepted)`);

  // --- SignedInfo = CanonicalizationMethod, SignatureMethod, Reference ------------------------------
  const siChildren = dsChildren(signedInfo, 'ds:SignedInfo');
  const c14nMethodEl = expectDs(siChildren[0], 'CanonicalizationMethod', 'ds:SignedInfo');
  const c14nMethod = algorithmOf(c14nMethodEl);
  const signatureMethodEl = expectDs(siChildren[1], 'SignatureMethod', 'ds:SignedInfo');
  const references = siChildren.slice(2);
  if (references.length === 0) fail('SIG_STRUCTURE', 'ds:SignedInfo has no ds:Reference');
  for (const r of references) expectDs(r, 'Reference', 'ds:SignedInfo');
  if (references.length > 1)
    fail('REFERENCE_MULTIPLE', `${references.length} ds:Reference elements; exactly one is accepted`);
  if (c14nMethod !== C14N_URI)
    fail('ALG_NOT_ALLOWED', `CanonicalizationMethod ${c14nMethod} is not allowed (only ${C14N_URI})`);
  const signatureMethod = algorithmOf(signatureMethodEl);
  const methodInfo = SIGNATURE_METHODS.get(signatureMethod);
  if (!methodInfo || !allowedSignature.has(signatureMethod))
    return fail('ALG_NOT_ALLOWED', `SignatureMethod ${signatureMethod} is not allowed`);
  // Parameters (HMACOutputLength, InclusiveNamespaces, …) have no place in this profile.
  if (dsChildren(c14nMethodEl, 'ds:CanonicalizationMethod').length > 0)
    fail('SIG_STRUCTURE', 'ds:CanonicalizationMethod must be empty');
  if (dsChildren(signatureMethodEl, 'ds:SignatureMethod').length > 0)
    fail('SIG_STRUCTURE', 'ds:SignatureMethod must be empty');

  // --- Reference URI="" with the enveloped transform ------------------------------------------------
  const reference = references[0] as XElement;
  if (!reference.hasAttribute('URI') || reference.getAttribute('URI') !== '') {
    fail(
      'REFERENCE_URI_NOT_EMPTY',
      `Reference URI must be "" (the whole document), got ${reference.hasAttribute('URI') ? JSON.stringify(reference.getAttribute('URI')) : 'no URI'}`,
    );
  }
  const refChildren = dsChildren(reference, 'ds:Reference');
  let at = 0;
  const transforms: string[] = [];
  if (refChildren[0] && isDs(refChildren[0], 'Transforms')) {
    for (const t of dsChildren(refChildren[0], 'ds:Transforms')) {
      expectDs(t, 'Transform', 'ds:Transforms');
      const alg = algorithmOf(t);
      if (alg !== ENVELOPED_SIGNATURE_URI && alg !== C14N_URI)
        fail('TRANSFORM_NOT_ALLOWED', `Transform ${alg} is not allowed (only enveloped-signature and C14N)`);
      if (t.childNodes.length > 0 && dsChildren(t, 'ds:Transform').length > 0)
        fail('TRANSFORM_NOT_ALLOWED', 'Transform parameters are not accepted');
      transforms.push(alg);
    }
    at = 1;
  }
  if (transforms[0] !== ENVELOPED_SIGNATURE_URI)
    fail('TRANSFORM_ENVELOPED_MISSING', 'the first Transform must be enveloped-signature');
  if (transforms.length > 2 || (transforms.length === 2 && transforms[1] !== C14N_URI)) {
    fail(
      'TRANSFORM_NOT_ALLOWED',
      `Transforms must be enveloped-signature optionally followed by C14N, got ${transforms.join(', ')}`,
    );
  }
  const digestMethodEl = expectDs(refChildren[at], 'DigestMethod', 'ds:Reference');
  if (dsChildren(digestMethodEl, 'ds:DigestMethod').length > 0) fail('SIG_STRUCTURE', 'ds:DigestMethod must be empty');
  const digestMethod = algorithmOf(digestMethodEl);
  const digestHash = DIGEST_METHODS.get(digestMethod);
  if (!digestHash || !allowedDigest.has(digestMethod))
    return fail('ALG_NOT_ALLOWED', `DigestMethod ${digestMethod} is not allowed`);
  const digestValueEl = expectDs(refChildren[at + 1], 'DigestValue', 'ds:Reference');
  if (refChildren.length > at + 2) fail('SIG_STRUCTURE', `unexpected ${refChildren[at + 2]?.nodeName} in ds:Reference`);
  const digestValue = base64Value(digestValueEl, 'DIGEST_VALUE_MALFORMED', 'DigestValue');
  if (digestValue.length !== HASH_LENGTH[digestHash])
    fail(
      'DIGEST_VALUE_MALFORMED',
      `DigestValue has ${digestValue.length} bytes, ${digestMethod} gives ${HASH_LENGTH[digestHash]}`,
    );
  const signatureValue = base64Value(signatureValueEl, 'SIGNATURE_VALUE_MALFORMED', 'SignatureValue');

  // --- nothing may follow the Signature but whitespace (and, in export messages, ExtendMessage) -----
  const exportLayout = layoutForRootName(root.localName) === 'export';
  let extendSeen = false;
  for (let n = signature.nextSibling; n; n = n.nextSibling) {
    if (n.nodeType === TEXT && isWhitespace(n.nodeValue ?? '')) continue;
    const el = n as XElement;
    if (
      exportLayout &&
      !extendSeen &&
      n.nodeType === ELEMENT &&
      el.localName === 'ExtendMessage' &&
      el.namespaceURI === root.namespaceURI
    ) {
      extendSeen = true;
      continue;
    }
    fail(
      'CONTENT_AFTER_SIGNING',
      `${nodeKind(n)} after ds:Signature is not allowed${exportLayout ? ' (only ExtendMessage may follow it in export messages)' : ''}`,
    );
  }

  // --- certificate: from KeyInfo, believed only through trust lists or the pinned certificate -------
  const certElements = keyInfo ? keyInfo.getElementsByTagNameNS(XMLDSIG_NS, 'X509Certificate') : { length: 0 };
  if (certElements.length > 1)
    fail('CERT_MULTIPLE', `${certElements.length} X509Certificate elements; exactly one is accepted`);
  let cert: CertificateInfo;
  if (certElements.length === 1) {
    const der = base64Value(certElements[0] as XElement, 'CERT_MALFORMED', 'X509Certificate');
    try {
      cert = loadCertificate(der);
    } catch (err) {
      return fail('CERT_MALFORMED', `X509Certificate does not parse: ${(err as Error).message}`);
    }
  } else if (pinned) {
    cert = pinned;
  } else {
    return fail('CERT_MISSING', 'KeyInfo carries no X509Certificate and no certificate was pinned');
  }
  if (cert.keyFamily !== methodInfo.keyFamily)
    fail(
      'ALG_KEY_MISMATCH',
      `SignatureMethod ${methodInfo.name} needs an ${methodInfo.keyFamily.toUpperCase()} key, the certificate holds ${cert.keyFamily.toUpperCase()}`,
    );
  const decision = await trust(cert, options.at);
  if (!decision.ok)
    fail(
      'CERT_UNTRUSTED',
      `KeyInfo certificate is not trusted: ${decision.reason ?? `${cert.serialHex} (${cert.subject}) rejected`}`,
    );
  if (mode === 'strict' && keyInfo) {
    const keyNames = keyInfo.getElementsByTagNameNS(XMLDSIG_NS, 'KeyName');
    for (let i = 0; i < keyNames.length; i++) {
      const name = plainText(keyNames[i] as XElement, 'SIG_STRUCTURE', 'KeyName')
        .trim()
        .toLowerCase();
      // Same number, written with or without the DER sign byte / leading zeros, is the same serial.
      const sameSerial = /^[0-9a-f]+$/.test(name) && name.replace(/^0+/, '') === cert.serialHex.replace(/^0+/, '');
      if (!sameSerial) fail('KEYNAME_MISMATCH', `KeyName ${name} is not the certificate serial ${cert.serialHex}`);
    }
  }

  // --- canonical SignedInfo (computed while the Signature is still in place: it inherits namespaces) -
  const signedInfoContext = inScopeNamespaces(signedInfo);
  const signedInfoCandidates = [canonicalize(signedInfo, signedInfoContext)];
  if (mode === 'eport') {
    const own = inScopeNamespaces(signedInfo).map((ns) => ({ prefix: ns.prefix, value: escapeAttr(ns.value) }));
    const rebuilt = canonicalSignedInfo(
      compactSignedInfo(
        { signatureMethod, digestMethod },
        digestValue.toString('base64'),
        signedInfo.prefix ?? '',
        transforms,
      ),
      own,
    );
    if (rebuilt !== signedInfoCandidates[0]) signedInfoCandidates.push(rebuilt);
  }

  // --- digest: the document with the Signature removed (a NUL marker marks where it was) ------------
  const marker = `\u0000${randomBytes(8).toString('hex')}\u0000`;
  root.replaceChild(doc.createTextNode(marker), signature);
  const canonical = canonicalize(root);
  const split = canonical.indexOf(marker);
  if (split < 0 || canonical.indexOf(marker, split + 1) >= 0)
    throw new Error('internal: signature marker lost during canonicalisation');
  const before = canonical.slice(0, split);
  const after = canonical.slice(split + marker.length);
  const digestCandidates = [before + after];
  if (mode === 'eport') {
    const trimmedBefore = before.replace(/[ \t\r\n]+$/, '');
    const trimmedAfter = after.replace(/^[ \t\r\n]+/, '');
    for (const c of [trimmedBefore + after, before + trimmedAfter, trimmedBefore + trimmedAfter])
      if (!digestCandidates.includes(c)) digestCandidates.push(c);
  }
  const expectedDigest = digestValue.toString('base64');
  const signedXml = digestCandidates.find((c) => hashBase64(digestHash, c) === expectedDigest);
  if (signedXml === undefined)
    fail('DIGEST_MISMATCH', `the document does not match DigestValue (${mode} mode): it was changed after signing`);

  if (!signedInfoCandidates.some((si) => signatureMatches(methodInfo, cert, si, signatureValue, mode))) {
    fail(
      'SIGNATURE_INVALID',
      `SignatureValue does not verify with certificate ${cert.serialHex} over the canonical SignedInfo (${mode} mode)`,
    );
  }

  return {
    signedXml: signedXml as string,
    mode,
    signer: {
      subject: cert.subject,
      serialHex: cert.serialHex,
      algorithm: methodInfo.name,
      signatureMethod,
      digestMethod,
      trustedBy: decision.trustedBy ?? 'trust-list',
      ...(decision.trustedBy === 'pinned' ? {} : { trustList: decision.trustedBy ?? 'trust-list' }),
      pinned: decision.trustedBy === 'pinned',
    },
  };
}
