import { checkCertificate, parseCertificate, type TrustLists } from './trust';
import { signerUsageProblem } from './trust/signer-usage';
import { loadCertificate, type CertificateInfo } from './certificate';

/**
 * How the signing layer decides whether a certificate may be used (signer construction) or believed
 * (verification). Either the relying-party check against our trust lists (H3's `checkCertificate`,
 * domain doc §5) or a certificate pinned by the caller. Never "whatever KeyInfo says".
 */
export interface TrustDecision {
  readonly ok: boolean;
  readonly reason?: string;
  /** Name of the trust list that accepted the certificate, or 'pinned'. */
  readonly trustedBy?: string;
}

export type CertificateTrustCheck = (cert: CertificateInfo, at?: Date) => TrustDecision | Promise<TrustDecision>;

export function trustListCheck(trustLists: TrustLists): CertificateTrustCheck {
  return (cert, at) => {
    const result = checkCertificate(cert.x509, trustLists, at ? { at } : {});
    if (!result.ok) return { ok: false, reason: result.reason ?? 'rejected by the relying-party check' };
    return { ok: true, trustedBy: result.trustList ?? 'trust-list' };
  };
}

/**
 * Accepts exactly one certificate, compared byte for byte (DER), plus its validity period — and only if it
 * may sign at all: a pin vouches for whose key it is, not that a CA certificate may sign (signer-usage.ts).
 */
export function pinnedCertificateCheck(pinned: CertificateInfo | string | Buffer): CertificateTrustCheck {
  const expected = typeof pinned === 'string' || Buffer.isBuffer(pinned) ? loadCertificate(pinned) : pinned;
  const usage = signerUsageProblem(parseCertificate(expected.der));
  return (cert, at = new Date()) => {
    if (usage) return { ok: false, reason: `${usage.code}: pinned certificate ${expected.serialHex}: ${usage.detail}` };
    if (!cert.der.equals(expected.der)) {
      return {
        ok: false,
        reason: `certificate ${cert.serialHex} (${cert.subject}) is not the pinned certificate ${expected.serialHex}`,
      };
    }
    const notBefore = new Date(cert.x509.validFrom);
    const notAfter = new Date(cert.x509.validTo);
    if (at < notBefore || at > notAfter) {
      return {
        ok: false,
        reason: `pinned certificate ${cert.serialHex} is not valid at ${at.toISOString()} (valid ${notBefore.toISOString()} – ${notAfter.toISOString()})`,
      };
    }
    return { ok: true, trustedBy: 'pinned' };
  };
}
