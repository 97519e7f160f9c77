import { expect } from 'chai';
import { MongoBulkWriteError } from 'mongodb';
import { duplicateWriteErrors } from '../../../src/store/collections';
import { CURSORS_COLLECTION, MongoCursors } from '../../../src/store/cursors';
import {
  DELIVERIES_COLLECTION,
  MongoWebhookDeliveries,
  type WebhookDelivery,
} from '../../../src/store/webhook-deliveries';
import { MongoWebhookSubscriptions, WEBHOOKS_COLLECTION } from '../../../src/store/webhook-subscriptions';
import { concurrently, expectIndexUse, indexKeys, useTestDatabase } from './support';

describe('store/webhook-subscriptions, webhook-deliveries, cursors', function () {
  this.timeout(30000);
  const db = useTestDatabase('repo_webhooks');
  const deliveries = () => db.connection.db!.collection(DELIVERIES_COLLECTION);

  const delivery = (id: string, over: Partial<WebhookDelivery> = {}): WebhookDelivery => ({
    id,
    webhookId: 'w1',
    sellerId: 's1',
    eventId: id,
    declarationId: 'd1',
    status: 'pending',
    attempts: 0,
    nextAttemptAt: new Date('2026-06-01T00:00:00Z'),
    log: [],
    body: '{}',
    createdAt: new Date('2026-06-01T00:00:00Z'),
    ...over,
  });

  describe('subscriptions', () => {
    it("stores, finds, lists a seller's webhooks oldest first, and deletes only the seller's own", async () => {
      const repo = new MongoWebhookSubscriptions(db.connection);
      const at = (s: number) => new Date(Date.UTC(2026, 5, 1, 0, 0, s));
      await repo.insert({ id: 'w-b', sellerId: 's1', url: 'http://b', secret: 'x'.repeat(24), createdAt: at(2) });
      await repo.insert({ id: 'w-a', sellerId: 's1', url: 'http://a', secret: 'x'.repeat(24), createdAt: at(1) });
      await repo.insert({ id: 'w-c', sellerId: 's2', url: 'http://c', secret: 'x'.repeat(24), createdAt: at(3) });
      expect((await repo.listBySeller('s1')).map((w) => w.id)).to.deep.equal(['w-a', 'w-b']);
      expect((await repo.listAll()).map((w) => w.id).sort()).to.deep.equal(['w-a', 'w-b', 'w-c']);
      expect(await repo.find('w-c')).to.deep.include({ sellerId: 's2', url: 'http://c' });
      expect(await repo.remove('s1', 'w-c')).to.equal(false);
      expect(await repo.remove('s2', 'w-c')).to.equal(true);
      expect(await repo.find('w-c')).to.equal(null);
      expect(await indexKeys(db.connection, WEBHOOKS_COLLECTION)).to.include('sellerId:1,createdAt:1');
      await expectIndexUse(
        db,
        db.connection.db!.collection(WEBHOOKS_COLLECTION).find({ _id: 'w-a' as never }),
        'by id',
        { index: '_id_' },
      );
    });
  });

  describe('deliveries', () => {
    let repo: MongoWebhookDeliveries;
    before(() => {
      repo = new MongoWebhookDeliveries(db.connection);
    });
    beforeEach(() => deliveries().deleteMany({}));

    it('fan-out stores each (webhook, event) once, however often and from however many workers it runs', async () => {
      const batch = ['e1', 'e2', 'e3'].map((e) => delivery(`w1:${e}`));
      const other = new MongoWebhookDeliveries(await db.another());
      const created = await concurrently(6, (i) => (i % 2 ? other : repo).insertNew(batch));
      expect(created.reduce((s, n) => s + n, 0)).to.equal(3);
      expect(await repo.insertNew([...batch, delivery('w1:e4')])).to.equal(1);
      expect(await deliveries().countDocuments({})).to.equal(4);
    });

    it('a bulk error without per-document errors (a dropped connection) is a failure, not "all duplicates"', () => {
      // What driver 7.8 raises when the connection drops during an unordered insertMany.
      const dropped = new MongoBulkWriteError(
        { message: 'connection closed', writeErrors: [] } as never,
        {
          insertedCount: 0,
        } as never,
      );
      expect(duplicateWriteErrors(dropped)).to.equal(undefined);
      const dupes = new MongoBulkWriteError(
        { message: 'E11000', code: 11000, writeErrors: [{ index: 0, code: 11000, errmsg: 'dup' }] as never },
        { insertedCount: 0 } as never,
      );
      expect(duplicateWriteErrors(dupes)).to.equal(1);
      const mixed = { writeErrors: [{ code: 11000 }, { code: 121 }] };
      expect(duplicateWriteErrors(mixed)).to.equal(undefined);
    });

    it('of 30 simultaneous claims (two workers) on 10 due deliveries exactly 10 win, each a different one', async () => {
      const now = new Date('2026-06-02T00:00:00Z');
      await repo.insertNew(Array.from({ length: 10 }, (_, i) => delivery(`w1:due${i}`)));
      await repo.insertNew([delivery('w1:later', { nextAttemptAt: new Date('2026-06-03T00:00:00Z') })]);
      const other = new MongoWebhookDeliveries(await db.another());
      const claimed = await concurrently(30, (i) => (i % 2 ? other : repo).claimDue(`worker-${i % 2}`, 30_000, now));
      const won = claimed.filter((d) => d !== null);
      expect(won).to.have.length(10);
      expect(new Set(won.map((d) => d!.id)).size).to.equal(10);
      expect(won.every((d) => d!.nextAttemptAt.getTime() === now.getTime() + 30_000)).to.equal(true);
      // Claimed is leased: nothing is due until the lease lapses, then every unrecorded one is due again.
      expect(await repo.claimDue('worker-2', 30_000, new Date(now.getTime() + 29_999))).to.equal(null);
      expect(await repo.claimDue('worker-2', 30_000, new Date(now.getTime() + 30_000))).to.not.equal(null);
    });

    it('claims the longest-due delivery first', async () => {
      const now = new Date('2026-06-02T00:00:00Z');
      await repo.insertNew([
        delivery('w1:b', { nextAttemptAt: new Date('2026-06-01T00:00:02Z') }),
        delivery('w1:a', { nextAttemptAt: new Date('2026-06-01T00:00:01Z') }),
        delivery('w1:c', { nextAttemptAt: new Date('2026-06-01T00:00:03Z') }),
      ]);
      const order = [];
      for (let i = 0; i < 3; i++) order.push((await repo.claimDue('w', 1000, now))!.id);
      expect(order).to.deep.equal(['w1:a', 'w1:b', 'w1:c']);
    });

    it('of 10 simultaneous records of one claimed attempt exactly one is kept (log, $inc and state together)', async () => {
      await repo.insertNew([delivery('w1:rec')]);
      const at = new Date('2026-06-02T00:00:00Z');
      const kept = await concurrently(10, (i) =>
        repo.recordAttempt('w1:rec', 0, { at, status: 500, ms: i }, { retryAt: new Date(at.getTime() + 5000) }),
      );
      expect(kept.filter(Boolean)).to.have.length(1);
      const [doc] = await repo.listByWebhook('w1', 10);
      expect(doc).to.deep.include({ status: 'pending', attempts: 1, lastStatus: 500 });
      expect(doc!.log).to.have.length(1);
      expect(await repo.recordAttempt('w1:rec', 1, { at, status: 200, ms: 1 }, { delivered: true })).to.equal(true);
      expect((await repo.listByWebhook('w1', 10))[0]).to.deep.include({ status: 'delivered', attempts: 2 });
      expect(await repo.recordAttempt('w1:rec', 2, { at, ms: 1 }, { failed: true })).to.equal(false);
    });

    it("cancels a deleted webhook's pending deliveries only, and lists a webhook's deliveries newest first", async () => {
      const t = (s: number) => new Date(Date.UTC(2026, 5, 1, 0, 0, s));
      await repo.insertNew([
        delivery('w9:1', { webhookId: 'w9', createdAt: t(1) }),
        delivery('w9:2', { webhookId: 'w9', createdAt: t(2), status: 'delivered' }),
        delivery('w9:3', { webhookId: 'w9', createdAt: t(3) }),
        delivery('w8:1', { webhookId: 'w8', createdAt: t(4) }),
      ]);
      expect(await repo.cancelPending('w9')).to.equal(2);
      const listed = await repo.listByWebhook('w9', 2);
      expect(listed.map((d) => [d.id, d.status])).to.deep.equal([
        ['w9:3', 'cancelled'],
        ['w9:2', 'delivered'],
      ]);
      expect((await repo.listByWebhook('w8', 10))[0]!.status).to.equal('pending');
    });

    it('answers its hot queries from indexes: the claim (sorted by the index) and the attempt record', async () => {
      const keys = await indexKeys(db.connection, DELIVERIES_COLLECTION);
      expect(keys).to.include.members(['status:1,nextAttemptAt:1', 'webhookId:1,createdAt:-1']);
      await expectIndexUse(
        db,
        deliveries().find({ _id: 'w1:rec' as never, attempts: 0, status: 'pending' }),
        'attempt record',
        { index: '_id_' },
      );
      await expectIndexUse(
        db,
        deliveries()
          .find({ status: 'pending', nextAttemptAt: { $lte: new Date() } })
          .sort({ nextAttemptAt: 1 })
          .limit(1),
        'claim of the longest-due delivery',
        { index: 'status_nextAttemptAt', sorted: true },
      );
    });
  });

  describe('cursors', () => {
    it('of 20 simultaneous advances (two workers) the cursor ends at the furthest and never moves back', async () => {
      const a = new MongoCursors(db.connection);
      const b = new MongoCursors(await db.another());
      const positions = Array.from({ length: 20 }, (_, i) => (1000 + ((i * 7) % 20)).toString(16).padStart(24, '0'));
      await concurrently(20, (i) => (i % 2 ? a : b).advance('race', positions[i]!));
      const furthest = [...positions].sort().at(-1)!;
      expect(await a.read('race')).to.equal(furthest);
      await a.advance('race', '0'.repeat(24));
      expect(await b.read('race')).to.equal(furthest);
      expect(await a.read('never')).to.equal(undefined);
    });

    it('finds the cursor to move (its forward-only condition) from the _id index', async () => {
      await expectIndexUse(
        db,
        db.connection.db!.collection(CURSORS_COLLECTION).find({ _id: 'race' as never, eventId: { $lt: 'f' } }),
        'forward-only move',
        { index: '_id_' },
      );
    });
  });
});
