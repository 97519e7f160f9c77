import { randomUUID } from 'node:crypto';
import { ObjectId, type Collection, type Filter } from 'mongodb';
import type { BaygateOrder } from '../domain/order';
import { decideTransition, isTerminal, statusRank, terminalRanks } from '../domain/status';
import type { MessageType } from '../domain/message-types';
import type {
  ClaimedDeclaration,
  DeclarationFilter,
  DeclarationSubject,
  StatusOutcome,
  DeclarationStore,
  DeclarationView,
  HistoryEntry,
  NewDeclaration,
} from './contracts';
import {
  deleteByIds,
  findByIds,
  insertManyIgnoringDuplicates,
  isDuplicateKey,
  raw,
  type DeclarationDoc,
  type DeclarationOrderDoc,
  type EventDoc,
  type LeaseDoc,
  type ManifestDoc,
  type QueueDoc,
  type SignedWorkDoc,
  type StoreModels,
  type TrackingDoc,
} from './models';
import { Coalescer } from './coalesce';
import { InvalidCursorError, StoreInterruptedError } from './errors';

export { InvalidCursorError, StoreInterruptedError };
import { maskIdNumber, type PiiVault } from './pii';

/**
 * DeclarationStore on the append-only layout described in models.ts. Atomicity comes from unique inserts:
 *  - a status step is an insert into declaration_events with _id "<id>:<rank>": the same rank cannot be
 *    reached twice, and the status shown is the highest-ranked step, so it only moves forward;
 *  - a claim is an insert into dispatch_leases with _id "<id>#<seq>": exactly one worker wins claim <seq>;
 *  - markSigned is fenced by the unique dispatch_signed marker, markQueued by the unique "queued" step.
 * The plain updates left touch only live documents: dispatch_queue/dispatch_leases (by the lease holder)
 * and declaration_tracking (a hint; see models.ts). Hot paths read only live collections.
 */

const SIGNED_RANK = statusRank('signed');
const QUEUED_RANK = statusRank('queued');

export const orderContext = (id: string) => `declarations/${id}/order`;
export const manifestContext = (id: string) => `declarations/${id}/manifest`;

interface SealedOrderPayload {
  order: BaygateOrder;
  extra?: Record<string, unknown>;
}

interface SignRequest {
  id: string;
  leaseToken: string;
  manifest: { xml: string; messageGuid: string; digest: string; signer: { subject: string; serialHex: string } };
}

type ViewParts = { base: DeclarationDoc; events: EventDoc[]; queue?: Pick<QueueDoc, 'attempts' | 'lastError'> };

/** The _id of the step of this rank. */
export function stepId(declarationId: string, rank: number): string {
  return `${declarationId}:${rank}`;
}

export class MongoDeclarationStore implements DeclarationStore {
  private readonly declarations: Collection<DeclarationDoc>;
  private readonly orders: Collection<DeclarationOrderDoc>;
  /** Declarations are write-once: their clear fields can be cached (bounded, per process). */
  private readonly baseCache = new Map<string, DeclarationDoc>();
  private readonly events: Collection<EventDoc>;
  private readonly queue: Collection<QueueDoc>;
  private readonly leases: Collection<LeaseDoc>;
  private readonly manifests: Collection<ManifestDoc>;
  private readonly signed: Collection<SignedWorkDoc>;
  private readonly tracking: Collection<TrackingDoc>;
  /** Counts the driver's connection-pool clears (the server went away): see verifyIfInterrupted. */
  private poolEpoch = 0;

  constructor(
    models: StoreModels,
    private readonly vault: PiiVault,
  ) {
    this.declarations = raw(models.Declaration);
    this.orders = raw(models.DeclarationOrder);
    this.events = raw(models.Event);
    this.queue = raw(models.Queue);
    this.leases = raw(models.Lease);
    this.manifests = raw(models.Manifest);
    this.signed = raw(models.SignedWork);
    this.tracking = raw(models.Tracking);
    models.Declaration.db.getClient().on('connectionPoolCleared', () => this.poolEpoch++);
  }

  // -------------------------------------------------------------------------------------------------
  // Submission
  // -------------------------------------------------------------------------------------------------

  async insertMany(input: NewDeclaration[]): Promise<{ inserted: DeclarationView[]; existing: DeclarationView[] }> {
    if (input.length === 0) return { inserted: [], existing: [] };
    const epoch = this.poolEpoch;
    const now = new Date();
    const docs = input.map((d) => this.toDeclarationDoc(d, now));
    const sealed = input.map((d) => this.sealOrder(d));
    // Sealed order, then the declaration, then its first step, then the work item: a crash in between
    // leaves a declaration that `repairDispatchQueue` (or the retried submission below) completes, never
    // a work item without a declaration or a declaration without its order.
    await insertManyIgnoringDuplicates(this.orders, sealed);
    const duplicates = await insertManyIgnoringDuplicates(this.declarations, docs);
    const fresh = docs.filter((_, i) => !duplicates.has(i));
    const freshOrders = sealed.filter((_, i) => !duplicates.has(i));

    const acceptedEvents = fresh.map((d) => acceptedEvent(d));
    const seenBefore = await insertManyIgnoringDuplicates(this.events, acceptedEvents);
    // A declaration row inserted anew whose first step exists already was stored before and lost (FerretDB
    // v1 lost rows it had acknowledged just before a restart: docs/CHAOS.md): the row is back, but the
    // declaration is not new — its work may be done, so it goes the way of the duplicates below.
    const revived = fresh.filter((_, i) => seenBefore.has(i));
    const created = fresh.filter((_, i) => !seenBefore.has(i));
    await insertManyIgnoringDuplicates(
      this.queue,
      fresh.flatMap((d, i) => (seenBefore.has(i) ? [] : [queueDocFor(d, freshOrders[i]!, now)])),
    );

    for (const d of fresh) this.remember(d);
    const inserted = fresh.flatMap((d, i) =>
      seenBefore.has(i) ? [] : [toView({ base: d, events: [acceptedEvents[i]!], queue: { attempts: 0 } })],
    );
    if (duplicates.size === 0 && revived.length === 0) {
      await this.verifyIfInterrupted(
        epoch,
        created.map((d) => d._id),
      );
      return { inserted, existing: [] };
    }

    const wanted = docs.filter((_, i) => duplicates.has(i));
    const existingDocs = [...(await this.existingFor(wanted)), ...revived];
    // The sealed orders of refused duplicates stored under other ids must not stay behind. (With ids
    // derived from the key, as the submission makes them, the ids are the same and nothing goes.)
    const existingIds = new Set(existingDocs.map((d) => d._id));
    const orphanOrders = wanted.map((d) => d._id).filter((id) => !existingIds.has(id));
    if (orphanOrders.length) await deleteByIds(this.orders, orphanOrders);
    // Which work items exist is read BEFORE the steps: a work item leaves only after its "queued" (or
    // "failed") step is written, so one missing then whose steps read afterwards stop at "signed" was
    // never created — not handed over a moment ago (re-creating that one would sign and send it twice).
    const inQueue = await findByIds(
      this.queue,
      existingDocs.map((d) => d._id),
      { projection: { _id: 1 } },
    );
    const existing = await this.views(existingDocs);
    await this.completeInterruptedInserts(existing, existingDocs, inQueue, now);
    await this.verifyIfInterrupted(
      epoch,
      created.map((d) => d._id),
    );
    return { inserted, existing };
  }

  /**
   * FerretDB v1 was seen to acknowledge an insert that a restart then lost (docs/CHAOS.md): when the
   * connection pool was cleared while this submission was being stored, the declarations are read back,
   * and a missing one fails the request as a transient error (503) — the client's retry stores it.
   */
  private async verifyIfInterrupted(epoch: number, ids: string[]): Promise<void> {
    if (this.poolEpoch === epoch || ids.length === 0) return;
    const [found, queued] = await Promise.all([
      findByIds(this.declarations, ids, { projection: { _id: 1 } }),
      findByIds(this.queue, ids, { projection: { _id: 1 } }),
    ]);
    const missing = ids.filter((id) => !found.has(id) || !queued.has(id));
    if (missing.length)
      throw new StoreInterruptedError(
        `the database restarted while ${missing.length} declaration(s) were being stored; retry the request`,
      );
  }

  /** The stored declarations that refused these as duplicates: by id first, then by the key. */
  private async existingFor(wanted: DeclarationDoc[]): Promise<DeclarationDoc[]> {
    const byKey = new Map<string, DeclarationDoc>();
    for (const d of (
      await findByIds(
        this.declarations,
        wanted.map((w) => w._id),
      )
    ).values())
      byKey.set(idempotencyKey(d), d);
    const missing = wanted.filter((w) => !byKey.has(idempotencyKey(w)));
    if (missing.length) {
      // Ids not derived from the key (callers that make their own): the lookup by key scans on FerretDB v1.
      const found = await this.declarations
        .find({
          $or: missing.map((d) => ({ platformCode: d.platformCode, orderNo: d.orderNo, messageType: d.messageType })),
        })
        .toArray();
      for (const d of found) byKey.set(idempotencyKey(d), d);
    }
    const existingDocs: DeclarationDoc[] = [];
    for (const w of wanted) {
      const existing = byKey.get(idempotencyKey(w));
      if (!existing)
        throw new Error(
          `declaration id ${w._id} is already used by another declaration (not ${w.platformCode}/${w.orderNo}/${w.messageType})`,
        );
      if (!existingDocs.includes(existing)) existingDocs.push(existing);
    }
    return existingDocs;
  }

  /**
   * A retried submission finds declarations an earlier attempt did not finish (a crash between the
   * inserts): one without its first step gets it, and one still to be dispatched (accepted or signed)
   * gets its work item back if it has none. Both inserts are idempotent.
   */
  private async completeInterruptedInserts(
    views: DeclarationView[],
    docs: DeclarationDoc[],
    inQueue: Map<string, unknown>,
    now: Date,
  ): Promise<void> {
    const undispatched = docs.filter(
      (_, i) => views[i]!.history.length === 0 || statusRank(views[i]!.status) <= SIGNED_RANK,
    );
    const lost = undispatched.filter((d) => !inQueue.has(d._id));
    if (lost.length === 0) return;
    const orders = await findByIds(
      this.orders,
      lost.map((d) => d._id),
    );
    await insertManyIgnoringDuplicates(
      this.events,
      lost.map((d) => acceptedEvent(d)),
    );
    await insertManyIgnoringDuplicates(
      this.queue,
      lost.flatMap((d) => (orders.has(d._id) ? [queueDocFor(d, orders.get(d._id)!, now, true)] : [])),
    );
  }

  private sealOrder(d: NewDeclaration): DeclarationOrderDoc {
    const payload: SealedOrderPayload = d.extra === undefined ? { order: d.order } : { order: d.order, extra: d.extra };
    return { _id: d.id, orderSealed: this.vault.sealJson(payload, orderContext(d.id)) };
  }

  /** The clear fields of a declaration (write-once, so cached). */
  private async base(id: string): Promise<DeclarationDoc | null> {
    const cached = this.baseCache.get(id);
    if (cached) return cached;
    const doc = await this.declarations.findOne({ _id: id });
    if (doc) this.remember(doc);
    return doc;
  }

  private remember(doc: DeclarationDoc): void {
    if (this.baseCache.size >= 20000) this.baseCache.delete(this.baseCache.keys().next().value!);
    this.baseCache.set(doc._id, doc);
  }

  private toDeclarationDoc(d: NewDeclaration, now: Date): DeclarationDoc {
    const doc: DeclarationDoc = {
      _id: d.id,
      sellerId: d.sellerId,
      platformCode: d.platformCode,
      orderNo: d.orderNo,
      messageType: d.messageType,
      direction: d.direction,
      tradeMode: d.tradeMode,
      customsCode: d.customsCode,
      center: d.center,
      amountCny: d.amountCny,
      requestId: d.requestId,
      createdAt: now,
    };
    if (d.sellerRegion) doc.sellerRegion = d.sellerRegion;
    if (d.order.direction === 'import') {
      doc.buyerIdHash = this.vault.blindIndex('idNumber', d.order.buyerIdNumber);
      doc.buyerIdMasked = maskIdNumber(d.order.buyerIdNumber);
    }
    return doc;
  }

  /**
   * Re-creates missing work items: declarations still at accepted/signed with no queue entry (a gateway that
   * crashed between the two inserts). Scans everything: run it at start-up, not in a loop. Returns the ids.
   */
  async repairDispatchQueue(now = new Date()): Promise<string[]> {
    const inQueue = new Set((await this.queue.find({}, { projection: { _id: 1 } }).toArray()).map((q) => q._id));
    const current = await this.currentSteps({});
    const repaired: string[] = [];
    const bases = await this.declarations.find({}).toArray();
    for (const base of bases) {
      if (inQueue.has(base._id)) continue;
      const step = current.get(base._id);
      if (step && step.rank > SIGNED_RANK) continue;
      const order = await this.orders.findOne({ _id: base._id });
      if (!order) continue;
      if (!step) await insertManyIgnoringDuplicates(this.events, [acceptedEvent(base)]);
      await insertManyIgnoringDuplicates(this.queue, [queueDocFor(base, order, now, true)]);
      repaired.push(base._id);
    }
    return repaired;
  }

  /**
   * Key rotation: re-seals, with the newest PII key, every stored value sealed with an older one (orders,
   * work items, signed work, manifests). Run after putting a new key first in PII_KEYS; once it reports 0, the old key
   * can leave the ring. Returns how many values were re-sealed. Maintenance job: it scans everything.
   */
  async reencryptAll(): Promise<number> {
    const current = this.vault.currentKeyId;
    let count = 0;
    for (const d of await this.orders.find({ 'orderSealed.k': { $ne: current } }).toArray()) {
      await this.orders.updateOne(
        { _id: d._id },
        { $set: { orderSealed: this.vault.reencrypt(d.orderSealed, orderContext(d._id)) } },
      );
      count++;
    }
    for (const q of await this.queue
      .find({ 'orderSealed.k': { $ne: current } }, { projection: { orderSealed: 1 } })
      .toArray()) {
      await this.queue.updateOne(
        { _id: q._id },
        { $set: { orderSealed: this.vault.reencrypt(q.orderSealed, orderContext(q._id)) } },
      );
      count++;
    }
    for (const w of await this.signed
      .find({ 'xmlSealed.k': { $ne: current } }, { projection: { xmlSealed: 1 } })
      .toArray()) {
      await this.signed.updateOne(
        { _id: w._id },
        { $set: { xmlSealed: this.vault.reencrypt(w.xmlSealed, manifestContext(w._id)) } },
      );
      count++;
    }
    for (const m of await this.manifests
      .find({ 'xmlSealed.k': { $ne: current } }, { projection: { xmlSealed: 1, declarationId: 1 } })
      .toArray()) {
      await this.manifests.updateOne(
        { _id: m._id },
        { $set: { xmlSealed: this.vault.reencrypt(m.xmlSealed, manifestContext(m.declarationId)) } },
      );
      count++;
    }
    return count;
  }

  // -------------------------------------------------------------------------------------------------
  // Dispatch
  // -------------------------------------------------------------------------------------------------

  async claimDue(owner: string, leaseMs: number, limit: number, now = new Date()): Promise<ClaimedDeclaration[]> {
    if (limit <= 0) return [];
    const until = new Date(now.getTime() + leaseMs);
    // Live collections only (work not yet handed over): the leases and signed markers are few, read whole.
    const [leaseState, signedMarkers] = await Promise.all([
      this.leaseState(),
      this.signed.find({}, { projection: { _id: 1 } }).toArray(),
    ]);
    const busy = [...leaseState.entries()].filter(([, l]) => !l.released && l.until > now).map(([id]) => id);
    const due = await this.queue
      .find({ dueAt: { $lte: now }, ...(busy.length ? { _id: { $nin: busy } } : {}) })
      .sort({ dueAt: 1, _id: 1 })
      .limit(limit + Math.min(limit, 50)) // a margin for candidates another worker takes first
      .toArray();

    // Race for the candidates in rounds: each round inserts as many leases as are still wanted; a lost
    // insert (11000) means another worker got that one, so the next round tries further candidates.
    const won: { item: QueueDoc; lease: LeaseDoc }[] = [];
    let next = 0;
    for (let round = 0; round < 4 && won.length < limit && next < due.length; round++) {
      const batch = due.slice(next, next + (limit - won.length));
      next += batch.length;
      const leases: LeaseDoc[] = batch.map((q) => {
        const seq = (leaseState.get(q._id)?.seq ?? 0) + 1;
        return {
          _id: `${q._id}#${seq}`,
          declarationId: q._id,
          seq,
          owner,
          token: randomUUID(),
          until,
          sellerId: q.sellerId,
          platformCode: q.platformCode,
          center: q.center,
          messageType: q.messageType,
          orderNo: q.orderNo,
          declaredAt: q.declaredAt,
          attempts: q.attempts,
          ...(q.lastError ? { lastError: q.lastError } : {}),
        };
      });
      const lost = await insertManyIgnoringDuplicates(this.leases, leases);
      leases.forEach((lease, i) => {
        if (!lost.has(i)) won.push({ item: batch[i]!, lease });
      });
    }
    if (won.length === 0) return [];

    // A lease insert can only succeed where the previous holder's leases are gone, and those go only after
    // its work item did (leaveDispatch). So a work item missing now was handed over while we were choosing:
    // drop it (its lease too), or it would be published twice.
    const present = await findByIds(
      this.queue,
      won.map((w) => w.item._id),
      { projection: { _id: 1 } },
    );
    const gone = won.filter((w) => !present.has(w.item._id));
    if (gone.length) {
      await deleteByIds(
        this.leases,
        gone.map((w) => w.lease._id),
      );
      won.splice(0, won.length, ...won.filter((w) => present.has(w.item._id)));
      if (won.length === 0) return [];
    }

    // A work item put back by a repair may have been handed over by then (its "queued" step exists): the
    // repair read the steps before the holder wrote that step and removed the item. Those are few, so only
    // they pay for a look at the step log.
    const recreated = won.filter((w) => w.item.recreated);
    if (recreated.length) {
      const queuedSteps = await findByIds(
        this.events,
        recreated.map((w) => stepId(w.item._id, QUEUED_RANK)),
        { projection: { _id: 1 } },
      );
      const handedOver = recreated
        .filter((w) => queuedSteps.has(stepId(w.item._id, QUEUED_RANK)))
        .map((w) => w.item._id);
      if (handedOver.length) {
        await this.leaveDispatch(handedOver);
        won.splice(0, won.length, ...won.filter((w) => !handedOver.includes(w.item._id)));
        if (won.length === 0) return [];
      }
    }

    const wonIds = new Set(won.map((w) => w.item._id));
    const signedIds = signedMarkers.map((m) => m._id).filter((id) => wonIds.has(id));
    const signed = await findByIds(this.signed, signedIds);
    return won.map(({ item: q, lease }) => {
      const payload = this.vault.openJson<SealedOrderPayload>(q.orderSealed, orderContext(q._id));
      const marker = signed.get(q._id);
      const c: ClaimedDeclaration = {
        id: q._id,
        messageType: q.messageType,
        center: q.center,
        status: marker ? 'signed' : 'accepted',
        attempts: lease.seq - 1,
        requestId: q.requestId,
        order: payload.order,
        leaseToken: lease.token,
      };
      if (payload.extra !== undefined) c.extra = payload.extra;
      if (marker)
        c.manifest = {
          xml: this.vault.openText(marker.xmlSealed, manifestContext(q._id)),
          messageGuid: marker.messageGuid,
          digest: marker.digest,
        };
      return c;
    });
  }

  /** Current (highest-seq) lease of each declaration that has one. */
  private async leaseState(ids?: string[]): Promise<Map<string, LeaseDoc>> {
    const filter: Filter<LeaseDoc> = ids
      ? ids.length === 1
        ? { declarationId: ids[0]! }
        : { declarationId: { $in: ids } }
      : {};
    const all = await this.leases.find(filter).toArray();
    const current = new Map<string, LeaseDoc>();
    for (const l of all) {
      const seen = current.get(l.declarationId);
      if (!seen || l.seq > seen.seq) current.set(l.declarationId, l);
    }
    return current;
  }

  /** The leases (of those asked) that are current and carry the caller's token. */
  private async holding(items: { id: string; leaseToken: string }[]): Promise<Map<string, LeaseDoc>> {
    const state = await this.leaseState(items.map((i) => i.id));
    const held = new Map<string, LeaseDoc>();
    for (const item of items) {
      const lease = state.get(item.id);
      if (lease && !lease.released && lease.token === item.leaseToken) held.set(item.id, lease);
    }
    return held;
  }

  private readonly signCoalescer = new Coalescer<SignRequest, boolean>((batch) => this.markSignedMany(batch));

  /**
   * accepted → signed, only while the caller holds the lease. Concurrent calls are merged into one
   * markSignedMany (so a worker signing a claimed batch in parallel pays one round trip per collection).
   */
  markSigned(id: string, leaseToken: string, manifest: SignRequest['manifest']): Promise<boolean> {
    return this.signCoalescer.call({ id, leaseToken, manifest });
  }

  /**
   * markSigned for a batch (additive to the contract): one result per item, in order. The first signature
   * of a declaration wins (unique insert into dispatch_signed); a later one is refused (false) unless it is
   * the same manifest again (true, idempotent). Every manifest is archived under its guid.
   */
  async markSignedMany(items: SignRequest[]): Promise<boolean[]> {
    if (items.length === 0) return [];
    const epoch = this.poolEpoch;
    const held = await this.holding(items);
    const mine = items.filter((i) => held.has(i.id));
    if (mine.length === 0) return items.map(() => false);
    const now = new Date();
    // The same declaration twice in one batch: only its first request competes.
    const firstPerId = new Map<string, SignRequest>();
    for (const i of mine) if (!firstPerId.has(i.id)) firstPerId.set(i.id, i);
    const contenders = [...firstPerId.values()];
    const sealed = new Map(contenders.map((c) => [c.id, this.vault.sealText(c.manifest.xml, manifestContext(c.id))]));
    // Archive and tracking strictly before the marker: once the marker exists a retry re-publishes this
    // manifest without coming back here, so its receipts must already find it (docs/CHAOS.md finding 2).
    // A loser's manifest is harmless (never published); its tracking entry is withdrawn below.
    await this.archiveManifests(
      contenders.map((c) => ({
        _id: c.manifest.messageGuid,
        declarationId: c.id,
        messageGuid: c.manifest.messageGuid,
        digest: c.manifest.digest,
        signer: { subject: c.manifest.signer.subject, serialHex: c.manifest.signer.serialHex },
        xmlSealed: sealed.get(c.id)!,
        createdAt: now,
      })),
    );
    await insertManyIgnoringDuplicates(
      this.tracking,
      contenders.map((c) => trackingDocFor(held.get(c.id)!, c.manifest.messageGuid, 'signed')),
    );
    const lost = await insertManyIgnoringDuplicates(
      this.signed,
      contenders.map((c) => ({
        _id: c.id,
        messageGuid: c.manifest.messageGuid,
        digest: c.manifest.digest,
        xmlSealed: sealed.get(c.id)!,
      })),
    );
    let winners = contenders.filter((_, k) => !lost.has(k));
    if (this.poolEpoch !== epoch && winners.length) {
      // The database went away meanwhile: only a marker read back is a signature (one acknowledged and then
      // lost would let the next attempt sign again, under another guid, after this one was sent).
      const kept = await findByIds(
        this.signed,
        winners.map((w) => w.id),
        { projection: { messageGuid: 1 } },
      );
      winners = winners.filter((w) => kept.get(w.id)?.messageGuid === w.manifest.messageGuid);
    }
    if (winners.length) {
      // A marker that went in although our lease had run out meanwhile may follow a holder that sent the
      // declaration and removed its work item and then its marker: the work item goes first, so if it is
      // gone now, this signature is stale — withdrawn, never sent (chaos run 10: sent twice under two guids).
      const present = await findByIds(
        this.queue,
        winners.map((w) => w.id),
        { projection: { _id: 1 } },
      );
      const stale = winners.filter((w) => !present.has(w.id));
      if (stale.length) {
        await deleteByIds(
          this.signed,
          stale.map((w) => w.id),
        );
        winners = winners.filter((w) => present.has(w.id));
      }
    }
    // Who holds each signature now: the winners, plus (only if some lost) what the losers found.
    const signedNow = new Map(winners.map((w) => [w.id, w.manifest.messageGuid]));
    if (lost.size) {
      const losers = contenders.filter((_, k) => lost.has(k));
      for (const m of (
        await findByIds(
          this.signed,
          losers.map((c) => c.id),
          { projection: { messageGuid: 1 } },
        )
      ).values())
        signedNow.set(m._id, m.messageGuid);
      const withdrawn = losers
        .filter((c) => signedNow.get(c.id) !== c.manifest.messageGuid)
        .map((c) => c.manifest.messageGuid);
      await deleteByIds(this.tracking, withdrawn);
    }
    await insertManyIgnoringDuplicates(
      this.events,
      winners.map((w) => {
        const lease = held.get(w.id)!;
        return stepEvent(
          leaseOwner(lease),
          'signed',
          now,
          { source: 'worker', signer: w.manifest.signer },
          { attempts: lease.attempts, messageGuid: w.manifest.messageGuid, digest: w.manifest.digest },
        );
      }),
    );
    return items.map((i) => held.has(i.id) && signedNow.get(i.id) === i.manifest.messageGuid);
  }

  /** Inserts manifests; the same guid again is fine for the same declaration, an error for another. */
  private async archiveManifests(docs: ManifestDoc[]): Promise<void> {
    const dup = await insertManyIgnoringDuplicates(this.manifests, docs);
    if (dup.size === 0) return;
    const clashing = docs.filter((_, k) => dup.has(k));
    const owners = await findByIds(
      this.manifests,
      clashing.map((c) => c._id),
      { projection: { declarationId: 1 } },
    );
    const wrong = clashing.find((c) => owners.get(c._id)?.declarationId !== c.declarationId);
    if (wrong)
      throw new Error(
        `message guid ${wrong._id} already belongs to declaration ${owners.get(wrong._id)?.declarationId}`,
      );
  }

  async markQueued(items: { id: string; leaseToken: string }[], at = new Date()): Promise<number> {
    if (items.length === 0) return 0;
    const [held, signed] = await Promise.all([
      this.holding(items),
      findByIds(
        this.signed,
        items.map((i) => i.id),
        { projection: { messageGuid: 1, digest: 1 } },
      ),
    ]);
    if (held.size === 0) return 0;
    const work = [...held.values()].filter((l) => signed.has(l.declarationId));
    if (work.length === 0) return 0;
    const events = work.map((l) => {
      const s = signed.get(l.declarationId)!;
      return stepEvent(
        leaseOwner(l),
        'queued',
        at,
        { source: 'worker' },
        { attempts: l.attempts, lastError: l.lastError, messageGuid: s.messageGuid, digest: s.digest },
      );
    });
    const already = await insertManyIgnoringDuplicates(this.events, events);
    await this.leaveDispatch(work.map((l) => l.declarationId));
    return work.length - already.size;
  }

  /**
   * Handed over (or given up): the work item, its leases and its signed marker go. A crash before this
   * leaves a work item whose "queued" step exists; the next claimer publishes again (at-least-once, the
   * same bytes) and the status cannot step back.
   */
  private async leaveDispatch(ids: string[]): Promise<void> {
    // The work item strictly first: a claimer reads the leases before the work items, so while a lease
    // exists the item is busy, and once the item is gone nobody can claim it — even when the lease
    // sequence restarts at 1 because the leases were deleted.
    await deleteByIds(this.queue, ids);
    await Promise.all([
      this.leases.deleteMany(ids.length === 1 ? { declarationId: ids[0]! } : { declarationId: { $in: ids } }),
      deleteByIds(this.signed, ids),
    ]);
  }

  async recordFailure(
    id: string,
    leaseToken: string,
    error: string,
    outcome: { retryAt: Date } | { permanent: true },
  ): Promise<void> {
    const held = (await this.holding([{ id, leaseToken }])).get(id);
    if (!held) return; // our lease was taken over: the new holder decides
    const lastError = error.slice(0, 2000);
    if ('retryAt' in outcome) {
      await this.queue.updateOne({ _id: id }, { $set: { dueAt: outcome.retryAt, lastError }, $inc: { attempts: 1 } });
      await this.leases.updateOne({ _id: held._id }, { $set: { released: true, until: new Date() } });
      return;
    }
    const event = stepEvent(
      leaseOwner(held),
      'failed',
      new Date(),
      { source: 'worker', info: lastError },
      { attempts: held.attempts + 1, lastError },
    );
    await insertManyIgnoringDuplicates(this.events, [event]); // already terminal: nothing to add
    const marker = await this.signed.findOne({ _id: id }, { projection: { messageGuid: 1 } });
    if (marker) await this.tracking.deleteOne({ _id: marker.messageGuid }); // final: no longer in flight
    await this.leaveDispatch([id]);
  }

  // -------------------------------------------------------------------------------------------------
  // Status from receipts / connectors
  // -------------------------------------------------------------------------------------------------

  async applyStatus(
    match: { id: string } | { messageGuid: string },
    status: string,
    entry: Omit<HistoryEntry, 'eventId' | 'status'>,
    options: { inFlightOnly?: boolean } = {},
  ): Promise<StatusOutcome> {
    if ('messageGuid' in match) {
      // In flight: decided on the live tracking entry alone. Otherwise (final already, or unknown) the archive.
      const tracked = await this.tracking.findOne({ _id: match.messageGuid });
      if (tracked) return this.applyTracked(tracked, status, entry);
      if (options.inFlightOnly) return { applied: false, reason: 'not-in-flight' };
    }
    // Not in tracking (read just above): the archived manifest names the declaration.
    const id = 'id' in match ? match.id : await this.archivedDeclarationOfGuid(match.messageGuid);
    if (!id) return { applied: false, reason: 'unknown-declaration' };
    const base = await this.base(id);
    if (!base) return { applied: false, reason: 'unknown-declaration' };
    const ended = await this.finalStep(base);
    if (ended) {
      // The usual reason to be here: a receipt overtaken by the final one. Nothing can follow a final step.
      const decision = decideTransition(ended.status, status, base.messageType);
      if (!decision.apply)
        return { applied: false, reason: decision.reason, subject: subjectOfBase(base, ended.status) };
    }
    const [found, queued] = await Promise.all([this.eventsOf([id]), this.queueBookkeeping(id)]);
    let events = found;
    const current = currentStep(events)?.status ?? 'accepted';
    const decision = decideTransition(current, status, base.messageType);
    if (!decision.apply)
      return withSubject({
        applied: false,
        reason: decision.reason,
        declaration: toView({ base, events, queue: queued }),
      });
    const event = stepEvent(eventOwner(base), status, entry.at, entry);
    try {
      await this.events.insertOne(event);
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      // A concurrent change reached this rank first.
      events = await this.eventsOf([id]);
      const winner = events.find((e) => e._id === event._id);
      return withSubject({
        applied: false,
        reason: winner?.status === status ? 'duplicate' : 'out-of-order',
        declaration: toView({ base, events, queue: queued }),
      });
    }
    events.push(event);
    const signedGuid = events.find((e) => e.rank === SIGNED_RANK)?.messageGuid;
    if (decision.terminal && signedGuid) await this.tracking.deleteOne({ _id: signedGuid });
    else if (signedGuid) await this.tracking.updateOne({ _id: signedGuid }, { $set: { status, rank: decision.rank } });
    if (decision.rank >= QUEUED_RANK && queued) {
      // Customs (or the center) has it: nothing left to dispatch, whatever a worker still holds.
      await this.leaveDispatch([id]);
      return withSubject({ applied: true, declaration: toView({ base, events }) });
    }
    return withSubject({ applied: true, declaration: toView({ base, events, queue: queued }) });
  }

  /**
   * A status change for a declaration in flight, on its tracking entry: the step's unique insert decides
   * (a rank is reached once); the entry then follows (or goes, once final). Two changes racing in two
   * processes may leave the entry behind the log for a moment — the log, not the entry, is the status.
   */
  private async applyTracked(
    tracked: TrackingDoc,
    status: string,
    entry: Omit<HistoryEntry, 'eventId' | 'status'>,
  ): Promise<StatusOutcome> {
    const subject = subjectOf(tracked);
    const decision = decideTransition(tracked.status, status, tracked.messageType);
    if (!decision.apply) return { applied: false, reason: decision.reason, subject };
    const event = stepEvent(leaseOwner(tracked), status, entry.at, entry);
    try {
      await this.events.insertOne(event);
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      const winner = await this.events.findOne({ _id: event._id }, { projection: { status: 1 } });
      return { applied: false, reason: winner?.status === status ? 'duplicate' : 'out-of-order', subject };
    }
    // The work item is not removed here (its holder does, after the confirm): should the holder die first,
    // the next one publishes the same manifest once more (the center drops it by guid) and removes it —
    // cheaper than a scan of the work queue on every declaration's first receipt.
    if (decision.terminal) await this.tracking.deleteOne({ _id: tracked._id });
    // By _id alone: any other condition makes FerretDB v1 decode the whole collection in Go (~10× the cost).
    // A change racing in another process may thus leave the entry one step behind — see the class comment.
    else await this.tracking.updateOne({ _id: tracked._id }, { $set: { status, rank: decision.rank } });
    return { applied: true, subject: { ...subject, status } };
  }

  // -------------------------------------------------------------------------------------------------
  // Reads
  // -------------------------------------------------------------------------------------------------

  async findById(id: string): Promise<DeclarationView | null> {
    const base = await this.base(id);
    return base ? (await this.views([base]))[0]! : null;
  }

  private async archivedDeclarationOfGuid(messageGuid: string): Promise<string | undefined> {
    return (await this.manifests.findOne({ _id: messageGuid }, { projection: { declarationId: 1 } }))?.declarationId;
  }

  async subjectsByGuids(messageGuids: readonly string[]): Promise<Map<string, DeclarationSubject>> {
    const out = new Map<string, DeclarationSubject>();
    const guids = [...new Set(messageGuids)];
    for (const [guid, tracked] of await findByIds(this.tracking, guids)) out.set(guid, subjectOf(tracked));
    const archived = guids.filter((g) => !out.has(g));
    if (archived.length === 0) return out;
    const manifests = await findByIds(this.manifests, archived, { projection: { declarationId: 1 } });
    if (manifests.size === 0) return out;
    const ids = [...new Set([...manifests.values()].map((m) => m.declarationId))];
    const bases = (await Promise.all(ids.map((id) => this.base(id)))).filter((b): b is DeclarationDoc => b !== null);
    const subjects = new Map<string, DeclarationSubject>();
    const unfinished: DeclarationDoc[] = [];
    // Out of tracking, they are almost always final: the final step is looked up by its id, not by a scan.
    for (const [base, ended] of await Promise.all(bases.map(async (b) => [b, await this.finalStep(b)] as const))) {
      if (ended) subjects.set(base._id, subjectOfBase(base, ended.status));
      else unfinished.push(base);
    }
    for (const view of await this.views(unfinished)) subjects.set(view.id, subjectOfView(view));
    for (const [guid, m] of manifests) {
      const subject = subjects.get(m.declarationId);
      if (subject) out.set(guid, subject);
    }
    return out;
  }

  /**
   * The final step of a declaration, if it has one, by the ids final steps can have (`<id>:<rank>`): point
   * reads instead of a scan of the whole step log (seconds on FerretDB v1 once the log is large).
   */
  private async finalStep(base: DeclarationDoc): Promise<Pick<EventDoc, 'status' | 'rank'> | undefined> {
    const ids = terminalRanks(base.messageType).map((rank) => stepId(base._id, rank));
    const found = [...(await findByIds(this.events, ids, { projection: { status: 1, rank: 1 } })).values()];
    return found.find((e) => isTerminal(e.status, base.messageType));
  }

  async findByOrderNo(orderNo: string, sellerIds?: string[]): Promise<DeclarationView[]> {
    return this.findByOrderNos([orderNo], sellerIds);
  }

  async findByOrderNos(orderNos: readonly string[], sellerIds?: string[]): Promise<DeclarationView[]> {
    const unique = [...new Set(orderNos)];
    if (unique.length === 0) return [];
    const filter: Filter<DeclarationDoc> = unique.length === 1 ? { orderNo: unique[0]! } : { orderNo: { $in: unique } };
    if (sellerIds) filter.sellerId = { $in: sellerIds };
    const docs = await this.declarations.find(filter).sort({ createdAt: 1, _id: 1 }).toArray();
    return this.views(docs);
  }

  /** The manifest sent: the one the "signed" step names (no step, nothing was sent). */
  async manifestXml(id: string): Promise<string | null> {
    const signed = await this.events.findOne({ _id: stepId(id, SIGNED_RANK) }, { projection: { messageGuid: 1 } });
    const m = signed?.messageGuid ? await this.manifests.findOne({ _id: signed.messageGuid }) : null;
    return m ? this.vault.openText(m.xmlSealed, manifestContext(id)) : null;
  }

  async orderOf(id: string): Promise<{ order: BaygateOrder; extra?: Record<string, unknown> } | null> {
    const sealed = await this.orders.findOne({ _id: id });
    if (!sealed) return null;
    return this.vault.openJson<SealedOrderPayload>(sealed.orderSealed, orderContext(id));
  }

  async list(
    filter: DeclarationFilter,
    page: { limit: number; cursor?: string },
  ): Promise<{ items: DeclarationView[]; nextCursor?: string }> {
    const limit = Math.max(1, Math.min(page.limit, 1000));
    const query = baseFilter(filter);
    let cursor = page.cursor ? decodeCursor(page.cursor) : undefined;
    const statuses = filter.status?.length ? new Set(filter.status) : undefined;
    const items: DeclarationView[] = [];
    // Without a status filter one page is one read; with one, read on until the page is full.
    for (let round = 0; round < 50; round++) {
      const chunk = statuses ? Math.max(limit * 4, 200) : limit + 1;
      const docs = await this.declarations
        .find({ ...query, ...(cursor ? afterCursor(cursor) : {}) })
        .sort({ createdAt: -1, _id: -1 })
        .limit(chunk)
        .toArray();
      const views = await this.views(docs);
      for (const v of views) {
        if (statuses && !statuses.has(v.status)) {
          cursor = { t: v.createdAt.getTime(), id: v.id };
          continue;
        }
        if (items.length === limit) return { items, nextCursor: encodeCursor(items[items.length - 1]!) };
        items.push(v);
        cursor = { t: v.createdAt.getTime(), id: v.id };
      }
      if (docs.length < chunk) return { items };
    }
    return items.length ? { items, nextCursor: encodeCursor(items[items.length - 1]!) } : { items };
  }

  async countByStatus(filter: DeclarationFilter): Promise<Record<string, number>> {
    const ids = await this.declarations.find(baseFilter(filter), { projection: { _id: 1 } }).toArray();
    const steps = await this.currentSteps(
      hasBaseFilter(filter) ? { declarationId: { $in: ids.map((d) => d._id) } } : {},
    );
    const counts: Record<string, number> = {};
    const wanted = filter.status?.length ? new Set(filter.status) : undefined;
    for (const { _id } of ids) {
      const status = steps.get(_id)?.status ?? 'accepted';
      if (wanted && !wanted.has(status)) continue;
      counts[status] = (counts[status] ?? 0) + 1;
    }
    return counts;
  }

  async stuck(olderThan: Date, filter: DeclarationFilter = {}): Promise<DeclarationView[]> {
    const ids = await this.declarations.find(baseFilter(filter), { projection: { _id: 1, createdAt: 1 } }).toArray();
    const steps = await this.currentSteps(
      hasBaseFilter(filter) ? { declarationId: { $in: ids.map((d) => d._id) } } : {},
      true,
    );
    const wanted = filter.status?.length ? new Set(filter.status) : undefined;
    const stuckIds = ids
      .filter((d) => {
        const step = steps.get(d._id);
        const status = step?.status ?? 'accepted';
        if (step?.terminal) return false;
        if (wanted && !wanted.has(status)) return false;
        return (step?.lastAt ?? d.createdAt) < olderThan;
      })
      .map((d) => d._id);
    if (stuckIds.length === 0) return [];
    const docs = await this.declarations
      .find({ _id: { $in: stuckIds } })
      .sort({ createdAt: 1, _id: 1 })
      .toArray();
    return this.views(docs);
  }

  async eventsSince(
    afterEventId: string | undefined,
    limit: number,
    filter: DeclarationFilter = {},
  ): Promise<{ declaration: DeclarationView; event: HistoryEntry }[]> {
    const query: Filter<EventDoc> = {};
    if (afterEventId) query.eventId = { $gt: afterEventId };
    if (filter.sellerIds) query.sellerId = { $in: filter.sellerIds };
    if (filter.center?.length) query.center = { $in: filter.center };
    if (filter.messageType?.length) query.messageType = { $in: filter.messageType };
    if (filter.orderNo) query.orderNo = filter.orderNo;
    if (filter.status?.length) query.status = { $in: filter.status };
    if (filter.from || filter.to)
      query.declaredAt = { ...(filter.from ? { $gte: filter.from } : {}), ...(filter.to ? { $lt: filter.to } : {}) };
    const events = await this.events.find(query).sort({ eventId: 1 }).limit(Math.max(1, limit)).toArray();
    if (events.length === 0) return [];
    const ids = [...new Set(events.map((e) => e.declarationId))];
    const docs = [...(await findByIds(this.declarations, ids)).values()];
    const views = new Map((await this.views(docs)).map((v) => [v.id, v]));
    return events.flatMap((e) => {
      const declaration = views.get(e.declarationId);
      return declaration ? [{ declaration, event: toHistoryEntry(e) }] : [];
    });
  }

  // -------------------------------------------------------------------------------------------------

  /** Builds views for these declarations with two more reads (their events and their work items). */
  private async views(docs: DeclarationDoc[]): Promise<DeclarationView[]> {
    if (docs.length === 0) return [];
    const ids = docs.map((d) => d._id);
    const [events, queueMap] = await Promise.all([
      this.eventsOf(ids),
      findByIds(this.queue, ids, { projection: { attempts: 1, lastError: 1 } }),
    ]);
    const queue = [...queueMap.values()];
    const eventsById = new Map<string, EventDoc[]>();
    for (const e of events) {
      const list = eventsById.get(e.declarationId);
      if (list) list.push(e);
      else eventsById.set(e.declarationId, [e]);
    }
    const queueById = new Map(queue.map((q) => [q._id, q]));
    return docs.map((base) => toView({ base, events: eventsById.get(base._id) ?? [], queue: queueById.get(base._id) }));
  }

  /** The steps of these declarations (archive: a scan on FerretDB v1; broker reads and the general path). */
  private async eventsOf(ids: string[]): Promise<EventDoc[]> {
    return this.events.find(ids.length === 1 ? { declarationId: ids[0]! } : { declarationId: { $in: ids } }).toArray();
  }

  private async queueBookkeeping(id: string): Promise<Pick<QueueDoc, 'attempts' | 'lastError'> | undefined> {
    return (await this.queue.findOne({ _id: id }, { projection: { attempts: 1, lastError: 1 } })) ?? undefined;
  }

  /** Highest-ranked step per declaration (and optionally when it last changed). */
  private async currentSteps(
    filter: Filter<EventDoc>,
    withLastAt = false,
  ): Promise<Map<string, { status: string; rank: number; terminal: boolean; messageGuid?: string; lastAt?: Date }>> {
    const events = await this.events
      .find(filter, { projection: { declarationId: 1, status: 1, rank: 1, terminal: 1, messageGuid: 1, at: 1 } })
      .toArray();
    const out = new Map<
      string,
      { status: string; rank: number; terminal: boolean; messageGuid?: string; lastAt?: Date }
    >();
    for (const e of events) {
      const seen = out.get(e.declarationId);
      const lastAt = withLastAt ? (seen?.lastAt && seen.lastAt > e.at ? seen.lastAt : e.at) : undefined;
      const guid = e.messageGuid ?? seen?.messageGuid;
      if (!seen || e.rank > seen.rank)
        out.set(e.declarationId, { status: e.status, rank: e.rank, terminal: e.terminal, messageGuid: guid, lastAt });
      else {
        seen.lastAt = lastAt;
        seen.messageGuid = guid;
      }
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------------
// Pure helpers
// ---------------------------------------------------------------------------------------------------

type EventOwner = Pick<QueueDoc, '_id' | 'sellerId' | 'center' | 'messageType' | 'orderNo' | 'declaredAt'>;

function stepEvent(
  owner: EventOwner,
  status: string,
  at: Date,
  entry: Omit<HistoryEntry, 'eventId' | 'status' | 'at'>,
  extra: Partial<Pick<EventDoc, 'attempts' | 'lastError' | 'messageGuid' | 'digest'>> = {},
): EventDoc {
  const rank = statusRank(status);
  const event: EventDoc = {
    _id: stepId(owner._id, rank),
    eventId: new ObjectId().toHexString(),
    declarationId: owner._id,
    status,
    rank,
    terminal: isTerminal(status, owner.messageType as MessageType),
    at,
    source: entry.source,
    sellerId: owner.sellerId,
    center: owner.center,
    messageType: owner.messageType,
    orderNo: owner.orderNo,
    declaredAt: owner.declaredAt,
  };
  if (entry.receiptId !== undefined) event.receiptId = entry.receiptId;
  if (entry.signer !== undefined) event.signer = { subject: entry.signer.subject, serialHex: entry.signer.serialHex };
  if (entry.info !== undefined) event.info = entry.info;
  if (entry.documentKeys !== undefined) event.documentKeys = { ...entry.documentKeys };
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) (event as unknown as Record<string, unknown>)[k] = v;
  return event;
}

function trackingDocFor(l: LeaseDoc, messageGuid: string, status: string): TrackingDoc {
  return {
    _id: messageGuid,
    declarationId: l.declarationId,
    status,
    rank: statusRank(status),
    sellerId: l.sellerId,
    platformCode: l.platformCode,
    orderNo: l.orderNo,
    messageType: l.messageType,
    center: l.center,
    declaredAt: l.declaredAt,
  };
}

function subjectOf(t: TrackingDoc): DeclarationSubject {
  return {
    id: t.declarationId,
    sellerId: t.sellerId,
    platformCode: t.platformCode,
    orderNo: t.orderNo,
    messageType: t.messageType,
    center: t.center,
    status: t.status,
    createdAt: t.declaredAt,
  };
}

function subjectOfBase(d: DeclarationDoc, status: string): DeclarationSubject {
  return {
    id: d._id,
    sellerId: d.sellerId,
    platformCode: d.platformCode,
    orderNo: d.orderNo,
    messageType: d.messageType,
    center: d.center,
    status,
    createdAt: d.createdAt,
  };
}

function subjectOfView(d: DeclarationView): DeclarationSubject {
  return {
    id: d.id,
    sellerId: d.sellerId,
    platformCode: d.platformCode,
    orderNo: d.orderNo,
    messageType: d.messageType,
    center: d.center,
    status: d.status,
    createdAt: d.createdAt,
  };
}

function withSubject(outcome: Omit<StatusOutcome, 'subject'> & { declaration: DeclarationView }): StatusOutcome {
  return { ...outcome, subject: subjectOfView(outcome.declaration) };
}

function acceptedEvent(d: DeclarationDoc): EventDoc {
  return stepEvent(
    eventOwner(d),
    'accepted',
    d.createdAt,
    { source: 'api', info: `request ${d.requestId}` },
    { attempts: 0 },
  );
}

function eventOwner(d: DeclarationDoc): EventOwner {
  return {
    _id: d._id,
    sellerId: d.sellerId,
    center: d.center,
    messageType: d.messageType,
    orderNo: d.orderNo,
    declaredAt: d.createdAt,
  };
}

function queueDocFor(d: DeclarationDoc, order: DeclarationOrderDoc, now: Date, recreated = false): QueueDoc {
  return {
    ...(recreated ? { recreated: true } : {}),
    _id: d._id,
    dueAt: now,
    attempts: 0,
    messageType: d.messageType,
    center: d.center,
    requestId: d.requestId,
    sellerId: d.sellerId,
    platformCode: d.platformCode,
    orderNo: d.orderNo,
    declaredAt: d.createdAt,
    orderSealed: order.orderSealed,
  };
}

/** The owner of a step, from a lease or a tracking entry (both carry the declaration's clear fields). */
function leaseOwner(
  l: Pick<LeaseDoc, 'declarationId' | 'sellerId' | 'center' | 'messageType' | 'orderNo' | 'declaredAt'>,
): EventOwner {
  return {
    _id: l.declarationId,
    sellerId: l.sellerId,
    center: l.center,
    messageType: l.messageType,
    orderNo: l.orderNo,
    declaredAt: l.declaredAt,
  };
}

function idempotencyKey(d: Pick<DeclarationDoc, 'platformCode' | 'orderNo' | 'messageType'>): string {
  return `${d.platformCode}\u0000${d.orderNo}\u0000${d.messageType}`;
}

function currentStep(events: EventDoc[]): EventDoc | undefined {
  let best: EventDoc | undefined;
  for (const e of events) if (!best || e.rank > best.rank) best = e;
  return best;
}

function toHistoryEntry(e: EventDoc): HistoryEntry {
  const h: HistoryEntry = { eventId: e.eventId, status: e.status, at: e.at, source: e.source };
  if (e.receiptId !== undefined && e.receiptId !== null) h.receiptId = e.receiptId;
  if (e.signer) h.signer = { subject: e.signer.subject, serialHex: e.signer.serialHex };
  if (e.info !== undefined && e.info !== null) h.info = e.info;
  if (e.documentKeys) h.documentKeys = { ...e.documentKeys };
  return h;
}

function toView({ base, events, queue }: ViewParts): DeclarationView {
  const history = [...events].sort((a, b) => (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
  const step = currentStep(history);
  const status = step?.status ?? 'accepted';
  const signed = history.find((e) => e.rank === SIGNED_RANK);
  const updatedAt = history.reduce((max, e) => (e.at > max ? e.at : max), base.createdAt);
  const view: DeclarationView = {
    id: base._id,
    sellerId: base.sellerId,
    platformCode: base.platformCode,
    orderNo: base.orderNo,
    messageType: base.messageType,
    direction: base.direction,
    tradeMode: base.tradeMode,
    customsCode: base.customsCode,
    center: base.center,
    status,
    terminal: step ? step.terminal : false,
    attempts: queue?.attempts ?? [...history].reverse().find((e) => typeof e.attempts === 'number')?.attempts ?? 0,
    amountCny: base.amountCny,
    requestId: base.requestId,
    history: history.map(toHistoryEntry),
    createdAt: base.createdAt,
    updatedAt,
  };
  const lastError = queue ? queue.lastError : [...history].reverse().find((e) => e.lastError)?.lastError;
  if (lastError) view.lastError = lastError;
  if (signed?.messageGuid) view.messageGuid = signed.messageGuid;
  if (signed?.digest) view.digest = signed.digest;
  if (base.buyerIdMasked) view.buyerIdMasked = base.buyerIdMasked;
  return view;
}

function baseFilter(filter: DeclarationFilter): Filter<DeclarationDoc> {
  const q: Filter<DeclarationDoc> = {};
  if (filter.sellerIds) q.sellerId = { $in: filter.sellerIds };
  if (filter.center?.length) q.center = { $in: filter.center };
  if (filter.messageType?.length) q.messageType = { $in: filter.messageType };
  if (filter.orderNo) q.orderNo = filter.orderNo;
  if (filter.from || filter.to)
    q.createdAt = { ...(filter.from ? { $gte: filter.from } : {}), ...(filter.to ? { $lt: filter.to } : {}) };
  return q;
}

function hasBaseFilter(filter: DeclarationFilter): boolean {
  return Object.keys(baseFilter(filter)).length > 0;
}

interface Cursor {
  t: number;
  id: string;
}

function encodeCursor(v: DeclarationView): string {
  return Buffer.from(JSON.stringify({ t: v.createdAt.getTime(), id: v.id })).toString('base64url');
}

/** Opaque cursor → position; a malformed cursor is a caller error with a clear message. */
export function decodeCursor(cursor: string): Cursor {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (
      parsed &&
      typeof parsed === 'object' &&
      typeof (parsed as Cursor).t === 'number' &&
      typeof (parsed as Cursor).id === 'string'
    )
      return parsed as Cursor;
  } catch {
    // fall through
  }
  throw new InvalidCursorError();
}

function afterCursor(c: Cursor): Filter<DeclarationDoc> {
  const t = new Date(c.t);
  return { $or: [{ createdAt: { $lt: t } }, { createdAt: t, _id: { $lt: c.id } }] };
}
