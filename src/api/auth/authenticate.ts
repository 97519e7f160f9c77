import type { Middleware, ParameterizedContext } from 'koa';
import { ProblemError, problems } from '../problem';
import type { RequestState } from '../state';
import { principalFor, type AccountStore } from './account-store';
import { dummyCompare, parseToken, secretMatches } from './keys';
import type { FailureThrottle } from './failure-throttle';
import { may, rolesFor, type Action } from './policy';
import type { Principal } from './principal';

export interface AuthenticateOptions {
  accounts: AccountStore;
  /**
   * How long a verified key's principal is reused without asking MongoDB again (per process). A revoked or
   * expired key stops working within this time; 0 disables the cache. Default 5 s: one lookup per key per
   * 5 s instead of two per request.
   */
  cacheMs?: number;
  /** Failed authentications per client address (429 past the limit); none when absent. */
  throttle?: FailureThrottle;
  now?: () => Date;
}

interface CacheEntry {
  principal: Principal;
  hash: string;
  expiresAt?: number;
  cachedUntil: number;
}

/** Reads the key from `Authorization: Bearer <keyId>.<secret>` or `X-Api-Key: <keyId>.<secret>`. */
export function presentedToken(ctx: ParameterizedContext): string | undefined {
  const header = ctx.get('Authorization');
  if (header) {
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    return m?.[1];
  }
  const apiKey = ctx.get('X-Api-Key').trim();
  return apiKey || undefined;
}

/**
 * Authenticates the request from its API key and sets `ctx.state.principal`. Every failure is the same
 * 401 (unknown key, wrong secret, revoked, expired, account gone) so a caller learns nothing about which
 * key ids exist; the log line says which one it was.
 */
export function authenticate(options: AuthenticateOptions): Middleware<RequestState> {
  const cacheMs = options.cacheMs ?? 5000;
  const now = options.now ?? (() => new Date());
  const cache = new Map<string, CacheEntry>();

  async function resolve(keyId: string, secret: string): Promise<{ principal: Principal } | { reason: string }> {
    const t = now().getTime();
    const cached = cache.get(keyId);
    if (cached && cached.cachedUntil > t) {
      if (!secretMatches(secret, cached.hash)) return { reason: 'wrong secret' };
      if (cached.expiresAt !== undefined && cached.expiresAt <= t) return { reason: 'key expired' };
      return { principal: cached.principal };
    }
    const key = await options.accounts.findKey(keyId);
    if (!key) {
      dummyCompare(secret);
      return { reason: 'unknown key id' };
    }
    if (!secretMatches(secret, key.hash)) return { reason: 'wrong secret' };
    if (key.revokedAt && key.revokedAt.getTime() <= t) return { reason: 'key revoked' };
    if (key.expiresAt && key.expiresAt.getTime() <= t) return { reason: 'key expired' };
    const account = await options.accounts.findAccount(key.account);
    if (!account) return { reason: 'account no longer exists' };
    const principal = principalFor(account, keyId);
    if (cacheMs > 0) {
      if (cache.size > 10_000) cache.clear(); // bounded: keys are few, this only guards against abuse
      cache.set(keyId, { principal, hash: key.hash, expiresAt: key.expiresAt?.getTime(), cachedUntil: t + cacheMs });
    }
    return { principal };
  }

  /** A presented key that failed: 401, or 429 once the address has failed too often. */
  async function failed(address: string, unauthorized: ProblemError): Promise<never> {
    let wait: number | undefined;
    try {
      wait = await options.throttle?.failed(address, now().getTime());
    } catch {
      // The counter is unavailable: the failure is still a 401 (fail open, like the rate limit).
    }
    throw wait === undefined ? unauthorized : tooManyFailures(wait);
  }

  return async (ctx, next) => {
    const token = presentedToken(ctx);
    if (!token)
      throw problems.unauthorized('Send an API key: "Authorization: Bearer <keyId>.<secret>" or "X-Api-Key".');
    const blocked = options.throttle?.blockedFor(ctx.ip, now().getTime());
    if (blocked !== undefined) throw tooManyFailures(blocked);
    const parsed = parseToken(token);
    if (!parsed) return failed(ctx.ip, problems.unauthorized('The API key is malformed; expected "<keyId>.<secret>".'));
    const result = await resolve(parsed.keyId, parsed.secret);
    if ('reason' in result) {
      ctx.state.log?.info({ keyId: parsed.keyId, reason: result.reason }, 'authentication failed');
      return failed(ctx.ip, problems.unauthorized('The API key is unknown, revoked or expired.'));
    }
    ctx.state.principal = result.principal;
    await next();
  };
}

/** 403 unless the access policy lets the authenticated principal's role do `action`. Put after `authenticate`. */
export function allow(action: Action): Middleware<RequestState> {
  return async (ctx, next) => {
    const principal = ctx.state.principal;
    if (!principal) throw problems.unauthorized();
    if (!may(principal, action)) {
      throw problems.forbidden(
        `This operation is for ${rolesFor(action).join(' or ')} accounts; this key belongs to a ${principal.role}.`,
      );
    }
    await next();
  };
}

function tooManyFailures(retryAfterSeconds: number): ProblemError {
  return new ProblemError(
    429,
    'too-many-failed-authentications',
    'Too Many Requests',
    {
      detail: `Too many failed authentications from this address; retry after ${retryAfterSeconds} s.`,
    },
    { 'Retry-After': String(retryAfterSeconds) },
  );
}
