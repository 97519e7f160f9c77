import { collectionOf, IndexSet, type StoreConnection } from './collections';

/**
 * Sellers' webhook subscriptions (collection `webhooks`): one document per webhook, `_id` its id, written
 * once and deleted by its seller. The signing secret is stored as given: it must be readable to sign, and
 * it is a shared secret of this integration only, not a credential to Baygate.
 * Hot queries: a webhook by `_id` (each delivery attempt), a seller's webhooks (`{sellerId, createdAt}`);
 * the fan-out reads them all (a few per seller).
 */
export const WEBHOOKS_COLLECTION = 'webhooks';

export interface Webhook {
  id: string;
  sellerId: string;
  url: string;
  secret: string;
  createdAt: Date;
}

export interface WebhookSubscriptionRepository {
  insert(webhook: Webhook): Promise<void>;
  find(id: string): Promise<Webhook | null>;
  /** A seller's webhooks, oldest first. */
  listBySeller(sellerId: string): Promise<Webhook[]>;
  /** Every webhook of every seller. */
  listAll(): Promise<Webhook[]>;
  /** Deletes a webhook of this seller; false when the seller has no webhook of that id. */
  remove(sellerId: string, id: string): Promise<boolean>;
}

type WebhookDoc = Omit<Webhook, 'id'> & { _id: string };

export class MongoWebhookSubscriptions implements WebhookSubscriptionRepository {
  private readonly indexes = new IndexSet(
    () => this.collection(),
    [{ key: { sellerId: 1, createdAt: 1 }, name: 'sellerId_createdAt' }],
  );

  constructor(private readonly connection: StoreConnection) {}

  private collection() {
    return collectionOf<WebhookDoc>(this.connection, WEBHOOKS_COLLECTION);
  }

  ensureIndexes(): Promise<void> {
    return this.indexes.ready();
  }

  async insert(webhook: Webhook): Promise<void> {
    await this.indexes.ready();
    const { id, ...rest } = webhook;
    await this.collection().insertOne({ _id: id, ...rest });
  }

  async find(id: string): Promise<Webhook | null> {
    const doc = await this.collection().findOne({ _id: id });
    return doc ? toWebhook(doc) : null;
  }

  async listBySeller(sellerId: string): Promise<Webhook[]> {
    return (await this.collection().find({ sellerId }).sort({ createdAt: 1 }).toArray()).map(toWebhook);
  }

  async listAll(): Promise<Webhook[]> {
    return (await this.collection().find({}).toArray()).map(toWebhook);
  }

  async remove(sellerId: string, id: string): Promise<boolean> {
    return (await this.collection().deleteOne({ _id: id, sellerId })).deletedCount === 1;
  }
}

function toWebhook(doc: WebhookDoc): Webhook {
  const { _id, ...rest } = doc;
  return { id: _id, ...rest };
}
