import type { Connection } from 'mongoose';
import type { CapacityLedger } from './routing';

/**
 * CapacityLedger in MongoDB: one counter document per center per day (`_id` "<center>:<YYYY-MM-DD>"),
 * incremented with an upserting `$inc`, so every gateway copy counts into the same document. Old days
 * are left for reporting; a TTL index removes them after `retainDays`.
 *
 * On MongoDB `$inc` is atomic. On FerretDB 1.24 with its SQLite backend (what `npm run services` starts)
 * it is NOT: concurrent updates of one document lose increments (50 parallel `$inc` → ~15; even a
 * compare-and-set `updateOne({_id, used: old}, {$set})` loses some). So increments from this process are
 * also serialised per counter: one gateway copy counts exactly everywhere; several copies writing the
 * same counter in the same instant can still undercount on FerretDB. Capacity only steers routing (it
 * never refuses a declaration), so the worst case is a slightly uneven split between centers.
 *
 * Serialised, but not one round trip each: the increments that arrive while one is in flight are summed
 * into the next single `$inc`, and each caller gets its own running total back (as if applied one by one,
 * in arrival order). Without that, a FerretDB update round trip (~20–60 ms under load) capped routing at a
 * few dozen orders per second per center (measured by bench/pipeline.ts: 15 orders/s).
 */
export const CAPACITY_COLLECTION = 'center_capacity';

interface CapacityDoc {
  _id: string;
  center: string;
  day: string;
  used: number;
  expiresAt: Date;
}

interface PendingIncrement {
  center: string;
  day: string;
  waiters: { count: number; resolve: (usedAfter: number) => void; reject: (err: unknown) => void }[];
}

export class MongoCapacityLedger implements CapacityLedger {
  private indexed = false;
  /** Per-counter chain of in-flight increments (see the class comment). */
  private readonly chains = new Map<string, Promise<unknown>>();
  /** Per-counter increments waiting for the one in flight: summed into the next single `$inc`. */
  private readonly pending = new Map<string, PendingIncrement>();

  constructor(
    private readonly connection: Connection,
    private readonly options: { collection?: string; retainDays?: number } = {},
  ) {}

  private collection() {
    const db = this.connection.db;
    if (!db) throw new Error('mongodb not connected');
    return db.collection<CapacityDoc>(this.options.collection ?? CAPACITY_COLLECTION);
  }

  private async ensureIndex(): Promise<void> {
    if (this.indexed) return;
    await this.collection()
      .createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 })
      .catch(() => undefined);
    this.indexed = true;
  }

  async usedOn(day: string, centers: readonly string[]): Promise<Record<string, number>> {
    const docs = await this.collection()
      .find({ _id: { $in: centers.map((c) => `${c}:${day}`) } })
      .toArray();
    const out: Record<string, number> = {};
    for (const d of docs) out[d.center] = d.used;
    return out;
  }

  async consume(center: string, day: string, count = 1): Promise<number> {
    const key = `${center}:${day}`;
    let pending = this.pending.get(key);
    if (!pending) {
      pending = { center, day, waiters: [] };
      this.pending.set(key, pending);
      const batch = pending;
      // Runs after the counter's previous increment (if any) settled; takes everything queued meanwhile.
      const previous = this.chains.get(key) ?? Promise.resolve();
      const next = previous.catch(() => undefined).then(() => this.flush(key, batch));
      this.chains.set(key, next);
      void next.finally(() => {
        if (this.chains.get(key) === next) this.chains.delete(key);
      });
    }
    return new Promise<number>((resolve, reject) => pending.waiters.push({ count, resolve, reject }));
  }

  private async flush(key: string, batch: PendingIncrement): Promise<void> {
    if (this.pending.get(key) === batch) this.pending.delete(key);
    const total = batch.waiters.reduce((s, w) => s + w.count, 0);
    try {
      const after = await this.increment(batch.center, batch.day, total);
      let running = after - total;
      for (const w of batch.waiters) {
        running += w.count;
        w.resolve(running);
      }
    } catch (err) {
      for (const w of batch.waiters) w.reject(err);
    }
  }

  private async increment(center: string, day: string, count: number): Promise<number> {
    await this.ensureIndex();
    const retainMs = (this.options.retainDays ?? 35) * 86_400_000;
    const update = () =>
      this.collection().findOneAndUpdate(
        { _id: `${center}:${day}` },
        {
          $inc: { used: count },
          $setOnInsert: { center, day, expiresAt: new Date(Date.parse(`${day}T00:00:00Z`) + retainMs) },
        },
        { upsert: true, returnDocument: 'after' },
      );
    let doc: CapacityDoc | null;
    try {
      doc = await update();
    } catch (err) {
      // Two first-of-the-day upserts can race to insert the same _id; the loser finds the document now
      // and its retry is a plain $inc (MongoDB retries this itself, FerretDB does not).
      if ((err as { code?: number }).code !== 11000) throw err;
      doc = await update();
    }
    if (!doc) throw new Error(`capacity counter ${center}:${day} was not returned after $inc`);
    return doc.used;
  }
}
