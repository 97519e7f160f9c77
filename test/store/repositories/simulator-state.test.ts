import { expect } from 'chai';
import { MongoManifestDedup, MongoUsageLedger, SIMULATOR_QUOTAS_COLLECTION } from '../../../src/store/simulator-state';
import { concurrently, expectIndexUse, useTestDatabase } from './support';

// The ledger's contract shared with the in-memory one is test/centers/simulator-state.test.ts; here, what
// only the database version has to prove: atomic bookings from several simulator copies.
describe('store/simulator-state (simulator_manifests, simulator_buyer_quotas)', function () {
  this.timeout(30000);
  const db = useTestDatabase('repo_simulator');

  it('of 40 simultaneous bookings (two simulators: 20 inventories, each twice) every inventory counts once', async () => {
    const a = new MongoUsageLedger(db.connection, 'GD');
    const b = new MongoUsageLedger(await db.another(), 'GD');
    await concurrently(40, (i) => (i % 2 ? a : b).add('B1', 2026, `inv-${i % 20}`, 0.1 + (i % 20)));
    // Σ (0.1 + k) for k = 0…19 = 2 + 190, exact in fen.
    expect(await a.used('B1', 2026)).to.equal(192);
    const doc = await db.connection.db!.collection(SIMULATOR_QUOTAS_COLLECTION).findOne({ buyer: 'B1' });
    expect(doc!.totalFen).to.equal(19200);
    expect(Object.keys(doc!.entries as object)).to.have.length(20);
  });

  it('of 10 simultaneous releases of one inventory exactly one gives its amount back', async () => {
    const ledger = new MongoUsageLedger(db.connection, 'HK');
    await ledger.add('B2', 2026, 'inv.with.dots$', 100.25);
    await ledger.add('B2', 2026, 'other', 50);
    await concurrently(10, () => ledger.release('B2', 2026, 'inv.with.dots$'));
    expect(await ledger.used('B2', 2026)).to.equal(50);
    await ledger.add('B2', 2026, 'inv.with.dots$', 1);
    expect(await ledger.used('B2', 2026)).to.equal(51);
  });

  it('of 10 simultaneous claims of one manifest (two simulators) exactly one wins', async () => {
    const a = new MongoManifestDedup(db.connection, 'GD');
    const b = new MongoManifestDedup(await db.another(), 'GD');
    const won = await concurrently(10, (i) => (i % 2 ? a : b).claim('A1B2C3D4-0000-4000-8000-00000000000F'));
    expect(won.filter(Boolean)).to.have.length(1);
  });

  it("reads and books a buyer's year from the _id index", async () => {
    const quotas = db.connection.db!.collection(SIMULATOR_QUOTAS_COLLECTION);
    await expectIndexUse(db, quotas.find({ _id: 'GD:B1:2026' as never }), 'quota by id', { index: '_id_' });
    await expectIndexUse(
      db,
      quotas.find({ _id: 'GD:B1:2026' as never, 'entries.kinv-1': { $exists: false } }),
      'booking condition',
      { index: '_id_' },
    );
  });
});
