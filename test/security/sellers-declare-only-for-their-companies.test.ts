import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { seedAccounts } from '../../src/api/auth';
import { isProblem } from '../api/harness';
import { orderOf, outcomes, startSecuritySystem, type SecuritySystem } from './support/system';

/**
 * Issue 12, finding 4: an account without a company list declared for every company (an empty or
 * missing `ebcCodes` meant "no restriction"). Now a seller declares only for the companies it was
 * explicitly given; a seller provisioned without the list is refused at provisioning, and one stored
 * without it (before the list was required) declares for none.
 */
describe('security: a seller declares only for the e-commerce companies it was given', function () {
  this.timeout(60000);
  let s: SecuritySystem;

  before(async () => {
    s = await startSecuritySystem('companies');
  });
  after(() => s?.close());

  it("a seller declaring for another seller's company is refused and nothing is stored", async () => {
    const reply = await s.as('sellerGd', 'POST', '/v1/orders', { json: orderOf('HK') });
    expect(isProblem(reply, 422)).to.equal(true);
    expect(reply.body.errors).to.deep.include({
      path: '/orders/0/ebcCode',
      code: 'EBC_NOT_YOURS',
      message: 'this account may not declare for e-commerce company HK3496A101',
      messageZh: '本账户无权为电商企业 HK3496A101 申报',
    });
    expect(await s.count('declarations')).to.equal(0);
    expect(outcomes(await s.as('sellerHk', 'POST', '/v1/orders', { json: orderOf('HK') }))[0]?.outcome).to.equal(
      'accepted',
    );
  });

  it('a seller stored without a company list (or with an empty one) declares for no company at all', async () => {
    const before = await s.count('declarations');
    const db = s.mongo.db!;
    // As an account provisioned before the list was required sits in the database: no ebcCodes field.
    await db.collection('accounts').insertOne({
      _id: 'seller-legacy',
      role: 'seller',
      name: 'Legacy seller',
      createdAt: new Date(),
      updatedAt: new Date(),
    } as never);
    await s.accounts.putKnownKey('seller-legacy', 'bgk_test_legacy', 'legacy-seller-secret-0001');
    await s.accounts.upsertAccount({ role: 'seller', id: 'seller-empty', name: 'x', ebcCodes: [] });
    await s.accounts.putKnownKey('seller-empty', 'bgk_test_empty', 'empty-seller-secret-00001');

    for (const token of ['bgk_test_legacy.legacy-seller-secret-0001', 'bgk_test_empty.empty-seller-secret-00001']) {
      for (const region of ['GD', 'HK', 'MO'] as const) {
        const reply = await s.as('anonymous', 'POST', '/v1/orders', {
          json: orderOf(region),
          headers: { Authorization: `Bearer ${token}` },
        });
        expect(isProblem(reply, 422), `${token} ${region}: ${reply.text}`).to.equal(true);
        expect((reply.body.errors as { code: string }[])[0]?.code).to.equal('EBC_NOT_YOURS');
      }
    }
    expect(await s.count('declarations')).to.equal(before);
  });

  it('a seller without a company list is refused at provisioning (store and accounts file)', async () => {
    let refused: unknown;
    try {
      await s.accounts.upsertAccount({ role: 'seller', id: 'seller-nolist', name: 'x' } as never);
    } catch (err) {
      refused = err;
    }
    expect((refused as { code?: string })?.code).to.equal('ACCOUNT_INVALID');
    expect(await s.count('accounts', { _id: 'seller-nolist' } as never)).to.equal(0);

    const dir = mkdtempSync(join(tmpdir(), 'baygate-accounts-'));
    try {
      const file = join(dir, 'accounts.json');
      writeFileSync(file, JSON.stringify({ accounts: [{ role: 'seller', id: 'seller-file', name: 'x' }] }));
      let error: unknown;
      try {
        await seedAccounts(s.accounts, file);
      } catch (err) {
        error = err;
      }
      expect(String(error)).to.match(/accounts\.0\.ebcCodes/);
      expect(await s.count('accounts', { _id: 'seller-file' } as never)).to.equal(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
