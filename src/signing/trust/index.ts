/** Trust lists and relying-party checks of signer certificates (MR lists for GD/HK/MO, E-port CPS domain). */
export {
  loadTrustLists,
  TrustListError,
  type TrustLists,
  type TrustList,
  type TrustListEntry,
  type DesignatedIssuingCa,
  type TrustedCa,
  type ReceiptSigner,
} from './load';
export {
  checkCertificate,
  type CertificateVerdict,
  type CertificateCheck,
  type CheckName,
  type CheckOptions,
} from './relying-party';
export { checkReceiptSigner, type ReceiptSignerVerdict } from './receipt-signers';
export { parseCertificate, isSignedBy, oidIsUnder, type ParsedCertificate } from './certificate';
export { parseCrl, type ParsedCrl } from './crl';
export { MR_POLICY_OID_PREFIX } from './schema';
export { OID, keyAlgorithm, verifySignedBytes, type KeyAlgorithm } from './algorithms';
