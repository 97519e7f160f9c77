import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { IdempotencyStore, requestHash } from '../../src/api/middleware/idempotency';
import { connectMongo } from '../../src/store/mongo';
import { silentLogger } from '../support/logger';
import { dropDatabase, mongoUrlFor, requireMongo } from '../support/services';

const URL = mongoUrlFor('api_idempotency');

describe('IdempotencyStore (MongoDB idempotency_keys)', function () {
  this.timeout(30000);
  let connection: Connection;
  let store: IdempotencyStore;

  before(async () => {
    await requireMongo();
    await dropDatabase(URL);
    connection = await connectMongo(URL, silentLogger());
    store = new IdempotencyStore(connection, { retainMs: 60_000, inFlightTimeoutMs: 10_000 });
  });
  after(() => connection?.close());

  it('of 20 simultaneous first uses of a key exactly one proceeds; the others see it in flight', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => store.begin('s1', 'race', 'h1')));
    expect(results.filter((r) => r.state === 'new')).to.have.length(1);
    expect(results.filter((r) => r.state === 'in-flight')).to.have.length(19);
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

  it('a released key (5xx, crash of the handler) can be used again', async () => {
    expect((await store.begin('s1', 'k2', 'h1')).state).to.equal('new');
    await store.release('s1', 'k2');
    expect((await store.begin('s1', 'k2', 'h1')).state).to.equal('new');
  });

  it('an in-flight record older than the timeout is taken over (its process died)', async () => {
    const t0 = new Date();
    expect((await store.begin('s1', 'k3', 'h1', t0)).state).to.equal('new');
    expect((await store.begin('s1', 'k3', 'h1', new Date(t0.getTime() + 5_000))).state).to.equal('in-flight');
    expect((await store.begin('s1', 'k3', 'h1', new Date(t0.getTime() + 11_000))).state).to.equal('new');
  });

  it('expired records are gone for begin() and deleted by sweep()', async () => {
    const t0 = new Date();
    expect((await store.begin('s1', 'k4', 'h1', t0)).state).to.equal('new');
    await store.complete('s1', 'k4', { status: 202, type: 'application/json', body: {} }, t0);
    // After retention the key is new again, even before a sweep.
    expect((await store.begin('s1', 'k4', 'h2', new Date(t0.getTime() + 61_000))).state).to.equal('new');
    await store.complete('s1', 'k4', { status: 202, type: 'application/json', body: {} }, t0);
    expect(await store.sweep(new Date(t0.getTime() + 61_000))).to.be.greaterThan(0);
    expect(await connection.db!.collection('idempotency_keys').countDocuments({ key: 'k4' })).to.equal(0);
  });

  it('the request fingerprint covers method, path, query, content type and body bytes', () => {
    const base = {
      method: 'POST',
      path: '/v1/orders',
      query: '',
      contentType: 'application/json',
      body: Buffer.from('{}'),
    };
    const h = requestHash(base);
    for (const change of [
      { method: 'PUT' },
      { path: '/v1/other' },
      { query: 'atomic=true' },
      { contentType: 'application/x-ndjson' },
      { body: Buffer.from('{ }') },
    ]) {
      expect(requestHash({ ...base, ...change }), JSON.stringify(change)).to.not.equal(h);
    }
  });
});
