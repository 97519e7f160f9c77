import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { loadConfig } from '../../src/config';
import { createWebhookDispatcher } from '../../src/pipeline/webhooks';
import { isProblem } from '../api/harness';
import { silentLogger } from '../support/logger';
import { orderOf, startSecuritySystem, type SecuritySystem } from './support/system';

/**
 * Issue 12, finding 7: outside production any webhook URL was accepted — 127.0.0.1 service ports,
 * 169.254.169.254, private ranges — and deliveries were made to loopback; in production the check ran
 * only at registration (so DNS rebinding passed) and missed [::127.0.0.1], NAT64 [64:ff9b::7f00:1],
 * fe90::/10, 198.18.0.0/15, multicast and broadcast. Now, in every mode, a webhook goes only to public
 * https addresses unless the development allow-list names it, checked at registration and at every
 * delivery, and the delivery connects to the address it checked.
 */
describe('security: webhooks reach public addresses only (SSRF)', function () {
  this.timeout(60000);
  let s: SecuritySystem;
  let receiver: { server: Server; port: number; hits: IncomingHttpHeaders[] };

  before(async () => {
    // The gateway as `npm run stack` runs it: development mode, no allow-list.
    s = await startSecuritySystem('webhook_targets', { NODE_ENV: 'development' });
    const hits: IncomingHttpHeaders[] = [];
    const server = createServer((req, res) => {
      hits.push(req.headers);
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    receiver = { server, port: (server.address() as AddressInfo).port, hits };
  });
  after(async () => {
    await new Promise<void>((resolve) => receiver?.server.close(() => resolve()));
    await s?.close();
  });

  it('refuses to register any non-public target in development mode: 422 on /url, nothing stored', async () => {
    for (const url of [
      `http://127.0.0.1:${receiver.port}/hook`,
      `https://127.0.0.1:${s.gateway.port}/v1/declarations`,
      'https://127.0.0.1:27017/',
      'https://localhost/x',
      'https://169.254.169.254/latest/meta-data/',
      'https://10.0.0.8/x',
      'https://172.16.5.4/x',
      'https://192.168.0.10/x',
      'https://100.64.1.1/x',
      'https://0.0.0.0/x',
      'https://198.18.0.10/x',
      'https://224.0.0.251/x',
      'https://255.255.255.255/x',
      'https://[::1]/x',
      'https://[::127.0.0.1]/x',
      'https://[::ffff:127.0.0.1]/x',
      'https://[64:ff9b::7f00:1]/x',
      'https://[fe80::1]/x',
      'https://[fe90::1]/x',
      'https://[fd00::1]/x',
      'https://[ff02::1]/x',
      'https://0x7f000001/x',
      'https://2130706433/x',
    ]) {
      const r = await s.as('sellerGd', 'POST', '/v1/webhooks', { json: { url } });
      expect(isProblem(r, 422), `${url}: ${r.status}`).to.equal(true);
      expect((r.body.errors as { path: string; code: string }[])[0]).to.include({
        path: '/url',
        code: 'URL_NOT_ALLOWED',
      });
    }
    expect(await s.count('webhooks')).to.equal(0);
    expect(receiver.hits).to.have.length(0);
  });

  it('DNS rebinding: a name public at registration and loopback at delivery is refused at delivery, and nothing connects', async () => {
    // The name resolves to a public address when the webhook is checked, and to our loopback receiver later.
    let rebound = false;
    const lookup = async () => [{ address: rebound ? '127.0.0.1' : '121.40.1.1', family: 4 }];
    const { checkWebhookTarget } = await import('../../src/pipeline/webhook-targets');
    const url = new URL(`https://rebind.example:${receiver.port}/hook`);
    expect((await checkWebhookTarget(url, { allowed: [], lookup })).ok).to.equal(true);
    const webhook = await s.webhooks.create('seller-gd', url.toString());
    rebound = true;

    await s.as('sellerGd', 'POST', '/v1/orders', { json: orderOf('GD') });
    const dispatcher = createWebhookDispatcher({
      repositories: {
        subscriptions: s.gateway.core.repositories.webhookSubscriptions,
        deliveries: s.gateway.core.repositories.webhookDeliveries,
        cursors: s.gateway.core.repositories.cursors,
      },
      declarations: s.gateway.core.stores.declarations,
      logger: silentLogger(),
      targets: { allowed: [], lookup },
      settleMs: 0,
      maxAttempts: 1,
    });
    expect(await dispatcher.fanOut()).to.be.greaterThan(0);
    expect(await dispatcher.deliverDue()).to.be.greaterThan(0);
    const deliveries = await s.webhooks.deliveriesOf(webhook.id, 100);
    expect(deliveries.length).to.be.greaterThan(0);
    for (const d of deliveries) {
      expect(d.status).to.equal('failed');
      expect(d.log[0]?.error).to.match(/^target refused: .* not public/);
      expect(d.log[0]).not.to.have.property('status');
    }
    expect(receiver.hits).to.have.length(0);
    await s.webhooks.remove('seller-gd', webhook.id);
  });

  it('a delivery connects to the address it checked, not to what the name resolves to afterwards', async () => {
    // hooks.test is on the development allow-list and "resolves" to our receiver: the request arrives
    // there, with the name as Host — the connection went to the checked address, no second lookup.
    const lookup = async (host: string) => {
      if (host !== 'hooks.test') throw new Error('ENOTFOUND');
      return [{ address: '127.0.0.1', family: 4 }];
    };
    const url = `http://hooks.test:${receiver.port}/hook`;
    const webhook = await s.webhooks.create('seller-gd', url);
    await s.as('sellerGd', 'POST', '/v1/orders', { json: orderOf('GD') });
    const dispatcher = createWebhookDispatcher({
      repositories: {
        subscriptions: s.gateway.core.repositories.webhookSubscriptions,
        deliveries: s.gateway.core.repositories.webhookDeliveries,
        cursors: s.gateway.core.repositories.cursors,
      },
      declarations: s.gateway.core.stores.declarations,
      logger: silentLogger(),
      targets: { allowed: ['hooks.test'], lookup },
      settleMs: 0,
      maxAttempts: 1,
    });
    await dispatcher.fanOut();
    await dispatcher.deliverDue();
    expect(receiver.hits.length).to.be.greaterThan(0);
    expect(receiver.hits[0]!.host).to.equal(`hooks.test:${receiver.port}`);
    const delivered = await s.webhooks.deliveriesOf(webhook.id, 100);
    expect(delivered.every((d) => d.status === 'delivered')).to.equal(true);
  });

  it('the development allow-list is refused in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', WEBHOOK_ALLOWED_TARGETS: '127.0.0.1' })).to.throw(
      /WEBHOOK_ALLOWED_TARGETS/,
    );
  });
});
