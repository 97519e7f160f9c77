import { expect } from 'chai';
import { CAPACITY_COLLECTION, MongoCapacityCounters } from '../../../src/store/capacity';
import { CENTER_STATES_COLLECTION, MongoCenterStates, type CenterState } from '../../../src/store/center-states';
import { concurrently, expectIndexUse, indexKeys, useTestDatabase } from './support';

describe('store/capacity and store/center-states (center_capacity, center_states)', function () {
  this.timeout(30000);
  const db = useTestDatabase('repo_centers');

  describe('capacity counters', () => {
    it('of 50 simultaneous additions of 1 (two gateways) each gets its own total: exactly 1…50', async () => {
      const a = new MongoCapacityCounters(db.connection);
      const b = new MongoCapacityCounters(await db.another());
      await a.ensureIndexes();
      const totals = await concurrently(50, (i) => (i % 2 ? a : b).add('GD', '2026-11-01', 1));
      expect([...totals].sort((x, y) => x - y)).to.deep.equal(Array.from({ length: 50 }, (_, i) => i + 1));
      expect(await a.usedOn('2026-11-01', ['GD', 'HK'])).to.deep.equal({ GD: 50 });
      expect(await db.connection.db!.collection(CAPACITY_COLLECTION).countDocuments({ center: 'GD' })).to.equal(1);
    });

    it('of 20 simultaneous first additions of a day (one counter not yet there) none is lost', async () => {
      const a = new MongoCapacityCounters(db.connection);
      const b = new MongoCapacityCounters(await db.another());
      const totals = await concurrently(20, (i) => (i % 2 ? a : b).add('HK', '2026-11-02', 3));
      expect([...totals].sort((x, y) => x - y)).to.deep.equal(Array.from({ length: 20 }, (_, i) => 3 * (i + 1)));
    });

    it('sweeps exactly the days before a given day, found from the {dayStart} index', async () => {
      const repo = new MongoCapacityCounters(db.connection);
      await db.connection.db!.collection(CAPACITY_COLLECTION).deleteMany({});
      for (const day of ['2026-09-30', '2026-10-01', '2026-10-02']) await repo.add('MO', day, 1);
      expect(await repo.sweepBefore('2026-10-02')).to.equal(2);
      expect(await repo.usedOn('2026-10-02', ['MO'])).to.deep.equal({ MO: 1 });
      await expectIndexUse(
        db,
        db.connection.db!.collection(CAPACITY_COLLECTION).find({ dayStart: { $lt: new Date('2026-10-02') } }),
        'old days',
        { index: 'dayStart_sweep' },
      );
    });

    it("reads a day's counters and increments one from the _id index", async () => {
      const counters = db.connection.db!.collection(CAPACITY_COLLECTION);
      await expectIndexUse(db, counters.find({ _id: 'GD:2026-11-01' as never }), 'counter', { index: '_id_' });
      await expectIndexUse(
        db,
        counters.find({ _id: { $in: ['GD:2026-11-01', 'HK:2026-11-01'] as never[] } }),
        'a day',
        { index: '_id_' },
      );
    });
  });

  describe('center states', () => {
    const state = (center: string, checkedAt: Date, over: Partial<CenterState> = {}): CenterState => ({
      center,
      status: 'available',
      consumerCount: 1,
      messageCount: 0,
      noConsumerStreak: 0,
      backlogStreak: 0,
      since: new Date('2026-01-01T00:00:00Z'),
      checkedAt,
      ...over,
    });

    it('of 20 simultaneous puts (two monitors) the newest check stays, whatever order they land in', async () => {
      const a = new MongoCenterStates(db.connection);
      const b = new MongoCenterStates(await db.another());
      await a.ensureIndexes();
      const at = (i: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, (i * 7) % 20));
      const stored = await concurrently(20, (i) =>
        (i % 2 ? a : b).put(state('GD', at(i), { messageCount: (i * 7) % 20 })),
      );
      expect(stored.filter(Boolean).length).to.be.within(1, 20);
      expect((await a.get('GD'))!.messageCount).to.equal(19);
      // An older observation arriving late is dropped, and says so.
      expect(await a.put(state('GD', at(0), { messageCount: 0 }))).to.equal(false);
      expect((await b.get('GD'))!.messageCount).to.equal(19);
    });

    it('a put clears a reason the new state lacks; lists by code; interrupted centers from the {status} index', async () => {
      const repo = new MongoCenterStates(db.connection);
      const t = new Date('2026-02-01T00:00:00Z');
      await repo.put(state('HK', t, { status: 'interrupted', reason: 'no consumer' }));
      await repo.put(state('MO', t, { status: 'interrupted', reason: 'backlog' }));
      await repo.put(state('MO', new Date(t.getTime() + 1), { status: 'available' }));
      expect(await repo.get('MO')).to.not.have.property('reason');
      expect((await repo.list()).map((s) => s.center)).to.deep.equal(['GD', 'HK', 'MO']);
      expect([...(await repo.interruptedCenters())]).to.deep.equal(['HK']);
      expect(await indexKeys(db.connection, CENTER_STATES_COLLECTION)).to.include('status:1');
      await expectIndexUse(
        db,
        db.connection.db!.collection(CENTER_STATES_COLLECTION).find({ status: 'interrupted' }),
        'interrupted centers',
        { index: 'status' },
      );
    });
  });
});
