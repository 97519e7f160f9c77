import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import forge from 'node-forge';
import { loadCertificate, type CertificateInfo } from '../certificate';
import { SigningError } from '../errors';

/**
 * Loads a signing key and its certificate from files: a PEM private key (optionally encrypted, optionally
 * with the certificate in the same file) plus a PEM/DER certificate, or a PKCS#12 bundle.
 *
 * PKCS#12: node-forge reads RSA bundles. Forge cannot decode SM2 keys ("OID is not RSA"), so for those
 * we ask the openssl CLI to unpack the bundle (the password goes through an environment variable, never
 * the command line). Runs once per signer construction, never per message.
 */
export interface KeyFileOptions {
  readonly keyPath: string;
  /** Certificate file; optional when the PEM or PKCS#12 already contains it. */
  readonly certPath?: string;
  readonly password?: string;
}

export interface KeyMaterial {
  readonly privateKey: KeyObject;
  readonly certificate: CertificateInfo;
}

const PEM_KEY =
  /-----BEGIN (?:ENCRYPTED |RSA |EC )?PRIVATE KEY-----[\s\S]*?-----END (?:ENCRYPTED |RSA |EC )?PRIVATE KEY-----/;
const PEM_CERTS = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

export function loadKeyMaterial(options: KeyFileOptions): KeyMaterial {
  let raw: Buffer;
  try {
    raw = readFileSync(options.keyPath);
  } catch (err) {
    throw new SigningError('KEY_LOAD_FAILED', `cannot read key file ${options.keyPath}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const text = raw.toString('latin1');
  const fromBundle = PEM_KEY.test(text) ? fromPem(text, options) : fromPkcs12(raw, options);
  const certificate = options.certPath ? readCertificateFile(options.certPath) : fromBundle.certificate;
  if (!certificate) {
    throw new SigningError(
      'CERT_LOAD_FAILED',
      `no certificate: ${options.keyPath} does not contain one and no certificate file was given`,
    );
  }
  return { privateKey: fromBundle.privateKey, certificate };
}

function readCertificateFile(path: string): CertificateInfo {
  try {
    return loadCertificate(readFileSync(path));
  } catch (err) {
    throw new SigningError('CERT_LOAD_FAILED', `cannot load certificate ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

function fromPem(text: string, options: KeyFileOptions): { privateKey: KeyObject; certificate?: CertificateInfo } {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({
      key: (PEM_KEY.exec(text) as RegExpExecArray)[0],
      format: 'pem',
      ...(options.password !== undefined ? { passphrase: options.password } : {}),
    });
  } catch (err) {
    throw new SigningError('KEY_LOAD_FAILED', `cannot load private key ${options.keyPath}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  // A bundle may hold a chain: the end-entity certificate is the one carrying our public key.
  const publicDer = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const certificates = [...text.matchAll(PEM_CERTS)].map((m) => loadCertificate(m[0]));
  const own =
    certificates.find((c) => c.publicKey.export({ format: 'der', type: 'spki' }).equals(publicDer)) ?? certificates[0];
  return { privateKey, ...(own ? { certificate: own } : {}) };
}

function fromPkcs12(raw: Buffer, options: KeyFileOptions): { privateKey: KeyObject; certificate?: CertificateInfo } {
  const password = options.password ?? '';
  try {
    return fromPkcs12WithForge(raw, password);
  } catch (forgeError) {
    try {
      return fromPem(pkcs12ToPemWithOpenssl(options.keyPath, password), { ...options, password: undefined });
    } catch (opensslError) {
      throw new SigningError(
        'KEY_LOAD_FAILED',
        `cannot open PKCS#12 ${options.keyPath} (wrong password or unsupported bundle): forge: ${(forgeError as Error).message}; openssl: ${(opensslError as Error).message}`,
        { cause: opensslError },
      );
    }
  }
}

function fromPkcs12WithForge(raw: Buffer, password: string): { privateKey: KeyObject; certificate?: CertificateInfo } {
  const p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(raw.toString('binary')), false, password);
  const bagsOf = (type: string | undefined): forge.pkcs12.Bag[] =>
    type ? (p12.getBags({ bagType: type })[type] ?? []) : [];
  const keyBags = [...bagsOf(forge.pki.oids.pkcs8ShroudedKeyBag), ...bagsOf(forge.pki.oids.keyBag)];
  const key = keyBags.find((b) => b.key)?.key;
  if (!key) throw new Error('no RSA private key in the bundle');
  const privateKey = createPrivateKey(forge.pki.privateKeyToPem(key));
  const certBags = bagsOf(forge.pki.oids.certBag);
  // The end-entity certificate is the one whose public key matches the private key.
  const modulus = (key as forge.pki.rsa.PrivateKey).n.toString(16);
  const own = certBags.find(
    (b) => b.cert && (b.cert.publicKey as forge.pki.rsa.PublicKey).n?.toString(16) === modulus,
  )?.cert;
  return { privateKey, ...(own ? { certificate: loadCertificate(forge.pki.certificateToPem(own)) } : {}) };
}

function pkcs12ToPemWithOpenssl(path: string, password: string): string {
  const run = (extra: string[]): string =>
    execFileSync('openssl', ['pkcs12', '-in', path, '-nodes', '-passin', 'env:BAYGATE_P12_PASSWORD', ...extra], {
      env: { ...process.env, BAYGATE_P12_PASSWORD: password },
      encoding: 'latin1',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  try {
    return run([]);
  } catch {
    return run(['-legacy']); // RC2/3DES bundles from older tools
  }
}
