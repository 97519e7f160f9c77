import { expect } from 'chai';
import type { Role } from '../../src/api/auth';
import { documentedRoutes, rolesOf } from '../../src/api/openapi';
import { createAdmin, createBroker, createCenter, createSeller, type TestKey } from '../support/accounts';
import { generateValidOrder } from '../support/order-generator';
import { call, isProblem, startApiHarness, type ApiHarness } from './harness';

/**
 * The access-control sweep over every authenticated route this harness mounts (the seller API, receipts,
 * webhooks), driven by the OpenAPI registry so a new route is swept as soon as it is documented:
 * 401 without a key, 401 with a revoked key, 403 for every role the route does not allow.
 */
const MINE = /^\/v1\/(orders|declarations\/:id(\/(cancel|return))?$|orders\/:orderNo|receipts|webhooks)/;

describe('access control on every seller-API route', function () {
  this.timeout(60000);
  let h: ApiHarness;
  let keys: Record<Role, TestKey>;
  let revoked: TestKey;
  let declarationId: string;
  let orderNo: string;

  before(async () => {
    h = await startApiHarness('api_access');
    const seller = await createSeller(h.connection);
    keys = {
      seller,
      broker: await createBroker(h.connection, [seller.account.id]),
      center: await createCenter(h.connection, 'GD'),
      admin: await createAdmin(h.connection),
    };
    revoked = await createSeller(h.connection);
    await h.auth.accounts.revokeKey(revoked.keyId);
    const order = generateValidOrder(1, { direction: 'import' });
    const r = await call(h.base, 'POST', '/v1/orders', { headers: seller.headers, json: order });
    declarationId = (r.body.orders as { declarations: { id: string }[] }[])[0]!.declarations[0]!.id;
    orderNo = order.orderNo;
  });
  after(() => h?.close());

  const routes = () => documentedRoutes().filter((r) => r.access !== 'public' && MINE.test(r.path));
  const concrete = (path: string) => path.replace(':id', declarationId).replace(':orderNo', orderNo);

  it('sweeps the 10 routes of the seller API', () => {
    expect(routes().map((r) => `${r.method} ${r.path}`)).to.have.length(10);
  });

  it('every route answers 401 problem+json without a key and with a revoked key', async () => {
    for (const route of routes()) {
      const path = concrete(route.path);
      expect(isProblem(await call(h.base, route.method, path), 401), `${route.method} ${path}`).to.equal(true);
      expect(
        isProblem(await call(h.base, route.method, path, { headers: revoked.headers }), 401),
        `${route.method} ${path} revoked`,
      ).to.equal(true);
    }
  });

  it('every route answers 403 problem+json to each role it does not allow', async () => {
    let checked = 0;
    for (const route of routes()) {
      for (const role of ['seller', 'broker', 'center', 'admin'] as const) {
        if ((rolesOf(route) as Role[]).includes(role)) continue;
        const r = await call(h.base, route.method, concrete(route.path), {
          headers: keys[role].headers,
          ...(route.method === 'POST' ? { json: {} } : {}),
        });
        expect(isProblem(r, 403), `${route.method} ${route.path} as ${role}: ${r.status}`).to.equal(true);
        checked++;
      }
    }
    expect(checked).to.be.greaterThan(20);
  });

  it('authenticated answers carry the RateLimit-* headers of the key', async () => {
    for (const path of [`/v1/declarations/${declarationId}`, `/v1/orders/${orderNo}/declarations`, '/v1/webhooks']) {
      const r = await call(h.base, 'GET', path, { headers: keys.seller.headers });
      expect(r.status, path).to.equal(200);
      expect(Number(r.headers.get('ratelimit-limit')), path).to.equal(600);
      expect(Number(r.headers.get('ratelimit-remaining')), path).to.be.within(0, 599);
      expect(r.headers.get('ratelimit-policy'), path).to.equal('600;w=60');
    }
  });

  it('nothing was stored by any refused request', async () => {
    expect(await h.count('declarations')).to.equal(4);
    expect(await h.count('webhooks')).to.equal(0);
    expect(await h.count('receipts')).to.equal(0);
  });
});
