import { collectionOf, IndexSet, isDuplicateKey, type StoreConnection } from './collections';

/**
 * `Idempotency-Key` records (collection `idempotency_keys`): one document per (account, key), `_id`
 * "<account>\u0000<key>", holding the fingerprint of the first request, its state and, once done, its
 * response.
 *
 * Taking a key is ONE conditional upsert: `updateOne({_id, $or: [expired, stale in-flight of the same
 * request]}, {$set: a fresh in-flight record}, {upsert: true})`. No document → it is inserted (the key is
 * ours); an expired or abandoned one → it is replaced (ours); a live one → the filter matches nothing, the
 * upsert's insert collides on `_id` (E11000) and the record is read to answer replay / mismatch / in
 * flight. Of N simultaneous takers exactly one wins: a single-document update is atomic, and `_id` unique.
 * Completing and releasing are conditional on the record still being in flight.
 * Expiry: an indexed sweep (`{expiresAt}`), not a TTL index; a record past `expiresAt` is already ignored
 * by `begin`, so the sweep only reclaims space.
 */
export const IDEMPOTENCY_COLLECTION = 'idempotency_keys';

export interface StoredResponse {
  status: number;
  body: unknown;
  type: string;
  location?: string;
}

export interface IdempotencyRecord {
  sellerId: string;
  key: string;
  bodyHash: string;
  status: 'in-flight' | 'done';
  response?: StoredResponse;
  createdAt: Date;
  expiresAt: Date;
}

export type BeginResult =
  { state: 'new' } | { state: 'replay'; response: StoredResponse } | { state: 'mismatch' } | { state: 'in-flight' };

export interface IdempotencyKeyRepository {
  /** Takes the key for a request with this fingerprint, or says why not. */
  begin(sellerId: string, key: string, bodyHash: string, now?: Date): Promise<BeginResult>;
  /** Stores the response of the request holding the key (only while it is in flight). */
  complete(sellerId: string, key: string, response: StoredResponse, now?: Date): Promise<void>;
  /** Gives the key up (a 5xx or a crash of the handler): the client may retry with it. */
  release(sellerId: string, key: string): Promise<void>;
  /** Deletes expired records; returns how many. */
  sweep(now?: Date): Promise<number>;
}

type IdempotencyDoc = IdempotencyRecord & { _id: string };

export class MongoIdempotencyKeys implements IdempotencyKeyRepository {
  private readonly indexes = new IndexSet(
    () => this.collection(),
    [{ key: { expiresAt: 1 }, name: 'expiresAt_sweep' }],
  );

  constructor(
    private readonly connection: StoreConnection,
    private readonly options: { retainMs?: number; inFlightTimeoutMs?: number } = {},
  ) {}

  private collection() {
    return collectionOf<IdempotencyDoc>(this.connection, IDEMPOTENCY_COLLECTION);
  }

  ensureIndexes(): Promise<void> {
    return this.indexes.ready();
  }

  private get retainMs(): number {
    return this.options.retainMs ?? 86_400_000;
  }

  async begin(sellerId: string, key: string, bodyHash: string, now = new Date()): Promise<BeginResult> {
    await this.indexes.ready();
    const _id = idOf(sellerId, key);
    // Past a client's usual 30 s timeout the first request is presumed dead (a killed gateway never
    // releases its keys); taking over early is safe: a submission names its declarations by the order.
    const staleBefore = new Date(now.getTime() - (this.options.inFlightTimeoutMs ?? 45_000));
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.collection().updateOne(
          {
            _id,
            $or: [{ expiresAt: { $lte: now } }, { status: 'in-flight', bodyHash, createdAt: { $lt: staleBefore } }],
          },
          {
            $set: {
              sellerId,
              key,
              bodyHash,
              status: 'in-flight',
              createdAt: now,
              expiresAt: new Date(now.getTime() + this.retainMs),
            },
            $unset: { response: '' },
          },
          { upsert: true },
        );
        return { state: 'new' };
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
      const existing = await this.collection().findOne({ _id });
      // Released or swept since the upsert, or expired in the meantime: take it again.
      if (!existing || existing.expiresAt.getTime() <= now.getTime()) continue;
      if (existing.bodyHash !== bodyHash) return { state: 'mismatch' };
      if (existing.status === 'done' && existing.response) return { state: 'replay', response: existing.response };
      if (existing.createdAt.getTime() < staleBefore.getTime()) continue; // went stale since: take it over
      return { state: 'in-flight' };
    }
    return { state: 'in-flight' };
  }

  async complete(sellerId: string, key: string, response: StoredResponse, now = new Date()): Promise<void> {
    await this.collection().updateOne(
      { _id: idOf(sellerId, key), status: 'in-flight' },
      { $set: { status: 'done', response, expiresAt: new Date(now.getTime() + this.retainMs) } },
    );
  }

  async release(sellerId: string, key: string): Promise<void> {
    await this.collection().deleteOne({ _id: idOf(sellerId, key), status: 'in-flight' });
  }

  async sweep(now = new Date()): Promise<number> {
    await this.indexes.ready();
    return (await this.collection().deleteMany({ expiresAt: { $lt: now } })).deletedCount;
  }
}

function idOf(sellerId: string, key: string): string {
  return `${sellerId}\u0000${key}`;
}
