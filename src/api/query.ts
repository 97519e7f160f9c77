import { z } from 'zod';
import { MESSAGE_TYPES } from '../domain/message-types';
import { problems } from './problem';

/**
 * Query strings and path parameters: validated with zod before anything reads the store. A bad query value
 * is a 400 naming the parameter; a path parameter that cannot name anything is refused without echoing
 * what was sent.
 */

/** A list-valued query parameter: comma-separated and/or repeated, trimmed, at most 50 values. */
export const listParam = <T extends string>(item: z.ZodType<T, string>) =>
  z
    .union([z.string(), z.array(z.string())])
    .transform((v) =>
      (Array.isArray(v) ? v : [v])
        .flatMap((s) => s.split(','))
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(z.array(item).max(50, 'at most 50 values'));

const statusValue = z
  .string()
  .regex(
    /^(accepted|signed|queued|delivered|failed|-?\d{1,7})$/,
    'must be a gateway status (accepted, signed, queued, delivered, failed) or a customs code such as 120 or -621005',
  );
const centerValue = z.string().regex(/^[A-Z][A-Z0-9]{1,9}$/, 'must be a center code such as GD or HK');
const sellerValue = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9._:-]+$/, 'must be a seller id');
const messageTypeValue = z.enum(MESSAGE_TYPES, { error: `must be one of ${MESSAGE_TYPES.join(', ')}` });
const instant = z
  .string()
  .refine(
    (v) => /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(v) && !Number.isNaN(Date.parse(v)),
    'must be an ISO 8601 date or date-time',
  )
  .transform((v) => new Date(v));

/** An order number as customs knows it (CEB orderNo: at most 60 characters). */
export const orderNoValue = z.string().min(1, 'must not be empty').max(60, 'must be at most 60 characters');

export const declarationFilterQuerySchema = z.object({
  status: listParam(statusValue)
    .optional()
    .describe('statuses, comma-separated (accepted, queued, 120, 899, -621005 …)'),
  center: listParam(centerValue).optional().describe('clearance center codes, comma-separated'),
  seller: listParam(sellerValue)
    .optional()
    .describe('seller ids, comma-separated (must be sellers the caller may see)'),
  messageType: listParam(messageTypeValue).optional().describe('message types, comma-separated (CEB311, CEB621 …)'),
  orderNo: orderNoValue.optional().describe('exact order number'),
  from: instant.optional().describe('created at or after (ISO 8601)'),
  to: instant.optional().describe('created before (ISO 8601)'),
});

export const declarationListQuerySchema = declarationFilterQuerySchema.extend({
  limit: z.coerce
    .number()
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(200, 'must be at most 200')
    .default(50)
    .describe('page size, 1–200'),
  cursor: z
    .string()
    .min(1)
    .max(512)
    .regex(/^[A-Za-z0-9_=.:-]+$/, 'is not a cursor this API issued')
    .optional(),
});

export type DeclarationFilterQuery = z.output<typeof declarationFilterQuerySchema>;

/** Path parameters naming a declaration and an order. */
export const declarationIdParams = z.object({
  id: z
    .string()
    .regex(/^[A-Za-z0-9-]{1,64}$/, 'must be a declaration id')
    .describe('declaration id (UUID)'),
});
export const orderNoParams = z.object({ orderNo: orderNoValue.describe('order number (orderNo)') });

/** Validates a query string against `schema`; a bad value is a 400 naming the parameter. */
export function parseQuery<S extends z.ZodType>(schema: S, query: Record<string, unknown>): z.output<S> {
  const parsed = schema.safeParse(query);
  if (!parsed.success) {
    const errors = parsed.error.issues.map((i) => ({
      path: `query.${i.path.join('.')}`,
      code: i.code,
      message: i.message,
    }));
    throw problems.badRequest(
      `Invalid query parameter${errors.length > 1 ? 's' : ''}: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}.`,
      errors,
    );
  }
  return parsed.data;
}

/**
 * Validates path parameters: a bad one is a 400 naming the parameter and the rule, never echoing the
 * value (a 5,000-character "order number" is not repeated back to its sender).
 */
export function parseParams<S extends z.ZodType>(schema: S, params: Record<string, unknown>): z.output<S> {
  const parsed = schema.safeParse(params);
  if (!parsed.success) {
    const errors = parsed.error.issues.map((i) => ({
      path: `params.${i.path.join('.')}`,
      code: 'INVALID_PARAMETER',
      message: i.message,
    }));
    throw problems.badRequest(`Invalid path: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}.`, errors);
  }
  return parsed.data;
}
