import { collectionOf, IndexSet, type StoreConnection } from './collections';

/**
 * Accounts and their API keys (collections `accounts` and `api_keys`).
 *
 * `accounts`: one document per account, `_id` the account id, replaced by an upsert.
 * `api_keys`: one document per key, `_id` the key id; only the SHA-256 of the secret is stored. A key is
 * written once, except that `revokedAt` is set once (a conditional update: the first revocation's date
 * stays) and a known development key's hash may be replaced by an upsert.
 * Hot queries: a key by `_id` (every request whose principal is not cached), an account by `_id`; the
 * index `{account, createdAt}` serves listing an account's keys.
 */
export const ACCOUNTS_COLLECTION = 'accounts';
export const API_KEYS_COLLECTION = 'api_keys';

export type AccountRole = 'seller' | 'broker' | 'center' | 'admin';

export type Account =
  | {
      id: string;
      role: 'seller';
      name: string;
      region?: 'GD' | 'HK' | 'MO';
      ebcCodes: string[];
      rateLimitPerMinute?: number;
    }
  | { id: string; role: 'broker'; name: string; sellerIds: string[]; rateLimitPerMinute?: number }
  | { id: string; role: 'center'; name: string; rateLimitPerMinute?: number }
  | { id: string; role: 'admin'; name: string; rateLimitPerMinute?: number };

export interface ApiKeyRecord {
  keyId: string;
  account: string;
  role: AccountRole;
  /** SHA-256 of the secret (hex); the secret itself is never stored. */
  hash: string;
  createdAt: Date;
  revokedAt?: Date;
  expiresAt?: Date;
  label?: string;
}

/** A key's fields that an upsert of a known key sets (createdAt stays the first one's). */
export type KnownKey = Omit<ApiKeyRecord, 'createdAt' | 'revokedAt'>;

export interface AccountRepository {
  /** Creates or replaces an account (idempotent). */
  upsertAccount(account: Account, now?: Date): Promise<void>;
  findAccount(id: string): Promise<Account | null>;
  listAccounts(): Promise<Account[]>;
  /** Inserts a new key; a key id that exists already fails with E11000. */
  insertKey(record: ApiKeyRecord): Promise<void>;
  /** Creates a key or replaces its hash, role, label and expiry (createdAt and revokedAt stay); returns it. */
  upsertKey(key: KnownKey, now?: Date): Promise<ApiKeyRecord>;
  /** Sets `revokedAt` once (a second revocation keeps the first date); null when the key does not exist. */
  revokeKey(keyId: string, at: Date): Promise<ApiKeyRecord | null>;
  findKey(keyId: string): Promise<ApiKeyRecord | null>;
  /** An account's keys, oldest first. */
  listKeys(accountId: string): Promise<ApiKeyRecord[]>;
}

type AccountDoc = Omit<Account, 'id'> & { _id: string; createdAt: Date; updatedAt: Date };
type KeyDoc = ApiKeyRecord & { _id: string };

export class MongoAccountRepository implements AccountRepository {
  private readonly keyIndexes = new IndexSet(
    () => this.keys(),
    [{ key: { account: 1, createdAt: 1 }, name: 'account_createdAt' }],
  );

  constructor(private readonly connection: StoreConnection) {}

  private accounts() {
    return collectionOf<AccountDoc>(this.connection, ACCOUNTS_COLLECTION);
  }

  private keys() {
    return collectionOf<KeyDoc>(this.connection, API_KEYS_COLLECTION);
  }

  ensureIndexes(): Promise<void> {
    return this.keyIndexes.ready();
  }

  async upsertAccount(account: Account, now = new Date()): Promise<void> {
    const { id, ...rest } = account;
    // Fields an earlier version of the account had and this one has not are removed (a replacement).
    const unset = Object.fromEntries(
      ['region', 'ebcCodes', 'sellerIds', 'rateLimitPerMinute']
        .filter((field) => !(field in rest))
        .map((field) => [field, '' as const]),
    );
    await this.accounts().updateOne(
      { _id: id },
      {
        $set: { ...rest, updatedAt: now },
        $setOnInsert: { createdAt: now },
        ...(Object.keys(unset).length > 0 ? { $unset: unset } : {}),
      },
      { upsert: true },
    );
  }

  async findAccount(id: string): Promise<Account | null> {
    const doc = await this.accounts().findOne({ _id: id });
    return doc ? toAccount(doc) : null;
  }

  async listAccounts(): Promise<Account[]> {
    return (await this.accounts().find({}).sort({ _id: 1 }).toArray()).map(toAccount);
  }

  async insertKey(record: ApiKeyRecord): Promise<void> {
    await this.ensureIndexes();
    await this.keys().insertOne({ _id: record.keyId, ...record });
  }

  async upsertKey(key: KnownKey, now = new Date()): Promise<ApiKeyRecord> {
    await this.ensureIndexes();
    const doc = await this.keys().findOneAndUpdate(
      { _id: key.keyId },
      { $set: { ...key }, $setOnInsert: { createdAt: now } },
      { upsert: true, returnDocument: 'after' },
    );
    if (!doc) throw new Error(`key ${key.keyId} was not returned by its upsert`);
    return toKey(doc);
  }

  async revokeKey(keyId: string, at: Date): Promise<ApiKeyRecord | null> {
    const revoked = await this.keys().findOneAndUpdate(
      { _id: keyId, revokedAt: { $exists: false } },
      { $set: { revokedAt: at } },
      { returnDocument: 'after' },
    );
    if (revoked) return toKey(revoked);
    return this.findKey(keyId); // revoked before (its first date stays) or unknown (null)
  }

  async findKey(keyId: string): Promise<ApiKeyRecord | null> {
    const doc = await this.keys().findOne({ _id: keyId });
    return doc ? toKey(doc) : null;
  }

  async listKeys(accountId: string): Promise<ApiKeyRecord[]> {
    return (await this.keys().find({ account: accountId }).sort({ createdAt: 1 }).toArray()).map(toKey);
  }
}

function toAccount(doc: AccountDoc): Account {
  const { _id, createdAt: _c, updatedAt: _u, ...rest } = doc;
  return { id: _id, ...rest } as Account;
}

function toKey(doc: KeyDoc): ApiKeyRecord {
  const { _id: _ignored, ...rest } = doc;
  return rest;
}
