/**
 * The raw write ceiling of the database, for bench/pipeline.ts: plain mongodb driver inserts of the
 * documents our store writes for one declaration, with the same shapes (sampled from the benchmark
 * database while it ran) and the same count per declaration, in a scratch database, for `seconds`, at
 * `concurrency` parallel writers. Prints one JSON line.
 *
 * What the store writes per import order (src/store/declarations.ts, annual-usage.ts):
 *   per declaration: declaration_orders 1, declarations 1, dispatch_queue 1, declaration_events 3
 *   (accepted, signed, queued), dispatch_leases 1, declaration_manifests 1, dispatch_signed 1,
 *   declaration_tracking 1 = 10 inserts; per order: annual_usage 1.
 * Each writer inserts one "unit" (`batch` orders = 4 × batch declarations) per collection per round trip,
 * collection after collection, as the store does. The store's deletes (work item, lease and signed marker
 * leave when queued, the tracking entry when final) and its reads are NOT in the ceiling: it is inserts only.
 *
 *   node --import tsx bench/support/db-ceiling.ts <json options>
 */
import { readFileSync } from 'node:fs';
import { BSON, MongoClient, ObjectId, type Document } from 'mongodb';

interface CeilingOptions {
  mongoUrl: string;
  samplesFile: string;
  seconds: number;
  concurrency: number;
  batch: number;
}

export const WRITES_PER_DECLARATION: Record<string, number> = {
  declaration_orders: 1,
  declarations: 1,
  dispatch_queue: 1,
  declaration_events: 3,
  dispatch_leases: 1,
  declaration_manifests: 1,
  dispatch_signed: 1,
  declaration_tracking: 1,
};
export const WRITES_PER_ORDER: Record<string, number> = { annual_usage: 1 };
export const DECLARATIONS_PER_ORDER = 4;

const options = JSON.parse(process.argv[2] ?? '{}') as CeilingOptions;
const samples = BSON.EJSON.parse(readFileSync(options.samplesFile, 'utf8')) as Record<string, Document>;
const client = new MongoClient(options.mongoUrl, { maxPoolSize: Math.max(options.concurrency, 5) });
await client.connect();
const db = client.db();
await db.dropDatabase();
const plan = Object.entries({ ...WRITES_PER_DECLARATION }).map(([name, n]) => ({
  name,
  perUnit: n * DECLARATIONS_PER_ORDER * options.batch,
}));
for (const [name, n] of Object.entries(WRITES_PER_ORDER)) plan.push({ name, perUnit: n * options.batch });
const missing = plan.filter((p) => !samples[p.name]).map((p) => p.name);
if (missing.length) throw new Error(`no sample document for ${missing.join(', ')}`);
for (const p of plan) await db.createCollection(p.name).catch(() => undefined);

let units = 0;
let docs = 0;
const deadline = Date.now() + options.seconds * 1000;
const started = Date.now();
async function writer(): Promise<void> {
  while (Date.now() < deadline) {
    for (const p of plan) {
      const sample = samples[p.name]!;
      const batch = Array.from({ length: p.perUnit }, () => ({ ...sample, _id: new ObjectId().toHexString() }));
      await db.collection<Document>(p.name).insertMany(batch as unknown as Document[], { ordered: false });
      docs += batch.length;
    }
    units++;
  }
}
await Promise.all(Array.from({ length: options.concurrency }, writer));
const elapsed = (Date.now() - started) / 1000;
await db.dropDatabase();
await client.close();
const orders = units * options.batch;
process.stdout.write(
  JSON.stringify({
    elapsedS: elapsed,
    orders,
    declarationsPerS: (orders * DECLARATIONS_PER_ORDER) / elapsed,
    docsPerS: docs / elapsed,
  }) + '\n',
);
