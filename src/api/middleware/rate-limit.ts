import type { Middleware } from 'koa';
import type { Principal } from '../auth/principal';
import type { RateLimitRepository } from '../../store/rate-limits';
import { ProblemError } from '../problem';
import type { RequestState } from '../state';

/**
 * Per-API-key rate limit: a fixed window counted in MongoDB by the rate-limit repository
 * (src/store/rate-limits.ts: one counter per key and window, incremented by a conditional `$inc` that
 * stops at the limit, so the count is exact across processes and a refused request writes nothing).
 *
 * Why shared and not per process: gateways are stateless and several copies run behind a load balancer,
 * so a per-process limit would multiply with the number of copies (or need dividing by a copy count
 * nobody keeps up to date), and a key hammering one copy would be treated differently from one spread
 * over all. The cost is one small update per request. That is affordable at the ≥ 1,000 orders/s target
 * because the limit counts REQUESTS, and bulk submitters send batches (up to 1,000 orders per request); a
 * seller posting orders one by one at that rate is exactly what the limit should slow.
 * If MongoDB cannot count (outage), the request is let through (fail open): the submission itself needs
 * MongoDB and will fail on its own, and a counter hiccup must not turn into an API outage.
 *
 * Headers (draft-ietf-httpapi-ratelimit-headers): RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset
 * (seconds until the window ends) and RateLimit-Policy; a 429 adds Retry-After.
 * Past windows are deleted by an occasional sweep from this middleware.
 */
export interface RateLimitOptions {
  counters: RateLimitRepository;
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

/**
 * Exact counting per fixed window, shared by every gateway, on the rate-limit repository's counters. Used for
 * the per-key rate limit and for failed authentications per client address (names `authfail:<address>`).
 */
export interface WindowTickets {
  /** Counts one event of `name` in the window; returns its number (> limit = over the limit, not counted). */
  take(name: string, windowStart: number, limit: number): Promise<number>;
  /** Deletes past windows now and then (an indexed sweep, not a TTL index). */
  maybeSweep(t: number): void;
}

export function windowTickets(options: {
  counters: RateLimitRepository;
  windowMs: number;
  sweepEveryMs?: number;
}): WindowTickets {
  const { counters, windowMs } = options;
  const sweepEveryMs = options.sweepEveryMs ?? 5 * 60_000;
  let lastSweep = 0;
  return {
    take: (name, windowStart, limit) => counters.take(name, windowStart, windowMs, limit),
    maybeSweep(t) {
      if (t - lastSweep < sweepEveryMs) return;
      lastSweep = t;
      void counters.sweep(new Date(t)).catch(() => undefined);
    },
  };
}

export function rateLimit(options: RateLimitOptions): Middleware<RequestState> {
  const windowMs = options.windowMs ?? 60_000;
  const now = options.now ?? Date.now;
  const limitFor = options.limitFor ?? ((p: Principal) => DEFAULT_LIMITS[p.role]);
  const tickets = windowTickets({ counters: options.counters, windowMs, sweepEveryMs: options.sweepEveryMs });

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
