import { expect } from 'chai';
import { IDEMPOTENCY_COLLECTION, MongoIdempotencyKeys } from '../../../src/store/idempotency-keys';
import { concurrently, expectIndexUse, useTestDatabase } from './support';

describe('store/idempotency-keys (idempotency_keys)', function () {
  this.timeout(30000);
  const db = useTestDatabase('repo_idempotency');
  let store: MongoIdempotencyKeys;
  const count = (filter: Record<string, unknown>) =>
    db.connection.db!.collection(IDEMPOTENCY_COLLECTION).countDocuments(filter);

  before(() => {
    store = new MongoIdempotencyKeys(db.connection, { retainMs: 60_000, inFlightTimeoutMs: 10_000 });
  });

  it('of 20 simultaneous first uses of a key (from two gateways) exactly one proceeds; the others see it in flight', async () => {
    const other = new MongoIdempotencyKeys(await db.another(), { retainMs: 60_000, inFlightTimeoutMs: 10_000 });
    const results = await concurrently(20, (i) => (i % 2 ? other : store).begin('s1', 'race', 'h1'));
    expect(results.filter((r) => r.state === 'new')).to.have.length(1);
    expect(results.filter((r) => r.state === 'in-flight')).to.have.length(19);
    expect(await count({ key: 'race' })).to.equal(1);
  });

  it('replays a completed response, refuses a different request, and scopes keys per seller', async () => {
    expect((await store.begin('s1', 'k1', 'h1')).state).to.equal('new');
    await store.complete('s1', 'k1', { status: 202, type: 'application/json', body: { ok: 1 }, location: '/x' });
    expect(await store.begin('s1', 'k1', 'h1')).to.deep.equal({
      state: 'replay',
      response: { status: 202, type: 'application/json', body: { ok: 1 }, location: '/x' },
    });
    expect((await store.begin('s1', 'k1', 'h2')).state).to.equal('mismatch');
    expect((await store.begin('s2', 'k1', 'h2')).state).to.equal('new');
  });

  it('a released key (5xx, crash of the handler) can be used again; a done one cannot be released', async () => {
    expect((await store.begin('s1', 'k2', 'h1')).state).to.equal('new');
    await store.release('s1', 'k2');
    expect((await store.begin('s1', 'k2', 'h1')).state).to.equal('new');
    await store.complete('s1', 'k2', { status: 201, type: 'application/json', body: {} });
    await store.release('s1', 'k2');
    expect((await store.begin('s1', 'k2', 'h1')).state).to.equal('replay');
  });

  it('an in-flight record older than the timeout is taken over by exactly one of 10 simultaneous retries', async () => {
    const t0 = new Date();
    expect((await store.begin('s1', 'k3', 'h1', t0)).state).to.equal('new');
    expect((await store.begin('s1', 'k3', 'h1', new Date(t0.getTime() + 5_000))).state).to.equal('in-flight');
    const later = new Date(t0.getTime() + 11_000);
    const results = await concurrently(10, () => store.begin('s1', 'k3', 'h1', later));
    expect(results.filter((r) => r.state === 'new')).to.have.length(1);
    expect(results.filter((r) => r.state === 'in-flight')).to.have.length(9);
    // A different request never takes a stale key over: it is a mismatch.
    expect((await store.begin('s1', 'k3', 'h9', new Date(t0.getTime() + 30_000))).state).to.equal('mismatch');
  });

  it('an expired record is new again for exactly one of 10 simultaneous requests, even before a sweep', async () => {
    const t0 = new Date();
    expect((await store.begin('s1', 'k5', 'h1', t0)).state).to.equal('new');
    await store.complete('s1', 'k5', { status: 202, type: 'application/json', body: { first: true } }, t0);
    const after = new Date(t0.getTime() + 61_000);
    const results = await concurrently(10, () => store.begin('s1', 'k5', 'h2', after));
    expect(results.filter((r) => r.state === 'new')).to.have.length(1);
    expect(results.filter((r) => r.state === 'in-flight')).to.have.length(9);
  });

  it('sweep() deletes exactly the expired records, found from the {expiresAt} index', async () => {
    const t0 = new Date('2030-01-01T00:00:00Z');
    const sweeper = new MongoIdempotencyKeys(db.connection, { retainMs: 1_000 });
    await db.connection.db!.collection(IDEMPOTENCY_COLLECTION).deleteMany({});
    for (const k of ['old-1', 'old-2', 'old-3']) await sweeper.begin('sweep', k, 'h', t0);
    await sweeper.begin('sweep', 'young', 'h', new Date(t0.getTime() + 10_000));
    expect(await sweeper.sweep(new Date(t0.getTime() + 5_000))).to.equal(3);
    expect(await count({ sellerId: 'sweep' })).to.equal(1);
    expect(await count({ sellerId: 'sweep', key: 'young' })).to.equal(1);
    await expectIndexUse(
      db,
      db.connection.db!.collection(IDEMPOTENCY_COLLECTION).find({ expiresAt: { $lt: t0 } }),
      'expired keys',
      { index: 'expiresAt_sweep' },
    );
  });

  it('finds a key (read, and the conditional take-over, complete and release) from the _id index', async () => {
    const keys = db.connection.db!.collection(IDEMPOTENCY_COLLECTION);
    const now = new Date();
    await expectIndexUse(db, keys.find({ _id: 's1\u0000k1' as never }), 'key by id', { index: '_id_' });
    await expectIndexUse(db, keys.find({ _id: 's1\u0000k1' as never, status: 'in-flight' }), 'in-flight key by id', {
      index: '_id_',
    });
    await expectIndexUse(
      db,
      keys.find({
        _id: 's1\u0000k1' as never,
        $or: [{ expiresAt: { $lte: now } }, { status: 'in-flight', bodyHash: 'h1', createdAt: { $lt: now } }],
      }),
      'take-over of an expired or abandoned key',
      { index: '_id_' },
    );
  });
});
