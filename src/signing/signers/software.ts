import { sign as rsaSign, verify as rsaVerify, type KeyObject } from 'node:crypto';
import { SIGNATURE_PROFILES, type SignatureAlgorithmId, type SignatureProfile } from '../algorithms';
import { keyFamilyOf, loadCertificate, type CertificateInfo } from '../certificate';
import type { MessageLayout } from '../eport-layout';
import { SigningError } from '../errors';
import { sm2Sign, sm2Verify, SM2_DEFAULT_ID } from '../sm2';
import type { CertificateTrustCheck } from '../trust-check';
import { prepareSignature } from './enveloped';
import { loadKeyMaterial, type KeyFileOptions } from './key-loader';
import type { SignerIdentity, SyncXmlSigner } from './types';

/** Produces the raw SignatureValue bytes over the canonical SignedInfo. */
type SignatureValueFunction = (toBeSigned: Buffer) => Buffer;

export interface SoftwareSignerOptions {
  readonly privateKey: KeyObject;
  readonly certificate: CertificateInfo | string | Buffer;
  /** Default: 'rsa-sha1' for RSA keys (the spec's value), 'sm2-sm3' (chinaport 2022 URIs) for SM2 keys. */
  readonly algorithm?: SignatureAlgorithmId;
  /** Relying-party check run once, here; a certificate that fails it cannot sign. */
  readonly trust: CertificateTrustCheck;
  /** Date the trust check is evaluated at (tests); default now. */
  readonly at?: Date;
}

/**
 * Software RSA / SM2 signer. RSA: PKCS#1 v1.5 via `crypto.sign` with the cached KeyObject. SM2: SM3 with
 * the distinguishing ID 1234567812345678, SignatureValue = Base64 of raw r‖s (64 bytes), not DER.
 */
export class SoftwareXmlSigner implements SyncXmlSigner {
  private constructor(
    readonly algorithm: SignatureAlgorithmId,
    readonly identity: SignerIdentity,
    private readonly profile: SignatureProfile,
    private readonly certificate: CertificateInfo,
    private readonly signatureValue: SignatureValueFunction,
  ) {}

  static async create(options: SoftwareSignerOptions): Promise<SoftwareXmlSigner> {
    const certificate =
      typeof options.certificate === 'string' || Buffer.isBuffer(options.certificate)
        ? loadCertificate(options.certificate)
        : options.certificate;
    const keyFamily = keyFamilyOfPrivate(options.privateKey);
    const algorithm = options.algorithm ?? (keyFamily === 'rsa' ? 'rsa-sha1' : 'sm2-sm3');
    const profile = SIGNATURE_PROFILES[algorithm];
    if (!profile) throw new SigningError('ALG_KEY_MISMATCH', `unknown signature algorithm ${algorithm}`);
    if (profile.keyFamily !== keyFamily)
      throw new SigningError(
        'ALG_KEY_MISMATCH',
        `algorithm ${algorithm} needs an ${profile.keyFamily.toUpperCase()} key, got ${keyFamily.toUpperCase()}`,
      );
    if (certificate.keyFamily !== keyFamily)
      throw new SigningError(
        'KEY_CERT_MISMATCH',
        `certificate ${certificate.serialHex} holds an ${certificate.keyFamily.toUpperCase()} key, the private key is ${keyFamily.toUpperCase()}`,
      );
    const signatureValue = signatureFunction(profile, options.privateKey);
    assertKeyMatchesCertificate(profile, signatureValue, certificate);
    const decision = await options.trust(certificate, options.at);
    if (!decision.ok) {
      throw new SigningError(
        'SIGNER_CERT_UNTRUSTED',
        `certificate ${certificate.serialHex} (${certificate.subject}) fails the relying-party check: ${decision.reason ?? 'rejected'}`,
      );
    }
    const identity: SignerIdentity = {
      subject: certificate.subject,
      serialHex: certificate.serialHex,
      trustedBy: decision.trustedBy ?? 'trust-list',
      notAfter: new Date(certificate.x509.validTo),
    };
    return new SoftwareXmlSigner(algorithm, identity, profile, certificate, signatureValue);
  }

  /** Loads PEM / PKCS#12 files (see key-loader) and builds the signer. */
  static async fromFiles(
    files: KeyFileOptions,
    options: Omit<SoftwareSignerOptions, 'privateKey' | 'certificate'>,
  ): Promise<SoftwareXmlSigner> {
    const material = loadKeyMaterial(files);
    return SoftwareXmlSigner.create({ ...options, privateKey: material.privateKey, certificate: material.certificate });
  }

  signSync(canonicalUnsignedXml: string, layout?: MessageLayout): string {
    const prepared = prepareSignature(canonicalUnsignedXml, layout, this.profile, this.certificate);
    const value = this.signatureValue(Buffer.from(prepared.toBeSigned, 'utf8'));
    return prepared.finish(value.toString('base64'));
  }

  async sign(canonicalUnsignedXml: string, layout?: MessageLayout): Promise<string> {
    return this.signSync(canonicalUnsignedXml, layout);
  }

  async close(): Promise<void> {}
}

function keyFamilyOfPrivate(key: KeyObject): 'rsa' | 'sm2' {
  if (key.type !== 'private')
    throw new SigningError('KEY_UNSUPPORTED', `a private key is needed, got a ${key.type} key`);
  try {
    return keyFamilyOf(key);
  } catch (err) {
    throw new SigningError('KEY_UNSUPPORTED', (err as Error).message);
  }
}

function signatureFunction(profile: SignatureProfile, key: KeyObject): SignatureValueFunction {
  if (profile.keyFamily === 'sm2') return (data) => sm2Sign(key, data, { id: SM2_DEFAULT_ID });
  const hash = profile.id === 'rsa-sha256' ? 'sha256' : 'sha1';
  return (data) => rsaSign(hash, data, key);
}

/** Signs a probe and checks it with the certificate's key: a key/cert mix-up fails here, not at customs. */
function assertKeyMatchesCertificate(
  profile: SignatureProfile,
  signatureValue: SignatureValueFunction,
  certificate: CertificateInfo,
): void {
  const probe = Buffer.from('baygate key/certificate match probe', 'utf8');
  const sig = signatureValue(probe);
  const ok =
    profile.keyFamily === 'sm2'
      ? sm2Verify(certificate.publicKey, probe, sig, { id: SM2_DEFAULT_ID })
      : rsaVerify(profile.id === 'rsa-sha256' ? 'sha256' : 'sha1', probe, certificate.publicKey, sig);
  if (!ok)
    throw new SigningError(
      'KEY_CERT_MISMATCH',
      `the private key does not belong to certificate ${certificate.serialHex} (${certificate.subject})`,
    );
}
