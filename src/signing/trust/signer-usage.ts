import type { ParsedCertificate } from './certificate';

/**
 * What makes a certificate fit to sign a message, whoever vouches for it (a trust list or a pin):
 * - an END-ENTITY certificate: basicConstraints absent or CA:FALSE. A CA certificate issues certificates;
 *   accepting its signature on a declaration would let any (sub-)CA key sign customs messages in the name
 *   of the organisation in its subject, beside the MR issuing CA's real subscribers.
 * - a SIGNING key usage: the keyUsage extension present and allowing digitalSignature or nonRepudiation.
 *   Absent keyUsage means "any use" in RFC 5280, but the E-port and MR schemes issue signing and
 *   encryption certificates separately and mark each, so an unmarked certificate is not taken as a
 *   signing one (docs/decisions/signer-certificates.md).
 */
export interface SignerUsageProblem {
  code: 'CA_CERT_NOT_SIGNER' | 'KEY_USAGE_MISSING' | 'KEY_USAGE_NOT_SIGNING';
  detail: string;
}

export function endEntityProblem(cert: Pick<ParsedCertificate, 'isCa'>): SignerUsageProblem | null {
  if (!cert.isCa) return null;
  return {
    code: 'CA_CERT_NOT_SIGNER',
    detail:
      'basicConstraints CA:TRUE: this is a CA certificate, which issues certificates; only an end-entity certificate may sign messages',
  };
}

export function keyUsageProblem(cert: Pick<ParsedCertificate, 'keyUsage'>): SignerUsageProblem | null {
  if (cert.keyUsage === null)
    return {
      code: 'KEY_USAGE_MISSING',
      detail: 'no keyUsage extension: a signing certificate must state digitalSignature or nonRepudiation',
    };
  if (cert.keyUsage.includes('digitalSignature') || cert.keyUsage.includes('nonRepudiation')) return null;
  return {
    code: 'KEY_USAGE_NOT_SIGNING',
    detail: `keyUsage ${cert.keyUsage.join(', ') || '(empty)'} allows neither digitalSignature nor nonRepudiation`,
  };
}

/** The first reason this certificate may not sign messages, or null. */
export function signerUsageProblem(cert: Pick<ParsedCertificate, 'isCa' | 'keyUsage'>): SignerUsageProblem | null {
  return endEntityProblem(cert) ?? keyUsageProblem(cert);
}
