import type { Connection } from 'mongoose';
import { AccountStore, type Account } from '../../src/api/auth/account-store';
import { MongoAccountRepository } from '../../src/store/accounts';
import { TEST_EBC_CODES } from './order-generator';

/**
 * Test helpers for access control: create accounts and real API keys in the test's database, and build
 * the request headers that carry them. Every helper goes through the real AccountStore.
 */
export interface TestKey {
  account: Account;
  keyId: string;
  token: string;
  headers: Record<string, string>;
}

let counter = 0;
const unique = (prefix: string) => `${prefix}-${process.pid}-${Date.now().toString(36)}-${++counter}`;

export function bearer(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}` };
}

export async function createAccountWithKey(
  connection: Connection,
  account: Account,
  options: { expiresAt?: Date } = {},
): Promise<TestKey> {
  const store = new AccountStore(new MongoAccountRepository(connection));
  await store.upsertAccount(account);
  const key = await store.createKey(account.id, options);
  return { account, keyId: key.keyId, token: key.token, headers: bearer(key.token) };
}

export function createSeller(connection: Connection, overrides: Partial<Extract<Account, { role: 'seller' }>> = {}) {
  return createAccountWithKey(connection, {
    role: 'seller',
    id: unique('seller'),
    name: 'Test seller',
    // The companies the generated and example orders declare for: a seller declares only for its own.
    ebcCodes: [...TEST_EBC_CODES],
    ...overrides,
  });
}

export function createBroker(
  connection: Connection,
  sellerIds: string[],
  overrides: Partial<Extract<Account, { role: 'broker' }>> = {},
) {
  return createAccountWithKey(connection, {
    role: 'broker',
    id: unique('broker'),
    name: 'Test broker',
    sellerIds,
    ...overrides,
  });
}

export function createCenter(
  connection: Connection,
  code: string,
  overrides: Partial<Extract<Account, { role: 'center' }>> = {},
) {
  return createAccountWithKey(connection, { role: 'center', id: code, name: `Test center ${code}`, ...overrides });
}

export function createAdmin(connection: Connection, overrides: Partial<Extract<Account, { role: 'admin' }>> = {}) {
  return createAccountWithKey(connection, { role: 'admin', id: unique('admin'), name: 'Test admin', ...overrides });
}

/** One of each role, for the "401 without a key / 403 with the wrong role" sweeps. */
export async function createRoleSet(
  connection: Connection,
  options: { sellerEbcCodes?: string[]; centerCode?: string } = {},
) {
  const ebcCodes = options.sellerEbcCodes ?? [...TEST_EBC_CODES];
  const seller = await createSeller(connection, { ebcCodes });
  const otherSeller = await createSeller(connection, { ebcCodes });
  const broker = await createBroker(connection, [seller.account.id]);
  const center = await createCenter(connection, options.centerCode ?? 'GD');
  const admin = await createAdmin(connection);
  return { seller, otherSeller, broker, center, admin };
}
