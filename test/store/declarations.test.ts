import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { DeclarationView } from '../../src/store/contracts';
import type { Stores } from '../../src/store/index';
import { InvalidCursorError } from '../../src/store/declarations';
import { fakeManifest, importOrder, newDeclaration, openStores, rawDeclaration, SIGNER } from './store-fixtures';

describe('declaration store', function () {
  this.timeout(60000);
  let stores: Stores;
  let close: () => Promise<void>;
  let seed = 1000;

  before(async () => {
    ({ stores, close } = await openStores('store_declarations'));
  });
  after(async () => close?.());

  const store = () => stores.declarations;

  /** Inserts one CEB311 declaration for a fresh order and returns its view. */
  async function accepted(overrides: Parameters<typeof newDeclaration>[2] = {}): Promise<DeclarationView> {
    const order = importOrder(++seed);
    const { inserted } = await store().insertMany([newDeclaration(order, 'CEB311', overrides)]);
    return inserted[0]!;
  }

  /** Claims exactly this declaration (claims everything due, releases the others by expiry in the past). */
  async function claimOne(id: string, owner = 'w1', now = new Date()) {
    for (let i = 0; i < 20; i++) {
      const claimed = await store().claimDue(owner, 60_000, 500, now);
      const mine = claimed.find((c) => c.id === id);
      for (const c of claimed)
        if (c.id !== id)
          await store().recordFailure(c.id, c.leaseToken, 'test: not this one', {
            retryAt: new Date(now.getTime() + 3600_000),
          });
      if (mine) return mine;
    }
    throw new Error(`could not claim ${id}`);
  }

  async function signAndQueue(view: DeclarationView) {
    const claimed = await claimOne(view.id);
    const manifest = fakeManifest(view.id, claimed.order as never);
    expect(await store().markSigned(view.id, claimed.leaseToken, manifest)).to.equal(true);
    expect(await store().markQueued([{ id: view.id, leaseToken: claimed.leaseToken }])).to.equal(1);
    return manifest;
  }

  describe('insertMany', () => {
    it('inserts each message type of an order once and a retried submission returns the existing ones unchanged', async () => {
      const order = importOrder(++seed);
      const batch = (['CEB311', 'CEB411', 'CEB511', 'CEB621'] as const).map((t) => newDeclaration(order, t));
      const first = await store().insertMany(batch);
      expect(first.inserted.map((v) => v.messageType)).to.deep.equal(['CEB311', 'CEB411', 'CEB511', 'CEB621']);
      expect(first.existing).to.deep.equal([]);
      expect(first.inserted[0]).to.include({
        status: 'accepted',
        terminal: false,
        attempts: 0,
        buyerIdMasked: order.buyerIdNumber.slice(0, 4) + '**********' + order.buyerIdNumber.slice(-4),
      });
      expect(first.inserted[0]!.history).to.have.length(1);

      // Same declarations again (same ids) and again with new ids (a client retry that re-generated them).
      const again = await store().insertMany(batch);
      const renewed = await store().insertMany(batch.map((d) => ({ ...d, id: randomUUID() })));
      for (const result of [again, renewed]) {
        expect(result.inserted).to.deep.equal([]);
        expect(result.existing.map((v) => v.id).sort()).to.deep.equal(first.inserted.map((v) => v.id).sort());
      }
      expect(await store().findByOrderNo(order.orderNo)).to.have.length(4);
      expect((await store().findById(first.inserted[0]!.id))!.history).to.have.length(1);
    });

    it('splits a mixed batch into inserted and existing', async () => {
      const a = newDeclaration(importOrder(++seed), 'CEB311');
      await store().insertMany([a]);
      const b = newDeclaration(importOrder(++seed), 'CEB311');
      const result = await store().insertMany([a, b]);
      expect(result.inserted.map((v) => v.id)).to.deep.equal([b.id]);
      expect(result.existing.map((v) => v.id)).to.deep.equal([a.id]);
    });

    it('refuses an id that already names a different declaration', async () => {
      const a = newDeclaration(importOrder(++seed), 'CEB311');
      await store().insertMany([a]);
      const clash = newDeclaration(importOrder(++seed), 'CEB311', { id: a.id });
      let error: unknown;
      try {
        await store().insertMany([clash]);
      } catch (err) {
        error = err;
      }
      expect(String(error)).to.match(/already used by another declaration/);
    });

    it('keeps the order and extra inputs retrievable (decrypted) by id', async () => {
      const order = importOrder(++seed);
      const d = newDeclaration(order, 'CEB623', { extra: { invtNo: '51412026I000000001', reason: '买家取消' } });
      await store().insertMany([d]);
      const stored = await store().orderOf(d.id);
      expect(stored!.order).to.deep.equal(order);
      expect(stored!.extra).to.deep.equal({ invtNo: '51412026I000000001', reason: '买家取消' });
      expect(await store().orderOf(randomUUID())).to.equal(null);
    });
  });

  describe('dispatch: claim, sign, queue', () => {
    it('never hands the same declaration to two workers claiming in parallel', async () => {
      const order = importOrder(++seed);
      // Park everything due so far, so only this test's declarations are claimable.
      await parkAllDue();
      const fresh = Array.from({ length: 60 }, (_, i) =>
        newDeclaration({ ...order, orderNo: `${order.orderNo}-P${i}` }, 'CEB311', {
          orderNo: `${order.orderNo}-P${i}`,
        }),
      );
      await store().insertMany(fresh);
      const seen = new Map<string, string>();
      for (let round = 0; round < 12; round++) {
        const [a, b, c] = await Promise.all([
          store().claimDue('worker-a', 60_000, 4),
          store().claimDue('worker-b', 60_000, 4),
          store().claimDue('worker-c', 60_000, 4),
        ]);
        for (const [owner, list] of [
          ['a', a],
          ['b', b],
          ['c', c],
        ] as const) {
          for (const item of list) {
            expect(seen.has(item.id), `${item.id} claimed by ${seen.get(item.id)} and ${owner}`).to.equal(false);
            seen.set(item.id, owner);
          }
        }
      }
      expect(seen.size).to.be.greaterThan(0);
      expect(seen.size).to.be.at.most(60);
      // Everything claimed is leased: nobody gets them again while the leases live.
      const more = await store().claimDue('worker-d', 60_000, 100);
      for (const m of more) expect(seen.has(m.id)).to.equal(false);
      expect(seen.size + more.length).to.equal(60);
    });

    it('lets another worker take over a claim once its lease has expired, and refuses the old lease token then', async () => {
      await parkAllDue();
      const view = await accepted();
      const t0 = new Date();
      const first = await store().claimDue('crashed-worker', 1000, 10, t0);
      expect(first.map((c) => c.id)).to.deep.equal([view.id]);
      expect(first[0]).to.include({ status: 'accepted', attempts: 0 });
      expect(await store().claimDue('other', 1000, 10, new Date(t0.getTime() + 500))).to.deep.equal([]);
      const second = await store().claimDue('other', 1000, 10, new Date(t0.getTime() + 1500));
      expect(second.map((c) => c.id)).to.deep.equal([view.id]);
      expect(second[0]!.attempts).to.equal(1);
      expect(second[0]!.leaseToken).to.not.equal(first[0]!.leaseToken);

      const manifest = fakeManifest(view.id, first[0]!.order as never);
      expect(await store().markSigned(view.id, first[0]!.leaseToken, manifest)).to.equal(false);
      expect(await store().markQueued([{ id: view.id, leaseToken: first[0]!.leaseToken }])).to.equal(0);
      expect((await store().findById(view.id))!.status).to.equal('accepted');
      expect(await store().markSigned(view.id, second[0]!.leaseToken, manifest)).to.equal(true);
      expect(await store().markQueued([{ id: view.id, leaseToken: 'not-a-token' }])).to.equal(0);
      expect(await store().markQueued([{ id: view.id, leaseToken: second[0]!.leaseToken }])).to.equal(1);
      expect((await store().findById(view.id))!.status).to.equal('queued');
    });

    it('re-claims a signed declaration with its manifest, so a retry publishes the very same bytes', async () => {
      await parkAllDue();
      const view = await accepted();
      const t0 = new Date();
      const [claim] = await store().claimDue('w', 1000, 5, t0);
      const manifest = fakeManifest(view.id, claim!.order as never);
      expect(await store().markSigned(view.id, claim!.leaseToken, manifest)).to.equal(true);
      // Publishing failed: retry right away.
      await store().recordFailure(view.id, claim!.leaseToken, 'broker nack', { retryAt: t0 });
      const [again] = await store().claimDue('w2', 1000, 5, new Date(t0.getTime() + 10));
      expect(again).to.include({ id: view.id, status: 'signed' });
      expect(again!.manifest).to.deep.equal({
        xml: manifest.xml,
        messageGuid: manifest.messageGuid,
        digest: manifest.digest,
      });
      // Signing again is refused (it is signed already): the worker must publish the stored bytes.
      expect(
        await store().markSigned(view.id, again!.leaseToken, fakeManifest(view.id, again!.order as never)),
      ).to.equal(false);
      expect(await store().markQueued([{ id: view.id, leaseToken: again!.leaseToken }])).to.equal(1);
      const after = (await store().findById(view.id))!;
      expect(after).to.include({
        status: 'queued',
        messageGuid: manifest.messageGuid,
        digest: manifest.digest,
        attempts: 1,
        lastError: 'broker nack',
      });
      expect(after.history.map((h) => h.status)).to.deep.equal(['accepted', 'signed', 'queued']);
      expect(after.history[1]!.signer).to.deep.equal(SIGNER);
      // Later steps keep the dispatch bookkeeping.
      const receipt = await store().applyStatus({ id: view.id }, '120', { at: new Date(), source: 'receipt' });
      expect(receipt.declaration).to.include({ status: '120', attempts: 1, lastError: 'broker nack' });
      expect(await store().manifestXml(view.id)).to.equal(manifest.xml);
      expect((await store().subjectsByGuids([manifest.messageGuid])).get(manifest.messageGuid)!.id).to.equal(view.id);
      expect(
        await store()
          .claimDue('w3', 1000, 100, new Date(t0.getTime() + 60_000))
          .then((l) => l.map((c) => c.id)),
      ).to.not.include(view.id);
    });

    it('markQueued moves only signed declarations whose lease token matches, in one call for a batch', async () => {
      await parkAllDue();
      const views = await Promise.all([accepted(), accepted(), accepted()]);
      const claims = await store().claimDue('w', 60_000, 10);
      expect(claims.map((c) => c.id).sort()).to.deep.equal(views.map((v) => v.id).sort());
      for (const c of claims.slice(0, 2))
        expect(await store().markSigned(c.id, c.leaseToken, fakeManifest(c.id, c.order as never))).to.equal(true);
      // The third is not signed; the second comes with a wrong token.
      const moved = await store().markQueued([
        { id: claims[0]!.id, leaseToken: claims[0]!.leaseToken },
        { id: claims[1]!.id, leaseToken: claims[0]!.leaseToken },
        { id: claims[2]!.id, leaseToken: claims[2]!.leaseToken },
      ]);
      expect(moved).to.equal(1);
      expect((await store().findById(claims[0]!.id))!.status).to.equal('queued');
      expect((await store().findById(claims[1]!.id))!.status).to.equal('signed');
      expect((await store().findById(claims[2]!.id))!.status).to.equal('accepted');
      // Queued twice: counted once.
      expect(await store().markQueued([{ id: claims[0]!.id, leaseToken: claims[0]!.leaseToken }])).to.equal(0);
    });

    it('markSignedMany signs a batch in one call: stale tokens and second signatures are refused, the same manifest again is accepted', async () => {
      await parkAllDue();
      const views = await Promise.all([accepted(), accepted(), accepted()]);
      const claims = await store().claimDue('w', 60_000, 10);
      expect(claims).to.have.length(3);
      const [a, b, c] = claims as [(typeof claims)[0], (typeof claims)[0], (typeof claims)[0]];
      const ma = fakeManifest(a.id, a.order as never);
      const mb = fakeManifest(b.id, b.order as never);
      const results = await store().markSignedMany([
        { id: a.id, leaseToken: a.leaseToken, manifest: ma },
        { id: b.id, leaseToken: b.leaseToken, manifest: mb },
        { id: b.id, leaseToken: b.leaseToken, manifest: fakeManifest(b.id, b.order as never) },
        { id: c.id, leaseToken: 'stale', manifest: fakeManifest(c.id, c.order as never) },
      ]);
      expect(results).to.deep.equal([true, true, false, false]);
      expect(await store().markSignedMany([{ id: a.id, leaseToken: a.leaseToken, manifest: ma }])).to.deep.equal([
        true,
      ]);
      // Parallel single calls are merged into one batch and answer individually.
      const single = await Promise.all([
        store().markSigned(c.id, c.leaseToken, fakeManifest(c.id, c.order as never)),
        store().markSigned(a.id, 'stale', ma),
      ]);
      expect(single).to.deep.equal([true, false]);
      expect(await store().markQueued(claims.map((x) => ({ id: x.id, leaseToken: x.leaseToken })))).to.equal(3);
      const queuedIds = new Set<string>();
      for (const v of views) {
        const history = (await store().findById(v.id))!.history;
        expect(history.map((h) => h.status)).to.deep.equal(['accepted', 'signed', 'queued']);
        queuedIds.add(history.at(-1)!.eventId);
      }
      expect(queuedIds.size, 'one event id per declaration, though one update queued them all').to.equal(3);
      expect((await store().findById(b.id))!.messageGuid).to.equal(mb.messageGuid);
    });

    it('recordFailure with retryAt keeps the declaration due later; permanent moves it to failed (terminal)', async () => {
      await parkAllDue();
      const view = await accepted();
      const t0 = new Date();
      const [c1] = await store().claimDue('w', 60_000, 5, t0);
      await store().recordFailure(view.id, c1!.leaseToken, 'signer unavailable', {
        retryAt: new Date(t0.getTime() + 30_000),
      });
      let v = (await store().findById(view.id))!;
      expect(v).to.include({ status: 'accepted', attempts: 1, lastError: 'signer unavailable', terminal: false });
      expect(await store().claimDue('w', 60_000, 5, new Date(t0.getTime() + 10_000))).to.deep.equal([]);
      const [c2] = await store().claimDue('w', 60_000, 5, new Date(t0.getTime() + 31_000));
      expect(c2!.id).to.equal(view.id);
      // A stale token changes nothing.
      await store().recordFailure(view.id, c1!.leaseToken, 'stale', { permanent: true });
      expect((await store().findById(view.id))!.status).to.equal('accepted');
      await store().recordFailure(view.id, c2!.leaseToken, 'XSD violation: orderNo', { permanent: true });
      v = (await store().findById(view.id))!;
      expect(v).to.include({ status: 'failed', terminal: true, attempts: 2, lastError: 'XSD violation: orderNo' });
      expect(v.history.map((h) => h.status)).to.deep.equal(['accepted', 'failed']);
      expect(v.history[1]!.info).to.equal('XSD violation: orderNo');
      expect(
        await store()
          .claimDue('w', 60_000, 100, new Date(t0.getTime() + 3600_000))
          .then((l) => l.map((c) => c.id)),
      ).to.not.include(view.id);
    });
  });

  describe('applyStatus', () => {
    it('moves forward only: duplicates, out-of-order and after-terminal changes are no-ops that add no history', async () => {
      const view = await accepted({ messageType: 'CEB621' });
      const manifest = await signAndQueue(view);
      const at = new Date();
      const step = (status: string) =>
        store().applyStatus({ messageGuid: manifest.messageGuid }, status, {
          at,
          source: 'receipt',
          receiptId: 'r-' + status,
          info: 'test',
        });

      expect(await step('2')).to.include({ applied: true });
      expect(await step('2')).to.include({ applied: false, reason: 'duplicate' });
      expect(await step('120')).to.include({ applied: true });
      expect(await step('3')).to.include({ applied: false, reason: 'out-of-order' });
      const released = await step('800');
      expect(released.applied).to.equal(true);
      expect(released.subject).to.include({ id: view.id, status: '800', messageType: 'CEB621' });
      expect((await store().findById(view.id))!.history.at(-1)).to.include({
        status: '800',
        source: 'receipt',
        receiptId: 'r-800',
      });
      const cleared = await store().applyStatus({ id: view.id }, '899', {
        at,
        source: 'receipt',
        documentKeys: { invtNo: '51412026I000000101' },
        signer: undefined,
      });
      expect(cleared.applied).to.equal(true);
      expect(cleared.declaration!.history.at(-1)!.documentKeys).to.deep.equal({ invtNo: '51412026I000000101' });
      expect(cleared.declaration!.history.at(-1)).to.not.have.property('signer');
      expect(await rawDeclaration(stores, view.id), 'out of dispatch').to.not.have.any.keys('dueAt', 'lease');
      expect(await step('-621005')).to.include({ applied: false, reason: 'after-terminal' });
      expect(await step('899')).to.include({ applied: false, reason: 'duplicate' });
      expect(await step('bogus')).to.include({ applied: false, reason: 'unknown-status' });

      const v = (await store().findById(view.id))!;
      expect(v.status).to.equal('899');
      expect(v.terminal).to.equal(true);
      expect(v.history.map((h) => h.status)).to.deep.equal(['accepted', 'signed', 'queued', '2', '120', '800', '899']);
      expect(v.history.at(-1)!.documentKeys).to.deep.equal({ invtNo: '51412026I000000101' });
      expect(new Set(v.history.map((h) => h.eventId)).size).to.equal(7);
    });

    it('ends order-type declarations (CEB311) at 120 and reports unknown declarations', async () => {
      const view = await accepted();
      expect(
        (await store().applyStatus({ id: view.id }, '120', { at: new Date(), source: 'receipt' })).declaration,
      ).to.include({ status: '120', terminal: true });
      expect(await store().applyStatus({ id: view.id }, '399', { at: new Date(), source: 'receipt' })).to.include({
        applied: false,
        reason: 'after-terminal',
      });
      expect(
        await store().applyStatus({ messageGuid: randomUUID().toUpperCase() }, '2', {
          at: new Date(),
          source: 'receipt',
        }),
      ).to.deep.equal({ applied: false, reason: 'unknown-declaration' });
    });

    it('applies each rank once when the same receipt is processed concurrently', async () => {
      const view = await accepted({ messageType: 'CEB621' });
      const results = await Promise.all(
        Array.from({ length: 6 }, () =>
          store().applyStatus({ id: view.id }, '2', { at: new Date(), source: 'receipt' }),
        ),
      );
      expect(results.filter((r) => r.applied)).to.have.length(1);
      expect((await store().findById(view.id))!.history.filter((h) => h.status === '2')).to.have.length(1);
    });

    it('takes a declaration out of dispatch once a receipt shows customs has it', async () => {
      await parkAllDue();
      const view = await accepted({ messageType: 'CEB621' });
      await store().applyStatus({ id: view.id }, '3', { at: new Date(), source: 'receipt' });
      expect(
        await store()
          .claimDue('w', 1000, 100)
          .then((l) => l.map((c) => c.id)),
      ).to.not.include(view.id);
    });
  });

  describe('reads', () => {
    it('eventsSince returns history entries after the given event id, oldest first, and resumes without gaps', async () => {
      const start = await store().eventsSince(undefined, 100000);
      const lastSeen = start.at(-1)?.event.eventId;
      const a = await accepted({ sellerId: 'seller-events' });
      const b = await accepted({ sellerId: 'seller-events' });
      await store().applyStatus({ id: a.id }, '2', { at: new Date(), source: 'receipt' });
      await store().applyStatus({ id: b.id }, '120', { at: new Date(), source: 'receipt' });
      const all = await store().eventsSince(lastSeen, 100, { sellerIds: ['seller-events'] });
      expect(all.map((e) => `${e.declaration.id === a.id ? 'a' : 'b'}:${e.event.status}`)).to.deep.equal([
        'a:accepted',
        'b:accepted',
        'a:2',
        'b:120',
      ]);
      const ids = all.map((e) => e.event.eventId);
      expect([...ids].sort()).to.deep.equal(ids);
      // Resume in pages of one.
      const paged: string[] = [];
      let after = lastSeen;
      for (;;) {
        const page = await store().eventsSince(after, 1, { sellerIds: ['seller-events'] });
        if (page.length === 0) break;
        paged.push(page[0]!.event.eventId);
        after = page[0]!.event.eventId;
      }
      expect(paged).to.deep.equal(ids);
      expect(all[2]!.declaration.status).to.equal('2');
      expect(await store().eventsSince(ids.at(-1), 10, { sellerIds: ['seller-events'] })).to.deep.equal([]);
      expect(await store().eventsSince(lastSeen, 10, { sellerIds: ['someone-else'] })).to.deep.equal([]);
    });

    it('lists newest first with an opaque cursor, filtered by seller, status, center, type and time', async () => {
      const seller = 'seller-list-' + randomUUID().slice(0, 6);
      const made: DeclarationView[] = [];
      for (let i = 0; i < 7; i++) {
        made.push(
          await accepted({
            sellerId: seller,
            center: i % 2 ? 'center-sz' : 'center-gz',
            messageType: i % 3 ? 'CEB311' : 'CEB621',
          }),
        );
        await new Promise((r) => setTimeout(r, 3));
      }
      await store().applyStatus({ id: made[1]!.id }, '2', { at: new Date(), source: 'receipt' });
      await store().applyStatus({ id: made[4]!.id }, '2', { at: new Date(), source: 'receipt' });

      const pages: string[][] = [];
      let cursor: string | undefined;
      do {
        const page = await store().list({ sellerIds: [seller] }, { limit: 3, cursor });
        pages.push(page.items.map((v) => v.id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(pages.map((p) => p.length)).to.deep.equal([3, 3, 1]);
      expect(pages.flat()).to.deep.equal([...made].reverse().map((v) => v.id));

      const byStatus = await store().list({ sellerIds: [seller], status: ['2'] }, { limit: 1 });
      expect(byStatus.items.map((v) => v.id)).to.deep.equal([made[4]!.id]);
      const rest = await store().list(
        { sellerIds: [seller], status: ['2'] },
        { limit: 1, cursor: byStatus.nextCursor },
      );
      expect(rest.items.map((v) => v.id)).to.deep.equal([made[1]!.id]);
      expect(rest.nextCursor).to.equal(undefined);

      expect((await store().list({ sellerIds: [seller], center: ['center-sz'] }, { limit: 50 })).items).to.have.length(
        3,
      );
      expect(
        (await store().list({ sellerIds: [seller], messageType: ['CEB621'] }, { limit: 50 })).items,
      ).to.have.length(3);
      expect(
        (await store().list({ sellerIds: [seller], from: made[5]!.createdAt }, { limit: 50 })).items.map((v) => v.id),
      ).to.deep.equal([made[6]!.id, made[5]!.id]);
      expect(
        (await store().list({ sellerIds: [seller], orderNo: made[0]!.orderNo }, { limit: 50 })).items.map((v) => v.id),
      ).to.deep.equal([made[0]!.id]);
      expect((await store().list({ sellerIds: [] }, { limit: 50 })).items).to.deep.equal([]);
      let error: unknown;
      try {
        await store().list({}, { limit: 5, cursor: 'garbage' });
      } catch (err) {
        error = err;
      }
      expect(error).to.be.instanceOf(InvalidCursorError);
    });

    it('counts by status and finds stuck declarations', async () => {
      const seller = 'seller-count-' + randomUUID().slice(0, 6);
      const views = await Promise.all([0, 1, 2, 3].map(() => accepted({ sellerId: seller, messageType: 'CEB621' })));
      await store().applyStatus({ id: views[0]!.id }, '2', { at: new Date(), source: 'receipt' });
      await store().applyStatus({ id: views[1]!.id }, '2', { at: new Date(), source: 'receipt' });
      await store().applyStatus({ id: views[2]!.id }, '100', { at: new Date(), source: 'receipt' });
      expect(await store().countByStatus({ sellerIds: [seller] })).to.deep.equal({ '2': 2, '100': 1, accepted: 1 });
      expect(await store().countByStatus({ sellerIds: [seller], status: ['2'] })).to.deep.equal({ '2': 2 });

      const later = new Date(Date.now() + 60_000);
      const stuck = await store().stuck(later, { sellerIds: [seller] });
      expect(stuck.map((v) => v.id).sort()).to.deep.equal([views[0]!.id, views[1]!.id, views[3]!.id].sort());
      expect(await store().stuck(new Date(Date.now() - 60_000), { sellerIds: [seller] })).to.deep.equal([]);
      expect(
        (await store().stuck(later, { sellerIds: [seller], status: ['accepted'] })).map((v) => v.id),
      ).to.deep.equal([views[3]!.id]);
    });
  });

  describe('one document per declaration', () => {
    it("holds its status, rank, history, lease and the signed manifest's guid, changed by conditional updates", async () => {
      await parkAllDue();
      const view = await accepted({ messageType: 'CEB621' });
      let doc = await rawDeclaration(stores, view.id);
      expect(doc).to.include({ status: 'accepted', rank: 0, terminal: false, claims: 0, attempts: 0 });
      expect(doc.dueAt).to.be.instanceOf(Date);
      expect(doc).to.not.have.any.keys('lease', 'messageGuid', 'orderSealed');
      expect((doc.history as unknown[]).length).to.equal(1);

      const t0 = new Date();
      const [claim] = await store().claimDue('w1', 30_000, 10, t0);
      doc = await rawDeclaration(stores, view.id);
      const lease = doc.lease as { owner: string; token: string };
      expect(lease.owner).to.equal('w1');
      expect(claim!.leaseToken, "the holder's token: the claim's, bound to the declaration").to.equal(
        `${lease.token}:${view.id}`,
      );
      expect((doc.dueAt as Date).getTime(), 'due again when the lease ends').to.equal(t0.getTime() + 30_000);
      expect(doc.claims).to.equal(1);

      const manifest = fakeManifest(view.id, claim!.order as never);
      expect(await store().markSigned(view.id, claim!.leaseToken, manifest)).to.equal(true);
      doc = await rawDeclaration(stores, view.id);
      expect(doc).to.include({
        status: 'signed',
        rank: 10,
        messageGuid: manifest.messageGuid,
        digest: manifest.digest,
      });
      expect(doc.lease, 'still held until queued').to.deep.equal(lease);
      expect(JSON.stringify(doc), 'the manifest itself is archived apart').to.not.include('CEB311Message');

      expect(await store().markQueued([{ id: view.id, leaseToken: claim!.leaseToken }])).to.equal(1);
      doc = await rawDeclaration(stores, view.id);
      expect(doc).to.include({ status: 'queued', rank: 20 });
      expect(doc, 'handed over: out of dispatch').to.not.have.any.keys('dueAt', 'lease');
      expect((doc.history as { status: string }[]).map((h) => h.status)).to.deep.equal([
        'accepted',
        'signed',
        'queued',
      ]);
      // "queued" is taken for a whole claim in one update: its event id is derived, unique per declaration.
      const queued = (await store().findById(view.id))!.history.at(-1)!;
      expect(queued.eventId).to.match(/^[0-9a-f]{24}$/);
      expect((doc.history as { eventId?: string }[]).at(-1)).to.not.have.property('eventId');
      const feed = stores.models.Feed.db.db!.collection<{ _id: string; declarationId: string }>('declaration_feed');
      expect(await feed.countDocuments({ _id: queued.eventId, declarationId: view.id } as never)).to.equal(1);
    });

    it('refuses the signature of a worker whose lease was taken over after the new holder sent and handed over', async () => {
      await parkAllDue();
      const view = await accepted();
      const first = await claimOne(view.id, 'w1');
      // W1 is slow: its lease runs out and W2 claims, signs, sends and hands over first.
      const second = await claimOne(view.id, 'w2', new Date(Date.now() + 120_000));
      expect(
        await store().markSigned(
          view.id,
          second.leaseToken,
          fakeManifest(view.id, second.order as never, 'GUID-OF-W2'),
        ),
      ).to.equal(true);
      expect(await store().markQueued([{ id: view.id, leaseToken: second.leaseToken }])).to.equal(1);
      expect(
        await store().markSigned(view.id, first.leaseToken, fakeManifest(view.id, first.order as never, 'GUID-OF-W1')),
        'W1 must not send',
      ).to.equal(false);
      expect(await store().markQueued([{ id: view.id, leaseToken: first.leaseToken }])).to.equal(0);
      const v = (await store().findById(view.id))!;
      expect(v.messageGuid).to.equal('GUID-OF-W2');
      expect(v.history.map((h) => h.status)).to.deep.equal(['accepted', 'signed', 'queued']);
      expect(await store().manifestXml(view.id)).to.include('GUID-OF-W2');
    });

    it('writes each step taken to the feed once, and no entry for a step a concurrent change took first', async () => {
      const view = await accepted({ messageType: 'CEB621' });
      const results = await Promise.all(
        Array.from({ length: 5 }, () =>
          store().applyStatus({ id: view.id }, '2', { at: new Date(), source: 'receipt' }),
        ),
      );
      expect(results.filter((r) => r.applied)).to.have.length(1);
      const feed = stores.models.Feed.db.db!.collection<{ _id: string; declarationId: string }>('declaration_feed');
      const entries = await feed.find({ declarationId: view.id }).toArray();
      const history = (await store().findById(view.id))!.history;
      expect(entries.map((e) => e._id).sort()).to.deep.equal(history.map((h) => h.eventId).sort());
      // An entry whose step never made it into the history (a crash between the two writes) is skipped.
      await feed.insertOne({
        _id: 'ffffffffffffffffffffff00',
        declarationId: view.id,
        status: '3',
        sellerId: view.sellerId,
        center: view.center,
        messageType: view.messageType,
        orderNo: view.orderNo,
        declaredAt: view.createdAt,
      } as never);
      const after = await store().eventsSince(history.at(-1)!.eventId, 10);
      expect(after.map((e) => e.event.eventId)).to.not.include('ffffffffffffffffffffff00');
    });
  });

  /** Pushes every currently due declaration ten hours into the future (so a test sees only its own). */
  async function parkAllDue() {
    await stores.models.Declaration.collection.updateMany(
      { dueAt: { $exists: true } },
      { $set: { dueAt: new Date(Date.now() + 36_000_000) } },
    );
  }
});
