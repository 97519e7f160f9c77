/**
 * Turns a record in some merchant's own format into a Baygate order, driven entirely by a mapping
 * file (language: source-mapping-schema.ts, docs/ORDER-FORMAT.md). The engine knows no source format:
 * supporting a new marketplace or seller system is a new file in mappings/sources/.
 *
 * Mapping files are validated once at start-up (loadSourceMappings): shape, target fields that exist in
 * the order model, calculations in the right place, configuration parameters that exist. Errors name the
 * file, the path inside it and the reason, all at once.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { configSchema, type Config } from '../config';
import {
  formatPath,
  orderFieldPaths,
  parseBaygateOrder,
  toCebTimestamp,
  type BaygateOrder,
  type OrderIssue,
} from '../domain/order';
import { roundTo, sumExact } from '../domain/money';
import { computeTax } from '../domain/tax';
import countries from '../../mappings/codes/countries.json';
import countriesEn from '../../mappings/codes/countries-en.json';
import currencies from '../../mappings/codes/currencies.json';
import currenciesIso from '../../mappings/codes/currencies-iso.json';
import units from '../../mappings/codes/units.json';
import customsDistricts from '../../mappings/codes/customs-districts.json';
import { parseSourcePath, ReadTracker, unreadFields, type NumberedLines, type SourcePath } from './source-accounting';
import {
  sourceMappingSchema,
  type SourceMapping,
  type Transform,
  type ValueSpec,
  LOOKUP_TABLES,
} from './source-mapping-schema';

export type { SourceMapping } from './source-mapping-schema';

type Scalar = string | number | boolean;
type LookupTable = (typeof LOOKUP_TABLES)[number];

const CODE_TABLES: Record<LookupTable, Readonly<Record<string, string>>> = {
  countries,
  'countries-en': countriesEn,
  currencies,
  'currencies-iso': currenciesIso,
  units,
  'customs-districts': customsDistricts,
};

/** Configuration values mapping files may read with {"param": …}: the FX_* rates of src/config.ts. */
export const KNOWN_PARAMS: readonly string[] = Object.keys(configSchema.shape).filter((k) => k.startsWith('FX_'));

/** The parameters for mapSourceRecord from the loaded configuration. */
export function paramsFromConfig(config: Config): Record<string, number> {
  return { FX_HKD_CNY: config.FX_HKD_CNY, FX_MOP_CNY: config.FX_MOP_CNY };
}

// ---------------------------------------------------------------------------------------------------
// Loading and validating mapping files
// ---------------------------------------------------------------------------------------------------

export interface MappingFileProblem {
  file: string;
  /** Where inside the file, e.g. "order.payment.payTime.transforms[0].format". */
  path: string;
  reason: string;
}

export class SourceMappingError extends Error {
  constructor(public readonly problems: MappingFileProblem[]) {
    super('Invalid source mapping files:\n' + problems.map((p) => `  ${p.file}: ${p.path}: ${p.reason}`).join('\n'));
    this.name = 'SourceMappingError';
  }
}

const ITEM_ONLY_CALCS = new Set(['lineTotal', 'lineNumber']);

/** Checks the meaning of a well-formed mapping: every target exists, calcs and params make sense. */
function semanticProblems(mapping: SourceMapping, file: string, knownParams: readonly string[]): MappingFileProblem[] {
  const problems: MappingFileProblem[] = [];
  const add = (path: string, reason: string) => problems.push({ file, path, reason });
  const expectedName = basename(file, '.json');
  if (mapping.name !== expectedName) add('name', `must equal the file name "${expectedName}"`);

  const direction = mapping.order.direction;
  const fixed = direction && 'const' in direction ? direction.const : undefined;
  const directions: readonly ('import' | 'export')[] =
    fixed === 'import' || fixed === 'export' ? [fixed] : ['import', 'export'];
  const orderTargets = new Set(directions.flatMap((d) => orderFieldPaths(d).order));
  const itemTargets = new Set(directions.flatMap((d) => orderFieldPaths(d).item));

  const checkSpec = (path: string, spec: ValueSpec, scope: 'order' | 'item') => {
    if ('calc' in spec) {
      if (scope === 'order' && ITEM_ONLY_CALCS.has(spec.calc))
        add(`${path}.calc`, `"${spec.calc}" is a per-item calculation; use it under items.fields`);
      if (scope === 'item' && !ITEM_ONLY_CALCS.has(spec.calc))
        add(`${path}.calc`, `"${spec.calc}" is an order calculation; use it under order`);
    }
    if ('copy' in spec && !(scope === 'order' ? orderTargets : itemTargets).has(spec.copy)) {
      add(`${path}.copy`, `"${spec.copy}" is not a field of the ${scope === 'order' ? 'order' : 'order line'}`);
    }
    if ('param' in spec && !knownParams.includes(spec.param))
      add(`${path}.param`, `unknown configuration parameter "${spec.param}" (known: ${knownParams.join(', ')})`);
    spec.transforms.forEach((t, i) => {
      if (t.op === 'multiply' && typeof t.by === 'object' && !knownParams.includes(t.by.param)) {
        add(
          `${path}.transforms[${i}].by.param`,
          `unknown configuration parameter "${t.by.param}" (known: ${knownParams.join(', ')})`,
        );
      }
    });
  };

  for (const [target, spec] of Object.entries(mapping.order)) {
    if (!orderTargets.has(target))
      add(`order.${target}`, `"${target}" is not a field of a Baygate ${directions.join('/')} order`);
    checkSpec(`order.${target}`, spec, 'order');
  }
  for (const [target, spec] of Object.entries(mapping.items.fields)) {
    if (!itemTargets.has(target)) add(`items.fields.${target}`, `"${target}" is not a field of a Baygate order line`);
    checkSpec(`items.fields.${target}`, spec, 'item');
  }
  return problems;
}

/** Validates one parsed mapping file; returns the mapping or the problems (never throws). */
export function validateSourceMapping(
  json: unknown,
  file: string,
  knownParams: readonly string[] = KNOWN_PARAMS,
): { ok: true; mapping: SourceMapping } | { ok: false; problems: MappingFileProblem[] } {
  const parsed = sourceMappingSchema.safeParse(json);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((issue) => ({
        file,
        path: issue.path.length ? formatPath(issue.path) : '(file)',
        reason: issue.message,
      })),
    };
  }
  const problems = semanticProblems(parsed.data, file, knownParams);
  return problems.length ? { ok: false, problems } : { ok: true, mapping: parsed.data };
}

/** Reads and validates every *.json in `dir`; throws one SourceMappingError listing all problems. */
export function loadSourceMappings(
  dir: string,
  knownParams: readonly string[] = KNOWN_PARAMS,
): Map<string, SourceMapping> {
  const mappings = new Map<string, SourceMapping>();
  const problems: MappingFileProblem[] = [];
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort();
  } catch (error) {
    throw new SourceMappingError([
      { file: dir, path: '(directory)', reason: `cannot read: ${(error as Error).message}` },
    ]);
  }
  for (const name of files) {
    const file = join(dir, name);
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      problems.push({ file, path: '(file)', reason: `not valid JSON: ${(error as Error).message}` });
      continue;
    }
    const result = validateSourceMapping(json, file, knownParams);
    if (result.ok) mappings.set(result.mapping.name, result.mapping);
    else problems.push(...result.problems);
  }
  if (problems.length) throw new SourceMappingError(problems);
  return mappings;
}

// ---------------------------------------------------------------------------------------------------
// Mapping one record
// ---------------------------------------------------------------------------------------------------

export interface SourceMapContext {
  /** Configuration parameters, e.g. paramsFromConfig(loadConfig()). */
  params: Readonly<Record<string, number | string>>;
}

export type MapSourceResult =
  | { ok: true; order: BaygateOrder }
  /** `draft` is what the mapping produced, for diagnostics; issues name order paths ("items[1].price"). */
  | { ok: false; issues: OrderIssue[]; draft: Record<string, unknown> };

class TransformFailure extends Error {}

function isMissing(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

/**
 * Where one scope's paths point in the source: `record` is what relative paths start from (the whole
 * source, or one line) and `absolute` turns a relative path into its path in the whole source, so every
 * read can be recorded for the accounting (source-accounting.ts).
 */
interface SourceView {
  record: unknown;
  root: unknown;
  absolute: (relative: (string | number)[]) => (string | number)[];
  tracker: ReadTracker;
}

/** Reads "a.b[0].c" from a record; "$order.x" reads from the whole source record. Records the read. */
function readPath(view: SourceView, path: string): unknown {
  const fromRoot = path.startsWith('$order.');
  const parts = parseSourcePath(fromRoot ? path.slice('$order.'.length) : path);
  view.tracker.record(fromRoot ? parts : view.absolute(parts));
  let current: unknown = fromRoot ? view.root : view.record;
  for (const key of parts) {
    if (current === null || typeof current !== 'object') return undefined;
    // Own keys only: "__proto__" or "constructor" in a path must not reach Object.prototype.
    if (!Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (next === null || typeof next !== 'object') node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1] ?? path] = value;
}

function getTarget(target: Record<string, unknown>, path: string): unknown {
  let current: unknown = target;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

const reverseIndexes = new Map<LookupTable, Map<string, string>>();
function reverseIndex(table: LookupTable): Map<string, string> {
  let index = reverseIndexes.get(table);
  if (!index) {
    index = new Map();
    // Codes in ascending order: when two codes share a name, the lower (older, canonical) code wins.
    for (const [code, name] of Object.entries(CODE_TABLES[table]).sort(([a], [b]) => a.localeCompare(b))) {
      const key = name.trim().toLowerCase();
      if (!index.has(key)) index.set(key, code);
    }
    reverseIndexes.set(table, index);
  }
  return index;
}

function parseDate(value: string, format: string, zone: string, output: 'timestamp' | 'date'): string {
  const tokens: string[] = [];
  const pattern = format.replace(/YYYY|MM|DD|HH|mm|ss|[.*+?^${}()|[\]\\]/g, (token) => {
    if (/^(YYYY|MM|DD|HH|mm|ss)$/.test(token)) {
      tokens.push(token);
      return token === 'YYYY' ? '(\\d{4})' : '(\\d{1,2})';
    }
    return `\\${token}`;
  });
  const match = new RegExp(`^${pattern}$`).exec(value.trim());
  if (!match) throw new TransformFailure(`does not match the date format "${format}"`);
  const field = (token: string) => {
    const i = tokens.indexOf(token);
    return i < 0 ? 0 : Number(match[i + 1]);
  };
  const [y, mo, d, h, mi, s] = [field('YYYY'), field('MM'), field('DD'), field('HH'), field('mm'), field('ss')];
  const local = Date.UTC(y, mo - 1, d, h, mi, s);
  const check = new Date(local);
  if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59 || s > 59)
    throw new TransformFailure('is not a real date/time');
  if (output === 'date')
    return `${String(y).padStart(4, '0')}${String(mo).padStart(2, '0')}${String(d).padStart(2, '0')}`;
  const sign = zone.startsWith('-') ? -1 : 1;
  const offsetMs = sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
  return toCebTimestamp(new Date(local - offsetMs));
}

function paramValue(name: string, ctx: SourceMapContext): number | string {
  const value = ctx.params[name];
  if (value === undefined) throw new TransformFailure(`configuration parameter ${name} is not set`);
  return value;
}

function applyTransform(value: Scalar, t: Transform, ctx: SourceMapContext): Scalar {
  switch (t.op) {
    case 'number': {
      if (typeof value === 'number') return value;
      const text = String(value).replace(/[,\s]/g, '');
      if (!/^-?\d+(\.\d+)?$/.test(text)) throw new TransformFailure('is not a number');
      return Number(text);
    }
    case 'string':
      return String(value);
    case 'trim':
      return String(value).trim();
    case 'upper':
      return String(value).toUpperCase();
    case 'lower':
      return String(value).toLowerCase();
    case 'multiply': {
      if (typeof value !== 'number') throw new TransformFailure('needs a number (add {"op": "number"} first)');
      const factor = typeof t.by === 'number' ? t.by : Number(paramValue(t.by.param, ctx));
      if (!Number.isFinite(factor)) throw new TransformFailure('the factor is not a number');
      return value * factor;
    }
    case 'round':
      if (typeof value !== 'number') throw new TransformFailure('needs a number (add {"op": "number"} first)');
      return roundTo(value, t.digits);
    case 'date':
      return parseDate(String(value), t.format, t.zone, t.output);
    case 'replace':
      return String(value).replace(new RegExp(t.pattern, 'g'), t.with);
    case 'lookup': {
      const key = String(value);
      const table = t.table;
      const found = t.caseInsensitive
        ? Object.entries(table).find(([k]) => k.toLowerCase() === key.toLowerCase())?.[1]
        : Object.hasOwn(table, key)
          ? table[key]
          : undefined;
      if (found !== undefined) return found;
      if (t.default !== undefined) return t.default;
      throw new TransformFailure('is not in the lookup table');
    }
    case 'codeLookup': {
      const code = reverseIndex(t.table).get(String(value).trim().toLowerCase());
      if (code === undefined) throw new TransformFailure(`is not a name in the ${t.table} code table`);
      return code;
    }
  }
}

interface Scope {
  /** The record the spec's paths are relative to (the whole source, or one line), and where it lies. */
  view: SourceView;
  /** What was already mapped in this scope (for copy). */
  mapped: Record<string, unknown>;
  ctx: SourceMapContext;
  calc: (name: string) => unknown;
}

const MISSING = Symbol('missing');

/** Evaluates one spec. Returns MISSING for an optional field without a value; throws TransformFailure. */
function evaluate(spec: ValueSpec, scope: Scope): unknown {
  let raw: unknown;
  if ('const' in spec) raw = spec.const;
  else if ('from' in spec) {
    raw = readPath(scope.view, spec.from);
    if (isMissing(raw)) {
      if (spec.default !== undefined) raw = spec.default;
      else if (spec.optional) return MISSING;
      else throw new TransformFailure(`source field "${spec.from}" is missing`);
    }
  } else if ('template' in spec) {
    let missing: string | undefined;
    raw = spec.template.replace(/\{([^{}]+)\}/g, (_, path: string) => {
      const v = readPath(scope.view, path);
      if (isMissing(v)) missing ??= path;
      return isMissing(v) ? '' : String(v);
    });
    if (missing !== undefined) {
      if (spec.optional) return MISSING;
      throw new TransformFailure(`source field "${missing}" used by the template is missing`);
    }
  } else if ('param' in spec) raw = paramValue(spec.param, scope.ctx);
  else if ('calc' in spec) raw = scope.calc(spec.calc);
  else {
    raw = getTarget(scope.mapped, spec.copy);
    if (isMissing(raw)) {
      if (spec.optional) return MISSING;
      throw new TransformFailure(`copies "${spec.copy}", which has no value`);
    }
  }
  if (raw !== null && typeof raw === 'object') throw new TransformFailure('is an object or array, not a single value');
  let value = raw as Scalar;
  spec.transforms.forEach((t, i) => {
    try {
      value = applyTransform(value, t, scope.ctx);
    } catch (error) {
      if (error instanceof TransformFailure)
        throw new TransformFailure(`transform ${i + 1} (${t.op}): value "${String(value)}" ${error.message}`);
      throw error;
    }
  });
  return value;
}

/** Evaluates a group of specs: plain values first, then calculations, then copies (which may use both). */
function evaluateAll(specs: Record<string, ValueSpec>, scope: Scope, pathPrefix: string, issues: OrderIssue[]): void {
  const rank = (spec: ValueSpec) => ('calc' in spec ? 1 : 'copy' in spec ? 2 : 0);
  const ordered = Object.entries(specs).sort(([, a], [, b]) => rank(a) - rank(b));
  for (const [target, spec] of ordered) {
    try {
      const value = evaluate(spec, scope);
      if (value !== MISSING) setPath(scope.mapped, target, value);
    } catch (error) {
      if (!(error instanceof TransformFailure)) throw error;
      issues.push({ path: `${pathPrefix}${target}`, code: 'mapping', message: error.message });
    }
  }
}

interface SourceLines {
  /** One view per line: the line record and how its relative paths lie in the whole source. */
  views: SourceView[];
  /** Paths of `ignore` (file level and per line), absolute in the source. */
  ignored: SourcePath[];
  numbered?: NumberedLines;
}

function itemRecords(mapping: SourceMapping, record: unknown, tracker: ReadTracker): SourceLines {
  const source = mapping.items.source;
  const lineIgnores = (mapping.items.ignore ?? []).map(parseSourcePath);
  if ('array' in source) {
    const base = parseSourcePath(source.array);
    // The array itself is structure, not a value: reading it must not count its lines' fields as read.
    const lines = readPath({ record, root: record, absolute: (p) => p, tracker: new ReadTracker() }, source.array);
    const list = Array.isArray(lines) ? (lines as unknown[]) : [];
    const views = list.map((line, i) => ({
      record: line,
      root: record,
      absolute: (p: (string | number)[]) => [...base, i, ...p],
      tracker,
    }));
    return { views, ignored: views.flatMap((v) => lineIgnores.map((p) => v.absolute([...p]))) };
  }
  const { prefix, presentWhen, start, max } = source.numbered;
  const views: SourceView[] = [];
  if (record !== null && typeof record === 'object') {
    for (let n = start; views.length < max; n++) {
      const columnPrefix = prefix.replace('{n}', String(n));
      tracker.record([columnPrefix + presentWhen]);
      if (isMissing((record as Record<string, unknown>)[columnPrefix + presentWhen])) break;
      // Null prototype: a column named "item_1___proto__" in untrusted input stays an ordinary key.
      const line = Object.create(null) as Record<string, unknown>;
      for (const [key, value] of Object.entries(record))
        if (key.startsWith(columnPrefix)) line[key.slice(columnPrefix.length)] = value;
      views.push({
        record: line,
        root: record,
        absolute: ([first, ...rest]) => [columnPrefix + String(first ?? ''), ...rest],
        tracker,
      });
    }
  }
  return {
    views,
    ignored: views.flatMap((v) => lineIgnores.map((p) => v.absolute([...p]))),
    numbered: { prefix, start, max, found: views.length },
  };
}

function asNumber(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new TransformFailure(`needs a numeric ${what}`);
  return value;
}

/** Maps one source record with a validated mapping, then parses the result as a Baygate order. */
export function mapSourceRecord(mapping: SourceMapping, record: unknown, ctx: SourceMapContext): MapSourceResult {
  const issues: OrderIssue[] = [];
  const draft: Record<string, unknown> = {};
  const tracker = new ReadTracker();
  const rootView: SourceView = { record, root: record, absolute: (p) => p, tracker };

  const lines = itemRecords(mapping, record, tracker);
  if (lines.views.length === 0)
    issues.push({ path: 'items', code: 'mapping', message: 'the source record has no order lines' });
  const items = lines.views.map((view, index) => {
    const mapped: Record<string, unknown> = {};
    const calc = (name: string): unknown => {
      if (name === 'lineNumber') return index + 1;
      // lineTotal
      return roundTo(asNumber(mapped.price, 'price') * asNumber(mapped.qty, 'qty'), 2);
    };
    evaluateAll(mapping.items.fields, { view, mapped, ctx, calc }, `items[${index}].`, issues);
    return mapped;
  });
  draft.items = items;

  const orderCalc = (name: string): unknown => {
    const totals = () => items.map((i) => asNumber(i.totalPrice, 'items[].totalPrice'));
    switch (name) {
      case 'goodsValue':
        return sumExact(totals());
      case 'taxTotal': {
        const optionalNumber = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
        const optionalText = (v: unknown) => (typeof v === 'string' ? v : undefined);
        const tax = computeTax({
          freight: asNumber(draft.freight ?? 0, 'freight'),
          insuredFee: asNumber(draft.insuredFee ?? 0, 'insuredFee'),
          items: items.map((i, n) => ({
            gnum: n + 1,
            gcode: String(i.gcode ?? ''),
            totalPrice: asNumber(i.totalPrice, 'items[].totalPrice'),
            qty: optionalNumber(i.qty),
            unit1: optionalText(i.unit1),
            qty1: optionalNumber(i.qty1),
            unit2: optionalText(i.unit2),
            qty2: optionalNumber(i.qty2),
          })),
        });
        if (tax.problems.length > 0) throw new TransformFailure(tax.problems.map((p) => p.reason).join('; '));
        return tax.taxTotal;
      }
      case 'acturalPaid':
        return sumExact([
          asNumber(draft.goodsValue, 'goodsValue'),
          asNumber(draft.freight ?? 0, 'freight'),
          asNumber(draft.taxTotal ?? 0, 'taxTotal'),
          -asNumber(draft.discount ?? 0, 'discount'),
        ]);
      default:
        throw new TransformFailure(`"${name}" cannot be calculated for the order`);
    }
  };
  // Order calculations depend on each other (acturalPaid needs goodsValue and taxTotal): evaluate them
  // in their natural order, whatever order the file lists them in.
  const calcOrder = ['goodsValue', 'taxTotal', 'acturalPaid'];
  const specs = Object.entries(mapping.order).sort(([, a], [, b]) => {
    const key = (s: ValueSpec) => ('calc' in s ? 1 + calcOrder.indexOf(s.calc) / 10 : 'copy' in s ? 2 : 0);
    return key(a) - key(b);
  });
  for (const [target, spec] of specs) {
    try {
      const value = evaluate(spec, { view: rootView, mapped: draft, ctx, calc: orderCalc });
      if (value !== MISSING) setPath(draft, target, value);
    } catch (error) {
      if (!(error instanceof TransformFailure)) throw error;
      issues.push({ path: target, code: 'mapping', message: error.message });
    }
  }

  // Every value the source holds is read or deliberately ignored: an order is mapped whole or refused
  // with the field named, never declared with lines or amounts silently missing.
  const ignored = [...(mapping.ignore ?? []).map(parseSourcePath), ...lines.ignored];
  for (const unread of unreadFields(record, tracker, ignored, lines.numbered))
    issues.push({
      path: unread.path,
      code: 'unread_source_field',
      message: `source field "${unread.path}" ${unread.reason}`,
    });

  if (issues.length) return { ok: false, issues, draft };
  const parsed = parseBaygateOrder(draft);
  return parsed.ok ? { ok: true, order: parsed.order } : { ok: false, issues: parsed.issues, draft };
}
