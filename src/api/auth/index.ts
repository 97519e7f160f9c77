import type { Middleware } from 'koa';
import type { Connection } from 'mongoose';
import { rateLimit, type RateLimitOptions } from '../middleware/rate-limit';
import { AccountStore } from './account-store';
import type { RequestState } from '../state';
import { authenticate, requireRole } from './authenticate';
import type { Role } from './principal';

export { AccountStore, principalFor, type Account, type ApiKeyRecord } from './account-store';
export { authenticate, requireRole, canSeeSeller, sellerScope } from './authenticate';
export { principalOf } from '../state';
export { seedAccounts, loadAccountsFile } from './seed';
export type { Principal, Role } from './principal';

export interface AuthOptions {
  /** Principal cache per process (ms); revocation takes effect within this. Default 5000. */
  cacheMs?: number;
  rateLimit?: Omit<RateLimitOptions, 'connection'> | false;
}

/** What routers need for access control. */
export interface AuthDeps {
  accounts: AccountStore;
  /** Authenticates (401) and applies the per-key rate limit (429). */
  authenticate: Middleware<RequestState>;
  /** authenticate + rate limit + role check (403): the one middleware most routes put first. */
  guard(...roles: Role[]): Middleware<RequestState>;
  requireRole(...roles: Role[]): Middleware<RequestState>;
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

/** Builds the access-control middleware for the composition root (or a test). */
export function createAuth(connection: Connection, options: AuthOptions = {}): AuthDeps {
  const accounts = new AccountStore(connection);
  const steps: Middleware<RequestState>[] = [authenticate({ accounts, cacheMs: options.cacheMs })];
  if (options.rateLimit !== false) steps.push(rateLimit({ connection, ...(options.rateLimit ?? {}) }));
  const authn = compose(steps);
  return {
    accounts,
    authenticate: authn,
    requireRole,
    guard: (...roles) => compose([authn, requireRole(...roles)]),
  };
}
