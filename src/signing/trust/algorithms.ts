import { createPublicKey, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { SM2_CURVE_OID, sm2Sign, sm2SignatureToDer, sm2Verify } from '../sm2';

/**
 * Signature algorithms of certificates and CRLs. SM2 goes through our sm2 module with the standard
 * distinguishing ID: Node's X509Certificate.verify() uses an empty ID and rejects valid SM2 certificates.
 */

export const OID = {
  sm2WithSm3: '1.2.156.10197.1.501',
  sha1WithRsa: '1.2.840.113549.1.1.5',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  sha384WithRsa: '1.2.840.113549.1.1.12',
  sha512WithRsa: '1.2.840.113549.1.1.13',
  rsaEncryption: '1.2.840.113549.1.1.1',
  ecPublicKey: '1.2.840.10045.2.1',
  sm2Curve: SM2_CURVE_OID,
} as const;

const RSA_HASH: Record<string, string> = {
  [OID.sha1WithRsa]: 'sha1',
  [OID.sha256WithRsa]: 'sha256',
  [OID.sha384WithRsa]: 'sha384',
  [OID.sha512WithRsa]: 'sha512',
};

export type KeyAlgorithm = 'RSA' | 'SM2' | 'OTHER';

export function keyAlgorithm(key: KeyObject): KeyAlgorithm {
  if (key.asymmetricKeyType === 'rsa') return 'RSA';
  const spki = (key.type === 'private' ? createPublicKey(key) : key).export({ format: 'der', type: 'spki' });
  // SM2 keys appear as type 'ec' (namedCurve SM2) or with no type at all, depending on how they were loaded.
  return spki.includes(Buffer.from('06082a811ccf5501822d', 'hex')) ? 'SM2' : 'OTHER';
}

/** True when `signature` over `tbs` verifies with `issuerKey` under `algorithmOid`; throws for unsupported algorithms. */
export function verifySignedBytes(tbs: Buffer, algorithmOid: string, signature: Buffer, issuerKey: KeyObject): boolean {
  if (algorithmOid === OID.sm2WithSm3) {
    if (keyAlgorithm(issuerKey) !== 'SM2') return false;
    return sm2Verify(issuerKey, tbs, signature, { encoding: 'der' }); // X.509 signatures are DER
  }
  const hash = RSA_HASH[algorithmOid];
  if (hash) {
    if (keyAlgorithm(issuerKey) !== 'RSA') return false;
    try {
      return nodeVerify(hash, tbs, issuerKey, signature);
    } catch {
      return false;
    }
  }
  throw new Error(`unsupported signature algorithm ${algorithmOid}`);
}

/** The signature algorithm a CA key signs with: sha256WithRSAEncryption for RSA, SM2-with-SM3 for SM2. */
export function signatureAlgorithmFor(issuerKey: KeyObject): string {
  const algorithm = keyAlgorithm(issuerKey);
  if (algorithm === 'RSA') return OID.sha256WithRsa;
  if (algorithm === 'SM2') return OID.sm2WithSm3;
  throw new Error('only RSA and SM2 issuer keys are supported');
}

/** Signs TBS bytes the way a CA does: sha256WithRSAEncryption for RSA keys, SM2-with-SM3 (standard ID) for SM2 keys. */
export function signTbs(tbs: Buffer, issuerKey: KeyObject): { algorithmOid: string; signature: Buffer } {
  const algorithm = keyAlgorithm(issuerKey);
  if (algorithm === 'RSA') return { algorithmOid: OID.sha256WithRsa, signature: nodeSign('sha256', tbs, issuerKey) };
  if (algorithm === 'SM2')
    return { algorithmOid: OID.sm2WithSm3, signature: sm2SignatureToDer(sm2Sign(issuerKey, tbs)) };
  throw new Error('signTbs: only RSA and SM2 issuer keys are supported');
}
