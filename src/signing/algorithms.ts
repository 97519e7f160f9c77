/**
 * Algorithm identifiers of the CEB signature profile (domain doc §4, spec §6.2) and the allow-lists the
 * verifier enforces. Everything the signer writes and the verifier accepts is named here once.
 */

export const XMLDSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';
export const C14N_URI = 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315';
export const ENVELOPED_SIGNATURE_URI = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

export const ALGORITHM_URI = {
  rsaSha1: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
  rsaSha256: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  /** The 2022 spec's national-algorithm URI (preferred by customs). */
  sm2Sm3Chinaport: 'http://www.chinaport.gov.cn/2022/04/xmldsig#sm2-sm3',
  sm3Chinaport: 'http://www.chinaport.gov.cn/2022/04/xmldsig#sm3',
  /** What several working E-port signers send instead (paired with a SHA-1 digest). */
  sm2Sm3W3c: 'http://www.w3.org/2000/09/xmldsig#sm2-sm3',
  sha1: 'http://www.w3.org/2000/09/xmldsig#sha1',
  sha256: 'http://www.w3.org/2001/04/xmlenc#sha256',
} as const;

export type KeyFamily = 'rsa' | 'sm2';
export type HashName = 'sha1' | 'sha256' | 'sm3';

/** Signature profiles a signer can be configured with; pick per destination. */
export type SignatureAlgorithmId = 'rsa-sha1' | 'rsa-sha256' | 'sm2-sm3' | 'sm2-sm3-w3c';
export const SIGNATURE_ALGORITHM_IDS: readonly SignatureAlgorithmId[] = [
  'rsa-sha1',
  'rsa-sha256',
  'sm2-sm3',
  'sm2-sm3-w3c',
];

export interface SignatureProfile {
  readonly id: SignatureAlgorithmId;
  readonly keyFamily: KeyFamily;
  readonly signatureMethod: string;
  readonly digestMethod: string;
  /** Hash of the document (DigestValue). */
  readonly digestHash: HashName;
}

export const SIGNATURE_PROFILES: Readonly<Record<SignatureAlgorithmId, SignatureProfile>> = {
  'rsa-sha1': {
    id: 'rsa-sha1',
    keyFamily: 'rsa',
    signatureMethod: ALGORITHM_URI.rsaSha1,
    digestMethod: ALGORITHM_URI.sha1,
    digestHash: 'sha1',
  },
  'rsa-sha256': {
    id: 'rsa-sha256',
    keyFamily: 'rsa',
    signatureMethod: ALGORITHM_URI.rsaSha256,
    digestMethod: ALGORITHM_URI.sha256,
    digestHash: 'sha256',
  },
  'sm2-sm3': {
    id: 'sm2-sm3',
    keyFamily: 'sm2',
    signatureMethod: ALGORITHM_URI.sm2Sm3Chinaport,
    digestMethod: ALGORITHM_URI.sm3Chinaport,
    digestHash: 'sm3',
  },
  'sm2-sm3-w3c': {
    id: 'sm2-sm3-w3c',
    keyFamily: 'sm2',
    signatureMethod: ALGORITHM_URI.sm2Sm3W3c,
    digestMethod: ALGORITHM_URI.sha1,
    digestHash: 'sha1',
  },
};

export function isSignatureAlgorithmId(value: string): value is SignatureAlgorithmId {
  return (SIGNATURE_ALGORITHM_IDS as readonly string[]).includes(value);
}

/** SignatureMethod URI → how to check it. `hash` is what the signature itself hashes with. */
export interface SignatureMethodInfo {
  readonly keyFamily: KeyFamily;
  readonly hash: HashName;
  /** Short name reported to callers (verify CLI, audit log). */
  readonly name: string;
}

export const SIGNATURE_METHODS: ReadonlyMap<string, SignatureMethodInfo> = new Map([
  [ALGORITHM_URI.rsaSha1, { keyFamily: 'rsa', hash: 'sha1', name: 'rsa-sha1' }],
  [ALGORITHM_URI.rsaSha256, { keyFamily: 'rsa', hash: 'sha256', name: 'rsa-sha256' }],
  [ALGORITHM_URI.sm2Sm3Chinaport, { keyFamily: 'sm2', hash: 'sm3', name: 'sm2-sm3' }],
  [ALGORITHM_URI.sm2Sm3W3c, { keyFamily: 'sm2', hash: 'sm3', name: 'sm2-sm3-w3c' }],
]);

export const DIGEST_METHODS: ReadonlyMap<string, HashName> = new Map([
  [ALGORITHM_URI.sha1, 'sha1'],
  [ALGORITHM_URI.sha256, 'sha256'],
  [ALGORITHM_URI.sm3Chinaport, 'sm3'],
]);

export const HASH_LENGTH: Readonly<Record<HashName, number>> = { sha1: 20, sha256: 32, sm3: 32 };
