import type { Collection, Filter } from 'mongodb';
import type { DeclarationFilter, DeclarationView, HistoryEntry } from './contracts';
import { findByValues } from './bulk-writes';
import { eventSecond, toView } from './declaration-doc';
import type { DeclarationDoc, FeedDoc } from './models';

/** Feed entries read per query (the last second of a full read is read again, whole, by the next). */
const CHUNK = 500;

/**
 * The feed: one entry per history entry of every declaration, under its event id (time-ordered),
 * for "every change since X" — server-sent events, webhooks, stats. MongoDB serves that from change streams
 * on a replica set; the test server has none, and a time-ordered page across many documents' embedded
 * histories cannot be read from an index. So each step writes its entry here, BEFORE the conditional update
 * that takes the step: an entry whose step was never taken (a lost race, a crash in between) is an orphan
 * that readers skip, as they skip an entry whose update is still on its way (the readers re-read a window
 * behind their newest id). An entry written after the update could be lost for good by a crash between.
 *
 * Pages are read by `t`, the second of the event id, as a date: a range, sort and limit on a date field is
 * what an index serves on MongoDB and on the test server alike (a range of strings is not pushed down
 * there). Within a second the entries are put in event-id order here, and a second cut by the limit is read
 * again, whole, so no entry is skipped.
 */
export class DeclarationFeed {
  constructor(
    private readonly feed: Collection<FeedDoc>,
    private readonly declarations: Collection<DeclarationDoc>,
  ) {}

  /** Writes entries before their steps are taken (idempotent: the same event id twice is one entry). */
  async append(entries: readonly FeedDoc[]): Promise<void> {
    if (entries.length === 0) return;
    try {
      await this.feed.insertMany([...entries], { ordered: false });
    } catch (err) {
      const e = err as { writeErrors?: { code?: number }[] };
      if (!e.writeErrors?.length || e.writeErrors.some((w) => w.code !== 11000)) throw err;
    }
  }

  /** Removes the entries of steps that were not taken (best effort: readers skip orphans anyway). */
  async withdraw(eventIds: readonly string[]): Promise<void> {
    if (eventIds.length === 0) return;
    await this.feed.deleteMany({ _id: { $in: [...eventIds] } }).catch(() => undefined);
  }

  /** History entries after `afterEventId` (exclusive), oldest first, with their declarations as they are now. */
  async eventsSince(
    afterEventId: string | undefined,
    limit: number,
    filter: DeclarationFilter = {},
  ): Promise<{ declaration: DeclarationView; event: HistoryEntry }[]> {
    const want = Math.max(1, limit);
    const out: { declaration: DeclarationView; event: HistoryEntry }[] = [];
    let from = afterEventId ? eventSecond(afterEventId) : new Date(0);
    for (let round = 0; round < 50 && out.length < want; round++) {
      const { entries, next } = await this.secondsFrom(from, filter);
      const after = entries.filter((e) => !afterEventId || e._id > afterEventId);
      for (let i = 0; i < after.length && out.length < want;) {
        const slice = after.slice(i, i + want - out.length);
        i += slice.length;
        await this.resolve(slice, out);
      }
      if (!next) break;
      from = next;
    }
    return out;
  }

  /**
   * The entries of the whole seconds from `from` on (as many as one read brings), in event-id order, and
   * the second to read on from (none: nothing after).
   */
  private async secondsFrom(from: Date, filter: DeclarationFilter): Promise<{ entries: FeedDoc[]; next?: Date }> {
    const rows = await this.feed
      .find(feedQuery({ $gte: from }, filter))
      .sort({ t: 1 })
      .limit(CHUNK)
      .toArray();
    if (rows.length < CHUNK) return { entries: byEventId(rows) };
    const last = rows[rows.length - 1]!.t;
    const whole = rows.filter((r) => r.t.getTime() < last.getTime());
    if (whole.length > 0) return { entries: byEventId(whole), next: last };
    // One second holds more than a read: read that second alone, whole.
    const second = await this.feed.find(feedQuery(last, filter)).toArray();
    return { entries: byEventId(second), next: new Date(last.getTime() + 1000) };
  }

  /** Pairs entries with their declarations' history entries; orphans (steps not taken) are skipped. */
  private async resolve(
    entries: FeedDoc[],
    out: { declaration: DeclarationView; event: HistoryEntry }[],
  ): Promise<void> {
    if (entries.length === 0) return;
    const docs = await findByValues(
      this.declarations,
      '_id',
      entries.map((e) => e.declarationId),
    );
    const views = new Map(docs.map((d) => [d._id, toView(d)]));
    for (const e of entries) {
      const declaration = views.get(e.declarationId);
      const event = declaration?.history.find((h) => h.eventId === e._id);
      if (declaration && event) out.push({ declaration, event });
    }
  }
}

function byEventId(entries: FeedDoc[]): FeedDoc[] {
  return entries.sort((a, b) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0));
}

function feedQuery(t: Date | { $gte: Date }, filter: DeclarationFilter): Filter<FeedDoc> {
  const q: Filter<FeedDoc> = { t };
  if (filter.sellerIds) q.sellerId = { $in: filter.sellerIds };
  if (filter.center?.length) q.center = { $in: filter.center };
  if (filter.messageType?.length) q.messageType = { $in: filter.messageType };
  if (filter.orderNo) q.orderNo = filter.orderNo;
  if (filter.status?.length) q.status = { $in: filter.status };
  if (filter.from || filter.to)
    q.declaredAt = { ...(filter.from ? { $gte: filter.from } : {}), ...(filter.to ? { $lt: filter.to } : {}) };
  return q;
}
