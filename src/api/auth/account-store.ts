import type { Connection } from 'mongoose';
import type { Principal, Role } from './principal';
import { generateKey, hashSecret, isValidKeyId, isValidSecret, type GeneratedKey } from './keys';

/**
 * Accounts and their API keys in MongoDB (collections `accounts` and `api_keys`).
 *
 * Rotation: issue a new key for the account; the old one keeps working until it is revoked or expires, so
 * a seller can deploy the new key before switching the old one off. Keys are never updated in place except
 * to set `revokedAt`.
 */
export const ACCOUNTS_COLLECTION = 'accounts';
export const API_KEYS_COLLECTION = 'api_keys';

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
  role: Role;
  hash: string;
  createdAt: Date;
  revokedAt?: Date;
  expiresAt?: Date;
  label?: string;
}

type AccountDoc = Omit<Account, 'id'> & { _id: string; createdAt: Date; updatedAt: Date };
type KeyDoc = ApiKeyRecord & { _id: string };

export class KeyError extends Error {
  constructor(
    public readonly code: 'ACCOUNT_UNKNOWN' | 'ACCOUNT_INVALID' | 'KEY_UNKNOWN' | 'KEY_INVALID',
    message: string,
  ) {
    super(message);
    this.name = 'KeyError';
  }
}

export class AccountStore {
  private indexed?: Promise<void>;

  constructor(private readonly connection: Connection) {}

  private db() {
    const db = this.connection.db;
    if (!db) throw new Error('mongodb not connected');
    return db;
  }

  private accounts() {
    return this.db().collection<AccountDoc>(ACCOUNTS_COLLECTION);
  }

  private keys() {
    return this.db().collection<KeyDoc>(API_KEYS_COLLECTION);
  }

  ensureIndexes(): Promise<void> {
    this.indexed ??= (async () => {
      await this.keys().createIndex({ account: 1, createdAt: 1 });
    })();
    return this.indexed;
  }

  /**
   * Creates or replaces an account (idempotent). A seller must be given its e-commerce companies and a
   * broker its sellers explicitly: a missing list is refused here rather than read as "no restriction".
   */
  async upsertAccount(account: Account): Promise<void> {
    if (account.role === 'seller' && !Array.isArray(account.ebcCodes))
      throw new KeyError('ACCOUNT_INVALID', `seller "${account.id}" needs ebcCodes: the companies it declares for`);
    if (account.role === 'broker' && !Array.isArray(account.sellerIds))
      throw new KeyError('ACCOUNT_INVALID', `broker "${account.id}" needs sellerIds: the sellers it serves`);
    const { id, ...rest } = account;
    const now = new Date();
    await this.accounts().updateOne(
      { _id: id },
      { $set: { ...rest, updatedAt: now }, $setOnInsert: { createdAt: now } },
      { upsert: true },
    );
  }

  async findAccount(id: string): Promise<Account | null> {
    const doc = await this.accounts().findOne({ _id: id });
    return doc ? toAccount(doc) : null;
  }

  async listAccounts(): Promise<Account[]> {
    const docs = await this.accounts().find({}).sort({ _id: 1 }).toArray();
    return docs.map(toAccount);
  }

  /** Issues a new key for the account; the returned secret is not stored and cannot be shown again. */
  async createKey(
    accountId: string,
    options: { expiresAt?: Date; label?: string; now?: Date } = {},
  ): Promise<GeneratedKey & { record: ApiKeyRecord }> {
    const account = await this.findAccount(accountId);
    if (!account) throw new KeyError('ACCOUNT_UNKNOWN', `no account "${accountId}"`);
    const key = generateKey();
    const record = await this.insertKey(account, key.keyId, key.hash, options);
    return { ...key, record };
  }

  /**
   * Stores a key whose secret the caller chose (the documented development keys). Idempotent: the same
   * keyId with the same secret is left alone; a changed secret replaces the hash.
   */
  async putKnownKey(
    accountId: string,
    keyId: string,
    secret: string,
    options: { expiresAt?: Date; label?: string } = {},
  ): Promise<ApiKeyRecord> {
    if (!isValidKeyId(keyId))
      throw new KeyError('KEY_INVALID', `key id "${keyId}" must look like bgk_<6–64 of A-Z a-z 0-9 _ ->`);
    if (!isValidSecret(secret))
      throw new KeyError('KEY_INVALID', `secret of ${keyId} must be 16–128 base64url characters`);
    const account = await this.findAccount(accountId);
    if (!account) throw new KeyError('ACCOUNT_UNKNOWN', `no account "${accountId}"`);
    const now = new Date();
    await this.keys().updateOne(
      { _id: keyId },
      {
        $set: {
          keyId,
          account: account.id,
          role: account.role,
          hash: hashSecret(secret),
          ...(options.label ? { label: options.label } : {}),
          ...(options.expiresAt ? { expiresAt: options.expiresAt } : {}),
        },
        $setOnInsert: { createdAt: now },
      },
      { upsert: true },
    );
    const doc = await this.keys().findOne({ _id: keyId });
    if (!doc) throw new Error(`key ${keyId} vanished after upsert`);
    return toKey(doc);
  }

  private async insertKey(
    account: Account,
    keyId: string,
    hash: string,
    options: { expiresAt?: Date; label?: string; now?: Date },
  ): Promise<ApiKeyRecord> {
    await this.ensureIndexes();
    const record: ApiKeyRecord = {
      keyId,
      account: account.id,
      role: account.role,
      hash,
      createdAt: options.now ?? new Date(),
      ...(options.expiresAt ? { expiresAt: options.expiresAt } : {}),
      ...(options.label ? { label: options.label } : {}),
    };
    await this.keys().insertOne({ _id: keyId, ...record });
    return record;
  }

  /** Revokes a key (idempotent: a second revocation keeps the first date). */
  async revokeKey(keyId: string, at = new Date()): Promise<ApiKeyRecord> {
    await this.keys().updateOne({ _id: keyId, revokedAt: { $exists: false } }, { $set: { revokedAt: at } });
    const doc = await this.keys().findOne({ _id: keyId });
    if (!doc) throw new KeyError('KEY_UNKNOWN', `no API key "${keyId}"`);
    return toKey(doc);
  }

  async findKey(keyId: string): Promise<ApiKeyRecord | null> {
    const doc = await this.keys().findOne({ _id: keyId });
    return doc ? toKey(doc) : null;
  }

  async listKeys(accountId: string): Promise<ApiKeyRecord[]> {
    const docs = await this.keys().find({ account: accountId }).sort({ createdAt: 1 }).toArray();
    return docs.map(toKey);
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

/** What a request authenticated with `keyId` for `account` may do. */
export function principalFor(account: Account, keyId: string): Principal {
  const limit = account.rateLimitPerMinute !== undefined ? { rateLimitPerMinute: account.rateLimitPerMinute } : {};
  return { ...basePrincipal(account, keyId), ...limit };
}

function basePrincipal(account: Account, keyId: string): Principal {
  switch (account.role) {
    case 'seller':
      // Fail closed: an account stored without its company list (provisioned before the list was required)
      // declares for no company at all, never for every company.
      return { role: 'seller', id: account.id, name: account.name, ebcCodes: account.ebcCodes ?? [], keyId };
    case 'broker':
      return { role: 'broker', id: account.id, name: account.name, sellerIds: account.sellerIds ?? [], keyId };
    case 'center':
      return { role: 'center', id: account.id, name: account.name, centerCode: account.id, keyId };
    case 'admin':
      return { role: 'admin', id: account.id, name: account.name, keyId };
  }
}
