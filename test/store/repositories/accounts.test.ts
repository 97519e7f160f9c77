import { expect } from 'chai';
import { API_KEYS_COLLECTION, MongoAccountRepository, type ApiKeyRecord } from '../../../src/store/accounts';
import { concurrently, expectIndexUse, indexKeys, useTestDatabase } from './support';

describe('store/accounts (accounts, api_keys)', function () {
  this.timeout(30000);
  const db = useTestDatabase('repo_accounts');
  let repo: MongoAccountRepository;
  before(() => {
    repo = new MongoAccountRepository(db.connection);
  });

  const key = (keyId: string, over: Partial<ApiKeyRecord> = {}): ApiKeyRecord => ({
    keyId,
    account: 'seller-1',
    role: 'seller',
    hash: 'a'.repeat(64),
    createdAt: new Date('2026-01-01T00:00:00Z'),
    ...over,
  });

  it('stores an account and replaces it whole (fields the new version lacks are gone)', async () => {
    await repo.upsertAccount({
      id: 'seller-1',
      role: 'seller',
      name: 'One',
      region: 'HK',
      ebcCodes: ['HK3496A101'],
      rateLimitPerMinute: 5,
    });
    await repo.upsertAccount({ id: 'seller-1', role: 'seller', name: 'One again', ebcCodes: [] });
    expect(await repo.findAccount('seller-1')).to.deep.equal({
      id: 'seller-1',
      role: 'seller',
      name: 'One again',
      ebcCodes: [],
    });
    expect(await repo.findAccount('nobody')).to.equal(null);
    await repo.upsertAccount({ id: 'admin-1', role: 'admin', name: 'Admin' });
    expect((await repo.listAccounts()).map((a) => a.id)).to.deep.equal(['admin-1', 'seller-1']);
  });

  it('of 10 simultaneous inserts of one key id exactly one succeeds, the others fail with E11000', async () => {
    const outcomes = await concurrently(10, (i) =>
      repo.insertKey(key('bgk_race01', { label: `try ${i}` })).then(
        () => 'inserted',
        (err: { code?: number }) => err.code,
      ),
    );
    expect(outcomes.filter((o) => o === 'inserted')).to.have.length(1);
    expect(outcomes.filter((o) => o === 11000)).to.have.length(9);
    expect(await db.connection.db!.collection(API_KEYS_COLLECTION).countDocuments({ keyId: 'bgk_race01' })).to.equal(1);
  });

  it('of 10 simultaneous revocations the first date stays, whoever asks', async () => {
    await repo.insertKey(key('bgk_revoke'));
    const dates = Array.from({ length: 10 }, (_, i) => new Date(Date.UTC(2026, 1, 1, 0, 0, i)));
    const records = await concurrently(10, (i) => repo.revokeKey('bgk_revoke', dates[i]!));
    const seen = new Set(records.map((r) => r!.revokedAt!.getTime()));
    expect(seen.size).to.equal(1);
    expect(dates.map((d) => d.getTime())).to.include([...seen][0]);
    expect((await repo.findKey('bgk_revoke'))!.revokedAt!.getTime()).to.equal([...seen][0]);
    expect(await repo.revokeKey('bgk_missing', new Date())).to.equal(null);
  });

  it('an upserted known key keeps its first createdAt and its revocation; its hash and label change', async () => {
    const first = await repo.upsertKey(
      { keyId: 'bgk_known1', account: 'seller-1', role: 'seller', hash: 'b'.repeat(64), label: 'dev' },
      new Date('2026-03-01T00:00:00Z'),
    );
    await repo.revokeKey('bgk_known1', new Date('2026-03-02T00:00:00Z'));
    const again = await repo.upsertKey(
      { keyId: 'bgk_known1', account: 'seller-1', role: 'seller', hash: 'c'.repeat(64), label: 'dev 2' },
      new Date('2026-03-03T00:00:00Z'),
    );
    expect(first.createdAt.toISOString()).to.equal('2026-03-01T00:00:00.000Z');
    expect(again).to.deep.include({ hash: 'c'.repeat(64), label: 'dev 2' });
    expect(again.createdAt.toISOString()).to.equal('2026-03-01T00:00:00.000Z');
    expect(again.revokedAt!.toISOString()).to.equal('2026-03-02T00:00:00.000Z');
  });

  it("lists an account's keys oldest first, from the {account, createdAt} index", async () => {
    await repo.insertKey(key('bgk_list_b', { account: 'seller-2', createdAt: new Date('2026-05-02T00:00:00Z') }));
    await repo.insertKey(key('bgk_list_a', { account: 'seller-2', createdAt: new Date('2026-05-01T00:00:00Z') }));
    expect((await repo.listKeys('seller-2')).map((k) => k.keyId)).to.deep.equal(['bgk_list_a', 'bgk_list_b']);
    expect(await indexKeys(db.connection, API_KEYS_COLLECTION)).to.include('account:1,createdAt:1');
  });

  it('finds a key by id (every uncached request) from the _id index', async () => {
    await expectIndexUse(
      db,
      db.connection.db!.collection(API_KEYS_COLLECTION).find({ _id: 'bgk_race01' as never }),
      'key by id',
      { index: '_id_' },
    );
  });
});
