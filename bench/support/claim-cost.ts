/**
 * What one work claim costs against the size of the backlog, for bench/pipeline.ts: for each backlog size,
 * a fresh database gets that many due declarations (inserted through the store, in requests of 250 orders),
 * then `rounds` claims of `limit` each are timed one after the other through the store (the claim a worker
 * makes: indexed read of the earliest due, conditional updates, read of what it won and of their orders).
 * Prints one JSON line: { backlogs: [{ backlog, insertS, claimMs: [..], medianMs }] }.
 *
 *   node --import tsx bench/support/claim-cost.ts '{"mongoUrl": "...", "backlogs": [1000, 50000], "limit": 256, "rounds": 8}'
 */
import { MongoClient } from 'mongodb';
import type { BaygateOrder } from '../../src/domain/order';
import { declarationsFor, IMPORT_DECLARATIONS } from '../../src/pipeline/submission';
import { createStores } from '../../src/store/index';
import { connectMongo } from '../../src/store/mongo';
import { silentLogger } from '../../test/support/logger';
import { orderFactory } from './orders';

interface ClaimCostOptions {
  mongoUrl: string;
  backlogs: number[];
  limit: number;
  rounds: number;
}

const options = JSON.parse(process.argv[2] ?? '{}') as ClaimCostOptions;
const PII = {
  PII_KEYS: 'bench:' + Buffer.alloc(32, 5).toString('base64'),
  PII_HASH_KEY: Buffer.alloc(32, 6).toString('base64'),
};

const results: { backlog: number; insertS: number; claimMs: number[]; medianMs: number }[] = [];
for (const backlog of options.backlogs) {
  const raw = new MongoClient(options.mongoUrl);
  await raw.connect();
  await raw.db().dropDatabase();
  await raw.close();
  const connection = await connectMongo(options.mongoUrl, silentLogger());
  const stores = createStores(connection, PII);
  await stores.init();
  const next = orderFactory(`claims${backlog}`);
  const started = performance.now();
  for (let stored = 0; stored < backlog;) {
    const orders = Math.min(250, Math.ceil((backlog - stored) / IMPORT_DECLARATIONS.length));
    const batch = Array.from({ length: orders }, () =>
      declarationsFor(next() as unknown as BaygateOrder, 'GD', {
        sellerId: 'bench-seller',
        allowedEbcCodes: [],
        requestId: 'bench',
      }),
    )
      .flat()
      .slice(0, backlog - stored);
    await stores.declarations.insertMany(batch);
    stored += batch.length;
  }
  const insertS = (performance.now() - started) / 1000;
  const claimMs: number[] = [];
  const rounds = Math.min(options.rounds, Math.floor(backlog / options.limit));
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    const claimed = await stores.declarations.claimDue(`bench-${r}`, 600_000, options.limit);
    claimMs.push(performance.now() - t0);
    if (claimed.length !== options.limit)
      throw new Error(`claim ${r} at a backlog of ${backlog} took ${claimed.length}, not ${options.limit}`);
  }
  const sorted = [...claimMs].sort((a, b) => a - b);
  results.push({ backlog, insertS, claimMs, medianMs: sorted[Math.floor(sorted.length / 2)]! });
  await connection.close();
}
const cleanup = new MongoClient(options.mongoUrl);
await cleanup.connect();
await cleanup.db().dropDatabase();
await cleanup.close();
process.stdout.write(JSON.stringify({ limit: options.limit, backlogs: results }) + '\n');
