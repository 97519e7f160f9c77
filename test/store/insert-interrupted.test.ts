import { expect } from 'chai';
import { MongoClient, type Collection } from 'mongodb';
import { isDatabaseUnavailable } from '../../src/api/middleware/problem-handler';
import { StoreInterruptedError } from '../../src/store/errors';
import { duplicateIndexes, insertIgnoringDuplicates } from '../../src/store/bulk-writes';
import { dropDatabase, mongoUrlFor, requireMongo } from '../support/services';
import { cuttingProxy, type CuttingProxy } from '../support/server-contract';

/**
 * An unordered insertMany whose connection drops mid-command: driver 7.8 raises MongoBulkWriteError with an
 * EMPTY writeErrors. That is a failure (the documents may not be stored), never "no duplicates": an
 * accepted declaration once ended without its first step because the store read it so (issue 14).
 */
describe('insertMany interrupted by a dropped connection', function () {
  this.timeout(60000);
  const url = mongoUrlFor('store_insert_interrupted');
  let proxy: CuttingProxy;
  let client: MongoClient;
  let direct: MongoClient;
  let docs: Collection<{ _id: string; pad: string }>;

  before(async () => {
    await requireMongo();
    await dropDatabase(url);
    direct = new MongoClient(url);
    await direct.connect();
    docs = direct.db().collection('docs');
    await docs.insertOne({ _id: 'd-0', pad: 'already there' }); // a duplicate in the batch below
  });
  after(async () => {
    await client?.close().catch(() => undefined);
    await proxy?.close();
    await direct?.close();
    await dropDatabase(url);
  });

  it('throws a transient error (503) instead of reporting success when the connection is cut mid-insert', async () => {
    const target = new URL(url);
    proxy = await cuttingProxy({ host: target.hostname, port: Number(target.port || 27017) });
    const viaProxy = new URL(url);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    viaProxy.searchParams.set('directConnection', 'true');
    viaProxy.searchParams.set('serverSelectionTimeoutMS', '2000');
    client = new MongoClient(viaProxy.toString());
    await client.connect();
    proxy.arm('request', 1_000_000); // the insert below is ~4 MB: cut in the middle of it
    const batch = Array.from({ length: 4000 }, (_, i) => ({ _id: `d-${i}`, pad: 'x'.repeat(1000) }));

    let error: unknown;
    try {
      await insertIgnoringDuplicates(client.db().collection<{ _id: string; pad: string }>('docs'), batch);
    } catch (err) {
      error = err;
    }
    await proxy.cutDone;
    expect(error, 'not reported as success').to.be.instanceOf(StoreInterruptedError);
    expect(isDatabaseUnavailable(error), 'answered 503').to.equal(true);
    expect(String(error)).to.match(/of 4000 documents/);
    // What the driver raised: a bulk write error with no per-document errors.
    const cause = (error as Error).cause as { name?: string; writeErrors?: unknown[] };
    expect(cause.name).to.equal('MongoBulkWriteError');
    expect(cause.writeErrors).to.deep.equal([]);
    expect(await docs.countDocuments({}), 'the cut command stored nothing').to.equal(1);
  });

  it('counts duplicates only when every document not inserted has its own duplicate-key error', () => {
    const dup = (index: number) => ({ index, code: 11000 });
    expect([...duplicateIndexes({ writeErrors: [dup(1), dup(3)], result: { insertedCount: 2 } }, 4)]).to.deep.equal([
      1, 3,
    ]);
    // One document neither inserted nor refused as a duplicate (a later batch never sent).
    expect(() => duplicateIndexes({ writeErrors: [dup(1)], result: { insertedCount: 2 } }, 4)).to.throw(
      StoreInterruptedError,
      /answered for 3 of 4 documents/,
    );
    expect(() => duplicateIndexes({ writeErrors: [], result: { insertedCount: 0 } }, 4)).to.throw(
      StoreInterruptedError,
    );
    // Another write error is rethrown as it is.
    const other = { writeErrors: [{ index: 0, code: 121 }], result: { insertedCount: 3 } };
    expect(() => duplicateIndexes(other, 4))
      .to.throw()
      .that.equals(other);
  });
});
