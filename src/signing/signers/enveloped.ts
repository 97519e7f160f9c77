import { createHash } from 'node:crypto';
import type { SignatureProfile } from '../algorithms';
import {
  canonicalSignedInfo,
  compactSignedInfo,
  insertSignature,
  layoutForRootName,
  readCanonicalDocument,
  signatureElement,
  signedInfoNamespaceContext,
  type CanonicalDocument,
  type KeyInfoContent,
  type MessageLayout,
} from '../eport-layout';

/**
 * The part of signing every signer shares: digest the canonical document, write the compact SignedInfo,
 * produce the bytes to sign (its canonical form), and later assemble and insert the Signature.
 * Split in two halves so a remote (asynchronous) key can sit between them.
 */
export interface PreparedSignature {
  /** Canonical SignedInfo, UTF-8: the exact bytes the SignatureValue signs. */
  readonly toBeSigned: string;
  /** Inserts the Signature carrying `signatureValueBase64`; returns the signed document. */
  finish(signatureValueBase64: string): string;
}

export function prepareSignature(
  canonicalUnsignedXml: string,
  layout: MessageLayout | undefined,
  profile: SignatureProfile,
  keyInfo: KeyInfoContent,
): PreparedSignature {
  const doc: CanonicalDocument = readCanonicalDocument(canonicalUnsignedXml);
  const digest = createHash(profile.digestHash).update(doc.body, 'utf8').digest('base64');
  const signedInfo = compactSignedInfo(profile, digest);
  const toBeSigned = canonicalSignedInfo(signedInfo, signedInfoNamespaceContext(doc), doc.rootXmlAttributes);
  const chosenLayout = layout ?? layoutForRootName(doc.rootLocalName);
  return {
    toBeSigned,
    finish: (signatureValueBase64) =>
      insertSignature(doc, signatureElement(signedInfo, signatureValueBase64, keyInfo), chosenLayout),
  };
}
