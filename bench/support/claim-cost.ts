/**
 * What one work claim costs against the size of the backlog, for bench/pipeline.ts. One database per
 * backlog size gets that many due declarations (inserted through the store, in requests of 250 orders);
 * then claims of `limit` are timed through the store (the claim a worker makes: indexed read of the
 * earliest due, conditional update, read of their orders), taking turns between the databases so that the
 * machine's load weighs on each size alike, after `warmup` untimed turns. After each claim the declarations
 * it took are made due again (a plain update, not timed), so every claim sees the same backlog.
 * Prints one JSON line: { limit, backlogs: [{ backlog, insertS, claimMs: [..], medianMs }] }.
 *
 *   node --import tsx bench/support/claim-cost.ts '{"mongoUrl": "...", "backlogs": [1000, 50000], "limit": 256, "rounds": 10}'
 */
import { MongoClient } from 'mongodb';
import type { Connection } from 'mongoose';
import type { BaygateOrder } from '../../src/domain/order';
import { declarationsFor, IMPORT_DECLARATIONS } from '../../src/pipeline/submission';
import { createStores, type Stores } from '../../src/store/index';
import { connectMongo } from '../../src/store/mongo';
import { silentLogger } from '../../test/support/logger';
import { orderFactory } from './orders';

interface ClaimCostOptions {
  mongoUrl: string;
  backlogs: number[];
  limit: number;
  rounds: number;
  warmup?: number;
}

const options = JSON.parse(process.argv[2] ?? '{}') as ClaimCostOptions;
const PII = {
  PII_KEYS: 'bench:' + Buffer.alloc(32, 5).toString('base64'),
  PII_HASH_KEY: Buffer.alloc(32, 6).toString('base64'),
};

function urlFor(backlog: number): string {
  const u = new URL(options.mongoUrl);
  u.pathname = `${u.pathname}_${backlog}`;
  return u.toString();
}

async function drop(url: string): Promise<void> {
  const client = new MongoClient(url);
  await client.connect();
  await client.db().dropDatabase();
  await client.close();
}

interface Backlog {
  backlog: number;
  connection: Connection;
  stores: Stores;
  insertS: number;
  claimMs: number[];
}

const backlogs: Backlog[] = [];
for (const backlog of options.backlogs) {
  await drop(urlFor(backlog));
  const connection = await connectMongo(urlFor(backlog), silentLogger());
  const stores = createStores(connection, PII);
  await stores.init();
  const next = orderFactory(`claims${backlog}`);
  const started = performance.now();
  for (let stored = 0; stored < backlog;) {
    const orders = Math.min(250, Math.ceil((backlog - stored) / IMPORT_DECLARATIONS.length));
    const batch = Array.from({ length: orders }, () =>
      declarationsFor(next() as unknown as BaygateOrder, 'GD', {
        sellerId: 'bench-seller',
        ebcCodes: [],
        requestId: 'bench',
      }),
    )
      .flat()
      .slice(0, backlog - stored);
    await stores.declarations.insertMany(batch);
    stored += batch.length;
  }
  backlogs.push({ backlog, connection, stores, insertS: (performance.now() - started) / 1000, claimMs: [] });
}

const warmup = options.warmup ?? 2;
for (let round = 0; round < warmup + options.rounds; round++) {
  for (const b of backlogs) {
    const t0 = performance.now();
    const claimed = await b.stores.declarations.claimDue(`bench-${round}`, 600_000, options.limit);
    const ms = performance.now() - t0;
    if (claimed.length !== options.limit)
      throw new Error(`a claim at a backlog of ${b.backlog} took ${claimed.length}, not ${options.limit}`);
    if (round >= warmup) b.claimMs.push(ms);
    // Due again, at the back of the queue: the next claim takes others, the backlog stays the same size.
    await b.connection
      .db!.collection('declarations')
      .updateMany(
        { _id: { $in: claimed.map((c) => c.id) } as never },
        { $set: { dueAt: new Date() }, $unset: { lease: '' } },
      );
  }
}

const results = backlogs.map((b) => {
  const sorted = [...b.claimMs].sort((x, y) => x - y);
  return {
    backlog: b.backlog,
    insertS: b.insertS,
    claimMs: b.claimMs,
    medianMs: sorted[Math.floor(sorted.length / 2)]!,
  };
});
for (const b of backlogs) {
  await b.connection.close();
  await drop(urlFor(b.backlog));
}
process.stdout.write(JSON.stringify({ limit: options.limit, backlogs: results }) + '\n');
