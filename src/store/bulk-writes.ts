import type { Collection, Document, Filter, OptionalUnlessRequiredId } from 'mongodb';
import { StoreInterruptedError } from './errors';

/** MongoDB duplicate-key error (11000), as thrown for inserts by MongoDB and FerretDB alike. */
export function isDuplicateKey(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 11000;
}

/**
 * insertMany(ordered: false) that tolerates duplicates: the documents inserted, and those a unique index
 * refused. Anything else throws — a dropped connection included (see duplicateIndexes).
 */
export async function insertIgnoringDuplicates<T extends Document>(
  collection: Collection<T>,
  docs: readonly T[],
): Promise<{ inserted: T[]; duplicates: T[] }> {
  if (docs.length === 0) return { inserted: [], duplicates: [] };
  try {
    await collection.insertMany(docs as unknown as OptionalUnlessRequiredId<T>[], { ordered: false });
    return { inserted: [...docs], duplicates: [] };
  } catch (err) {
    const refused = duplicateIndexes(err, docs.length);
    return { inserted: docs.filter((_, i) => !refused.has(i)), duplicates: docs.filter((_, i) => refused.has(i)) };
  }
}

/**
 * Indexes of the documents an unordered insertMany of `total` documents rejected as duplicates; throws on
 * anything else. An error is "some duplicates" only when every document it did not insert has its own
 * duplicate-key write error: when the connection drops mid-command, driver 7.8 raises MongoBulkWriteError
 * with an EMPTY writeErrors (and fewer documents inserted), which is a failure, never "no duplicates".
 */
export function duplicateIndexes(err: unknown, total: number): Set<number> {
  const e = err as { writeErrors?: unknown; result?: { insertedCount?: unknown }; insertedCount?: unknown } | null;
  const writeErrors = e && typeof e === 'object' ? e.writeErrors : undefined;
  const list = (Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : []) as {
    index?: number;
    code?: number;
    err?: { index?: number; code?: number };
  }[];
  if (list.length === 0) {
    if (isDuplicateKey(err)) throw new Error('duplicate key without per-document details', { cause: err });
    throw incomplete(err, total, 0);
  }
  const out = new Set<number>();
  for (const w of list) {
    const code = w.code ?? w.err?.code;
    const index = w.index ?? w.err?.index;
    if (code !== 11000 || typeof index !== 'number') throw err;
    out.add(index);
  }
  const inserted = e?.result?.insertedCount ?? e?.insertedCount;
  if (typeof inserted !== 'number' || inserted + out.size !== total)
    throw incomplete(err, total, typeof inserted === 'number' ? inserted + out.size : out.size);
  return out;
}

/** An insert the server did not answer for every document: some may be stored, some not (retry it). */
function incomplete(err: unknown, total: number, accounted: number): Error {
  const reason = (err as Error)?.message ?? String(err);
  return new StoreInterruptedError(
    `the database answered for ${accounted} of ${total} documents of an insert (${reason}); retry the request`,
    { cause: err },
  );
}

/**
 * Documents whose `field` is one of `values` (and that match `and`): an equality for one value, `$in` for
 * more — index look-ups on MongoDB and on the test server (docs/decisions/0002-declaration-store-layout.md).
 */
export async function findByValues<T extends Document>(
  collection: Collection<T>,
  field: string,
  values: readonly string[],
  options: { projection?: Document; and?: Filter<T> } = {},
): Promise<T[]> {
  const unique = [...new Set(values)];
  if (unique.length === 0) return [];
  const filter = { ...(options.and ?? {}), [field]: unique.length === 1 ? unique[0] : { $in: unique } } as Filter<T>;
  return (await collection.find(filter, options.projection ? { projection: options.projection } : {}).toArray()) as T[];
}
