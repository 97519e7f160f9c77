import type { AccountRepository, Account, ApiKeyRecord } from '../../store/accounts';
import type { Principal } from './principal';
import { generateKey, hashSecret, isValidKeyId, isValidSecret, type GeneratedKey } from './keys';

export type { Account, ApiKeyRecord } from '../../store/accounts';

/**
 * Accounts and their API keys: what may be issued, validated and revoked, over the accounts repository
 * (src/store/accounts.ts).
 *
 * Rotation: issue a new key for the account; the old one keeps working until it is revoked or expires, so
 * a seller can deploy the new key before switching the old one off. Keys are never updated in place except
 * to set `revokedAt`.
 */
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
  constructor(private readonly repository: AccountRepository) {}

  /**
   * Creates or replaces an account (idempotent). A seller must be given its e-commerce companies and a
   * broker its sellers explicitly: a missing list is refused here rather than read as "no restriction".
   */
  async upsertAccount(account: Account): Promise<void> {
    if (account.role === 'seller' && !Array.isArray(account.ebcCodes))
      throw new KeyError('ACCOUNT_INVALID', `seller "${account.id}" needs ebcCodes: the companies it declares for`);
    if (account.role === 'broker' && !Array.isArray(account.sellerIds))
      throw new KeyError('ACCOUNT_INVALID', `broker "${account.id}" needs sellerIds: the sellers it serves`);
    await this.repository.upsertAccount(account);
  }

  findAccount(id: string): Promise<Account | null> {
    return this.repository.findAccount(id);
  }

  listAccounts(): Promise<Account[]> {
    return this.repository.listAccounts();
  }

  /** Issues a new key for the account; the returned secret is not stored and cannot be shown again. */
  async createKey(
    accountId: string,
    options: { expiresAt?: Date; label?: string; now?: Date } = {},
  ): Promise<GeneratedKey & { record: ApiKeyRecord }> {
    const account = await this.requireAccount(accountId);
    const key = generateKey();
    const record: ApiKeyRecord = {
      keyId: key.keyId,
      account: account.id,
      role: account.role,
      hash: key.hash,
      createdAt: options.now ?? new Date(),
      ...(options.expiresAt ? { expiresAt: options.expiresAt } : {}),
      ...(options.label ? { label: options.label } : {}),
    };
    await this.repository.insertKey(record);
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
    const account = await this.requireAccount(accountId);
    return this.repository.upsertKey({
      keyId,
      account: account.id,
      role: account.role,
      hash: hashSecret(secret),
      ...(options.label ? { label: options.label } : {}),
      ...(options.expiresAt ? { expiresAt: options.expiresAt } : {}),
    });
  }

  /** Revokes a key (idempotent: a second revocation keeps the first date). */
  async revokeKey(keyId: string, at = new Date()): Promise<ApiKeyRecord> {
    const record = await this.repository.revokeKey(keyId, at);
    if (!record) throw new KeyError('KEY_UNKNOWN', `no API key "${keyId}"`);
    return record;
  }

  findKey(keyId: string): Promise<ApiKeyRecord | null> {
    return this.repository.findKey(keyId);
  }

  listKeys(accountId: string): Promise<ApiKeyRecord[]> {
    return this.repository.listKeys(accountId);
  }

  private async requireAccount(accountId: string): Promise<Account> {
    const account = await this.repository.findAccount(accountId);
    if (!account) throw new KeyError('ACCOUNT_UNKNOWN', `no account "${accountId}"`);
    return account;
  }
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
