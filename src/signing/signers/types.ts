import type { SignatureAlgorithmId } from '../algorithms';
import type { MessageLayout } from '../eport-layout';

/** Who signs: reported with every signer so the pipeline can log and audit it. */
export interface SignerIdentity {
  readonly subject: string;
  /** KeyName as written: certificate serial, lower-case hex, leading zeros kept. */
  readonly serialHex: string;
  /** Trust list that accepted the certificate at construction ('pinned' for a caller-pinned one). */
  readonly trustedBy: string;
  /**
   * End of the certificate's validity. The relying-party check runs once, at construction: a long-lived
   * process should build a new signer before this date (and when trust lists or CRLs change).
   */
  readonly notAfter: Date;
}

/**
 * One interface for every way of signing a CEB message (software RSA, software SM2, E-port USB key).
 *
 * `sign` always returns a Promise — a remote key is asynchronous and the pipeline should not care which
 * signer it holds. Software signers additionally offer `signSync` for batch/bench code.
 *
 * Input: the canonical unsigned message exactly as the XML builder writes it (C14N, no DOCTYPE/comments,
 * an optional XML declaration is kept in the output but never digested). `layout` defaults to the one
 * the root element implies (`layoutForRootName`): 'export' puts the Signature before ExtendMessage.
 * Output: the same bytes with one `ds:Signature` inserted, nothing else changed.
 */
export interface XmlSigner {
  readonly algorithm: SignatureAlgorithmId;
  readonly identity: SignerIdentity;
  sign(canonicalUnsignedXml: string, layout?: MessageLayout): Promise<string>;
  /** Releases connections (USB-key signer); a no-op for software keys. */
  close(): Promise<void>;
}

export interface SyncXmlSigner extends XmlSigner {
  signSync(canonicalUnsignedXml: string, layout?: MessageLayout): string;
}
