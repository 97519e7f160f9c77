import type { WindowTickets } from '../middleware/rate-limit';

/**
 * Failed authentications per client address (issue 12, finding 8: 700 wrong secrets in 11 s were all
 * answered 401). Each failure takes a ticket of the address's window, counted in MongoDB like the rate
 * limit, so every gateway copy counts the same failures; past `limit` in a window the address is told to
 * wait (429) until the window ends — and the gateway that saw it remembers, so a blocked address costs no
 * database work, not even a key lookup. A successful authentication costs nothing here.
 *
 * API secrets are 256 random bits (src/api/auth/keys.ts): guessing one is hopeless either way. What this
 * stops is the load and the probing of key ids. Behind a load balancer, set TRUST_PROXY so the address is
 * the client's (X-Forwarded-For), not the balancer's — or every client would share one count.
 */
export interface FailureThrottle {
  /** Seconds this address must still wait, if this process knows it is blocked. */
  blockedFor(address: string, now: number): number | undefined;
  /** Counts one failed authentication; seconds to wait when this failure passed the limit. */
  failed(address: string, now: number): Promise<number | undefined>;
}

export interface FailureThrottleOptions {
  tickets: WindowTickets;
  windowMs: number;
  /** Failed authentications an address may make per window. */
  limit: number;
}

export const DEFAULT_FAILED_AUTHENTICATIONS_PER_MINUTE = 30;

export function failureThrottle(options: FailureThrottleOptions): FailureThrottle {
  const blockedUntil = new Map<string, number>();
  const secondsUntil = (t: number, now: number) => Math.max(1, Math.ceil((t - now) / 1000));
  return {
    blockedFor(address, now) {
      const until = blockedUntil.get(address);
      if (until === undefined) return undefined;
      if (until <= now) {
        blockedUntil.delete(address);
        return undefined;
      }
      return secondsUntil(until, now);
    },
    async failed(address, now) {
      const windowStart = Math.floor(now / options.windowMs) * options.windowMs;
      const n = await options.tickets.take(`authfail:${address}`, windowStart, options.limit);
      options.tickets.maybeSweep(now);
      if (n <= options.limit) return undefined;
      const until = windowStart + options.windowMs;
      if (blockedUntil.size > 10_000) blockedUntil.clear(); // bounded; a cleared address is re-learnt
      blockedUntil.set(address, until);
      return secondsUntil(until, now);
    },
  };
}
