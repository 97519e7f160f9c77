/**
 * Typed failures of the signing layer. Every rejection carries a stable `code` so callers (API,
 * pipeline, tests) branch on the reason, never on message text.
 */

/** Why a signed document was rejected by the verifier. */
export type VerificationErrorCode =
  | 'XML_TOO_LARGE'
  | 'XML_DOCTYPE_FORBIDDEN'
  | 'XML_MALFORMED'
  | 'XML_TOO_DEEP'
  | 'XML_MULTIPLE_ROOTS'
  | 'SIG_MISSING'
  | 'SIG_MULTIPLE'
  | 'SIG_WRAPPED'
  | 'SIG_STRUCTURE'
  | 'SIGNEDINFO_MISSING'
  | 'SIGNEDINFO_MULTIPLE'
  | 'REFERENCE_MULTIPLE'
  | 'REFERENCE_URI_NOT_EMPTY'
  | 'TRANSFORM_ENVELOPED_MISSING'
  | 'TRANSFORM_NOT_ALLOWED'
  | 'ALG_NOT_ALLOWED'
  | 'ALG_KEY_MISMATCH'
  | 'DIGEST_VALUE_MALFORMED'
  | 'SIGNATURE_VALUE_MALFORMED'
  | 'DIGEST_MISMATCH'
  | 'SIGNATURE_INVALID'
  | 'CERT_MISSING'
  | 'CERT_MULTIPLE'
  | 'CERT_MALFORMED'
  | 'CERT_UNTRUSTED'
  | 'KEYNAME_MISMATCH'
  | 'CONTENT_AFTER_SIGNING';

/** Why a signer could not be built or could not sign. */
export type SigningErrorCode =
  | 'KEY_LOAD_FAILED'
  | 'KEY_UNSUPPORTED'
  | 'CERT_LOAD_FAILED'
  | 'KEY_CERT_MISMATCH'
  | 'SIGNER_CERT_UNTRUSTED'
  | 'ALG_KEY_MISMATCH'
  | 'INPUT_NOT_CANONICAL'
  | 'INPUT_ALREADY_SIGNED'
  | 'LAYOUT_INVALID'
  | 'UKEY_UNAVAILABLE'
  | 'UKEY_TIMEOUT'
  | 'UKEY_FAILED'
  | 'UKEY_PROTOCOL'
  | 'UKEY_BAD_SIGNATURE';

export class VerificationError extends Error {
  constructor(
    public readonly code: VerificationErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'VerificationError';
  }
}

export class SigningError extends Error {
  constructor(
    public readonly code: SigningErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
    this.name = 'SigningError';
  }
}
