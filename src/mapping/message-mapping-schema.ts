import { z } from 'zod';
import { MESSAGE_INPUT, MESSAGE_TYPES, messageDirection } from '../domain/message-types';

/**
 * Shape of a message mapping file (mappings/messages/*.json): for every element of the message, in the
 * XSD sequence order, where its value comes from. Validated at start-up; a test also checks each file
 * against the official XSD's element list and facets.
 *
 * A file says what the message is built from (`input`: order, shipment or summary) and which request it
 * needs besides (`request`: cancel, refund, exportReturn, logisticsStatus); its paths may use only those
 * roots, plus item, sender and options.
 *
 * Value sources:
 *   { "path": "order.payment.payCode" }   a field; roots: order / shipment / summary (the input), item (the
 *                                          current forEach entry), sender, the request (cancel, refund,
 *                                          exportReturn, logisticsStatus), options
 *   { "const": "142" }                     a fixed code
 *   { "fn": "headGuid" }                   a computed value (see message-functions.ts)
 *   { "firstOf": [ source, source, … ] }   the first source that yields a value
 * Leaf formats: text (default), decimal (≤ 5 fraction digits, no exponent), int, datetime
 * (YYYYMMDDhhmmss, China time), date (YYYYMMDD).
 */

export const INPUT_ROOTS = ['order', 'shipment', 'summary'] as const;
export const REQUEST_ROOTS = ['cancel', 'refund', 'exportReturn', 'logisticsStatus'] as const;
export const VALUE_ROOTS = [...INPUT_ROOTS, ...REQUEST_ROOTS, 'item', 'sender', 'options'] as const;
export type InputRoot = (typeof INPUT_ROOTS)[number];
export type RequestRoot = (typeof REQUEST_ROOTS)[number];
export const MAPPING_FUNCTIONS = [
  'messageGuid',
  'headGuid',
  'now',
  'position',
  'goodsSummary',
  'refundLines',
  'exportReturnLines',
] as const;
export const LEAF_FORMATS = ['text', 'decimal', 'int', 'datetime', 'date'] as const;

const pathPattern = new RegExp(`^(${VALUE_ROOTS.join('|')})(\\.[A-Za-z][A-Za-z0-9]*)+$`);

export type ValueSource =
  { path: string } | { const: string } | { fn: (typeof MAPPING_FUNCTIONS)[number] } | { firstOf: ValueSource[] };

/**
 * Picks the variant of a tagged object by which key it has, so an error names the variant's own
 * problem ("value.path: must be …") instead of zod's generic "no union member matched".
 */
function byKey<T>(
  variants: ReadonlyArray<[string | undefined, z.ZodType<T, unknown>]>,
  expected: string,
): z.ZodType<T, unknown> {
  return z.unknown().transform((input, ctx) => {
    const isObject = typeof input === 'object' && input !== null && !Array.isArray(input);
    const hit = isObject ? variants.find(([key]) => key === undefined || key in (input as object)) : undefined;
    if (!hit) {
      ctx.addIssue({ code: 'custom', message: `must be an object with one of: ${expected}` });
      return z.NEVER;
    }
    const result = hit[1].safeParse(input);
    if (result.success) return result.data;
    for (const issue of result.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
    return z.NEVER;
  }) as unknown as z.ZodType<T, unknown>;
}

export const valueSourceSchema: z.ZodType<ValueSource, unknown> = z.lazy(() =>
  byKey<ValueSource>(
    [
      [
        'path',
        z.strictObject({
          path: z
            .string()
            .regex(pathPattern, `must be <root>.<field>[.<field>…] with root one of ${VALUE_ROOTS.join(', ')}`),
        }),
      ],
      ['const', z.strictObject({ const: z.string() })],
      ['fn', z.strictObject({ fn: z.enum(MAPPING_FUNCTIONS) })],
      ['firstOf', z.strictObject({ firstOf: z.array(valueSourceSchema).min(2, 'firstOf needs at least two sources') })],
    ],
    'path, const, fn, firstOf',
  ),
);

const elementName = z.string().regex(/^(ds:)?[A-Za-z][A-Za-z0-9]*$/, 'must be an XSD element name');

export const leafSchema = z.strictObject({
  element: elementName,
  value: valueSourceSchema,
  format: z.enum(LEAF_FORMATS).default('text'),
  /** XSD minOccurs="0": written only when the source yields a non-empty value. */
  optional: z.boolean().default(false),
  /** XSD facets, copied so that the builder checks them without the XSD (a test keeps them equal). */
  length: z.number().int().positive().optional(),
  minLength: z.number().int().nonnegative().optional(),
  maxLength: z.number().int().positive().optional(),
  comment: z.string().optional(),
});

export const omittedSchema = z.strictObject({
  element: elementName,
  /** Why Baygate never writes this element (it must be optional in the XSD). */
  omit: z.string().min(1),
});

export type LeafMapping = z.output<typeof leafSchema>;
export type OmittedMapping = z.output<typeof omittedSchema>;
export interface GroupMapping {
  element: string;
  /** Repeat the group once per entry of this source (an array); `item` is the entry inside. */
  forEach?: ValueSource;
  /** With forEach, XSD minOccurs="0": an empty list writes nothing instead of being an error. */
  optional?: boolean;
  content: ElementMapping[];
  comment?: string;
}
export type ElementMapping = LeafMapping | OmittedMapping | GroupMapping;

export const groupSchema: z.ZodType<GroupMapping, unknown> = z.lazy(() =>
  z.strictObject({
    element: elementName,
    forEach: valueSourceSchema.optional(),
    optional: z.boolean().optional(),
    content: z.array(elementMappingSchema).min(1),
    comment: z.string().optional(),
  }),
) as z.ZodType<GroupMapping, unknown>;

export const elementMappingSchema: z.ZodType<ElementMapping, unknown> = z.lazy(() =>
  byKey<ElementMapping>(
    [
      ['omit', omittedSchema],
      ['content', groupSchema],
      ['value', leafSchema],
    ],
    'omit, content, value',
  ),
);

export const messageMappingSchema = z
  .strictObject({
    $comment: z.string().optional(),
    type: z.enum(MESSAGE_TYPES),
    /** Trade mode this file serves (CEB621 only). */
    variant: z.enum(['9610', '1210']).optional(),
    direction: z.enum(['import', 'export']),
    /** Root element, e.g. CEB311Message; its guid/version attributes are written by the builder. */
    root: z.string().regex(/^CEB\d{3}Message$/),
    /** Which official schema declares it. */
    xsd: z.enum(['import', 'export']),
    /** What the message is built from (default: an order). */
    input: z.enum(INPUT_ROOTS).default('order'),
    /** The request the message needs besides its input (ctx.<request>), if any. */
    request: z.enum(REQUEST_ROOTS).optional(),
    content: z.array(elementMappingSchema).min(1),
  })
  .superRefine((m, ctx) => {
    if (m.root !== `${m.type}Message`)
      ctx.addIssue({ code: 'custom', path: ['root'], message: `must be ${m.type}Message` });
    if (m.input !== MESSAGE_INPUT[m.type])
      ctx.addIssue({ code: 'custom', path: ['input'], message: `${m.type} is built from a ${MESSAGE_INPUT[m.type]}` });
    if (m.direction !== messageDirection(m.type) || m.xsd !== m.direction)
      ctx.addIssue({
        code: 'custom',
        path: ['direction'],
        message: `${m.type} is an ${messageDirection(m.type)} message (direction and xsd)`,
      });
    if ((m.type === 'CEB621') !== (m.variant !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['variant'],
        message: 'CEB621 mappings need a variant (9610/1210); other types have none',
      });
    }
  });

export type MessageMapping = z.output<typeof messageMappingSchema>;

export function isGroup(m: ElementMapping): m is GroupMapping {
  return 'content' in m;
}
export function isOmitted(m: ElementMapping): m is OmittedMapping {
  return 'omit' in m;
}
