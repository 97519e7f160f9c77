import { z } from 'zod';

/**
 * Trust lists as data (certs-dev/trust-lists/*.json). Paths inside a file are relative to that file's folder.
 * One file per trust domain: the GD / HK / MO mutual-recognition lists and the E-port operator domain, which
 * has no MR requirements, so each list says which checks apply to it.
 */

/** MR certificate policy: the last three arcs (year-version-release) may vary. */
export const MR_POLICY_OID_PREFIX = '2.16.344.8.2.2008.810.2';

const oid = z.string().regex(/^[0-2](\.(0|[1-9]\d*))+$/, 'expected a dotted OID');
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'expected a lower-case hex SHA-256 fingerprint');
const isoInstant = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)) && /^\d{4}-\d{2}-\d{2}/.test(s), 'expected an ISO 8601 date-time');

const certRef = z.strictObject({
  id: z.string().min(1),
  name: z.string().min(1),
  certPath: z.string().min(1),
  sha256,
});

const issuingCa = certRef.extend({
  /** Certificate-type names an MR certificate from this CA must carry (empty when the list does not require one). */
  certificateTypeNames: z.array(z.string().min(1)),
  /** The CA's MR validity period on the list; `to: null` = until further notice. */
  mrPeriod: z.strictObject({ from: isoInstant, to: isoInstant.nullable() }),
  crlPath: z.string().min(1).nullable(),
});

export const trustListFileSchema = z
  .strictObject({
    id: z.string().regex(/^[a-z][a-z0-9-]*$/),
    region: z.enum(['GD', 'HK', 'MO', 'EPORT']),
    name: z.string().min(1),
    development: z.boolean(),
    domain: z.enum(['mutual-recognition', 'eport']),
    /** Which relying-party checks this list requires (chain signature, validity and revocation always apply). */
    checks: z.strictObject({
      mrPeriod: z.boolean(),
      recognisedRoot: z.boolean(),
      designatedIssuer: z.boolean(),
      certificateTypeName: z.boolean(),
      mrPolicy: z.boolean(),
    }),
    policyOidPrefix: oid.nullable(),
    entries: z
      .array(z.strictObject({ name: z.string().min(1), root: certRef, issuingCas: z.array(issuingCa).min(1) }))
      .min(1),
  })
  .superRefine((list, ctx) => {
    if (list.checks.mrPolicy && !list.policyOidPrefix) {
      ctx.addIssue({ code: 'custom', path: ['policyOidPrefix'], message: 'required when checks.mrPolicy is true' });
    }
    list.entries.forEach((entry, e) =>
      entry.issuingCas.forEach((ca, c) => {
        if (list.checks.certificateTypeName && ca.certificateTypeNames.length === 0) {
          ctx.addIssue({
            code: 'custom',
            path: ['entries', e, 'issuingCas', c, 'certificateTypeNames'],
            message: 'must not be empty when checks.certificateTypeName is true',
          });
        }
      }),
    );
  });

export type TrustListFile = z.infer<typeof trustListFileSchema>;

export const receiptSignersFileSchema = z.strictObject({
  kind: z.literal('receipt-signers'),
  development: z.boolean(),
  description: z.string(),
  signers: z.array(
    z.strictObject({
      id: z.string().min(1),
      region: z.enum(['GD', 'HK', 'MO']),
      trustList: z.string().min(1),
      certPath: z.string().min(1),
      sha256,
      serialHex: z.string().regex(/^[0-9a-f]+$/),
    }),
  ),
});

export type ReceiptSignersFile = z.infer<typeof receiptSignersFileSchema>;
