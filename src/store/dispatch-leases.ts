import { randomUUID } from 'node:crypto';
import type { AnyBulkWriteOperation, Collection } from 'mongodb';
import { statusRank } from '../domain/status';
import type { ClaimedDeclaration } from './contracts';
import { findByValues } from './bulk-writes';
import { Coalescer } from './coalesce';
import {
  batchStepEventId,
  eventIdOf,
  feedEntry,
  historyEntry,
  IDENTITY,
  one,
  orderContext,
  WITHOUT_HISTORY,
  type SealedOrderPayload,
} from './declaration-doc';
import type { DeclarationFeed } from './declaration-feed';
import type { ManifestArchive } from './manifests';
import type { DeclarationDoc, DeclarationIdentityDoc, DeclarationOrderDoc } from './models';
import type { PiiVault } from './pii';

const SIGNED_RANK = statusRank('signed');
const QUEUED_RANK = statusRank('queued');
const FAILED_RANK = statusRank('failed');

export interface SignRequest {
  id: string;
  leaseToken: string;
  manifest: { xml: string; messageGuid: string; digest: string; signer: { subject: string; serialHex: string } };
}

type Held = { id: string; leaseToken: string };

/**
 * Dispatch: claims, signatures, hand-over and failures, each a conditional update of the declaration's own
 * document (MongoDB's single-document atomicity; no lease documents, no markers):
 *  - a declaration is due while it carries `dueAt` (accepted or signed, not handed over). A claim reads the
 *    earliest due through the `dueAt` index and takes each with `{_id, dueAt: {$lte: now}}`, setting
 *    `dueAt` to the lease's end and `lease.token` to the claim's token: of two workers racing for one,
 *    exactly one matches. A crashed worker's declarations are due again when their lease ends;
 *  - every later write of the holder is guarded by `lease.token`, so a worker whose lease was taken over
 *    changes nothing; the signature is fixed once (`messageGuid: {$exists: false}`), after its manifest was
 *    stored: every retry re-sends the same bytes;
 *  - "queued" (after the broker's confirm) and "failed" remove `dueAt` and the lease in the same update.
 */
export class DispatchLeases {
  /** Who each declaration claimed by this process is (for the feed entries of its next steps). */
  private readonly claimed = new Map<string, DeclarationIdentityDoc>();
  private readonly signCoalescer = new Coalescer<SignRequest, boolean>((batch) => this.markSignedMany(batch));

  constructor(
    private readonly declarations: Collection<DeclarationDoc>,
    private readonly orders: Collection<DeclarationOrderDoc>,
    private readonly manifests: ManifestArchive,
    private readonly feed: DeclarationFeed,
    private readonly vault: PiiVault,
    private readonly maxRemembered = 50_000,
  ) {}

  async claimDue(owner: string, leaseMs: number, limit: number, now = new Date()): Promise<ClaimedDeclaration[]> {
    if (limit <= 0) return [];
    const token = randomUUID();
    const until = new Date(now.getTime() + leaseMs);
    const won: DeclarationDoc[] = [];
    // Another worker may take some of the same candidates first: then read on past them (a few rounds).
    for (let round = 0; round < 3 && won.length < limit; round++) {
      const asked = limit - won.length;
      const candidates = await this.declarations
        .find({ dueAt: { $lte: now } }, { projection: WITHOUT_HISTORY })
        .sort({ dueAt: 1 })
        .limit(asked)
        .toArray();
      if (candidates.length === 0) break;
      const taken = await this.take(candidates, { owner, token }, until, now);
      won.push(...taken);
      if (taken.length === candidates.length || candidates.length < asked) break; // all taken, or none left
    }
    if (won.length === 0) return [];
    const [orders, signed] = await Promise.all([
      findByValues(
        this.orders,
        '_id',
        won.map((d) => d._id),
      ),
      this.manifests.xmlByGuid(won.flatMap((d) => (d.messageGuid ? [d.messageGuid] : []))),
    ]);
    const orderOf = new Map(orders.map((o) => [o._id, o.orderSealed]));
    const out: ClaimedDeclaration[] = [];
    for (const d of won) {
      const sealed = orderOf.get(d._id);
      if (!sealed) throw new Error(`declaration ${d._id} has no stored order`);
      const payload = this.vault.openJson<SealedOrderPayload>(sealed, orderContext(d._id));
      const manifest = d.messageGuid ? signed.get(d.messageGuid) : undefined;
      if (d.messageGuid && !manifest) throw new Error(`declaration ${d._id} is signed by a manifest not stored`);
      const c: ClaimedDeclaration = {
        id: d._id,
        messageType: d.messageType,
        center: d.center,
        status: manifest ? 'signed' : 'accepted',
        attempts: d.claims - 1,
        requestId: d.requestId,
        order: payload.order,
        leaseToken: holderToken(token, d._id),
      };
      if (payload.extra !== undefined) c.extra = payload.extra;
      if (manifest) c.manifest = { xml: manifest.xml, messageGuid: d.messageGuid!, digest: d.digest ?? '' };
      this.remember(d);
      out.push(c);
    }
    return out;
  }

  /**
   * Takes the candidates that are still due, in one conditional update per kind (unsigned or signed: the
   * signature is in the guard, so what was read of it is still true of what is taken). All taken, the
   * common case, needs no read back; otherwise what this claim won is read back by its token.
   */
  private async take(
    candidates: DeclarationDoc[],
    lease: { owner: string; token: string },
    until: Date,
    now: Date,
  ): Promise<DeclarationDoc[]> {
    const set = { $set: { dueAt: until, lease }, $inc: { claims: 1 } };
    const unsigned = candidates.filter((c) => !c.messageGuid).map((c) => c._id);
    const signed = candidates.filter((c) => c.messageGuid).map((c) => c._id);
    const [a, b] = await Promise.all([
      unsigned.length
        ? this.declarations.updateMany(
            { _id: { $in: unsigned }, dueAt: { $lte: now }, messageGuid: { $exists: false } },
            set,
          )
        : undefined,
      signed.length
        ? this.declarations.updateMany(
            { _id: { $in: signed }, dueAt: { $lte: now }, messageGuid: { $exists: true } },
            set,
          )
        : undefined,
    ]);
    const taken = (a?.modifiedCount ?? 0) + (b?.modifiedCount ?? 0);
    if (taken === candidates.length)
      return candidates.map((c) => ({ ...c, dueAt: until, lease, claims: c.claims + 1 }));
    if (taken === 0) return [];
    return (
      await findByValues(
        this.declarations,
        '_id',
        candidates.map((c) => c._id),
        { projection: WITHOUT_HISTORY },
      )
    ).filter((d) => d.lease?.token === lease.token);
  }

  /**
   * accepted → signed, only while the caller holds the lease. Concurrent calls are merged into one
   * markSignedMany (a worker signing a claimed batch in parallel pays one round trip per collection).
   */
  markSigned(id: string, leaseToken: string, manifest: SignRequest['manifest']): Promise<boolean> {
    return this.signCoalescer.call({ id, leaseToken, manifest });
  }

  /**
   * markSigned for a batch: one result per item, in order. The first signature of a declaration wins; a
   * later one is refused (false) unless it is the same manifest again (true: idempotent).
   */
  async markSignedMany(items: SignRequest[]): Promise<boolean[]> {
    if (items.length === 0) return [];
    const now = new Date();
    const firstPerId = new Map<string, SignRequest>();
    for (const i of items) if (!firstPerId.has(i.id)) firstPerId.set(i.id, i);
    const contenders = [...firstPerId.values()];
    const who = await this.identities(contenders.map((c) => c.id));
    const steps = contenders.map((c) => ({
      request: c,
      entry: historyEntry('signed', { at: now, source: 'worker', signer: c.manifest.signer }),
    }));
    const known = steps.filter((s) => who.has(s.request.id) && claimTokenOf(s.request.leaseToken, s.request.id));
    // The manifest (what every retry re-sends) and the feed entry strictly before the update that fixes it.
    await Promise.all([
      this.manifests.archive(
        known.map((s) => ({ declarationId: s.request.id, ...s.request.manifest })),
        now,
      ),
      this.feed.append(known.map((s) => feedEntry(who.get(s.request.id)!, s.entry))),
    ]);
    const applied = await this.update(
      known.map((s) => ({
        filter: {
          ...held(who.get(s.request.id)!, s.request),
          messageGuid: { $exists: false },
          terminal: false,
          rank: { $lt: SIGNED_RANK },
        },
        update: {
          $set: {
            status: 'signed',
            rank: SIGNED_RANK,
            messageGuid: s.request.manifest.messageGuid,
            digest: s.request.manifest.digest,
          },
          $push: { history: s.entry },
          $max: { updatedAt: now },
        },
      })),
    );
    // Who holds each declaration now, and with which signature: as written when every update applied (the
    // common case), read back otherwise (then the refused steps' feed entries go).
    const holders = new Map<string, { guid?: string; token?: string }>(
      known.map((s) => [
        s.request.id,
        { guid: s.request.manifest.messageGuid, token: claimTokenOf(s.request.leaseToken, s.request.id) },
      ]),
    );
    if (applied !== known.length) {
      const docs = await this.readBack(known);
      holders.clear();
      for (const d of docs) holders.set(d._id, { guid: d.messageGuid, token: d.lease?.token });
    }
    return items.map((i) => {
      const h = holders.get(i.id);
      const token = claimTokenOf(i.leaseToken, i.id);
      return !!h && !!token && h.guid === i.manifest.messageGuid && h.token === token;
    });
  }

  /** signed → queued after the broker's confirm; ends the lease and leaves dispatch. Returns how many moved. */
  async markQueued(items: Held[], at = new Date()): Promise<number> {
    if (items.length === 0) return 0;
    const who = await this.identities(items.map((i) => i.id));
    const steps = items
      .filter((i) => who.has(i.id) && claimTokenOf(i.leaseToken, i.id))
      .map((i) => ({ request: i, entry: { eventId: batchStepEventId(i.id, 'queued', at), status: 'queued' } }));
    await this.feed.append(steps.map((s) => feedEntry(who.get(s.request.id)!, s.entry)));
    // One update per claim (the declarations a worker hands over come from one claim, as a rule): the same
    // history entry for each, its event id derived from the declaration (batchStepEventId).
    const byClaim = new Map<string, string[]>();
    for (const s of steps) {
      const token = claimTokenOf(s.request.leaseToken, s.request.id)!;
      byClaim.set(token, [...(byClaim.get(token) ?? []), s.request.id]);
    }
    let moved = 0;
    for (const [token, ids] of byClaim) {
      const r = await this.declarations.updateMany(
        {
          _id: { $in: ids },
          'lease.token': token,
          messageGuid: { $exists: true },
          terminal: false,
          rank: { $lt: QUEUED_RANK },
        },
        {
          $set: { status: 'queued', rank: QUEUED_RANK },
          $unset: { dueAt: '', lease: '' },
          $push: { history: { status: 'queued', at, source: 'worker' } },
          $max: { updatedAt: at },
        },
      );
      moved += r.modifiedCount;
    }
    if (moved !== steps.length) await this.readBack(steps);
    for (const i of items) this.claimed.delete(i.id);
    return moved;
  }

  /** A failed attempt: due again at `retryAt`, or given up into `failed`. Ends the lease either way. */
  async recordFailure(
    id: string,
    leaseToken: string,
    error: string,
    outcome: { retryAt: Date } | { permanent: true },
  ): Promise<void> {
    const lastError = error.slice(0, 2000);
    const token = claimTokenOf(leaseToken, id);
    const who = token ? (await this.identities([id])).get(id) : undefined;
    if (!token || !who) return; // not a token of this declaration's claim, or no such declaration
    if ('retryAt' in outcome) {
      // Our lease taken over meanwhile: the filter matches nothing, and the new holder decides.
      await this.declarations.updateOne(held(who, { id, leaseToken }), {
        $set: { dueAt: outcome.retryAt, lastError },
        $unset: { lease: '' },
        $inc: { attempts: 1 },
      });
      return;
    }
    const now = new Date();
    const entry = historyEntry('failed', { at: now, source: 'worker', info: lastError });
    await this.feed.append([feedEntry(who, entry)]);
    const moved = await this.update([
      {
        filter: { ...held(who, { id, leaseToken }), terminal: false },
        update: {
          $set: { status: 'failed', rank: FAILED_RANK, terminal: true, lastError },
          $unset: { dueAt: '', lease: '' },
          $inc: { attempts: 1 },
          $push: { history: entry },
          $max: { updatedAt: now },
        },
      },
    ]);
    if (moved !== 1) await this.readBack([{ request: { id, leaseToken }, entry }]);
    this.claimed.delete(id);
  }

  /** Conditional updates, one per declaration, in one round trip; returns how many applied. */
  private async update(ops: { filter: object; update: object }[]): Promise<number> {
    if (ops.length === 0) return 0;
    const result = await this.declarations.bulkWrite(
      ops.map((op) => ({ updateOne: op }) as AnyBulkWriteOperation<DeclarationDoc>),
      { ordered: false },
    );
    return result.modifiedCount;
  }

  /**
   * The declarations of these steps as they are after an update that did not apply to all of them; the
   * feed entries of the steps that were not taken (not in the history) are withdrawn.
   */
  private async readBack(
    steps: { request: Held; entry: { eventId: string } }[],
  ): Promise<Pick<DeclarationDoc, '_id' | 'messageGuid' | 'lease' | 'history'>[]> {
    const docs = await findByValues(
      this.declarations,
      '_id',
      steps.map((s) => s.request.id),
      { projection: { messageGuid: 1, lease: 1, history: 1 } },
    );
    const inHistory = new Set(docs.flatMap((d) => (d.history ?? []).map((h) => eventIdOf(d._id, h))));
    await this.feed.withdraw(steps.filter((s) => !inHistory.has(s.entry.eventId)).map((s) => s.entry.eventId));
    return docs;
  }

  /** Who these declarations are: remembered from the claim, or read. */
  private async identities(ids: string[]): Promise<Map<string, DeclarationIdentityDoc>> {
    const out = new Map<string, DeclarationIdentityDoc>();
    const missing: string[] = [];
    for (const id of ids) {
      const known = this.claimed.get(id);
      if (known) out.set(id, known);
      else missing.push(id);
    }
    if (missing.length)
      for (const d of await findByValues(this.declarations, '_id', missing, { projection: IDENTITY }))
        out.set(d._id, d);
    return out;
  }

  private remember(d: DeclarationDoc): void {
    if (this.claimed.size >= this.maxRemembered) this.claimed.delete(this.claimed.keys().next().value!);
    this.claimed.set(d._id, {
      _id: d._id,
      sellerId: d.sellerId,
      platformCode: d.platformCode,
      orderNo: d.orderNo,
      messageType: d.messageType,
      center: d.center,
      createdAt: d.createdAt,
    });
  }
}

/** The filter of a write only the holder of this token may make to this declaration. */
function held(d: DeclarationIdentityDoc, h: Held) {
  return { ...one(d), 'lease.token': claimTokenOf(h.leaseToken, h.id) };
}

/** The token a holder is given for one declaration of a claim: the claim's token, bound to the declaration. */
function holderToken(claimToken: string, id: string): string {
  return `${claimToken}:${id}`;
}

/** The claim token a holder's token names for this declaration; undefined when it is not a token for it. */
function claimTokenOf(leaseToken: string, id: string): string | undefined {
  const suffix = `:${id}`;
  return leaseToken.length > suffix.length && leaseToken.endsWith(suffix)
    ? leaseToken.slice(0, -suffix.length)
    : undefined;
}
