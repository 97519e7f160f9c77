import { expect } from 'chai';
import Router from '@koa/router';
import type { Connection } from 'mongoose';
import { createApp } from '../../src/api/app';
import { createAuth, seedAccounts, type AuthDeps } from '../../src/api/auth';
import { principalOf } from '../../src/api/state';
import { AccountStore } from '../../src/api/auth/account-store';
import { MongoAccountRepository } from '../../src/store/accounts';
import { AccountsFileError } from '../../src/api/auth/seed';
import type { RequestState } from '../../src/api/middleware/request-context';
import { listen } from '../../src/runtime/http-server';
import { connectMongo } from '../../src/store/mongo';
import { createRepositories } from '../../src/store/repositories';
import {
  bearer,
  createAccountWithKey,
  createAdmin,
  createBroker,
  createCenter,
  createSeller,
} from '../support/accounts';
import { silentLogger } from '../support/logger';
import { dropDatabase, mongoUrlFor, requireMongo } from '../support/services';

const URL = mongoUrlFor('api_auth');
const frozenNow = Date.now();

describe('API access control (API keys, roles, rate limits)', function () {
  this.timeout(30000);
  let connection: Connection;
  let base: string;
  let close: () => Promise<void>;
  let auth: AuthDeps;

  before(async () => {
    await requireMongo();
    await dropDatabase(URL);
    connection = await connectMongo(URL, silentLogger());
    // A frozen clock for the rate limiter: a test's requests never straddle a window boundary.
    auth = createAuth(createRepositories(connection), {
      cacheMs: 0,
      rateLimit: { windowMs: 60_000, now: () => frozenNow },
    });
    const router = new Router<RequestState>();
    router.get('/whoami', auth.authenticate, (ctx) => {
      ctx.body = principalOf(ctx);
    });
    router.get('/sellers-only', auth.guard('orders.submit'), (ctx) => {
      ctx.body = { ok: true };
    });
    router.get('/operators-only', auth.guard('clashes.resolve'), (ctx) => {
      ctx.body = { ok: true };
    });
    const http = await listen(createApp({ logger: silentLogger(), routers: [router] }), 0, '127.0.0.1');
    base = `http://127.0.0.1:${http.port}`;
    close = http.close;
  });
  after(async () => {
    await close?.();
    await connection?.close();
  });

  async function problem(res: Response, status: number): Promise<Record<string, unknown>> {
    expect(res.status).to.equal(status);
    expect(res.headers.get('content-type')).to.match(/^application\/problem\+json/);
    return (await res.json()) as Record<string, unknown>;
  }

  it('answers 401 problem+json with WWW-Authenticate when no key is sent', async () => {
    const res = await fetch(`${base}/whoami`);
    const body = await problem(res, 401);
    expect(res.headers.get('www-authenticate')).to.match(/^Bearer/);
    expect(body.title).to.equal('Unauthorized');
  });

  it('answers 401 for a malformed key, an unknown key id and a wrong secret alike', async () => {
    const seller = await createSeller(connection);
    const wrongSecret = `${seller.keyId}.${'A'.repeat(43)}`;
    for (const token of ['garbage', 'bgk_nosuchkey1.' + 'B'.repeat(43), wrongSecret]) {
      await problem(await fetch(`${base}/whoami`, { headers: bearer(token) }), 401);
    }
    // Wrong scheme is not accepted either.
    await problem(await fetch(`${base}/whoami`, { headers: { Authorization: `Basic ${seller.token}` } }), 401);
  });

  it('authenticates a seller by Bearer and by X-Api-Key and sets the principal', async () => {
    const seller = await createSeller(connection, { ebcCodes: ['4401960E01'] });
    for (const headers of [seller.headers, { 'X-Api-Key': seller.token }]) {
      const res = await fetch(`${base}/whoami`, { headers });
      expect(res.status).to.equal(200);
      expect(await res.json()).to.deep.include({
        role: 'seller',
        id: seller.account.id,
        ebcCodes: ['4401960E01'],
        keyId: seller.keyId,
      });
    }
  });

  it('gives brokers their sellers, centers their code and admins no seller restriction', async () => {
    const broker = await createBroker(connection, ['s1', 's2']);
    const center = await createCenter(connection, 'HK');
    const admin = await createAdmin(connection);
    expect(await (await fetch(`${base}/whoami`, { headers: broker.headers })).json()).to.deep.include({
      role: 'broker',
      sellerIds: ['s1', 's2'],
    });
    expect(await (await fetch(`${base}/whoami`, { headers: center.headers })).json()).to.deep.include({
      role: 'center',
      centerCode: 'HK',
    });
    const adminPrincipal = (await (await fetch(`${base}/whoami`, { headers: admin.headers })).json()) as Record<
      string,
      unknown
    >;
    expect(adminPrincipal.role).to.equal('admin');
    expect(adminPrincipal).not.to.have.property('sellerIds');
  });

  it('answers 403 problem+json when the role is not allowed, naming the roles', async () => {
    const seller = await createSeller(connection);
    const body = await problem(await fetch(`${base}/operators-only`, { headers: seller.headers }), 403);
    expect(body.detail).to.match(/for admin accounts/);
    expect((await fetch(`${base}/sellers-only`, { headers: seller.headers })).status).to.equal(200);
  });

  it('rotation: a new key works while the old one still does, until the old one is revoked', async () => {
    const seller = await createSeller(connection);
    const store = new AccountStore(new MongoAccountRepository(connection));
    const fresh = await store.createKey(seller.account.id);
    expect((await fetch(`${base}/whoami`, { headers: seller.headers })).status).to.equal(200);
    expect((await fetch(`${base}/whoami`, { headers: bearer(fresh.token) })).status).to.equal(200);
    await store.revokeKey(seller.keyId);
    await problem(await fetch(`${base}/whoami`, { headers: seller.headers }), 401);
    expect((await fetch(`${base}/whoami`, { headers: bearer(fresh.token) })).status).to.equal(200);
  });

  it('rejects an expired key', async () => {
    const seller = await createAccountWithKey(
      connection,
      { role: 'seller', id: 'expiring-seller', name: 'x', ebcCodes: [] },
      { expiresAt: new Date(Date.now() + 300) },
    );
    expect((await fetch(`${base}/whoami`, { headers: seller.headers })).status).to.equal(200);
    await new Promise((r) => setTimeout(r, 400));
    await problem(await fetch(`${base}/whoami`, { headers: seller.headers }), 401);
  });

  it('stores only the SHA-256 of the secret, never the secret', async () => {
    const seller = await createSeller(connection);
    const secret = seller.token.split('.')[1]!;
    const doc = await connection.db!.collection('api_keys').findOne({ keyId: seller.keyId });
    expect(doc).to.include({ account: seller.account.id, role: 'seller' });
    expect(doc!.hash).to.match(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(doc)).not.to.include(secret);
  });

  it('sends RateLimit-* headers and answers 429 problem+json with Retry-After past the limit', async () => {
    const seller = await createSeller(connection, { rateLimitPerMinute: 3 });
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${base}/whoami`, { headers: seller.headers });
      expect(res.status).to.equal(200);
      expect(res.headers.get('ratelimit-limit')).to.equal('3');
      expect(Number(res.headers.get('ratelimit-reset'))).to.be.within(1, 60);
      remaining.push(res.headers.get('ratelimit-remaining')!);
    }
    expect(remaining).to.deep.equal(['2', '1', '0']);
    const res = await fetch(`${base}/whoami`, { headers: seller.headers });
    const body = await problem(res, 429);
    expect(Number(res.headers.get('retry-after'))).to.be.within(1, 60);
    expect(res.headers.get('ratelimit-remaining')).to.equal('0');
    expect(body.detail).to.include(seller.keyId);
    // The limit is per key: another key of another account is unaffected.
    const other = await createSeller(connection, { rateLimitPerMinute: 3 });
    expect((await fetch(`${base}/whoami`, { headers: other.headers })).status).to.equal(200);
  });

  it('is exact under concurrency: 30 simultaneous requests against a limit of 10 pass exactly 10', async () => {
    const seller = await createSeller(connection, { rateLimitPerMinute: 10 });
    const statuses = await Promise.all(
      Array.from({ length: 30 }, () => fetch(`${base}/whoami`, { headers: seller.headers }).then((r) => r.status)),
    );
    const passed = statuses.filter((s) => s === 200).length;
    expect(statuses.filter((s) => s !== 200 && s !== 429)).to.deep.equal([]);
    expect(passed).to.equal(10);
    console.log(`      concurrent rate limit: ${passed} of 30 passed (limit 10)`);
  });

  it('counts the limit in MongoDB, so two gateway copies share it', async () => {
    // A second app instance with its own middleware (as a second process would have) on the same database.
    const second = createAuth(createRepositories(connection), {
      cacheMs: 0,
      rateLimit: { windowMs: 60_000, now: () => frozenNow },
    });
    const router = new Router<RequestState>();
    router.get('/whoami', second.authenticate, (ctx) => {
      ctx.body = { ok: true };
    });
    const http = await listen(createApp({ logger: silentLogger(), routers: [router] }), 0, '127.0.0.1');
    try {
      const seller = await createSeller(connection, { rateLimitPerMinute: 2 });
      expect((await fetch(`${base}/whoami`, { headers: seller.headers })).status).to.equal(200);
      expect((await fetch(`http://127.0.0.1:${http.port}/whoami`, { headers: seller.headers })).status).to.equal(200);
      expect((await fetch(`${base}/whoami`, { headers: seller.headers })).status).to.equal(429);
      expect((await fetch(`http://127.0.0.1:${http.port}/whoami`, { headers: seller.headers })).status).to.equal(429);
    } finally {
      await http.close();
    }
  });

  describe('seedAccounts (config/accounts.dev.json)', () => {
    it('upserts accounts and development keys idempotently; a dev key then authenticates', async () => {
      const first = await seedAccounts(
        new AccountStore(new MongoAccountRepository(connection)),
        'config/accounts.dev.json',
      );
      const second = await seedAccounts(
        new AccountStore(new MongoAccountRepository(connection)),
        'config/accounts.dev.json',
      );
      expect(second).to.deep.equal(first);
      expect(first.accounts).to.include.members(['seller-gd', 'broker-gba', 'GD', 'ops']);
      expect(await connection.db!.collection('api_keys').countDocuments({ keyId: 'bgk_dev_seller_gd' })).to.equal(1);
      const res = await fetch(`${base}/whoami`, {
        headers: bearer('bgk_dev_seller_gd.dev-only-seller-gd-not-a-secret'),
      });
      expect(await res.json()).to.deep.include({
        role: 'seller',
        id: 'seller-gd',
        ebcCodes: ['4401960E01', '4403960E02'],
      });
      const broker = await fetch(`${base}/whoami`, {
        headers: bearer('bgk_dev_broker_gba.dev-only-broker-gba-not-a-secret'),
      });
      expect(await broker.json()).to.deep.include({
        role: 'broker',
        sellerIds: ['seller-gd', 'seller-hk', 'seller-mo'],
      });
    });

    it('refuses to seed keys with clear secrets in production', async () => {
      try {
        await seedAccounts(new AccountStore(new MongoAccountRepository(connection)), 'config/accounts.dev.json', {
          production: true,
        });
        expect.fail('seeded development keys in production');
      } catch (err) {
        expect(err).to.be.instanceOf(AccountsFileError);
        expect((err as Error).message).to.match(/development-only/);
      }
    });

    it('names the bad path of an invalid accounts file', async () => {
      const { writeFile, mkdtemp } = await import('node:fs/promises');
      const { join } = await import('node:path');
      const { tmpdir } = await import('node:os');
      const dir = await mkdtemp(join(tmpdir(), 'baygate-accounts-'));
      const file = join(dir, 'accounts.json');
      await writeFile(
        file,
        JSON.stringify({ accounts: [{ role: 'broker', id: 'b', name: 'B', sellerIds: ['nobody'] }] }),
      );
      try {
        await seedAccounts(new AccountStore(new MongoAccountRepository(connection)), file);
        expect.fail('accepted a broker of an unknown seller');
      } catch (err) {
        expect((err as Error).message).to.match(/accounts\.0\.sellerIds\.0: "nobody" is not a seller/);
      }
    });
  });
});
