import { createHash } from 'node:crypto';
import { expect } from 'chai';
import type { CommandStartedEvent, Db, Document } from 'mongodb';
import type { Stores } from '../../src/store/index';
import { queryPlan, serverInfo, type QueryPlanFacts, type ServerInfo } from '../support/server-contract';
import { fakeManifest, importOrder, newDeclaration, openStores } from './store-fixtures';

/**
 * Every query the store sends on its hot paths — submission, claim, signature, hand-over, failure, receipts
 * by guid and by order number, the annual limit, receipt de-duplication, the feed — is served by an index,
 * on the server the tests run against (MongoDB, or FerretDB with Baygate's patches), as that server's own
 * `explain` says (read as the server contract reads it: test/support/server-contract.ts). The queries are
 * not listed here by hand: the store's commands are recorded while it works (command monitoring), and each
 * filter (with its sort and limit) is explained as a find — updates, deletes and findAndModify select their
 * documents with the same query machinery on both servers.
 */
describe('the store’s hot-path queries are index look-ups (explain)', function () {
  this.timeout(60000);
  let stores: Stores;
  let close: () => Promise<void>;
  let db: Db;
  let server: ServerInfo;
  const sent: { collection: string; command: string; filter: Document; sort?: Document; limit?: number }[] = [];
  let recording = false;

  before(async () => {
    let connection;
    ({ stores, close, connection } = await openStores('store_hot_queries', undefined, { monitorCommands: true }));
    db = connection.db!;
    server = await serverInfo(db);
    connection.getClient().on('commandStarted', (e: CommandStartedEvent) => {
      if (!recording) return;
      const c = e.command;
      const record = (collection: unknown, filter: unknown, sort?: unknown, limit?: unknown) =>
        sent.push({
          collection: String(collection),
          command: e.commandName,
          filter: (filter ?? {}) as Document,
          ...(sort ? { sort: sort as Document } : {}),
          ...(typeof limit === 'number' && limit > 0 ? { limit } : {}),
        });
      if (e.commandName === 'find') record(c.find, c.filter, plain(c.sort), c.limit);
      if (e.commandName === 'findAndModify') record(c.findAndModify, c.query, plain(c.sort));
      if (e.commandName === 'update') for (const u of c.updates as Document[]) record(c.update, u.q);
      if (e.commandName === 'delete') for (const d of c.deletes as Document[]) record(c.delete, d.q);
      if (e.commandName === 'aggregate') record(c.aggregate, { $aggregate: c.pipeline });
    });
  });
  after(async () => close?.());

  it('explains every recorded query of a declaration’s life as served by an index, sorts by index order', async () => {
    // Some history first, so that a table scan would have something to read.
    for (let i = 0; i < 30; i++)
      await stores.declarations.insertMany([newDeclaration(importOrder(100 + i), 'CEB311', { sellerId: 'old' })]);

    recording = true;
    const order = importOrder(9001);
    const batch = (['CEB311', 'CEB411', 'CEB511', 'CEB621'] as const).map((t) =>
      newDeclaration(order, t, { id: idFor(order.orderNo, t) }),
    );
    const orderKey = `${order.ebpCode}:${order.orderNo}`;
    await stores.annualUsage.reserve(order.buyerIdNumber, 2026, orderKey, 100, 26000);
    await stores.annualUsage.reserve(order.buyerIdNumber, 2026, orderKey, 100, 26000);
    await stores.declarations.insertMany(batch);
    await stores.declarations.insertMany(batch); // a retry: the duplicates path
    const claims = await stores.declarations.claimDue('w1', 60_000, 40);
    const mine = claims.filter((c) => c.id.startsWith('hot-'));
    expect(mine).to.have.length(4);
    const manifests = mine.map((c) => ({ c, m: fakeManifest(c.id, order) }));
    await Promise.all(manifests.map(({ c, m }) => stores.declarations.markSigned(c.id, c.leaseToken, m)));
    await stores.declarations.markQueued(mine.slice(0, 3).map((c) => ({ id: c.id, leaseToken: c.leaseToken })));
    await stores.declarations.recordFailure(mine[3]!.id, mine[3]!.leaseToken, 'broker away', {
      retryAt: new Date(),
    });
    const [again] = await stores.declarations.claimDue('w2', 60_000, 40, new Date(Date.now() + 1000));
    expect(again?.manifest, 're-claimed with its manifest').to.not.equal(undefined);
    await stores.declarations.recordFailure(again!.id, again!.leaseToken, 'unroutable', { permanent: true });
    const guids = manifests.map(({ m }) => m.messageGuid);
    await stores.declarations.subjectsByGuids(guids.slice(0, 1));
    await stores.declarations.subjectsByGuids(guids);
    await stores.declarations.findByOrderNos([order.orderNo, 'NO-SUCH-ORDER']);
    await stores.declarations.applyStatus({ messageGuid: guids[0]! }, '2', { at: new Date(), source: 'receipt' });
    await stores.declarations.applyStatus({ messageGuid: guids[0]! }, '2', { at: new Date(), source: 'receipt' });
    await stores.declarations.applyStatus({ id: mine[1]!.id }, '120', { at: new Date(), source: 'receipt' });
    const receipt = {
      messageType: 'CEB312',
      digest: createHash('sha256').update(order.orderNo).digest('hex'),
      raw: '<CEB312Message/>',
      returns: [],
      receivedAt: new Date(),
      via: 'amqp' as const,
    };
    const stored = await stores.receipts.insert(receipt);
    await stores.receipts.insert(receipt);
    await stores.receipts.markMatched(stored.receipt.id, [null]);
    await stores.receipts.listUnknown(10);
    await stores.annualUsage.release(order.buyerIdNumber, 2026, orderKey);
    await stores.declarations.eventsSince(undefined, 5);
    await stores.declarations.eventsSince(undefined, 5, { sellerIds: ['seller-1'] });
    await stores.declarations.findById(mine[0]!.id);
    await stores.declarations.manifestXml(mine[0]!.id);
    recording = false;

    // The duplicates path reads by id first, and by the key only for ids not derived from it: not here.
    const verdicts: { q: (typeof sent)[0]; v: QueryPlanFacts }[] = [];
    for (const q of sent) {
      if (q.command === 'aggregate') throw new Error(`an aggregation on the hot path: ${JSON.stringify(q.filter)}`);
      let cursor = db.collection(q.collection).find(q.filter);
      if (q.sort) cursor = cursor.sort(q.sort);
      if (q.limit) cursor = cursor.limit(q.limit);
      verdicts.push({ q, v: await queryPlan(server, cursor, !!q.sort) });
    }
    const served = (v: QueryPlanFacts) => v.indexes.length > 0 && !v.scans && !v.sortsInMemory;
    const shapes = new Map<string, QueryPlanFacts>();
    for (const { q, v } of verdicts) shapes.set(`${q.collection} ${q.command} ${shape(q)}`, v);
    console.log(
      [...shapes]
        .map(([k, v]) => `      ${served(v) ? 'index' : 'SCAN '}  ${k}  — ${v.indexes.join(', ') || v.raw}`)
        .join('\n'),
    );
    const unserved = [...shapes].filter(([, v]) => !served(v)).map(([k, v]) => `${k}: ${v.raw}`);
    expect(unserved).to.deep.equal([]);
    expect(shapes.size, 'the flow sent the queries it is meant to exercise').to.be.greaterThan(15);
  });
});

/** Ids this test can tell apart from the older declarations it made first. */
function idFor(orderNo: string, type: string): string {
  return `hot-${orderNo}-${type}`;
}

/** The shape of a query: its fields and operators, not its values. */
function shape(q: { filter: Document; sort?: Document; limit?: number }): string {
  const of = (v: unknown): unknown =>
    v &&
    typeof v === 'object' &&
    !Array.isArray(v) &&
    !(v instanceof Date) &&
    Object.keys(v).some((k) => k.startsWith('$'))
      ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, k === '$exists' ? x : '…']))
      : '…';
  const filter = Object.fromEntries(
    Object.entries(q.filter).map(([k, v]) => [k.replace(/^orders\.o[0-9a-f]{32}$/, 'orders.<order>'), of(v)]),
  );
  return JSON.stringify(filter) + (q.sort ? ` sort ${JSON.stringify(q.sort)}` : '') + (q.limit ? ' limit' : '');
}

/** A sort as the driver sends it (a Map) as a plain document. */
function plain(sort: unknown): Document | undefined {
  if (!sort) return undefined;
  return sort instanceof Map ? (Object.fromEntries(sort) as Document) : (sort as Document);
}
