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
 */
export class IndexSet {
  private created?: Promise<void>;

  constructor(
    private readonly collection: () => Pick<Collection, 'createIndex'>,
    private readonly specs: readonly IndexDescription[],
  ) {}

  ready(): Promise<void> {
    this.created ??= (async () => {
      for (const { key, ...options } of this.specs) await this.collection().createIndex(key, options);
    })().catch((err: unknown) => {
      this.created = undefined;
      throw err;
    });
    return this.created;
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
