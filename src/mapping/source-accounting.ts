/**
 * Accounting for every value of a source record: the mapping engine refuses a record that holds a value
 * its mapping never reads, because such a value is goods (or money, or a person) that would silently go
 * missing from the declaration. The classic case is a flat export whose numbered line columns have a
 * gap (item_1_…, item_3_…) or run past the last line the mapping reads: without this check line 3 would
 * vanish and the totals, tax and amount paid would be recomputed from what was left.
 *
 * How: every path the engine reads (from, template placeholders, the numbered-line marker) is recorded as
 * an absolute path in the source; afterwards the record is walked and every present scalar value (not
 * null, not empty or blank text) must lie on or under a recorded path, or under a path the mapping file
 * lists in `ignore` (fields a format carries that Baygate deliberately does not use).
 */

export type SourcePath = readonly (string | number)[];

const SEP = '\u0000';
const keyOf = (path: SourcePath): string => path.map(String).join(SEP);

/** Paths read while mapping one record. */
export class ReadTracker {
  private readonly read = new Set<string>();

  record(path: SourcePath): void {
    this.read.add(keyOf(path));
  }

  /** Whether `path` or one of its ancestors was read (reading an object reads all of it). */
  covers(path: SourcePath): boolean {
    for (let n = path.length; n > 0; n--) if (this.read.has(keyOf(path.slice(0, n)))) return true;
    return false;
  }
}

/** "a.b[0].c" → ["a", "b", 0, "c"] (the notation of source paths in mapping files). */
export function parseSourcePath(path: string): (string | number)[] {
  const parts = path.match(/[^.[\]]+|\[\d+\]/g) ?? [];
  return parts.map((p) => (p.startsWith('[') ? Number(p.slice(1, -1)) : p));
}

/** ["a", "b", 0, "c"] → "a.b[0].c", for messages. */
export function formatSourcePath(path: SourcePath): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out === '' ? part : `.${part}`;
  return out;
}

function isPresent(value: unknown): boolean {
  return !(value === undefined || value === null || (typeof value === 'string' && value.trim() === ''));
}

/** Every present scalar in `record` with its path (objects and arrays are walked, own keys only). */
function presentLeaves(value: unknown, path: (string | number)[], out: (string | number)[][], depth = 0): void {
  if (depth > 64) {
    out.push(path); // too deep to be an order: reported rather than walked without bound
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => presentLeaves(v, [...path, i], out, depth + 1));
    return;
  }
  if (value !== null && typeof value === 'object') {
    for (const key of Object.keys(value))
      presentLeaves((value as Record<string, unknown>)[key], [...path, key], out, depth + 1);
    return;
  }
  if (isPresent(value)) out.push(path);
}

export interface NumberedLines {
  /** Column prefix with {n}, e.g. "item_{n}_". */
  prefix: string;
  start: number;
  max: number;
  /** How many lines the engine found (start, start+1, … without a gap). */
  found: number;
}

export interface UnreadField {
  /** The source path as written in mapping files, e.g. "item_3_sku" or "貨品 Items[1].顏色 Colour". */
  path: string;
  reason: string;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The present values of `record` that were neither read nor ignored. Numbered line columns outside the
 * lines found are explained as such (a gap in the numbering, or past the last line the mapping reads).
 */
export function unreadFields(
  record: unknown,
  tracker: ReadTracker,
  ignore: readonly SourcePath[],
  numbered?: NumberedLines,
): UnreadField[] {
  const leaves: (string | number)[][] = [];
  presentLeaves(record, [], leaves);
  const ignored = new ReadTracker();
  for (const path of ignore) ignored.record(path);
  const column = numbered
    ? new RegExp(
        '^' +
          numbered.prefix
            .split('{n}')
            .map((part) => escapeRegExp(part))
            .join('(\\d+)'),
      )
    : undefined;
  const out: UnreadField[] = [];
  for (const path of leaves) {
    if (tracker.covers(path) || ignored.covers(path)) continue;
    const shown = formatSourcePath(path);
    const m = column && typeof path[0] === 'string' ? column.exec(path[0]) : null;
    const n = m ? Number(m[1]) : NaN;
    const last = numbered ? numbered.start + numbered.found - 1 : 0;
    if (numbered && m && (n < numbered.start || n > last)) {
      const reason =
        n > numbered.start + numbered.max - 1
          ? `belongs to line ${n}, past the last line this mapping reads (${numbered.max} lines from ${numbered.start}): the order cannot be declared whole`
          : `belongs to line ${n}, which is not read: numbered lines must run from ${numbered.start} without a gap (found ${numbered.start}…${last}${numbered.found === 0 ? ', none' : ''})`;
      out.push({ path: shown, reason });
      continue;
    }
    out.push({
      path: shown,
      reason:
        'is a value the mapping does not read, so it would be lost from the declaration: map it, or list it in the mapping\'s "ignore" if Baygate must not use it',
    });
  }
  return out;
}
