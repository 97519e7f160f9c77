import { z } from 'zod';
import { SIGNATURE_ALGORITHM_IDS } from './algorithms';
import type { CertificateInfo } from './certificate';
import { SoftwareXmlSigner } from './signers/software';
import type { XmlSigner } from './signers/types';
import { UKeyXmlSigner } from './signers/ukey';
import { UKEY_DEFAULT_URL } from './signers/ukey-protocol';
import type { TrustLists } from './trust';
import { pinnedCertificateCheck, trustListCheck } from './trust-check';

/**
 * One place that turns signer configuration (per destination / per sender) into an XmlSigner, so the
 * pipeline never picks implementations itself. Validated with zod at the boundary.
 */
const algorithm = z
  .enum(SIGNATURE_ALGORITHM_IDS as [string, ...string[]])
  .transform((a) => a as (typeof SIGNATURE_ALGORITHM_IDS)[number]);

export const signerConfigSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('software'),
    /** PEM private key (optionally with the certificate) or PKCS#12 bundle. */
    keyPath: z.string().min(1),
    certPath: z.string().min(1).optional(),
    password: z.string().optional(),
    algorithm: algorithm.optional(),
  }),
  z.strictObject({
    kind: z.literal('ukey'),
    url: z
      .string()
      .regex(/^wss?:\/\//, 'must be a ws:// or wss:// URL')
      .default(UKEY_DEFAULT_URL),
    password: z.string().min(1),
    algorithm: algorithm.optional(),
    timeoutMs: z.number().int().positive().optional(),
  }),
]);
export type SignerConfig = z.input<typeof signerConfigSchema>;

/** Whom the signer's own certificate must satisfy: our trust lists, or one pinned certificate. */
export type SignerTrust =
  { readonly trustLists: TrustLists } | { readonly pinnedCertificate: CertificateInfo | string | Buffer };

export async function createXmlSigner(
  config: SignerConfig,
  trust: SignerTrust,
  options: { at?: Date } = {},
): Promise<XmlSigner> {
  const parsed = signerConfigSchema.parse(config);
  const check =
    'trustLists' in trust ? trustListCheck(trust.trustLists) : pinnedCertificateCheck(trust.pinnedCertificate);
  const at = options.at ? { at: options.at } : {};
  if (parsed.kind === 'software') {
    return SoftwareXmlSigner.fromFiles(
      {
        keyPath: parsed.keyPath,
        ...(parsed.certPath ? { certPath: parsed.certPath } : {}),
        ...(parsed.password !== undefined ? { password: parsed.password } : {}),
      },
      { trust: check, ...(parsed.algorithm ? { algorithm: parsed.algorithm } : {}), ...at },
    );
  }
  return UKeyXmlSigner.connect({
    url: parsed.url,
    password: parsed.password,
    trust: check,
    ...(parsed.algorithm ? { algorithm: parsed.algorithm } : {}),
    ...(parsed.timeoutMs ? { timeoutMs: parsed.timeoutMs } : {}),
    ...at,
  });
}
