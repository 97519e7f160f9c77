import { expect } from 'chai';
import type { Document, FindCursor } from 'mongodb';
import type { StoreConnection } from '../../../src/store/collections';
import { connectMongo } from '../../../src/store/mongo';
import { silentLogger } from '../../support/logger';
import { dropDatabase, mongoUrlFor, requireMongo } from '../../support/services';

/**
 * What the repository tests share: a database of their own per file (dropped before and after), as many
 * connections to it as a test wants (several connections stand for several gateway or worker processes),
 * and the checks that a query is served by an index.
 */
export interface TestDatabase {
  readonly url: string;
  /** The file's main connection (opened in `before`). */
  readonly connection: StoreConnection;
  /** Another connection to the same database, closed after the file. */
  another(): Promise<StoreConnection>;
}

export function useTestDatabase(name: string): TestDatabase {
  const url = mongoUrlFor(name);
  const opened: StoreConnection[] = [];
  const db: TestDatabase & { connection: StoreConnection } = {
    url,
    connection: undefined as unknown as StoreConnection,
    async another() {
      const connection = await connectMongo(url, silentLogger());
      opened.push(connection);
      return connection;
    },
  };
  before(async () => {
    await requireMongo();
    await dropDatabase(url);
    db.connection = await db.another();
  });
  after(async () => {
    for (const connection of opened) await connection.close();
    await dropDatabase(url);
  });
  return db;
}

/** N calls of `step` at once (from one or several repositories); resolves with every outcome, in call order. */
export function concurrently<T>(n: number, step: (i: number) => Promise<T>): Promise<T[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => step(i)));
}

/**
 * Asserts that the database answers `cursor`'s query from an index, as each server reports it:
 * MongoDB's winning plan has no COLLSCAN stage (IXSCAN, IDHACK, EXPRESS_* instead); FerretDB v1 with SQLite
 * reports SQLite's query plan, where an indexed query is `SEARCH <table> USING INDEX …` and a full scan
 * is `SCAN <table>`. With `sorted`, the order must come from the index too (no SORT stage; no temporary
 * B-tree in SQLite), so that taking the first of a sorted range costs the same whatever its size.
 */
export async function expectIndexUse(
  cursor: FindCursor<Document>,
  what: string,
  options: { sorted?: boolean } = {},
): Promise<void> {
  const explained = (await cursor.explain()) as {
    queryPlanner?: { winningPlan?: unknown; Plan?: string[] };
    serverInfo?: { ferretdbVersion?: string };
  };
  const planner = explained.queryPlanner;
  if (explained.serverInfo?.ferretdbVersion !== undefined) {
    const plan = (planner?.Plan ?? []).join(' | ');
    expect(plan, `${what}: SQLite plan`).to.match(/\bUSING (COVERING )?INDEX\b|USING INTEGER PRIMARY KEY/);
    expect(plan, `${what}: SQLite plan`).to.not.match(/\bSCAN \S+\s*($|\|)/);
    if (options.sorted) expect(plan, `${what}: SQLite plan`).to.not.include('TEMP B-TREE');
    return;
  }
  const stages = JSON.stringify(planner?.winningPlan ?? {});
  expect(stages, `${what}: winning plan`).to.not.include('COLLSCAN');
  expect(stages, `${what}: winning plan`).to.match(/IXSCAN|IDHACK|EXPRESS/);
  if (options.sorted) expect(stages, `${what}: winning plan`).to.not.match(/"stage":"SORT"/);
}

/** The key patterns of a collection's indexes, e.g. ['_id:1', 'status:1,nextAttemptAt:1']. */
export async function indexKeys(connection: StoreConnection, collection: string): Promise<string[]> {
  const indexes = await connection.db!.collection(collection).listIndexes().toArray();
  return indexes.map((i) =>
    Object.entries(i.key as Record<string, number>)
      .map(([k, v]) => `${k}:${v}`)
      .join(','),
  );
}
