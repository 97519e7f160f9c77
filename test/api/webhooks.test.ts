import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { identityFiles } from '../../src/centers/identities';
import { buildReceipt } from '../../src/centers/simulator/receipt-builder';
import { SoftwareXmlSigner } from '../../src/signing/signers/software';
import { loadTrustLists } from '../../src/signing/trust';
import { trustListCheck } from '../../src/signing/trust-check';
import { waitFor } from '../support/rabbitmq';
import { createWebhookDispatcher, verifyWebhookSignature, type WebhookEvent } from '../../src/pipeline/webhooks';
import { createAdmin, createBroker, createCenter, createSeller, type TestKey } from '../support/accounts';
import { silentLogger } from '../support/logger';
import { generateValidOrder } from '../support/order-generator';
import { call, isProblem, startApiHarness, type ApiHarness } from './harness';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A local receiver: records every call and answers with the next status of `script` (then 200). */
async function startReceiver(
  script: number[] = [],
): Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = script.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}/hook`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('webhooks', function () {
  this.timeout(60000);
  let h: ApiHarness;
  let seller: TestKey;
  let otherSeller: TestKey;

  before(async () => {
    h = await startApiHarness('api_webhooks');
    seller = await createSeller(h.connection);
    otherSeller = await createSeller(h.connection);
  });
  after(() => h?.close());

  const dispatcher = (overrides: Partial<Parameters<typeof createWebhookDispatcher>[0]> = {}) =>
    createWebhookDispatcher({
      repositories: {
        subscriptions: h.repositories.webhookSubscriptions,
        deliveries: h.repositories.webhookDeliveries,
        cursors: h.repositories.cursors,
      },
      declarations: h.stores.declarations,
      logger: silentLogger(),
      targets: { allowed: ['127.0.0.1'] },
      settleMs: 0,
      baseBackoffMs: 50,
      maxBackoffMs: 200,
      concurrency: 4,
      ...overrides,
    });

  async function submitOrder(key: TestKey, seed: number): Promise<string[]> {
    const r = await call(h.base, 'POST', '/v1/orders', {
      headers: key.headers,
      json: generateValidOrder(seed, { direction: 'import' }),
    });
    expect(r.status, r.text).to.equal(202);
    return (r.body.orders as { declarations: { id: string }[] }[])[0]!.declarations.map((d) => d.id);
  }

  describe('routes', () => {
    it('401 without a key and 403 for brokers, centers and admins on every webhook route', async () => {
      const others = [
        await createBroker(h.connection, [seller.account.id]),
        await createCenter(h.connection, 'GD'),
        await createAdmin(h.connection),
      ];
      const routes: [string, string][] = [
        ['POST', '/v1/webhooks'],
        ['GET', '/v1/webhooks'],
        ['DELETE', '/v1/webhooks/x'],
        ['GET', '/v1/webhooks/x/deliveries'],
      ];
      for (const [method, path] of routes) {
        expect(
          isProblem(
            await call(h.base, method, path, method === 'POST' ? { json: { url: 'http://127.0.0.1:1/x' } } : {}),
            401,
          ),
          `${method} ${path}`,
        ).to.equal(true);
        for (const key of others) {
          expect(
            isProblem(
              await call(h.base, method, path, {
                headers: key.headers,
                ...(method === 'POST' ? { json: { url: 'http://127.0.0.1:1/x' } } : {}),
              }),
              403,
            ),
            `${method} ${path}`,
          ).to.equal(true);
        }
      }
      expect(await h.count('webhooks')).to.equal(0);
    });

    it('registers a webhook (201, secret shown once), lists it without the secret, and isolates sellers', async () => {
      const created = await call(h.base, 'POST', '/v1/webhooks', {
        headers: seller.headers,
        json: { url: 'http://127.0.0.1:9/a' },
      });
      expect(created.status).to.equal(201);
      expect(created.body.secret).to.match(/^whsec_/);
      expect(created.headers.get('location')).to.equal(`/v1/webhooks/${created.body.id}`);
      const mine = await call(h.base, 'GET', '/v1/webhooks', { headers: seller.headers });
      expect((mine.body.items as { id: string }[]).map((w) => w.id)).to.include(created.body.id);
      expect(mine.text).not.to.include(created.body.secret as string);
      const theirs = await call(h.base, 'GET', '/v1/webhooks', { headers: otherSeller.headers });
      expect(theirs.body.items).to.deep.equal([]);
      // Another seller can neither read the log nor delete it: 404 like a missing webhook.
      expect(
        isProblem(
          await call(h.base, 'GET', `/v1/webhooks/${created.body.id}/deliveries`, { headers: otherSeller.headers }),
          404,
        ),
      ).to.equal(true);
      expect(
        isProblem(
          await call(h.base, 'DELETE', `/v1/webhooks/${created.body.id}`, { headers: otherSeller.headers }),
          404,
        ),
      ).to.equal(true);
      expect(await h.count('webhooks', { _id: created.body.id })).to.equal(1);
      const deleted = await call(h.base, 'DELETE', `/v1/webhooks/${created.body.id}`, { headers: seller.headers });
      expect(deleted.status).to.equal(204);
      expect(await h.count('webhooks', { _id: created.body.id })).to.equal(0);
    });

    it('422 naming /url or /secret for invalid input, 400 for malformed JSON; nothing stored', async () => {
      const before = await h.count('webhooks');
      const badUrl = await call(h.base, 'POST', '/v1/webhooks', {
        headers: seller.headers,
        json: { url: 'ftp://example.com/x' },
      });
      expect(isProblem(badUrl, 422)).to.equal(true);
      expect((badUrl.body.errors as { path: string }[])[0]!.path).to.equal('/url');
      const shortSecret = await call(h.base, 'POST', '/v1/webhooks', {
        headers: seller.headers,
        json: { url: 'https://example.com/x', secret: 'short' },
      });
      expect((shortSecret.body.errors as { path: string }[])[0]!.path).to.equal('/secret');
      expect(
        isProblem(
          await call(h.base, 'POST', '/v1/webhooks', {
            headers: seller.headers,
            body: '{"url":',
            type: 'application/json',
          }),
          400,
        ),
      ).to.equal(true);
      expect(await h.count('webhooks')).to.equal(before);
    });
  });

  describe('delivery', () => {
    it('POSTs each status change signed with HMAC-SHA256, retries after a 500 with backoff, and the log shows every attempt', async () => {
      const receiver = await startReceiver([500]);
      try {
        const secret = 'test-secret-of-at-least-24-chars';
        const created = await call(h.base, 'POST', '/v1/webhooks', {
          headers: seller.headers,
          json: { url: receiver.url, secret },
        });
        const webhookId = created.body.id as string;
        await new Promise((r) => setTimeout(r, 1100)); // events must be newer than the webhook's second
        const ids = await submitOrder(seller, 1);
        await submitOrder(otherSeller, 2); // not this seller's: never delivered here
        const d = dispatcher({ baseBackoffMs: 600, maxBackoffMs: 600 });
        const created1 = await d.fanOut();
        expect(created1).to.equal(ids.length);
        expect(await d.fanOut()).to.equal(0); // idempotent: same (webhook, event) pairs
        // A clock that stands still during the pass, so the retry (600 ms ± 20 % later) is not due yet.
        const t0 = Date.now();
        await d.deliverDue(() => new Date(t0));
        expect(receiver.received).to.have.length(ids.length);
        expect(await d.deliverDue(() => new Date(t0 + 100))).to.equal(0); // backing off
        await d.deliverDue(() => new Date(t0 + 2000));
        expect(receiver.received).to.have.length(ids.length + 1);

        const delivered = new Set<string>();
        for (const call of receiver.received) {
          const signature = String(call.headers['baygate-signature']);
          expect(verifyWebhookSignature(secret, signature, call.body), signature).to.equal(true);
          expect(verifyWebhookSignature('another-secret-entirely-xx', signature, call.body)).to.equal(false);
          expect(verifyWebhookSignature(secret, signature, call.body.replace('accepted', 'rejected'))).to.equal(false);
          const event = JSON.parse(call.body) as WebhookEvent;
          expect(event.type).to.equal('declaration.status_changed');
          expect(call.headers['baygate-event-id']).to.equal(event.id);
          expect(ids).to.include(event.data.declarationId);
          expect(event.data.status).to.equal('accepted');
          delivered.add(event.data.declarationId);
        }
        expect([...delivered].sort()).to.deep.equal([...ids].sort());

        const log = await call(h.base, 'GET', `/v1/webhooks/${webhookId}/deliveries`, { headers: seller.headers });
        expect(log.status).to.equal(200);
        const items = log.body.items as {
          status: string;
          attempts: number;
          lastStatus: number;
          log: { status: number; error?: string }[];
        }[];
        expect(items).to.have.length(ids.length);
        expect(items.every((i) => i.status === 'delivered')).to.equal(true);
        const retried = items.find((i) => i.attempts === 2)!;
        expect(retried.log.map((a) => a.status)).to.deep.equal([500, 200]);
        expect(retried.log[0]!.error).to.equal('HTTP 500');
        expect(retried.lastStatus).to.equal(200);
      } finally {
        await receiver.close();
      }
    });

    it('gives up after maxAttempts and records the connection error', async () => {
      // A port that was just free: nothing listens there, so connections are refused.
      const gone = await startReceiver();
      await gone.close();
      const created = await call(h.base, 'POST', '/v1/webhooks', {
        headers: otherSeller.headers,
        json: { url: gone.url },
      });
      await new Promise((r) => setTimeout(r, 1100));
      await submitOrder(otherSeller, 3);
      const d = dispatcher({ maxAttempts: 2 });
      await d.fanOut();
      await d.deliverDue();
      await new Promise((r) => setTimeout(r, 300));
      await d.deliverDue();
      const log = await call(h.base, 'GET', `/v1/webhooks/${created.body.id}/deliveries`, {
        headers: otherSeller.headers,
      });
      const items = log.body.items as { status: string; attempts: number; lastError: string }[];
      expect(items.length).to.be.greaterThan(0);
      for (const item of items) {
        expect(item).to.include({ status: 'failed', attempts: 2 });
        expect(item.lastError).to.match(/ECONNREFUSED|connect/i);
      }
      await call(h.base, 'DELETE', `/v1/webhooks/${created.body.id}`, { headers: otherSeller.headers });
    });

    it('two dispatchers delivering at once deliver each event exactly once (leases)', async () => {
      const receiver = await startReceiver();
      try {
        const third = await createSeller(h.connection);
        await call(h.base, 'POST', '/v1/webhooks', { headers: third.headers, json: { url: receiver.url } });
        await new Promise((r) => setTimeout(r, 1100));
        const ids = [...(await submitOrder(third, 4)), ...(await submitOrder(third, 5))];
        const a = dispatcher({ owner: 'a' });
        const b = dispatcher({ owner: 'b' });
        await Promise.all([a.fanOut(), b.fanOut()]);
        await Promise.all([a.deliverDue(), b.deliverDue()]);
        const eventIds = receiver.received.map((r) => r.headers['baygate-event-id']);
        expect(eventIds).to.have.length(ids.length);
        expect(new Set(eventIds).size).to.equal(ids.length);
      } finally {
        await receiver.close();
      }
    });

    it('end to end: a receipt posted by a center reaches the seller as a signed webhook (running dispatcher loop)', async () => {
      const receiver = await startReceiver();
      const running = dispatcher({ pollMs: 100 });
      try {
        const fourth = await createSeller(h.connection);
        const center = await createCenter(h.connection, 'GD');
        const secret = 'end-to-end-secret-at-least-24';
        await call(h.base, 'POST', '/v1/webhooks', { headers: fourth.headers, json: { url: receiver.url, secret } });
        await new Promise((r) => setTimeout(r, 1100));
        const order = generateValidOrder(6, { direction: 'import' });
        const submitted = await call(h.base, 'POST', '/v1/orders', { headers: fourth.headers, json: order });
        const ceb311 = (
          submitted.body.orders as { declarations: { id: string; messageType: string }[] }[]
        )[0]!.declarations.find((d) => d.messageType === 'CEB311')!;
        const files = identityFiles('center-gd');
        const signer = await SoftwareXmlSigner.fromFiles(
          { keyPath: files.keyPath, certPath: files.certPath },
          { trust: trustListCheck(loadTrustLists(resolve('certs-dev/trust-lists'))) },
        );
        const manifest = {
          type: 'CEB311' as const,
          guid: randomUUID().toUpperCase(),
          headGuid: randomUUID().toUpperCase(),
          head: { orderNo: order.orderNo, ebpCode: order.ebpCode, ebcCode: order.ebcCode },
          lines: [],
        };
        const xml = await signer.sign(
          buildReceipt(manifest, [{ status: '120', info: '新增申报成功', at: new Date() }]).xml,
        );
        const posted = await call(h.base, 'POST', '/v1/receipts', {
          headers: center.headers,
          body: xml,
          type: 'application/xml',
        });
        expect(posted.status, posted.text).to.equal(202);
        running.start();
        const receipt120 = () =>
          receiver.received
            .map((r) => ({ r, event: JSON.parse(r.body) as WebhookEvent }))
            .find((x) => x.event.data.status === '120');
        await waitFor(() => receipt120() !== undefined, 20000, 'the 120 webhook');
        const hit = receipt120()!;
        expect(hit.event.data).to.include({
          declarationId: ceb311.id,
          orderNo: order.orderNo,
          messageType: 'CEB311',
          source: 'receipt',
        });
        expect(verifyWebhookSignature(secret, String(hit.r.headers['baygate-signature']), hit.r.body)).to.equal(true);
      } finally {
        await running.stop();
        await receiver.close();
      }
    });

    it('the cursor is kept in MongoDB and only moves forward', async () => {
      const cursor = await h.repositories.cursors.read('webhooks');
      expect(cursor).to.match(/^[0-9a-f]{24}$/);
    });
  });
});
