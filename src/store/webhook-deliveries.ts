import { collectionOf, IndexSet, insertNew, type StoreConnection } from './collections';

/**
 * Webhook deliveries, the outbox of the webhook dispatcher (collection `webhook_deliveries`): one
 * document per (webhook, event), `_id` "<webhookId>:<eventId>", holding the body to POST, its state, the
 * attempts made and their log.
 *
 *  - Fan-out inserts the deliveries that are not there yet (unordered insertMany, duplicates ignored), so
 *    running it twice, or on two workers, never delivers an event twice.
 *  - A claim is ONE conditional update on the delivery itself: `findOneAndUpdate({status: 'pending',
 *    nextAttemptAt: {$lte: now}}, {$set: {nextAttemptAt: now + leaseMs, leaseOwner}}, {sort:
 *    {nextAttemptAt: 1}})`. Moving `nextAttemptAt` past the lease is the lease: nobody else finds the
 *    delivery due until it lapses, and a crashed holder's delivery comes due again by itself. Of N
 *    simultaneous claimers of one due delivery exactly one gets it; the claim reads one index entry
 *    (`{status, nextAttemptAt}`) whatever the backlog.
 *  - An attempt is recorded only if the delivery is still pending at the attempt number that was claimed
 *    (`{_id, status: 'pending', attempts}`; `$inc`, `$push` of the log entry in the same update), so a
 *    holder whose lease lapsed and was taken over can never record the same attempt twice.
 */
export const DELIVERIES_COLLECTION = 'webhook_deliveries';

export interface DeliveryAttempt {
  at: Date;
  status?: number;
  error?: string;
  ms: number;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'cancelled';

export interface WebhookDelivery {
  id: string;
  webhookId: string;
  sellerId: string;
  eventId: string;
  declarationId: string;
  status: DeliveryStatus;
  attempts: number;
  /** When it is due; while claimed, when the claim lapses. */
  nextAttemptAt: Date;
  /** Who claimed it last. */
  leaseOwner?: string;
  lastStatus?: number;
  lastError?: string;
  log: DeliveryAttempt[];
  body: string;
  createdAt: Date;
  deliveredAt?: Date;
}

/** How an attempt ended: delivered, retried at a time, given up, or cancelled (its webhook is gone). */
export type AttemptOutcome = { delivered: true } | { retryAt: Date } | { failed: true } | { cancelled: true };

export interface WebhookDeliveryRepository {
  /** Inserts the deliveries not stored yet; returns how many were new. */
  insertNew(deliveries: WebhookDelivery[]): Promise<number>;
  /** Claims the longest-due pending delivery for `leaseMs`; null when none is due. */
  claimDue(owner: string, leaseMs: number, now?: Date): Promise<WebhookDelivery | null>;
  /** Records an attempt if the delivery is still pending at `claimedAttempts`; false when it was not. */
  recordAttempt(
    id: string,
    claimedAttempts: number,
    attempt: DeliveryAttempt,
    outcome: AttemptOutcome,
  ): Promise<boolean>;
  /** Cancels the pending deliveries of a webhook (deleted); returns how many. */
  cancelPending(webhookId: string): Promise<number>;
  /** A webhook's deliveries, newest first. */
  listByWebhook(webhookId: string, limit: number): Promise<WebhookDelivery[]>;
}

type DeliveryDoc = Omit<WebhookDelivery, 'id'> & { _id: string };

export class MongoWebhookDeliveries implements WebhookDeliveryRepository {
  private readonly indexes = new IndexSet(
    () => this.collection(),
    [
      { key: { status: 1, nextAttemptAt: 1 }, name: 'status_nextAttemptAt' },
      { key: { webhookId: 1, createdAt: -1 }, name: 'webhookId_createdAt' },
    ],
  );

  constructor(private readonly connection: StoreConnection) {}

  private collection() {
    return collectionOf<DeliveryDoc>(this.connection, DELIVERIES_COLLECTION);
  }

  ensureIndexes(): Promise<void> {
    return this.indexes.ready();
  }

  async insertNew(deliveries: WebhookDelivery[]): Promise<number> {
    await this.indexes.ready();
    return insertNew(
      this.collection(),
      deliveries.map(({ id, ...rest }) => ({ _id: id, ...rest })),
    );
  }

  async claimDue(owner: string, leaseMs: number, now = new Date()): Promise<WebhookDelivery | null> {
    await this.indexes.ready();
    const doc = await this.collection().findOneAndUpdate(
      { status: 'pending', nextAttemptAt: { $lte: now } },
      { $set: { nextAttemptAt: new Date(now.getTime() + leaseMs), leaseOwner: owner } },
      { sort: { nextAttemptAt: 1 }, returnDocument: 'after' },
    );
    return doc ? toDelivery(doc) : null;
  }

  async recordAttempt(
    id: string,
    claimedAttempts: number,
    attempt: DeliveryAttempt,
    outcome: AttemptOutcome,
  ): Promise<boolean> {
    const status: DeliveryStatus =
      'delivered' in outcome
        ? 'delivered'
        : 'failed' in outcome
          ? 'failed'
          : 'cancelled' in outcome
            ? 'cancelled'
            : 'pending';
    const result = await this.collection().updateOne(
      { _id: id, attempts: claimedAttempts, status: 'pending' },
      {
        $set: {
          status,
          ...(attempt.status !== undefined ? { lastStatus: attempt.status } : {}),
          ...(attempt.error !== undefined ? { lastError: attempt.error } : {}),
          ...('retryAt' in outcome ? { nextAttemptAt: outcome.retryAt } : {}),
          ...('delivered' in outcome ? { deliveredAt: attempt.at } : {}),
        },
        $inc: { attempts: 'cancelled' in outcome ? 0 : 1 },
        $push: { log: attempt },
      },
    );
    return result.modifiedCount === 1;
  }

  async cancelPending(webhookId: string): Promise<number> {
    await this.indexes.ready();
    const result = await this.collection().updateMany(
      { webhookId, status: 'pending' },
      { $set: { status: 'cancelled' } },
    );
    return result.modifiedCount;
  }

  async listByWebhook(webhookId: string, limit: number): Promise<WebhookDelivery[]> {
    const docs = await this.collection().find({ webhookId }).sort({ createdAt: -1, _id: -1 }).limit(limit).toArray();
    return docs.map(toDelivery);
  }
}

function toDelivery(doc: DeliveryDoc): WebhookDelivery {
  const { _id, ...rest } = doc;
  return { id: _id, ...rest, log: rest.log ?? [] };
}
