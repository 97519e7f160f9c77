import { expect } from 'chai';
import { MongoClient, type Db } from 'mongodb';
import { dropDatabase, mongoUrlFor, requireMongo } from '../support/services';

/**
 * What the store relies on from the MongoDB-compatible server, and the FerretDB v1.24 limits that shaped
 * it (see src/store/models.ts). On FerretDB 1.x the limits themselves are asserted, so an upgrade that
 * lifts one shows up here; on MongoDB only the guarantees the store needs are checked.
 */
describe('server capabilities the store depends on', function () {
  this.timeout(30000);
  const url = mongoUrlFor('store_capabilities');
  let client: MongoClient;
  let db: Db;
  let ferret = false;

  before(async () => {
    await requireMongo();
    await dropDatabase(url);
    client = new MongoClient(url);
    await client.connect();
    db = client.db();
    const info = (await db.admin().command({ buildInfo: 1 })) as { ferretdbVersion?: string };
    ferret = typeof info.ferretdbVersion === 'string' && /^v?1\./.test(info.ferretdbVersion);
    if (!ferret) console.log('      (not FerretDB 1.x: only the guarantees are checked, not the FerretDB limits)');
  });
  after(async () => {
    await client?.close();
    await dropDatabase(url);
  });

  it('refuses a duplicate in a unique index with 11000 on insert (the store’s only compare-and-set)', async () => {
    const c = db.collection<{ _id: string; slot: string }>('unique_insert');
    await c.createIndex({ slot: 1 }, { unique: true });
    await c.insertOne({ _id: 'a', slot: 'x:10' });
    const results = await Promise.allSettled([
      c.insertOne({ _id: 'b', slot: 'x:20' }),
      c.insertOne({ _id: 'c', slot: 'x:20' }),
      c.insertOne({ _id: 'a', slot: 'y' }),
    ]);
    expect(
      results.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as { code?: number }).code)).sort(),
    ).to.deep.equal([11000, 11000, 'ok']);
  });

  it('reports each duplicate of an unordered insertMany by index and inserts the rest', async () => {
    const c = db.collection<{ _id: string; k: string }>('insert_many');
    await c.createIndex({ k: 1 }, { unique: true });
    await c.insertOne({ _id: '1', k: 'one' });
    let error: { code?: number; writeErrors?: { index: number; code: number }[] } | undefined;
    try {
      await c.insertMany(
        [
          { _id: '2', k: 'two' },
          { _id: '3', k: 'one' },
          { _id: '1', k: 'other' },
          { _id: '4', k: 'four' },
        ],
        { ordered: false },
      );
    } catch (err) {
      error = err as typeof error;
    }
    expect(error?.writeErrors?.map((w) => [w.index, w.code])).to.deep.equal([
      [1, 11000],
      [2, 11000],
    ]);
    expect((await c.find({}).toArray()).map((d) => d._id).sort()).to.deep.equal(['1', '2', '4']);
  });

  it('keeps several documents without the field under a sparse unique index', async () => {
    const c = db.collection<{ _id: string; g?: string }>('sparse_unique');
    await c.createIndex({ g: 1 }, { unique: true, sparse: true });
    await c.insertMany([{ _id: 'a' }, { _id: 'b' }, { _id: 'c', g: 'G' }]);
    let code: unknown;
    try {
      await c.insertOne({ _id: 'd', g: 'G' });
    } catch (err) {
      code = (err as { code?: number }).code;
    }
    expect(code).to.equal(11000);
  });

  it('FerretDB 1.x: no partial or TTL indexes (so the store uses neither)', async function () {
    if (!ferret) return;
    const c = db.collection('limits');
    for (const options of [{ partialFilterExpression: { g: { $type: 'string' } } }, { expireAfterSeconds: 60 }]) {
      let error: { codeName?: string } | undefined;
      try {
        await c.createIndex({ g: 1 }, options);
      } catch (err) {
        error = err as typeof error;
      }
      expect(error?.codeName, JSON.stringify(options)).to.equal('NotImplemented');
    }
  });

  it('FerretDB 1.x: a duplicate caused by an UPDATE is not reported as 11000 (the store never relies on it)', async function () {
    if (!ferret) return;
    const c = db.collection<{ _id: string; g?: string }>('update_dup');
    await c.createIndex({ g: 1 }, { unique: true, sparse: true });
    await c.insertMany([{ _id: 'a', g: 'G' }, { _id: 'b' }]);
    let error: { code?: number } | undefined;
    try {
      await c.updateOne({ _id: 'b' }, { $set: { g: 'G' } });
    } catch (err) {
      error = err as typeof error;
    }
    expect(error).to.not.equal(undefined);
    expect(error?.code).to.not.equal(11000);
  });
});
