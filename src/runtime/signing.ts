import { resolve } from 'node:path';
import { identityFiles } from '../centers/identities';
import type { Config } from '../config';
import type { MessageType } from '../domain/message-types';
import type { SignerProvider } from '../pipeline/dispatcher';
import { SoftwareXmlSigner } from '../signing/signers/software';
import type { XmlSigner } from '../signing/signers/types';
import { trustListCheck } from '../signing/trust-check';
import { loadTrustLists, type TrustLists } from '../signing/trust';
import { verifySignedXml, type VerifiedDocument } from '../signing/verifier';

/**
 * Signing and verification as the pipeline uses them, built once per process from the configuration.
 * The manifest signer is checked against the trust lists at construction: a certificate that fails the
 * relying-party check cannot start a worker.
 */
export function loadTrust(config: Config): TrustLists {
  return loadTrustLists(resolve(config.TRUST_DIR));
}

export async function createManifestSigner(config: Config, trustLists: TrustLists): Promise<XmlSigner> {
  const files = config.SIGNER_KEY_FILE
    ? { keyPath: config.SIGNER_KEY_FILE, certPath: config.SIGNER_CERT_FILE, password: config.SIGNER_PASSWORD }
    : identityFiles(config.SIGNER_IDENTITY, config.CERTS_DIR);
  return SoftwareXmlSigner.fromFiles(files, { trust: trustListCheck(trustLists), algorithm: config.SIGNER_ALGORITHM });
}

/** One signer for every destination today; the seam where per-center algorithms would plug in. */
export function singleSignerProvider(signer: XmlSigner): SignerProvider {
  return { signerFor: (_center: string, _type: MessageType) => signer };
}

export class ReceiptSignerError extends Error {
  readonly code = 'SIGNER_NOT_A_CENTER';
  constructor(message: string) {
    super(message);
    this.name = 'ReceiptSignerError';
  }
}

/**
 * Receipts must be signed by a clearance center: strict XML-DSig verification with the trust lists, and
 * the signer must be one of the pinned receipt-signing certificates (certs-dev/trust-lists/centers.json).
 */
export function createReceiptVerifier(trustLists: TrustLists): (xml: string) => Promise<VerifiedDocument> {
  const centerSerials = new Set(trustLists.receiptSigners.map((s) => normaliseSerial(s.cert.serialHex)));
  return async (xml) => {
    const verified = await verifySignedXml(xml, { mode: 'strict', trustLists });
    if (!centerSerials.has(normaliseSerial(verified.signer.serialHex))) {
      throw new ReceiptSignerError(
        `signer ${verified.signer.subject} (serial ${verified.signer.serialHex}) is trusted but is not a clearance center's receipt certificate`,
      );
    }
    return verified;
  };
}

/** Certificate serials compared as numbers: KeyName may or may not keep leading zero bytes. */
export function normaliseSerial(hex: string): string {
  return hex.toLowerCase().replace(/^0+/, '');
}
