import type { Middleware } from 'koa';
import type { AccountRepository } from '../../store/accounts';
import type { RateLimitRepository } from '../../store/rate-limits';
import { rateLimit, type RateLimitOptions } from '../middleware/rate-limit';
import { AccountStore } from './account-store';
import { authenticate, requireRole, type AuthState } from './authenticate';
import type { Role } from './principal';

export { AccountStore, principalFor, type Account, type ApiKeyRecord } from './account-store';
export { authenticate, requireRole, principalOf, canSeeSeller, sellerScope, type AuthState } from './authenticate';
export { seedAccounts, loadAccountsFile } from './seed';
export type { Principal, Role } from './principal';

export interface AuthOptions {
  /** Principal cache per process (ms); revocation takes effect within this. Default 5000. */
  cacheMs?: number;
  rateLimit?: Omit<RateLimitOptions, 'counters'> | false;
}

/** What routers need for access control. */
export interface AuthDeps {
  accounts: AccountStore;
  /** Authenticates (401) and applies the per-key rate limit (429). */
  authenticate: Middleware<AuthState>;
  /** authenticate + rate limit + role check (403): the one middleware most routes put first. */
  guard(...roles: Role[]): Middleware<AuthState>;
  requireRole(...roles: Role[]): Middleware<AuthState>;
}

/** Runs middleware in order (koa-compose without a dependency on koa's internals). */
function compose(steps: Middleware<AuthState>[]): Middleware<AuthState> {
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
  const steps: Middleware<AuthState>[] = [authenticate({ accounts, cacheMs: options.cacheMs })];
  if (options.rateLimit !== false)
    steps.push(rateLimit({ counters: repositories.rateLimits, ...(options.rateLimit ?? {}) }));
  const authn = compose(steps);
  return {
    accounts,
    authenticate: authn,
    requireRole,
    guard: (...roles) => compose([authn, requireRole(...roles)]),
  };
}
