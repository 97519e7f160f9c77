import { expect } from 'chai';
import { MongoRateLimits, RATE_LIMITS_COLLECTION } from '../../../src/store/rate-limits';
import { concurrently, expectIndexUse, useTestDatabase } from './support';

describe('store/rate-limits (rate_limits)', function () {
  this.timeout(30000);
  const db = useTestDatabase('repo_rate_limits');
  const windowMs = 60_000;
  const collection = () => db.connection.db!.collection(RATE_LIMITS_COLLECTION);

  it('of 30 simultaneous requests (two gateways) against a limit of 10 exactly 10 pass, numbered 1…10', async () => {
    const a = new MongoRateLimits(db.connection);
    const b = new MongoRateLimits(await db.another());
    const window = Date.UTC(2026, 0, 1, 0, 0);
    const used = await concurrently(30, (i) => (i % 2 ? a : b).take('bgk_race', window, windowMs, 10));
    expect(used.filter((n) => n <= 10).sort((x, y) => x - y)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(used.filter((n) => n === 11)).to.have.length(20);
    // One counter document per key and window, stopped at the limit: refused requests wrote nothing.
    expect(await collection().find({ key: 'bgk_race' }).toArray()).to.have.length(1);
    expect((await collection().findOne({ key: 'bgk_race' }))!.n).to.equal(10);
  });

  it('counts each key and each window on its own', async () => {
    const repo = new MongoRateLimits(db.connection);
    const w1 = Date.UTC(2026, 0, 2, 0, 0);
    const w2 = w1 + windowMs;
    expect(await repo.take('bgk_one', w1, windowMs, 2)).to.equal(1);
    expect(await repo.take('bgk_one', w1, windowMs, 2)).to.equal(2);
    expect(await repo.take('bgk_one', w1, windowMs, 2)).to.equal(3);
    expect(await repo.take('bgk_two', w1, windowMs, 2)).to.equal(1);
    expect(await repo.take('bgk_one', w2, windowMs, 2)).to.equal(1);
  });

  it('a raised limit lets the same window count on', async () => {
    const repo = new MongoRateLimits(db.connection);
    const w = Date.UTC(2026, 0, 3, 0, 0);
    expect(await repo.take('bgk_raise', w, windowMs, 1)).to.equal(1);
    expect(await repo.take('bgk_raise', w, windowMs, 1)).to.equal(2);
    expect(await repo.take('bgk_raise', w, windowMs, 5)).to.equal(2);
  });

  it('sweep() deletes exactly the counters a whole window past their end, found from the {expiresAt} index', async () => {
    const repo = new MongoRateLimits(db.connection);
    await collection().deleteMany({});
    const w = Date.UTC(2026, 0, 4, 0, 0);
    await repo.take('bgk_old', w, windowMs, 5);
    await repo.take('bgk_old', w + windowMs, windowMs, 5);
    await repo.take('bgk_old', w + 2 * windowMs, windowMs, 5);
    // At w + 3 windows + 1 ms: the first window ended two windows ago (gone), the second one window ago (gone
    // too: expiresAt = start + 2 windows), the third just ended (kept).
    expect(await repo.sweep(new Date(w + 3 * windowMs + 1))).to.equal(2);
    expect(await collection().countDocuments({})).to.equal(1);
    await expectIndexUse(db, collection().find({ expiresAt: { $lt: new Date(w) } }), 'ended windows', {
      index: 'expiresAt_sweep',
    });
  });

  it('finds the counter of a request (the guarded $inc: {_id, n < limit}) from the _id index', async () => {
    await expectIndexUse(
      db,
      collection().find({ _id: `bgk_race:${Date.UTC(2026, 0, 1)}` as never, n: { $lt: 10 } }),
      'guarded counter',
      { index: '_id_' },
    );
  });
});
