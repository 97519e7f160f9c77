import { expect } from 'chai';
import type { Document, FindCursor } from 'mongodb';
import type { StoreConnection } from '../../../src/store/collections';
import { connectMongo } from '../../../src/store/mongo';
import { silentLogger } from '../../support/logger';
import { queryPlan, serverInfo, usesIndex, type ServerInfo } from '../../support/server-contract';
import { dropDatabase, mongoUrlFor, requireMongo } from '../../support/services';

/**
 * What the repository tests share: a database of their own per file (dropped before and after), as many
 * connections to it as a test wants (several connections stand for several gateway or worker processes),
 * and the check that a query is served by an index.
 */
export interface TestDatabase {
  readonly url: string;
  /** The file's main connection (opened in `before`). */
  readonly connection: StoreConnection;
  /** Another connection to the same database, closed after the file. */
  another(): Promise<StoreConnection>;
  /** Which server it is (query plans read differently). */
  readonly server: ServerInfo;
}

export function useTestDatabase(name: string): TestDatabase {
  const url = mongoUrlFor(name);
  const opened: StoreConnection[] = [];
  const db: TestDatabase & { connection: StoreConnection; server: ServerInfo } = {
    url,
    connection: undefined as unknown as StoreConnection,
    server: undefined as unknown as ServerInfo,
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
    db.server = await serverInfo(db.connection.db!);
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
 * Asserts that the server answers `cursor`'s query from the index `index` (its name; `_id_` for `_id`) without
 * reading the whole collection, as its explain says (test/support/server-contract.ts reads both MongoDB's and
 * patched FerretDB's). With `sorted`, the order must come from the index too, so that taking the first of a
 * sorted range costs the same whatever its size.
 */
export async function expectIndexUse(
  db: TestDatabase,
  cursor: FindCursor<Document>,
  what: string,
  options: { index: string; sorted?: boolean },
): Promise<void> {
  const facts = await queryPlan(db.server, cursor, options.sorted ?? false);
  expect(facts.scans, `${what} reads the whole collection: ${facts.raw}`).to.equal(false);
  expect(usesIndex(db.server, facts, [options.index]), `${what} does not use ${options.index}: ${facts.raw}`).to.equal(
    true,
  );
  if (options.sorted) expect(facts.sortsInMemory, `${what} sorts in memory: ${facts.raw}`).to.equal(false);
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
