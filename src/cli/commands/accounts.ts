import type { Command } from 'commander';
import { CliError } from '../cli-error';
import { loadConfig } from '../../config';
import { createLogger } from '../../log';
import { MongoAccountRepository } from '../../store/accounts';
import type { StoreConnection } from '../../store/collections';
import { connectMongo } from '../../store/mongo';
import { AccountStore, KeyError } from '../../api/auth/account-store';
import { AccountsFileError, seedAccounts } from '../../api/auth/seed';

/**
 * `baygate accounts …`: API key lifecycle against the configured MongoDB (MONGO_URL).
 * Rotation = create-key (deploy the new key) then revoke-key on the old one; both work in between.
 */
export function register(program: Command): void {
  const accounts = program
    .command('accounts')
    .description('API accounts and keys (rotation: create a new key, then revoke the old one)');

  accounts
    .command('create-key')
    .description('issue a new API key for an account; prints the key ONCE (only its SHA-256 is stored)')
    .requiredOption('--account <id>', 'account id (seller id, broker id, center code or admin id)')
    .option('--expires <time>', 'expiry, ISO 8601 (default: never)')
    .option('--label <text>', 'what the key is for (shown in list-keys)')
    .option('--json', 'print { keyId, token, … } as JSON')
    .action(async (opts: { account: string; expires?: string; label?: string; json?: boolean }) => {
      const expiresAt = opts.expires ? parseTime(opts.expires, '--expires') : undefined;
      if (expiresAt && expiresAt.getTime() <= Date.now()) throw new CliError('--expires is in the past', 2);
      await withStore(async (store) => {
        const key = await store.createKey(opts.account, { expiresAt, label: opts.label });
        if (opts.json) {
          process.stdout.write(
            JSON.stringify(
              {
                keyId: key.keyId,
                account: key.record.account,
                role: key.record.role,
                token: key.token,
                expiresAt: key.record.expiresAt ?? null,
              },
              null,
              2,
            ) + '\n',
          );
        } else {
          process.stdout.write(
            `key id:  ${key.keyId}\naccount: ${key.record.account} (${key.record.role})\nexpires: ${key.record.expiresAt?.toISOString() ?? 'never'}\n\nAPI key (shown once, store it now):\n${key.token}\n\nSend it as: Authorization: Bearer ${key.token}\n`,
          );
        }
      });
    });

  accounts
    .command('revoke-key')
    .description('revoke an API key at once (other keys of the account keep working)')
    .argument('<keyId>', 'the key id (the part before the dot)')
    .action(async (keyId: string) => {
      await withStore(async (store) => {
        const record = await store.revokeKey(keyId);
        process.stdout.write(`revoked ${record.keyId} of ${record.account} at ${record.revokedAt?.toISOString()}\n`);
      });
    });

  accounts
    .command('list-keys')
    .description("list an account's keys (ids and dates, never secrets)")
    .requiredOption('--account <id>', 'account id')
    .action(async (opts: { account: string }) => {
      await withStore(async (store) => {
        if (!(await store.findAccount(opts.account))) throw new CliError(`no account "${opts.account}"`, 1);
        for (const key of await store.listKeys(opts.account)) {
          const state = key.revokedAt
            ? `revoked ${key.revokedAt.toISOString()}`
            : key.expiresAt && key.expiresAt.getTime() <= Date.now()
              ? `expired ${key.expiresAt.toISOString()}`
              : 'active';
          process.stdout.write(
            `${key.keyId}\t${key.role}\tcreated ${key.createdAt.toISOString()}\t${state}${key.label ? `\t${key.label}` : ''}\n`,
          );
        }
      });
    });

  accounts
    .command('seed')
    .description('upsert the accounts (and development keys) of a JSON file; idempotent')
    .option('--file <path>', 'accounts file', 'config/accounts.dev.json')
    .action(async (opts: { file: string }) => {
      const config = loadConfig();
      await withStore(async (store) => {
        const seeded = await seedAccounts(store, opts.file, { production: config.NODE_ENV === 'production' });
        process.stdout.write(
          `seeded ${seeded.accounts.length} accounts and ${seeded.keys.length} keys from ${opts.file}\n`,
        );
      });
    });
}

function parseTime(value: string, option: string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new CliError(`${option}: not a date: ${value}`, 2);
  return date;
}

/** Runs `work` on the accounts of the configured database; its known errors become CLI errors. */
async function withStore(work: (store: AccountStore) => Promise<void>): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: 'error' });
  let connection: StoreConnection;
  try {
    connection = await connectMongo(config.MONGO_URL, logger, { serverSelectionTimeoutMS: 3000 });
  } catch (err) {
    throw new CliError(`cannot reach MongoDB at ${config.MONGO_URL}: ${(err as Error).message}`, 1);
  }
  try {
    await work(new AccountStore(new MongoAccountRepository(connection)));
  } catch (err) {
    if (err instanceof KeyError || err instanceof AccountsFileError) throw new CliError(err.message, 1);
    throw err;
  } finally {
    await connection.close();
  }
}
