import { X509Certificate } from 'node:crypto';
import { parseCertificate } from './certificate';
import { checkCertificate, type CertificateVerdict, type CheckOptions } from './relying-party';
import type { TrustLists } from './load';

export interface ReceiptSignerVerdict extends CertificateVerdict {
  /** Clearance-center id (e.g. `center-hk`) when the certificate is a pinned receipt signer. */
  centerId?: string;
}

/**
 * Receipts may only be signed by a clearance center: the certificate must be pinned (by SHA-256) in the
 * receipt-signer file (trust-lists/centers.json) AND pass the relying-party check on the trust list the
 * pin names. A certificate that is merely MR-trusted (any seller) is not a receipt signer.
 */
export function checkReceiptSigner(
  cert: Buffer | string | X509Certificate,
  trustLists: TrustLists,
  options: CheckOptions = {},
): ReceiptSignerVerdict {
  const input = cert instanceof X509Certificate ? cert.raw : cert;
  let sha256: string;
  try {
    sha256 = parseCertificate(input).sha256;
  } catch (err) {
    return {
      ok: false,
      checks: [],
      reason: `CERT_UNPARSEABLE: not a readable X.509 certificate (${(err as Error).message})`,
      subject: '',
      serialHex: '',
      algorithm: 'OTHER',
    };
  }
  const verdict: ReceiptSignerVerdict = checkCertificate(input, trustLists, options);
  const signer = trustLists.receiptSigners.find((s) => s.cert.sha256 === sha256);
  if (!signer) {
    const known = trustLists.receiptSigners.map((s) => s.id).join(', ') || 'none';
    return {
      ...verdict,
      ok: false,
      reason: `RECEIPT_SIGNER_NOT_PINNED: certificate ${verdict.serialHex} (${verdict.subject}) is not a pinned clearance-center receipt signer (known: ${known})`,
    };
  }
  verdict.centerId = signer.id;
  if (verdict.ok && verdict.trustList !== signer.trustList) {
    return {
      ...verdict,
      ok: false,
      reason: `RECEIPT_SIGNER_WRONG_TRUST_LIST: ${signer.id} is pinned for trust list ${signer.trustList} but chains to ${verdict.trustList ?? 'none'}`,
    };
  }
  return verdict;
}
