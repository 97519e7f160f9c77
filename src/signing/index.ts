/**
 * Public API of the signing layer (CEB enveloped XML-DSig, E-port layout).
 *
 * Signing:   const signer = await createXmlSigner(config, { trustLists });   // once per sender
 *            const signedXml = await signer.sign(canonicalUnsignedXml);     // per message (layout from the root)
 * Verifying: const { signedXml, signer } = await verifySignedXml(xml, { trustLists, mode: 'strict' });
 *            — process `signedXml` (exactly the signed bytes), never the input.
 */
export {
  ALGORITHM_URI,
  SIGNATURE_ALGORITHM_IDS,
  SIGNATURE_PROFILES,
  isSignatureAlgorithmId,
  type SignatureAlgorithmId,
  type KeyFamily,
} from './algorithms';
export { loadCertificate, type CertificateInfo } from './certificate';
export { layoutForRootName, type MessageLayout } from './eport-layout';
export { SigningError, VerificationError, type SigningErrorCode, type VerificationErrorCode } from './errors';
export { canonicalizeForSigning } from './safe-xml';
export { createXmlSigner, signerConfigSchema, type SignerConfig, type SignerTrust } from './signer-factory';
export { loadKeyMaterial, type KeyFileOptions, type KeyMaterial } from './signers/key-loader';
export { SoftwareXmlSigner, type SoftwareSignerOptions } from './signers/software';
export type { SignerIdentity, SyncXmlSigner, XmlSigner } from './signers/types';
export { UKeyClient, UKeyXmlSigner, type UKeySignerOptions } from './signers/ukey';
export { UKEY_DEFAULT_URL, UKEY_METHOD } from './signers/ukey-protocol';
export { pinnedCertificateCheck, trustListCheck, type CertificateTrustCheck, type TrustDecision } from './trust-check';
export {
  verifySignedXml,
  type VerificationMode,
  type VerifiedDocument,
  type VerifiedSigner,
  type VerifyOptions,
} from './verifier';
