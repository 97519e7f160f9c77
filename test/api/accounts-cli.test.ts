import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import type { Connection } from 'mongoose';
import { AccountStore } from '../../src/api/auth/account-store';
import { MongoAccountRepository } from '../../src/store/accounts';
import { parseToken, secretMatches } from '../../src/api/auth/keys';
import { connectMongo } from '../../src/store/mongo';
import { silentLogger } from '../support/logger';
import { dropDatabase, mongoUrlFor, requireMongo } from '../support/services';

const run = promisify(execFile);
const URL = mongoUrlFor('api_accounts_cli');

async function baygate(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('node', ['bin/baygate.js', 'accounts', ...args], {
      env: { ...process.env, MONGO_URL: URL },
      timeout: 30000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('baygate accounts (CLI)', function () {
  this.timeout(60000);
  let connection: Connection;

  before(async () => {
    await requireMongo();
    await dropDatabase(URL);
    connection = await connectMongo(URL, silentLogger());
  });
  after(() => connection?.close());

  it('seed, create-key (printed once, stored hashed), revoke-key, and the errors', async () => {
    const seeded = await baygate('seed');
    expect(seeded.code, seeded.stderr).to.equal(0);
    expect(seeded.stdout).to.match(/seeded 10 accounts and 10 keys/);

    const created = await baygate('create-key', '--account', 'seller-hk', '--json', '--label', 'erp');
    expect(created.code, created.stderr).to.equal(0);
    const out = JSON.parse(created.stdout) as { keyId: string; token: string; role: string };
    expect(out.role).to.equal('seller');
    const parsed = parseToken(out.token)!;
    expect(parsed.keyId).to.equal(out.keyId);
    const store = new AccountStore(new MongoAccountRepository(connection));
    const record = await store.findKey(out.keyId);
    expect(record).to.include({ account: 'seller-hk', label: 'erp' });
    expect(secretMatches(parsed.secret, record!.hash)).to.equal(true);

    const revoked = await baygate('revoke-key', out.keyId);
    expect(revoked.code, revoked.stderr).to.equal(0);
    expect((await store.findKey(out.keyId))!.revokedAt).to.be.instanceOf(Date);
    // The development key of the same account is untouched (rotation is per key).
    expect((await store.findKey('bgk_dev_seller_hk'))!.revokedAt).to.equal(undefined);

    const unknownAccount = await baygate('create-key', '--account', 'nobody');
    expect(unknownAccount.code).to.equal(1);
    expect(unknownAccount.stderr).to.equal('baygate: no account "nobody"\n');
    const unknownKey = await baygate('revoke-key', 'bgk_doesnotexist');
    expect(unknownKey.code).to.equal(1);
    expect(unknownKey.stderr).to.match(/no API key "bgk_doesnotexist"/);
  });
});
