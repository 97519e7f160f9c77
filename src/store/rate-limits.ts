import { collectionOf, IndexSet, isDuplicateKey, type StoreConnection } from './collections';

/**
 * Fixed-window request counters (collection `rate_limits`): one document per (API key, window), `_id`
 * "<keyId>:<windowStart>", `n` the requests let through so far.
 *
 * Counting a request is ONE conditional update: `findOneAndUpdate({_id, n: {$lt: limit}}, {$inc: {n: 1}},
 * {upsert: true})`. Below the limit it increments and returns the new count; at the limit the filter
 * matches nothing, the upsert's insert collides on `_id` (E11000) and nothing is written. The first request
 * of a window inserts the counter; when several race to do so, the losers' E11000 is the same collision,
 * so a collision is retried once: the second one can only mean "at the limit". Of N simultaneous requests
 * against a limit L exactly min(N, L) pass, on every gateway copy alike.
 * Expiry: an indexed sweep (`{expiresAt}`, two windows after the window began), not a TTL index.
 */
export const RATE_LIMITS_COLLECTION = 'rate_limits';

export interface RateLimitRepository {
  /**
   * Counts one request of `keyId` in the window starting at `windowStart` if fewer than `limit` were let
   * through; returns the request's number in the window, or `limit + 1` when it is over (nothing counted).
   */
  take(keyId: string, windowStart: number, windowMs: number, limit: number): Promise<number>;
  /** Deletes the counters whose window ended a whole window before `now`; returns how many. */
  sweep(now?: Date): Promise<number>;
}

interface WindowDoc {
  _id: string;
  key: string;
  windowStart: Date;
  n: number;
  expiresAt: Date;
}

export class MongoRateLimits implements RateLimitRepository {
  private readonly indexes = new IndexSet(
    () => this.collection(),
    [{ key: { expiresAt: 1 }, name: 'expiresAt_sweep' }],
  );

  constructor(private readonly connection: StoreConnection) {}

  private collection() {
    return collectionOf<WindowDoc>(this.connection, RATE_LIMITS_COLLECTION);
  }

  ensureIndexes(): Promise<void> {
    return this.indexes.ready();
  }

  async take(keyId: string, windowStart: number, windowMs: number, limit: number): Promise<number> {
    await this.indexes.ready();
    const _id = `${keyId}:${windowStart}`;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const doc = await this.collection().findOneAndUpdate(
          { _id, n: { $lt: limit } },
          {
            $inc: { n: 1 },
            $setOnInsert: {
              key: keyId,
              windowStart: new Date(windowStart),
              expiresAt: new Date(windowStart + 2 * windowMs),
            },
          },
          { upsert: true, returnDocument: 'after' },
        );
        if (!doc) throw new Error(`rate limit counter ${_id} was not returned by its update`);
        return doc.n;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
    }
    return limit + 1;
  }

  async sweep(now = new Date()): Promise<number> {
    await this.indexes.ready();
    return (await this.collection().deleteMany({ expiresAt: { $lt: now } })).deletedCount;
  }
}
