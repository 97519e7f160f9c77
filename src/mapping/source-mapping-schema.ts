/**
 * The language of source-format mapping files (mappings/sources/*.json): how a merchant's or
 * marketplace's own order export becomes a Baygate order. Small on purpose: field paths, constants,
 * templates, configuration parameters, per-item arrays, a closed list of transforms and of order
 * calculations. Adding a source format means adding a file; the engine (source-mapper.ts) never changes.
 * Documented with examples in docs/ORDER-FORMAT.md.
 */
import { z } from 'zod';

/** Code tables a `codeLookup` transform may search (mappings/codes/<name>.json), by value → code. */
export const LOOKUP_TABLES = [
  'countries',
  'countries-en',
  'currencies',
  'currencies-iso',
  'units',
  'customs-districts',
] as const;

/** Order-level calculations a mapping can ask for instead of copying a number from the source. */
export const CALCULATIONS = [
  /** Line: price × qty rounded to the fen (items only). */
  'lineTotal',
  /** Line: its 1-based position (items only). */
  'lineNumber',
  /** Σ items[].totalPrice. */
  'goodsValue',
  /** Cross-border comprehensive tax of the mapped order, rounded to the fen (computeTax). */
  'taxTotal',
  /** goodsValue + freight + taxTotal − discount. */
  'acturalPaid',
] as const;

const sourcePath = z
  .string()
  .min(1)
  .regex(
    /^(\$order\.)?[^.[\]]+(\[\d+\]|\.[^.[\]]+)*$/,
    'must be a source path like "buyer.name", "lines[0].sku" or "$order.currency"',
  );

const paramName = z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'must be an upper-case configuration name such as FX_HKD_CNY');

const numberOrParam = z.union([z.number().finite(), z.object({ param: paramName }).strict()]);

/** Date formats use tokens YYYY MM DD HH mm ss; anything else is literal. */
const dateFormat = z
  .string()
  .refine((f) => f.includes('YYYY') && f.includes('MM') && f.includes('DD'), 'must contain YYYY, MM and DD');

export const transformSchema = z.discriminatedUnion('op', [
  /** "1,234.50" or " 12 " → number; fails on anything else. */
  z.object({ op: z.literal('number') }).strict(),
  /** Any scalar → its string form. */
  z.object({ op: z.literal('string') }).strict(),
  z.object({ op: z.literal('trim') }).strict(),
  z.object({ op: z.literal('upper') }).strict(),
  z.object({ op: z.literal('lower') }).strict(),
  /** Multiply by a constant or a configuration parameter (currency conversion: {"param": "FX_HKD_CNY"}). */
  z.object({ op: z.literal('multiply'), by: numberOrParam }).strict(),
  /** Round half away from zero to 0–5 fraction digits. */
  z.object({ op: z.literal('round'), digits: z.number().int().min(0).max(5) }).strict(),
  /** Parse a date/time in `format` at UTC offset `zone` (default +08:00); output a CEB timestamp or date. */
  z
    .object({
      op: z.literal('date'),
      format: dateFormat,
      zone: z
        .string()
        .regex(/^[+-]\d{2}:\d{2}$/, 'must be an offset like +08:00')
        .default('+08:00'),
      output: z.enum(['timestamp', 'date']).default('timestamp'),
    })
    .strict(),
  /** Replace every match of a regular expression. */
  z
    .object({
      op: z.literal('replace'),
      pattern: z.string().refine((p) => {
        try {
          new RegExp(p, 'g');
          return true;
        } catch {
          return false;
        }
      }, 'must be a valid regular expression'),
      with: z.string(),
    })
    .strict(),
  /** Map through an inline table; unknown values fail unless `default` is given. */
  z
    .object({
      op: z.literal('lookup'),
      table: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
      default: z.union([z.string(), z.number(), z.boolean()]).optional(),
      caseInsensitive: z.boolean().default(false),
    })
    .strict(),
  /** Find the customs code whose name in a code table equals the value (case-insensitive), e.g. "Japan" → "116". */
  z.object({ op: z.literal('codeLookup'), table: z.enum(LOOKUP_TABLES) }).strict(),
]);
export type Transform = z.output<typeof transformSchema>;

const common = {
  /** Applied in order to the value. */
  transforms: z.array(transformSchema).default([]),
  /** When the value is missing or empty, leave the field out instead of reporting it. */
  optional: z.boolean().default(false),
};

const scalar = z.union([z.string(), z.number(), z.boolean()]);

export const valueSpecSchema = z.union([
  /** A fixed value. */
  z.object({ const: scalar, ...common }).strict(),
  /** A value read from the source record (items: from the item record; "$order.x" reads the whole record). */
  z.object({ from: sourcePath, default: scalar.optional(), ...common }).strict(),
  /** Text with {source.path} placeholders, e.g. "HK-{訂單編號}". */
  z
    .object({ template: z.string().regex(/\{[^{}]+\}/, 'must contain at least one {path} placeholder'), ...common })
    .strict(),
  /** A configuration parameter (src/config.ts), e.g. FX_HKD_CNY. */
  z.object({ param: paramName, ...common }).strict(),
  /** A calculation over the mapped order (see CALCULATIONS). */
  z.object({ calc: z.enum(CALCULATIONS), ...common }).strict(),
  /** The value already mapped to another order field, e.g. payment.payerName ← buyerName. */
  z.object({ copy: z.string().min(1), ...common }).strict(),
]);
export type ValueSpec = z.output<typeof valueSpecSchema>;

const numberedItems = z
  .object({
    /** Column prefix with {n} for the line number, e.g. "item_{n}_" for item_1_sku, item_2_sku… */
    prefix: z.string().refine((p) => p.includes('{n}'), 'must contain {n}'),
    /** The column (after the prefix) whose presence means the line exists, e.g. "sku". */
    presentWhen: z.string().min(1),
    start: z.number().int().min(0).default(1),
    max: z.number().int().min(1).max(99).default(99),
  })
  .strict();

export const sourceMappingSchema = z
  .object({
    /** Optional JSON-schema pointer for editors; ignored. */
    $schema: z.string().optional(),
    /** Unique name, the same as the file name without .json. */
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lower-case letters, digits and dashes'),
    description: z.string().min(1),
    /** Order fields (dotted target paths: "orderNo", "payment.payTime", "logistics.weight"). */
    order: z.record(z.string(), valueSpecSchema),
    items: z
      .object({
        /** Where the lines are: an array in the source, or numbered flat columns. */
        source: z.union([z.object({ array: sourcePath }).strict(), z.object({ numbered: numberedItems }).strict()]),
        /** Line fields ("itemNo", "price"…), paths relative to one line. */
        fields: z.record(z.string(), valueSpecSchema),
        /** Fields of a line (relative paths) the format carries and Baygate deliberately does not use. */
        ignore: z.array(sourcePath).optional(),
      })
      .strict(),
    /**
     * Source fields (paths in the whole record) the format carries and Baygate deliberately does not use.
     * Every other value in a record must be read by the mapping, or the record is refused with the field
     * named (source-accounting.ts): nothing the merchant sent is dropped silently.
     */
    ignore: z.array(sourcePath).optional(),
  })
  .strict();

export type SourceMapping = z.output<typeof sourceMappingSchema>;
