import { expect } from 'chai';
import type { Connection } from 'mongoose';
import type { ClaimedDeclaration, NewDeclaration } from '../../src/store/contracts';
import { createStores, type Stores } from '../../src/store/index';
import { connectMongo } from '../../src/store/mongo';
import { silentLogger } from '../support/logger';
import { fakeManifest, importOrder, newDeclaration, openStores, PII_CONFIG } from './store-fixtures';

/**
 * Two gateways (each its own connection and store) dispatch the same backlog the way the dispatcher does:
 * claim a batch, sign it in parallel, queue the confirmed ones, with random failures and retries. Every
 * declaration must end queued exactly once, and no claim may ever be handed to both at the same time.
 */
describe('dispatch by two gateways on separate connections', function () {
  this.timeout(120000);
  let stores: Stores;
  let url: string;
  let close: () => Promise<void>;
  let connectionB: Connection;
  let storesB: Stores;

  before(async () => {
    ({ stores, url, close } = await openStores('store_dispatch_workers'));
    connectionB = await connectMongo(url, silentLogger());
    storesB = createStores(connectionB, PII_CONFIG);
  });
  after(async () => {
    await connectionB?.close();
    await close?.();
  });

  it('queues each declaration exactly once, never holding one in two live claims, and reports the rate', async () => {
    const N = 240;
    const declarations: NewDeclaration[] = [];
    for (let i = 0; declarations.length < N; i++) {
      const base = importOrder(7000 + i);
      const order = { ...base, orderNo: `${base.orderNo}-W${i}` };
      for (const t of ['CEB311', 'CEB411', 'CEB511', 'CEB621'] as const) declarations.push(newDeclaration(order, t));
    }
    const started = performance.now();
    for (let i = 0; i < N; i += 60) await stores.declarations.insertMany(declarations.slice(i, i + 60));

    const live = new Map<string, string>(); // declaration id → gateway currently holding it
    const queuedBy = new Map<string, string>();
    let failuresInjected = 0;
    let idleRounds = 0;
    async function gateway(name: string, s: Stores) {
      let rng = name === 'A' ? 1 : 2;
      const random = () => (rng = (rng * 48271) % 2147483647) / 2147483647;
      while (queuedBy.size < N && idleRounds < 400) {
        const claims = await s.declarations.claimDue(name, 30_000, 40);
        if (claims.length === 0) {
          idleRounds++;
          await new Promise((r) => setTimeout(r, 5));
          continue;
        }
        for (const c of claims) {
          expect(live.get(c.id), `${c.id} held by ${live.get(c.id)} and claimed by ${name}`).to.equal(undefined);
          live.set(c.id, name);
        }
        const confirmed = await Promise.all(claims.map((c) => dispatch(s, c, random)));
        const ok = confirmed.filter((c): c is { id: string; leaseToken: string } => c !== null);
        const moved = await s.declarations.markQueued(ok);
        expect(moved).to.equal(ok.length);
        for (const c of ok) {
          expect(queuedBy.has(c.id), `${c.id} queued twice`).to.equal(false);
          queuedBy.set(c.id, name);
        }
        for (const c of ok) live.delete(c.id);
      }
    }
    async function dispatch(s: Stores, c: ClaimedDeclaration, random: () => number) {
      if (!c.manifest)
        expect(await s.declarations.markSigned(c.id, c.leaseToken, fakeManifest(c.id, c.order as never))).to.equal(
          true,
        );
      if (random() < 0.1) {
        failuresInjected++;
        live.delete(c.id); // released by recordFailure: claimable again at once
        await s.declarations.recordFailure(c.id, c.leaseToken, 'broker nack (injected)', { retryAt: new Date() });
        return null;
      }
      return { id: c.id, leaseToken: c.leaseToken };
    }
    await Promise.all([gateway('A', stores), gateway('B', storesB)]);
    const seconds = (performance.now() - started) / 1000;

    expect(queuedBy.size).to.equal(N);
    expect(failuresInjected).to.be.greaterThan(0);
    const counts = await stores.declarations.countByStatus({});
    expect(counts).to.deep.equal({ queued: N });
    const retried = (await stores.declarations.list({ status: ['queued'] }, { limit: 1000 })).items.filter(
      (v) => v.attempts > 0,
    );
    expect(retried.reduce((sum, v) => sum + v.attempts, 0)).to.equal(failuresInjected);
    for (const v of retried.slice(0, 5))
      expect(v.history.map((h) => h.status)).to.deep.equal(['accepted', 'signed', 'queued']);
    console.log(
      `      store dispatch path: ${N} declarations inserted, claimed, signed and queued by 2 gateways in ${seconds.toFixed(1)} s ` +
        `(${(N / seconds).toFixed(0)} declarations/s, ${failuresInjected} injected failures retried; by A ${[...queuedBy.values()].filter((g) => g === 'A').length}, by B ${[...queuedBy.values()].filter((g) => g === 'B').length})`,
    );
  });
});
