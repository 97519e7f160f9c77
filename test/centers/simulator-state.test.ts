import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { MemoryUsageLedger } from '../../src/centers/simulator/customs';
import { MongoManifestDedup, MongoUsageLedger, type BuyerUsageLedger } from '../../src/store/simulator-state';
import { connectMongo } from '../../src/store/mongo';
import { silentLogger } from '../support/logger';
import { dropDatabase, mongoUrlFor, requireMongo } from '../support/services';

/** The simulator's own records: buyer quotas and taken manifests, in memory and in MongoDB (survives restarts). */
describe('centers/simulator state (ledger, dedup)', function () {
  this.timeout(20000);
  const url = mongoUrlFor('centers_sim_state');
  let connection: Connection;

  before(async () => {
    await requireMongo();
    await dropDatabase(url);
    connection = await connectMongo(url, silentLogger());
  });
  after(async () => {
    await connection?.close();
    await dropDatabase(url);
  });

  const ledgers: [string, () => BuyerUsageLedger][] = [
    ['in memory', () => new MemoryUsageLedger()],
    ['in MongoDB', () => new MongoUsageLedger(connection, `C${Math.random().toString(36).slice(2, 8)}`)],
  ];
  for (const [where, make] of ledgers) {
    it(`usage ledger ${where}: books each inventory once, sums per buyer and year, releases on cancel`, async () => {
      const ledger = make();
      await Promise.all(Array.from({ length: 20 }, (_, i) => ledger.add('B1', 2026, `inv-${i}`, 100.5)));
      await ledger.add('B1', 2026, 'inv-0', 100.5); // redelivered inventory
      await ledger.add('B1', 2025, 'old', 999);
      await ledger.add('B2', 2026, 'other', 5);
      expect(await ledger.used('B1', 2026)).to.equal(2010);
      await ledger.release('B1', 2026, 'inv-3');
      await ledger.release('B1', 2026, 'never-booked');
      expect(await ledger.used('B1', 2026)).to.equal(1909.5);
      expect(await ledger.used('B1', 2025)).to.equal(999);
      expect(await ledger.used('B3', 2026)).to.equal(0);
    });
  }

  it('the MongoDB ledger of one center is invisible to another and survives a new instance (restart)', async () => {
    await new MongoUsageLedger(connection, 'GDX').add('B9', 2026, 'i1', 4000);
    expect(await new MongoUsageLedger(connection, 'GDX').used('B9', 2026)).to.equal(4000);
    expect(await new MongoUsageLedger(connection, 'HKX').used('B9', 2026)).to.equal(0);
  });

  it('MongoDB dedup: of 10 concurrent claims of one guid exactly one wins, and a restarted simulator still knows it', async () => {
    const dedup = new MongoManifestDedup(connection, 'GDX');
    const results = await Promise.all(
      Array.from({ length: 10 }, () => dedup.claim('A1B2C3D4-0000-4000-8000-000000000001')),
    );
    expect(results.filter(Boolean)).to.have.length(1);
    expect(await new MongoManifestDedup(connection, 'GDX').claim('A1B2C3D4-0000-4000-8000-000000000001')).to.equal(
      false,
    );
    expect(await new MongoManifestDedup(connection, 'HKX').claim('A1B2C3D4-0000-4000-8000-000000000001')).to.equal(
      true,
    );
  });
});
