/**
 * The database's own ceiling for the store's writes, for bench/pipeline.ts: plain mongodb driver calls, no
 * Baygate code, doing per declaration exactly the writes the store does on its way to "queued", with
 * documents of the same shapes and sizes (sampled from the benchmark database while it ran), in a scratch
 * database, for `seconds`, at `concurrency` parallel writers. Prints one JSON line.
 *
 * The store's writes (src/store), per import order of 4 declarations:
 *   annual_usage          1 conditional upsert (findOneAndUpdate) per order
 *   declaration_orders    1 insert per declaration                 ┐ submission (one insertMany each)
 *   declaration_feed      1 insert per declaration (accepted)      │
 *   declarations          1 insert per declaration                 ┘
 *   declarations          conditional updateMany (claim)           — claim (one statement per claim)
 *   declaration_manifests 1 insert, declaration_feed 1 (signed)    ┐ signature
 *   declarations          1 conditional update ($push history)     ┘ (one statement per declaration)
 *   declaration_feed      1 insert (queued)                        ┐ hand-over
 *   declarations          conditional updateMany ($push, $unset)   ┘ (one statement per claim)
 * = per declaration 6 inserts and 3 updates. Each writer does them for one unit of `batch` orders per round
 * trip, step after step, as one request and one claim of that size would. Reads are not in the ceiling.
 *
 *   node --import tsx bench/support/db-ceiling.ts <json options>
 */
import { readFileSync } from 'node:fs';
import { BSON, MongoClient, ObjectId, type AnyBulkWriteOperation, type Document } from 'mongodb';
import { SAMPLED } from './samples';

interface CeilingOptions {
  mongoUrl: string;
  samplesFile: string;
  seconds: number;
  concurrency: number;
  batch: number;
}

export const DECLARATIONS_PER_ORDER = 4;

const options = JSON.parse(process.argv[2] ?? '{}') as CeilingOptions;
const samples = BSON.EJSON.parse(readFileSync(options.samplesFile, 'utf8')) as Record<string, Document>;
const missing = SAMPLED.filter((n) => !samples[n]);
if (missing.length) throw new Error(`no sample document for ${missing.join(', ')}`);
const client = new MongoClient(options.mongoUrl, { maxPoolSize: Math.max(options.concurrency, 5) });
await client.connect();
const db = client.db();
await db.dropDatabase();
// The store's indexes (src/store/models.ts).
await db
  .collection('declarations')
  .createIndexes([
    { key: { orderNo: 1, platformCode: 1, messageType: 1 }, unique: true },
    { key: { dueAt: 1 }, sparse: true },
    { key: { messageGuid: 1 }, sparse: true },
    { key: { sellerId: 1, createdAt: -1 } },
  ]);
await db.collection('declaration_feed').createIndexes([{ key: { t: 1 } }, { key: { sellerId: 1, t: 1 } }]);
for (const n of ['annual_usage', 'declaration_orders', 'declaration_manifests'])
  await db.createCollection(n).catch(() => undefined);

/** Collections whose documents have string ids, as the store's do. */
const coll = (name: string) => db.collection<{ _id: string } & Document>(name);
const sample = samples.declarations!;
const firstEntry = (sample.history as Document[])[0]!;
const newId = () => new ObjectId().toHexString();
let orders = 0;
let docs = 0;
const deadline = Date.now() + options.seconds * 1000;
const started = Date.now();

async function unit(): Promise<void> {
  const now = new Date();
  const n = DECLARATIONS_PER_ORDER * options.batch;
  const ids = Array.from({ length: n }, newId);
  const feed = (status: string) =>
    ids.map((id) => ({ ...samples.declaration_feed, _id: newId(), declarationId: id, status, t: now }));
  await Promise.all(
    Array.from({ length: options.batch }, () =>
      coll('annual_usage').findOneAndUpdate(
        { _id: newId(), 'orders.o1': { $exists: false }, usedCents: { $lte: 2_600_000 - 10_000 } },
        { $inc: { usedCents: 10_000 }, $set: { 'orders.o1': 10_000, updatedAt: now } },
        { upsert: true, returnDocument: 'after' },
      ),
    ),
  );
  await Promise.all([
    coll('declaration_orders').insertMany(ids.map((id) => ({ ...samples.declaration_orders, _id: id as never }))),
    coll('declaration_feed').insertMany(feed('accepted')),
  ]);
  await coll('declarations').insertMany(
    ids.map((id) => ({
      ...sample,
      _id: id,
      orderNo: id,
      status: 'accepted',
      rank: 0,
      history: [firstEntry],
      dueAt: now,
      claims: 0,
      attempts: 0,
      lease: undefined,
      messageGuid: undefined,
      digest: undefined,
    })),
    { ignoreUndefined: true },
  );
  await coll('declarations').updateMany(
    { _id: { $in: ids }, dueAt: { $lte: now }, messageGuid: { $exists: false } },
    { $set: { dueAt: new Date(now.getTime() + 30_000), lease: { owner: 'w', token: newId() } }, $inc: { claims: 1 } },
  );
  await Promise.all([
    coll('declaration_manifests').insertMany(
      ids.map((id) => ({ ...samples.declaration_manifests, _id: newId(), declarationId: id })),
    ),
    coll('declaration_feed').insertMany(feed('signed')),
  ]);
  await updates(ids, (_id) => ({
    filter: { _id, messageGuid: { $exists: false }, terminal: false, rank: { $lt: 10 } },
    update: {
      $set: { status: 'signed', rank: 10, messageGuid: newId() },
      $push: { history: { ...firstEntry, eventId: newId(), status: 'signed' } },
      $max: { updatedAt: now },
    },
  }));
  await coll('declaration_feed').insertMany(feed('queued'));
  await coll('declarations').updateMany({ _id: { $in: ids }, terminal: false, rank: { $lt: 20 } }, {
    $set: { status: 'queued', rank: 20 },
    $unset: { dueAt: '', lease: '' },
    $push: { history: { status: 'queued', at: now, source: 'worker' } as Document },
    $max: { updatedAt: now },
  } as Document);
  orders += options.batch;
  docs += options.batch + 9 * n;
}

async function updates(ids: string[], op: (id: string) => { filter: Document; update: Document }): Promise<void> {
  await db.collection<Document>('declarations').bulkWrite(
    ids.map((id) => ({ updateOne: op(id) }) as AnyBulkWriteOperation<Document>),
    { ordered: false },
  );
}

async function writer(): Promise<void> {
  while (Date.now() < deadline) await unit();
}
await Promise.all(Array.from({ length: options.concurrency }, writer));
const elapsed = (Date.now() - started) / 1000;
await db.dropDatabase();
await client.close();
process.stdout.write(
  JSON.stringify({
    elapsedS: elapsed,
    orders,
    declarationsPerS: (orders * DECLARATIONS_PER_ORDER) / elapsed,
    writesPerS: docs / elapsed,
  }) + '\n',
);
