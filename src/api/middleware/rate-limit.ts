import type { Middleware } from 'koa';
import type { Connection } from 'mongoose';
import type { Principal } from '../auth/principal';
import { ProblemError } from '../problem';
import type { RequestState } from '../state';

/**
 * Per-API-key rate limit: a fixed window counted in MongoDB (`rate_limits`) with TICKETS: the n-th request
 * of a key in a window inserts the document `_id` "<keyId>:<windowStart>:<n>". The primary-key insert has
 * exactly one winner per n, so the count is exact across processes. (An upserting `$inc` counter was the
 * first version; FerretDB v1 does not isolate concurrent read-modify-write updates and let 14 of 30
 * simultaneous requests through a limit of 10.) Each process remembers the next ticket number per key, so
 * a request costs one insert; a collision with another process costs one more. Over the limit, no insert
 * is made at all.
 *
 * Why shared and not per process: gateways are stateless and several copies run behind a load balancer,
 * so a per-process limit would multiply with the number of copies (or need dividing by a copy count
 * nobody keeps up to date), and a key hammering one copy would be treated differently from one spread
 * over all. The cost is one small insert per request (and a document per request, swept after 2 windows). That is affordable at the ≥ 1,000
 * orders/s target because the limit counts REQUESTS, and bulk submitters send batches (up to 1,000 orders
 * per request); a seller posting orders one by one at that rate is exactly what the limit should slow.
 * If MongoDB cannot count (outage), the request is let through (fail open): the submission itself needs
 * MongoDB and will fail on its own, and a counter hiccup must not turn into an API outage.
 *
 * Headers (draft-ietf-httpapi-ratelimit-headers): RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset
 * (seconds until the window ends) and RateLimit-Policy; a 429 adds Retry-After.
 * FerretDB v1 has no TTL indexes, so past windows are deleted by an occasional sweep from this middleware.
 */
export const RATE_LIMITS_COLLECTION = 'rate_limits';

export interface RateLimitOptions {
  connection: Connection;
  windowMs?: number;
  /** Requests per window for a principal; the account's own `rateLimitPerMinute` wins when set. */
  limitFor?: (principal: Principal) => number;
  now?: () => number;
  sweepEveryMs?: number;
}

/** Defaults per role (requests per minute). */
export const DEFAULT_LIMITS: Record<Principal['role'], number> = {
  seller: 600,
  broker: 1200,
  center: 6000,
  admin: 1200,
};

interface TicketDoc {
  _id: string;
  key: string;
  n: number;
  expiresAt: Date;
}

/**
 * Exact counting per fixed window, shared by every gateway: the n-th event of `name` in a window is the
 * insert of ticket "<name>:<windowStart>:<n>" (see above). Used for the per-key rate limit and for failed
 * authentications per client address.
 */
export interface WindowTickets {
  /** Takes the next free ticket of the window; returns its number (> limit = over the limit, not stored). */
  take(name: string, windowStart: number, limit: number): Promise<number>;
  /** Deletes past windows now and then (FerretDB v1 has no TTL indexes). */
  maybeSweep(t: number): void;
}

export function windowTickets(options: {
  connection: Connection;
  windowMs: number;
  sweepEveryMs?: number;
}): WindowTickets {
  const { windowMs } = options;
  const sweepEveryMs = options.sweepEveryMs ?? 5 * 60_000;
  let lastSweep = 0;
  const collection = () => {
    const db = options.connection.db;
    if (!db) throw new Error('mongodb not connected');
    return db.collection<TicketDoc>(RATE_LIMITS_COLLECTION);
  };
  let indexed: Promise<unknown> | undefined;
  // name → the window and the next ticket number this process will try.
  const nextTicket = new Map<string, { window: number; next: number }>();

  async function take(name: string, windowStart: number, limit: number): Promise<number> {
    indexed ??= collection()
      .createIndex({ key: 1, n: -1 })
      .catch(() => undefined);
    await indexed;
    if (nextTicket.size > 100_000) nextTicket.clear(); // bounded memory; the next request re-reads
    const key = `${name}:${windowStart}`;
    for (let attempt = 0; attempt < 100; attempt++) {
      let state = nextTicket.get(name);
      if (!state || state.window !== windowStart) {
        const top = await collection().find({ key }).sort({ n: -1 }).limit(1).toArray();
        const fresh = nextTicket.get(name);
        state = fresh && fresh.window === windowStart ? fresh : { window: windowStart, next: (top[0]?.n ?? 0) + 1 };
        nextTicket.set(name, state);
      }
      const n = state.next++;
      // Every ticket below n is taken (by us or, after a collision, by someone else): over the limit already.
      if (n > limit) return n;
      try {
        await collection().insertOne({ _id: `${key}:${n}`, key, n, expiresAt: new Date(windowStart + 2 * windowMs) });
        return n;
      } catch (err) {
        if ((err as { code?: number }).code !== 11000) throw err;
      }
    }
    return limit + 1;
  }

  function maybeSweep(t: number): void {
    if (t - lastSweep < sweepEveryMs) return;
    lastSweep = t;
    void collection()
      .deleteMany({ expiresAt: { $lt: new Date(t) } })
      .catch(() => undefined);
  }

  return { take, maybeSweep };
}

export function rateLimit(options: RateLimitOptions): Middleware<RequestState> {
  const windowMs = options.windowMs ?? 60_000;
  const now = options.now ?? Date.now;
  const limitFor = options.limitFor ?? ((p: Principal) => DEFAULT_LIMITS[p.role]);
  const tickets = windowTickets({ connection: options.connection, windowMs, sweepEveryMs: options.sweepEveryMs });

  return async (ctx, next) => {
    const principal = ctx.state.principal;
    if (!principal) return next();
    const limit =
      principal.rateLimitPerMinute !== undefined
        ? Math.max(1, Math.round((principal.rateLimitPerMinute * windowMs) / 60_000))
        : limitFor(principal);
    const t = now();
    const windowStart = Math.floor(t / windowMs) * windowMs;
    const resetSeconds = Math.max(1, Math.ceil((windowStart + windowMs - t) / 1000));
    let used: number;
    try {
      used = await tickets.take(principal.keyId, windowStart, limit);
    } catch (err) {
      ctx.state.log?.warn({ err }, 'rate limit counter unavailable; request let through');
      return next();
    }
    tickets.maybeSweep(t);
    ctx.set('RateLimit-Limit', String(limit));
    ctx.set('RateLimit-Remaining', String(Math.max(0, limit - used)));
    ctx.set('RateLimit-Reset', String(resetSeconds));
    ctx.set('RateLimit-Policy', `${limit};w=${Math.round(windowMs / 1000)}`);
    if (used > limit) {
      throw new ProblemError(
        429,
        'rate-limited',
        'Too Many Requests',
        {
          detail: `API key ${principal.keyId} made more than ${limit} requests in ${Math.round(windowMs / 1000)} s; retry after ${resetSeconds} s.`,
        },
        {
          'Retry-After': String(resetSeconds),
          'RateLimit-Limit': String(limit),
          'RateLimit-Remaining': '0',
          'RateLimit-Reset': String(resetSeconds),
          'RateLimit-Policy': `${limit};w=${Math.round(windowMs / 1000)}`,
        },
      );
    }
    await next();
  };
}
