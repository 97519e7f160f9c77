import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { AccountStore, Account } from './account-store';

/**
 * Bootstrap accounts from a JSON file (config/accounts.dev.json for development and tests): an idempotent
 * upsert of every account and of its listed keys. Keys in such a file have their secrets in clear, so
 * they are DEVELOPMENT-ONLY: seeding a file whose keys carry secrets is refused in production.
 */
const rateLimit = z.number().int().positive().optional();
const keySchema = z.object({ keyId: z.string(), secret: z.string(), label: z.string().optional() }).strict();

const accountSchema = z.discriminatedUnion('role', [
  z
    .object({
      role: z.literal('seller'),
      id: z.string().min(1),
      name: z.string().min(1),
      region: z.enum(['GD', 'HK', 'MO']).optional(),
      ebcCodes: z.array(z.string().regex(/^[0-9A-Za-z]{10}$/, 'must be a 10-character company code')),
      rateLimitPerMinute: rateLimit,
      keys: z.array(keySchema).default([]),
    })
    .strict(),
  z
    .object({
      role: z.literal('broker'),
      id: z.string().min(1),
      name: z.string().min(1),
      sellerIds: z.array(z.string().min(1)),
      rateLimitPerMinute: rateLimit,
      keys: z.array(keySchema).default([]),
    })
    .strict(),
  z
    .object({
      role: z.literal('center'),
      id: z.string().min(1),
      name: z.string().min(1),
      rateLimitPerMinute: rateLimit,
      keys: z.array(keySchema).default([]),
    })
    .strict(),
  z
    .object({
      role: z.literal('admin'),
      id: z.string().min(1),
      name: z.string().min(1),
      rateLimitPerMinute: rateLimit,
      keys: z.array(keySchema).default([]),
    })
    .strict(),
]);

export const accountsFileSchema = z
  .object({ $comment: z.string().optional(), accounts: z.array(accountSchema) })
  .strict()
  .superRefine((file, ctx) => {
    const ids = new Set<string>();
    const keyIds = new Set<string>();
    file.accounts.forEach((account, i) => {
      if (ids.has(account.id))
        ctx.addIssue({ code: 'custom', path: ['accounts', i, 'id'], message: `duplicate account id "${account.id}"` });
      ids.add(account.id);
      account.keys.forEach((key, k) => {
        if (keyIds.has(key.keyId))
          ctx.addIssue({
            code: 'custom',
            path: ['accounts', i, 'keys', k, 'keyId'],
            message: `duplicate key id "${key.keyId}"`,
          });
        keyIds.add(key.keyId);
      });
    });
    file.accounts.forEach((account, i) => {
      if (account.role !== 'broker') return;
      account.sellerIds.forEach((sellerId, s) => {
        const seller = file.accounts.find((a) => a.id === sellerId);
        if (!seller || seller.role !== 'seller')
          ctx.addIssue({
            code: 'custom',
            path: ['accounts', i, 'sellerIds', s],
            message: `"${sellerId}" is not a seller in this file`,
          });
      });
    });
  });

export type AccountsFile = z.output<typeof accountsFileSchema>;

export class AccountsFileError extends Error {
  constructor(file: string, issues: string[]) {
    super(`${file}: ${issues.join('; ')}`);
    this.name = 'AccountsFileError';
  }
}

export async function loadAccountsFile(file: string): Promise<AccountsFile> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new AccountsFileError(file, [(err as Error).message]);
  }
  const parsed = accountsFileSchema.safeParse(json);
  if (!parsed.success)
    throw new AccountsFileError(
      file,
      parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  return parsed.data;
}

/** Upserts every account and key of the file. Returns what it seeded (ids only, never secrets). */
export async function seedAccounts(
  store: AccountStore,
  file: string,
  options: { production?: boolean } = {},
): Promise<{ accounts: string[]; keys: string[] }> {
  const content = await loadAccountsFile(file);
  const withSecrets = content.accounts.filter((a) => a.keys.length > 0);
  if (options.production && withSecrets.length > 0) {
    throw new AccountsFileError(file, [
      'contains API keys with clear secrets (development-only); refusing to seed them in production — create keys with `baygate accounts create-key`',
    ]);
  }
  const keys: string[] = [];
  for (const entry of content.accounts) {
    const { keys: entryKeys, ...account } = entry;
    await store.upsertAccount(account as Account);
    for (const key of entryKeys) {
      await store.putKnownKey(account.id, key.keyId, key.secret, {
        label: key.label ?? 'development key from accounts file',
      });
      keys.push(key.keyId);
    }
  }
  return { accounts: content.accounts.map((a) => a.id), keys };
}
