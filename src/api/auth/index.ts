import type { Middleware } from 'koa';
import type { AccountRepository } from '../../store/accounts';
import type { RateLimitRepository } from '../../store/rate-limits';
import { rateLimit, windowTickets, type RateLimitOptions } from '../middleware/rate-limit';
import type { RequestState } from '../state';
import { AccountStore } from './account-store';
import { allow, authenticate } from './authenticate';
import { DEFAULT_FAILED_AUTHENTICATIONS_PER_MINUTE, failureThrottle } from './failure-throttle';
import type { Action } from './policy';

export { AccountStore, principalFor, type Account, type ApiKeyRecord } from './account-store';
export { authenticate, allow } from './authenticate';
export { seedAccounts, loadAccountsFile } from './seed';
export type { Principal, Role } from './principal';
export type { Action } from './policy';

export interface AuthOptions {
  /** Principal cache per process (ms); revocation takes effect within this. Default 5000. */
  cacheMs?: number;
  rateLimit?: Omit<RateLimitOptions, 'counters'> | false;
  /** Failed authentications allowed per client address and minute (default 30); false: not throttled. */
  failedAuthentications?: { perMinute?: number } | false;
}

/** What routers need for access control. */
export interface AuthDeps {
  accounts: AccountStore;
  /** Authenticates (401) and applies the per-key rate limit (429). */
  authenticate: Middleware<RequestState>;
  /** authenticate + rate limit + the access policy's role check for `action` (403): what routes put first. */
  guard(action: Action): Middleware<RequestState>;
}

/** Runs middleware in order (koa-compose without a dependency on koa's internals). */
function compose(steps: Middleware<RequestState>[]): Middleware<RequestState> {
  return (ctx, next) => {
    const run = (i: number): Promise<void> => {
      const step = steps[i];
      return step
        ? Promise.resolve(step(ctx, () => run(i + 1))).then(() => undefined)
        : Promise.resolve(next()).then(() => undefined);
    };
    return run(0);
  };
}

/** The repositories access control reads and counts in. */
export interface AuthRepositories {
  accounts: AccountRepository;
  rateLimits: RateLimitRepository;
}

/** Builds the access-control middleware for the composition root (or a test). */
export function createAuth(repositories: AuthRepositories, options: AuthOptions = {}): AuthDeps {
  const accounts = new AccountStore(repositories.accounts);
  const throttle =
    options.failedAuthentications === false
      ? undefined
      : failureThrottle({
          tickets: windowTickets({ counters: repositories.rateLimits, windowMs: 60_000 }),
          windowMs: 60_000,
          limit: options.failedAuthentications?.perMinute ?? DEFAULT_FAILED_AUTHENTICATIONS_PER_MINUTE,
        });
  const steps: Middleware<RequestState>[] = [
    authenticate({ accounts, cacheMs: options.cacheMs, ...(throttle ? { throttle } : {}) }),
  ];
  if (options.rateLimit !== false)
    steps.push(rateLimit({ counters: repositories.rateLimits, ...(options.rateLimit ?? {}) }));
  const authn = compose(steps);
  return {
    accounts,
    authenticate: authn,
    guard: (action) => compose([authn, allow(action)]),
  };
}
