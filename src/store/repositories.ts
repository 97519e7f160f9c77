import { MongoAccountRepository } from './accounts';
import { MongoCapacityCounters } from './capacity';
import { MongoCenterStates } from './center-states';
import type { StoreConnection } from './collections';
import { MongoCursors } from './cursors';
import { MongoIdempotencyKeys } from './idempotency-keys';
import { MongoRateLimits } from './rate-limits';
import { MongoWebhookDeliveries } from './webhook-deliveries';
import { MongoWebhookSubscriptions } from './webhook-subscriptions';

/**
 * The repositories of everything around the declarations (accounts, request bookkeeping, webhooks, the
 * centers' shared state) on one connection. The declaration store is `createStores` (./index.ts); the
 * simulator's own records are src/store/simulator-state.ts, opened per simulated center.
 */
export interface Repositories {
  accounts: MongoAccountRepository;
  idempotencyKeys: MongoIdempotencyKeys;
  rateLimits: MongoRateLimits;
  webhookSubscriptions: MongoWebhookSubscriptions;
  webhookDeliveries: MongoWebhookDeliveries;
  cursors: MongoCursors;
  capacity: MongoCapacityCounters;
  centerStates: MongoCenterStates;
  /** Creates every index (idempotent); each repository also does so on first use. */
  init(): Promise<void>;
}

export function createRepositories(connection: StoreConnection): Repositories {
  const repositories = {
    accounts: new MongoAccountRepository(connection),
    idempotencyKeys: new MongoIdempotencyKeys(connection),
    rateLimits: new MongoRateLimits(connection),
    webhookSubscriptions: new MongoWebhookSubscriptions(connection),
    webhookDeliveries: new MongoWebhookDeliveries(connection),
    cursors: new MongoCursors(connection),
    capacity: new MongoCapacityCounters(connection),
    centerStates: new MongoCenterStates(connection),
  };
  return {
    ...repositories,
    init: async () => {
      for (const repository of Object.values(repositories))
        if ('ensureIndexes' in repository) await repository.ensureIndexes();
    },
  };
}
