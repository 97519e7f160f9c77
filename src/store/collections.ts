import type { Collection, Document, IndexDescription, OptionalUnlessRequiredId } from 'mongodb';
import type { Connection } from 'mongoose';

/**
 * What the repositories of this folder share: the connection handle the rest of Baygate passes around
 * without looking inside, a typed collection, indexes created once, and the two write-error readings the
 * atomic steps rely on. Only `src/store` touches a collection (eslint enforces it outside this folder).
 */

/** One database connection: opened by `connectMongo`, handed to the store's factories, closed by its owner. */
export type StoreConnection = Connection;

/** The named collection of the connection's database, typed (throws when the connection never opened). */
export function collectionOf<T extends Document>(connection: StoreConnection, name: string): Collection<T> {
  const db = connection.db;
  if (!db) throw new Error('mongodb not connected');
  return db.collection<T>(name);
}

/**
 * The indexes of one collection, created on first use and then never again by this process. A failed
 * creation (the database away at start-up) is forgotten, so the next call tries again.
 * One `createIndex` per index, not one `createIndexes` for all: FerretDB 1.24 drops the connection (a
 * panic, "slice bounds out of range") when a `createIndexes` names two or more indexes that all exist.
 * An index a previous version created under another name or with other options (MongoDB's 85
 * IndexOptionsConflict, 86 IndexKeySpecsConflict) is replaced: the specs here are what this version's
 * queries need, and a database upgraded in place must not keep a process from starting.
 */
export class IndexSet {
  private created?: Promise<void>;

  constructor(
    private readonly collection: () => Pick<Collection, 'createIndex' | 'indexes' | 'dropIndex'>,
    private readonly specs: readonly IndexDescription[],
  ) {}

  ready(): Promise<void> {
    this.created ??= (async () => {
      for (const spec of this.specs) await createReplacingConflicts(this.collection(), spec);
    })().catch((err: unknown) => {
      this.created = undefined;
      throw err;
    });
    return this.created;
  }
}

const INDEX_CONFLICTS = new Set([85, 86]);

/** Creates one index; an existing index with the same key or name but another definition is dropped first. */
export async function createReplacingConflicts(
  collection: Pick<Collection, 'createIndex' | 'indexes' | 'dropIndex'>,
  { key, ...options }: IndexDescription,
): Promise<void> {
  try {
    await collection.createIndex(key, options);
  } catch (err) {
    if (!INDEX_CONFLICTS.has((err as { code?: number }).code ?? 0)) throw err;
    const wanted = JSON.stringify(Object.entries(key));
    const existing = (await collection.indexes()).find(
      (index) => index.name === options.name || JSON.stringify(Object.entries(index.key)) === wanted,
    );
    if (!existing?.name || existing.name === '_id_') throw err;
    await collection.dropIndex(existing.name);
    await collection.createIndex(key, options);
  }
}

/** E11000: a unique index (or `_id`) already holds the key. */
export function isDuplicateKey(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 11000;
}

/**
 * Inserts the documents that are not there yet (unordered `insertMany`); returns how many were inserted.
 * Only an error whose per-document write errors are ALL duplicate keys means "the rest were already
 * there": a bulk error with no per-document errors (a connection dropped mid-insert raises that) or with
 * any other error is rethrown, because then nobody knows which documents were stored.
 */
export async function insertNew<T extends Document>(collection: Collection<T>, docs: T[]): Promise<number> {
  if (docs.length === 0) return 0;
  try {
    const result = await collection.insertMany(docs as OptionalUnlessRequiredId<T>[], { ordered: false });
    return result.insertedCount;
  } catch (err) {
    const duplicates = duplicateWriteErrors(err);
    if (duplicates === undefined) throw err;
    return docs.length - duplicates;
  }
}

/** How many documents an unordered insert refused as duplicates, or undefined when it failed otherwise. */
export function duplicateWriteErrors(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const raw = (err as { writeErrors?: unknown }).writeErrors;
  const list = (Array.isArray(raw) ? raw : raw ? [raw] : []) as { code?: unknown; err?: { code?: unknown } }[];
  if (list.length === 0) return undefined;
  return list.every((w) => (w.code ?? w.err?.code) === 11000) ? list.length : undefined;
}
