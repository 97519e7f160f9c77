import { randomUUID } from 'node:crypto';
import { ObjectId, type Collection, type Filter } from 'mongodb';
import type { BaygateOrder } from '../domain/order';
import { ALL_RANKS, decideTransition, isTerminal, statusRank } from '../domain/status';
import type { MessageType } from '../mapping/message-types';
import type {
  ClaimedDeclaration,
  DeclarationFilter,
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
  type StoreModels,
} from './models';
import { Coalescer } from './coalesce';
import { maskIdNumber, type PiiVault } from './pii';

/**
 * DeclarationStore on the append-only layout described in models.ts. Atomicity comes from unique inserts:
 *  - a status step is an insert into declaration_events with _id "<id>:<rank>": the same rank cannot be
 *    reached twice, and the status shown is the highest-ranked step, so it only moves forward;
 *  - a claim is an insert into dispatch_leases with _id "<id>#<seq>": exactly one worker wins claim <seq>;
 *  - markSigned is fenced by the "signed" step (the first signature stays the one sent), markQueued by
 *    the "queued" step.
 * The few plain updates left touch only dispatch_queue/dispatch_leases (small: work not yet handed over)
 * and are made only by the lease holder. The steps of one declaration are read by _id, slot by slot.
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

/** Up to this many declarations, their steps are read slot by slot (point lookups); above, in one scan. */
const POINT_READ_DECLARATIONS = 8;

export class MongoDeclarationStore implements DeclarationStore {
  private readonly declarations: Collection<DeclarationDoc>;
  private readonly orders: Collection<DeclarationOrderDoc>;
  /** Declarations are write-once: their clear fields can be cached (bounded, per process). */
  private readonly baseCache = new Map<string, DeclarationDoc>();
  private readonly events: Collection<EventDoc>;
  private readonly queue: Collection<QueueDoc>;
  private readonly leases: Collection<LeaseDoc>;
  private readonly manifests: Collection<ManifestDoc>;

  constructor(models: StoreModels, private readonly vault: PiiVault) {
    this.declarations = raw(models.Declaration);
    this.orders = raw(models.DeclarationOrder);
    this.events = raw(models.Event);
    this.queue = raw(models.Queue);
    this.leases = raw(models.Lease);
    this.manifests = raw(models.Manifest);
  }

  // -------------------------------------------------------------------------------------------------
  // Submission
  // -------------------------------------------------------------------------------------------------

  async insertMany(input: NewDeclaration[]): Promise<{ inserted: DeclarationView[]; existing: DeclarationView[] }> {
    if (input.length === 0) return { inserted: [], existing: [] };
    const now = new Date();
    const docs = input.map((d) => this.toDeclarationDoc(d, now));
    const sealed = input.map((d) => this.sealOrder(d));
    // Sealed order, then the declaration, then its first step, then the work item: a crash in between
    // leaves a declaration that `repairDispatchQueue` (or the retried submission below) completes, never
    // a work item without a declaration or a declaration without its order.
    await insertManyIgnoringDuplicates(this.orders, sealed);
    const duplicates = await insertManyIgnoringDuplicates(this.declarations, docs);
    const fresh = docs.filter((_, i) => !duplicates.has(i));

    const acceptedEvents = fresh.map((d) => acceptedEvent(d));
    await insertManyIgnoringDuplicates(this.events, acceptedEvents);
    await insertManyIgnoringDuplicates(this.queue, fresh.map((d) => queueDocFor(d, now)));

    for (const d of fresh) this.remember(d);
    const inserted = fresh.map((d, i) => toView({ base: d, events: [acceptedEvents[i]!], queue: { attempts: 0 } }));
    if (duplicates.size === 0) return { inserted, existing: [] };

    const wanted = docs.filter((_, i) => duplicates.has(i));
    const existingDocs = await this.existingFor(wanted);
    // The sealed orders of refused duplicates stored under other ids must not stay behind. (With ids
    // derived from the key, as the submission makes them, the ids are the same and nothing goes.)
    const existingIds = new Set(existingDocs.map((d) => d._id));
    const orphanOrders = wanted.map((d) => d._id).filter((id) => !existingIds.has(id));
    if (orphanOrders.length) await deleteByIds(this.orders, orphanOrders);
    const existing = await this.views(existingDocs);
    await this.completeInterruptedInserts(existing, existingDocs, now);
    return { inserted, existing };
  }

  /** The stored declarations that refused these as duplicates: by id first, then by the key. */
  private async existingFor(wanted: DeclarationDoc[]): Promise<DeclarationDoc[]> {
    const byKey = new Map<string, DeclarationDoc>();
    for (const d of (await findByIds(this.declarations, wanted.map((w) => w._id))).values()) byKey.set(idempotencyKey(d), d);
    const missing = wanted.filter((w) => !byKey.has(idempotencyKey(w)));
    if (missing.length) {
      // Ids not derived from the key (callers that make their own): the lookup by key scans on FerretDB v1.
      const found = await this.declarations
        .find({ $or: missing.map((d) => ({ platformCode: d.platformCode, orderNo: d.orderNo, messageType: d.messageType })) })
        .toArray();
      for (const d of found) byKey.set(idempotencyKey(d), d);
    }
    const existingDocs: DeclarationDoc[] = [];
    for (const w of wanted) {
      const existing = byKey.get(idempotencyKey(w));
      if (!existing) throw new Error(`declaration id ${w._id} is already used by another declaration (not ${w.platformCode}/${w.orderNo}/${w.messageType})`);
      if (!existingDocs.includes(existing)) existingDocs.push(existing);
    }
    return existingDocs;
  }

  /**
   * A retried submission finds declarations an earlier attempt did not finish (a crash between the
   * inserts): one without its first step gets it, and one still to be dispatched (accepted or signed)
   * gets its work item back if it has none. Both inserts are idempotent.
   */
  private async completeInterruptedInserts(views: DeclarationView[], docs: DeclarationDoc[], now: Date): Promise<void> {
    const undispatched = docs.filter((_, i) => views[i]!.history.length === 0 || statusRank(views[i]!.status) <= SIGNED_RANK);
    if (undispatched.length === 0) return;
    const inQueue = await findByIds(this.queue, undispatched.map((d) => d._id), { projection: { _id: 1 } });
    const lost = undispatched.filter((d) => !inQueue.has(d._id));
    if (lost.length === 0) return;
    await insertManyIgnoringDuplicates(this.events, lost.map((d) => acceptedEvent(d)));
    await insertManyIgnoringDuplicates(this.queue, lost.map((d) => queueDocFor(d, now)));
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
      const order = await this.orders.findOne({ _id: base._id }, { projection: { _id: 1 } });
      if (!order) continue;
      if (!step) await insertManyIgnoringDuplicates(this.events, [acceptedEvent(base)]);
      await insertManyIgnoringDuplicates(this.queue, [queueDocFor(base, now)]);
      repaired.push(base._id);
    }
    return repaired;
  }

  /**
   * Key rotation: re-seals, with the newest PII key, every stored value sealed with an older one (orders,
   * manifests). Run after putting a new key first in PII_KEYS; once it reports 0, the old key
   * can leave the ring. Returns how many values were re-sealed. Maintenance job: it scans everything.
   */
  async reencryptAll(): Promise<number> {
    const current = this.vault.currentKeyId;
    let count = 0;
    for (const d of await this.orders.find({ 'orderSealed.k': { $ne: current } }).toArray()) {
      await this.orders.updateOne({ _id: d._id }, { $set: { orderSealed: this.vault.reencrypt(d.orderSealed, orderContext(d._id)) } });
      count++;
    }
    for (const m of await this.manifests.find({ 'xmlSealed.k': { $ne: current } }, { projection: { xmlSealed: 1, declarationId: 1 } }).toArray()) {
      await this.manifests.updateOne({ _id: m._id }, { $set: { xmlSealed: this.vault.reencrypt(m.xmlSealed, manifestContext(m.declarationId)) } });
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
    // The leases are few (work in hand): read them whole. The work queue holds only what is not yet
    // handed over, in slim documents, so its scan (FerretDB v1 has no other way) stays cheap.
    const leaseState = await this.leaseState();
    const busy = [...leaseState.entries()].filter(([, l]) => !l.released && l.until > now).map(([id]) => id);
    const due = await this.queue
      .find({ dueAt: { $lte: now }, ...(busy.length ? { _id: { $nin: busy } } : {}) })
      .sort({ dueAt: 1, _id: 1 })
      .limit(limit * 3 + 10)
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
    // drop it (its lease too), or it would be published twice. Same for one whose "queued" step exists
    // (handed over, but the holder died before removing the work item): finish its removal instead.
    const wonIds = won.map((w) => w.item._id);
    const [present, orders, signedSteps, queuedSteps] = await Promise.all([
      findByIds(this.queue, wonIds, { projection: { _id: 1 } }),
      findByIds(this.orders, wonIds),
      findByIds(this.events, wonIds.map((id) => stepId(id, SIGNED_RANK))),
      findByIds(this.events, wonIds.map((id) => stepId(id, QUEUED_RANK)), { projection: { _id: 1 } }),
    ]);
    const gone = won.filter((w) => !present.has(w.item._id));
    if (gone.length) await deleteByIds(this.leases, gone.map((w) => w.lease._id));
    const handedOver = won.filter((w) => present.has(w.item._id) && queuedSteps.has(stepId(w.item._id, QUEUED_RANK)));
    if (handedOver.length) await this.leaveDispatch(handedOver.map((w) => w.item._id));
    const unsealed = won.filter((w) => present.has(w.item._id) && !queuedSteps.has(stepId(w.item._id, QUEUED_RANK)) && !orders.has(w.item._id));
    for (const w of unsealed) await this.recordFailure(w.item._id, w.lease.token, 'the sealed order of this declaration is missing', { permanent: true });
    const claimable = won.filter((w) => present.has(w.item._id) && !queuedSteps.has(stepId(w.item._id, QUEUED_RANK)) && orders.has(w.item._id));
    if (claimable.length === 0) return [];

    const guids = claimable.flatMap((w) => signedSteps.get(stepId(w.item._id, SIGNED_RANK))?.messageGuid ?? []);
    const manifests = await findByIds(this.manifests, guids);
    return claimable.map(({ item: q, lease }) => {
      const payload = this.vault.openJson<SealedOrderPayload>(orders.get(q._id)!.orderSealed, orderContext(q._id));
      const guid = signedSteps.get(stepId(q._id, SIGNED_RANK))?.messageGuid;
      const manifest = guid ? manifests.get(guid) : undefined;
      const c: ClaimedDeclaration = {
        id: q._id,
        messageType: q.messageType,
        center: q.center,
        status: manifest ? 'signed' : 'accepted',
        attempts: lease.seq - 1,
        requestId: q.requestId,
        order: payload.order,
        leaseToken: lease.token,
      };
      if (payload.extra !== undefined) c.extra = payload.extra;
      if (manifest) c.manifest = { xml: this.vault.openText(manifest.xmlSealed, manifestContext(q._id)), messageGuid: manifest.messageGuid, digest: manifest.digest };
      return c;
    });
  }

  /** Current (highest-seq) lease of each declaration that has one. */
  private async leaseState(ids?: string[]): Promise<Map<string, LeaseDoc>> {
    const filter: Filter<LeaseDoc> = ids ? (ids.length === 1 ? { declarationId: ids[0]! } : { declarationId: { $in: ids } }) : {};
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
   * of a declaration wins (its "signed" step is inserted first); a later one is refused (false) unless it
   * is the same manifest again (true, idempotent). Every manifest is kept, under its guid.
   */
  async markSignedMany(items: SignRequest[]): Promise<boolean[]> {
    if (items.length === 0) return [];
    const held = await this.holding(items);
    const mine = items.filter((i) => held.has(i.id));
    if (mine.length === 0) return items.map(() => false);
    const now = new Date();
    // The manifest (keyed by guid: what receipts are matched by) strictly before the step: once the step
    // exists a retry re-publishes this manifest without coming back here, so its receipts must already
    // find it (docs/CHAOS.md finding 2). A loser's manifest is harmless: it is never published.
    await this.storeManifests(
      mine.map((i) => ({
        _id: i.manifest.messageGuid,
        declarationId: i.id,
        messageGuid: i.manifest.messageGuid,
        digest: i.manifest.digest,
        signer: { subject: i.manifest.signer.subject, serialHex: i.manifest.signer.serialHex },
        xmlSealed: this.vault.sealText(i.manifest.xml, manifestContext(i.id)),
        createdAt: now,
      })),
    );
    // The same declaration twice in one batch: only its first request competes.
    const firstPerId = new Map<string, SignRequest>();
    for (const i of mine) if (!firstPerId.has(i.id)) firstPerId.set(i.id, i);
    const contenders = [...firstPerId.values()];
    const lost = await insertManyIgnoringDuplicates(
      this.events,
      contenders.map((c) => {
        const lease = held.get(c.id)!;
        return stepEvent(leaseOwner(lease), 'signed', now, { source: 'worker', signer: c.manifest.signer }, { attempts: lease.attempts, messageGuid: c.manifest.messageGuid, digest: c.manifest.digest });
      }),
    );
    // Who holds each signature now: the winners, plus (only if some lost) what the losers found.
    const signedNow = new Map(contenders.filter((_, k) => !lost.has(k)).map((w) => [w.id, w.manifest.messageGuid]));
    if (lost.size) {
      const found = await findByIds(this.events, contenders.filter((_, k) => lost.has(k)).map((c) => stepId(c.id, SIGNED_RANK)));
      for (const e of found.values()) if (e.messageGuid) signedNow.set(e.declarationId, e.messageGuid);
    }
    return items.map((i) => held.has(i.id) && signedNow.get(i.id) === i.manifest.messageGuid);
  }

  /** Inserts manifests; the same guid again is fine for the same declaration, an error for another. */
  private async storeManifests(docs: ManifestDoc[]): Promise<void> {
    const dup = await insertManyIgnoringDuplicates(this.manifests, docs);
    if (dup.size === 0) return;
    const clashing = docs.filter((_, k) => dup.has(k));
    const owners = await findByIds(this.manifests, clashing.map((c) => c._id), { projection: { declarationId: 1 } });
    const wrong = clashing.find((c) => owners.get(c._id)?.declarationId !== c.declarationId);
    if (wrong) throw new Error(`message guid ${wrong._id} already belongs to declaration ${owners.get(wrong._id)?.declarationId}`);
  }

  async markQueued(items: { id: string; leaseToken: string }[], at = new Date()): Promise<number> {
    if (items.length === 0) return 0;
    const [held, signed] = await Promise.all([this.holding(items), findByIds(this.events, items.map((i) => stepId(i.id, SIGNED_RANK)))]);
    if (held.size === 0) return 0;
    const work = [...held.values()].filter((l) => signed.has(stepId(l.declarationId, SIGNED_RANK)));
    if (work.length === 0) return 0;
    const events = work.map((l) => {
      const s = signed.get(stepId(l.declarationId, SIGNED_RANK))!;
      return stepEvent(leaseOwner(l), 'queued', at, { source: 'worker' }, { attempts: l.attempts, lastError: l.lastError, messageGuid: s.messageGuid, digest: s.digest });
    });
    const already = await insertManyIgnoringDuplicates(this.events, events);
    await this.leaveDispatch(work.map((l) => l.declarationId));
    return work.length - already.size;
  }

  /**
   * Handed over (or given up): the work item and its leases go. A crash before this leaves a work item
   * whose "queued" step exists; the next claimer sees the step and finishes the removal.
   */
  private async leaveDispatch(ids: string[]): Promise<void> {
    // The work item strictly first: a claimer reads the leases before the work items, so while a lease
    // exists the item is busy, and once the item is gone nobody can claim it — even when the lease
    // sequence restarts at 1 because the leases were deleted.
    await deleteByIds(this.queue, ids);
    await this.leases.deleteMany(ids.length === 1 ? { declarationId: ids[0]! } : { declarationId: { $in: ids } });
  }

  async recordFailure(id: string, leaseToken: string, error: string, outcome: { retryAt: Date } | { permanent: true }): Promise<void> {
    const held = (await this.holding([{ id, leaseToken }])).get(id);
    if (!held) return; // our lease was taken over: the new holder decides
    const lastError = error.slice(0, 2000);
    if ('retryAt' in outcome) {
      await this.queue.updateOne({ _id: id }, { $set: { dueAt: outcome.retryAt, lastError }, $inc: { attempts: 1 } });
      await this.leases.updateOne({ _id: held._id }, { $set: { released: true, until: new Date() } });
      return;
    }
    const event = stepEvent(leaseOwner(held), 'failed', new Date(), { source: 'worker', info: lastError }, { attempts: held.attempts + 1, lastError });
    await insertManyIgnoringDuplicates(this.events, [event]); // already terminal: nothing to add
    await this.leaveDispatch([id]);
  }

  // -------------------------------------------------------------------------------------------------
  // Status from receipts / connectors
  // -------------------------------------------------------------------------------------------------

  async applyStatus(
    match: { id: string } | { messageGuid: string },
    status: string,
    entry: Omit<HistoryEntry, 'eventId' | 'status'>,
  ): Promise<{ applied: boolean; declaration?: DeclarationView; reason?: string }> {
    const id = 'id' in match ? match.id : await this.declarationOfGuid(match.messageGuid);
    if (!id) return { applied: false, reason: 'unknown-declaration' };
    const base = await this.base(id);
    if (!base) return { applied: false, reason: 'unknown-declaration' };
    const [found, queued] = await Promise.all([this.eventsOf([id]), this.queueBookkeeping(id)]);
    let events = found;
    const current = currentStep(events)?.status ?? 'accepted';
    const decision = decideTransition(current, status, base.messageType);
    if (!decision.apply) return { applied: false, reason: decision.reason, declaration: toView({ base, events, queue: queued }) };
    const event = stepEvent(
      { _id: id, sellerId: base.sellerId, center: base.center, messageType: base.messageType, orderNo: base.orderNo, declaredAt: base.createdAt },
      status,
      entry.at,
      entry,
    );
    try {
      await this.events.insertOne(event);
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      // A concurrent change reached this rank first.
      events = await this.eventsOf([id]);
      const winner = events.find((e) => e._id === event._id);
      return { applied: false, reason: winner?.status === status ? 'duplicate' : 'out-of-order', declaration: toView({ base, events, queue: queued }) };
    }
    events.push(event);
    if (decision.rank >= QUEUED_RANK && queued) {
      // Customs (or the center) has it: nothing left to dispatch, whatever a worker still holds.
      await this.leaveDispatch([id]);
      return { applied: true, declaration: toView({ base, events }) };
    }
    return { applied: true, declaration: toView({ base, events, queue: queued }) };
  }

  // -------------------------------------------------------------------------------------------------
  // Reads
  // -------------------------------------------------------------------------------------------------

  async findById(id: string): Promise<DeclarationView | null> {
    const base = await this.base(id);
    return base ? (await this.views([base]))[0]! : null;
  }

  async findByMessageGuid(messageGuid: string): Promise<DeclarationView | null> {
    const id = await this.declarationOfGuid(messageGuid);
    return id ? this.findById(id) : null;
  }

  private async declarationOfGuid(messageGuid: string): Promise<string | undefined> {
    return (await this.manifests.findOne({ _id: messageGuid }, { projection: { declarationId: 1 } }))?.declarationId;
  }

  async findByOrderNo(orderNo: string, sellerIds?: string[]): Promise<DeclarationView[]> {
    const filter: Filter<DeclarationDoc> = { orderNo };
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

  async list(filter: DeclarationFilter, page: { limit: number; cursor?: string }): Promise<{ items: DeclarationView[]; nextCursor?: string }> {
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
      const views = await this.views(docs );
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
    const steps = await this.currentSteps(hasBaseFilter(filter) ? { declarationId: { $in: ids.map((d) => d._id) } } : {});
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
    const steps = await this.currentSteps(hasBaseFilter(filter) ? { declarationId: { $in: ids.map((d) => d._id) } } : {}, true);
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
    const docs = await this.declarations.find({ _id: { $in: stuckIds } }).sort({ createdAt: 1, _id: 1 }).toArray();
    return this.views(docs );
  }

  async eventsSince(afterEventId: string | undefined, limit: number, filter: DeclarationFilter = {}): Promise<{ declaration: DeclarationView; event: HistoryEntry }[]> {
    const query: Filter<EventDoc> = {};
    if (afterEventId) query.eventId = { $gt: afterEventId };
    if (filter.sellerIds) query.sellerId = { $in: filter.sellerIds };
    if (filter.center?.length) query.center = { $in: filter.center };
    if (filter.messageType?.length) query.messageType = { $in: filter.messageType };
    if (filter.orderNo) query.orderNo = filter.orderNo;
    if (filter.status?.length) query.status = { $in: filter.status };
    if (filter.from || filter.to) query.declaredAt = { ...(filter.from ? { $gte: filter.from } : {}), ...(filter.to ? { $lt: filter.to } : {}) };
    const events = await this.events.find(query).sort({ eventId: 1 }).limit(Math.max(1, limit)).toArray();
    if (events.length === 0) return [];
    const ids = [...new Set(events.map((e) => e.declarationId))];
    const docs = [...(await findByIds(this.declarations, ids)).values()];
    const views = new Map((await this.views(docs )).map((v) => [v.id, v]));
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
      findByIds(this.queue, ids, { projection: { attempts: 1, lastError: 1 }, scanAbove: POINT_READ_DECLARATIONS }),
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

  /**
   * The steps of these declarations. For a few, slot by slot (one lookup per possible rank, by _id: cheap
   * whatever the size of the log); for many (broker lists), one query on declarationId.
   */
  private async eventsOf(ids: string[]): Promise<EventDoc[]> {
    if (ids.length > POINT_READ_DECLARATIONS) {
      return this.events.find(ids.length === 1 ? { declarationId: ids[0]! } : { declarationId: { $in: ids } }).toArray();
    }
    const found = await findByIds(this.events, ids.flatMap((id) => ALL_RANKS.map((rank) => stepId(id, rank))));
    return [...found.values()];
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
    const out = new Map<string, { status: string; rank: number; terminal: boolean; messageGuid?: string; lastAt?: Date }>();
    for (const e of events) {
      const seen = out.get(e.declarationId);
      const lastAt = withLastAt ? (seen?.lastAt && seen.lastAt > e.at ? seen.lastAt : e.at) : undefined;
      const guid = e.messageGuid ?? seen?.messageGuid;
      if (!seen || e.rank > seen.rank) out.set(e.declarationId, { status: e.status, rank: e.rank, terminal: e.terminal, messageGuid: guid, lastAt });
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

function acceptedEvent(d: DeclarationDoc): EventDoc {
  return stepEvent(eventOwner(d), 'accepted', d.createdAt, { source: 'api', info: `request ${d.requestId}` }, { attempts: 0 });
}

function eventOwner(d: DeclarationDoc): EventOwner {
  return { _id: d._id, sellerId: d.sellerId, center: d.center, messageType: d.messageType, orderNo: d.orderNo, declaredAt: d.createdAt };
}

function queueDocFor(d: DeclarationDoc, now: Date): QueueDoc {
  return {
    _id: d._id,
    dueAt: now,
    attempts: 0,
    messageType: d.messageType,
    center: d.center,
    requestId: d.requestId,
    sellerId: d.sellerId,
    orderNo: d.orderNo,
    declaredAt: d.createdAt,
  };
}

function leaseOwner(l: LeaseDoc): EventOwner {
  return { _id: l.declarationId, sellerId: l.sellerId, center: l.center, messageType: l.messageType, orderNo: l.orderNo, declaredAt: l.declaredAt };
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
  if (filter.from || filter.to) q.createdAt = { ...(filter.from ? { $gte: filter.from } : {}), ...(filter.to ? { $lt: filter.to } : {}) };
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
    if (parsed && typeof parsed === 'object' && typeof (parsed as Cursor).t === 'number' && typeof (parsed as Cursor).id === 'string') return parsed as Cursor;
  } catch {
    // fall through
  }
  throw new InvalidCursorError();
}

export class InvalidCursorError extends Error {
  constructor() {
    super('invalid page cursor');
    this.name = 'InvalidCursorError';
  }
}

function afterCursor(c: Cursor): Filter<DeclarationDoc> {
  const t = new Date(c.t);
  return { $or: [{ createdAt: { $lt: t } }, { createdAt: t, _id: { $lt: c.id } }] };
}
