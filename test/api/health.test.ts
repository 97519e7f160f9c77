import { expect } from 'chai';
import { loadConfig } from '../../src/config';
import { startGateway, type Gateway } from '../../src/runtime/gateway';
import { silentLogger } from '../support/logger';
import { waitFor } from '../support/rabbitmq';
import { AMQP_URL, mongoUrlFor, requireMongo, requireRabbitMQ } from '../support/services';

describe('health endpoints', function () {
  this.timeout(30000);
  before(async () => {
    await requireMongo();
    await requireRabbitMQ();
  });

  describe('with MongoDB and RabbitMQ up', () => {
    let gateway: Gateway;
    before(async () => {
      gateway = await startGateway(
        loadConfig({ PORT: '0', MONGO_URL: mongoUrlFor('health'), AMQP_URL }),
        silentLogger(),
      );
      await gateway.amqp.waitUntilReady(10000);
    });
    after(() => gateway?.stop());

    it("GET /healthz answers 200 and echoes the caller's request id", async () => {
      const res = await fetch(`http://127.0.0.1:${gateway.port}/healthz`, { headers: { 'X-Request-Id': 'req-123' } });
      expect(res.status).to.equal(200);
      expect(res.headers.get('x-request-id')).to.equal('req-123');
      expect(await res.json()).to.deep.equal({ status: 'ok' });
    });

    it('generates a request id when the caller sends none or an unsafe one', async () => {
      const res = await fetch(`http://127.0.0.1:${gateway.port}/healthz`, {
        headers: { 'X-Request-Id': 'bad id\twith spaces' },
      });
      expect(res.headers.get('x-request-id')).to.match(/^[0-9a-f-]{36}$/);
    });

    it('GET /readyz answers 200 with every dependency ok', async () => {
      const res = await fetch(`http://127.0.0.1:${gateway.port}/readyz`);
      expect(res.status).to.equal(200);
      expect(await res.json()).to.deep.equal({ status: 'ready', checks: { mongodb: 'ok', rabbitmq: 'ok' } });
    });

    it('answers an unknown route with 404 application/problem+json', async () => {
      const res = await fetch(`http://127.0.0.1:${gateway.port}/no/such/route`);
      expect(res.status).to.equal(404);
      expect(res.headers.get('content-type')).to.match(/^application\/problem\+json/);
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).to.include({ status: 404, title: 'Not Found', instance: '/no/such/route' });
      expect(body.type).to.be.a('string');
    });
  });

  describe('with RabbitMQ unreachable', () => {
    let gateway: Gateway;
    before(async () => {
      // Port 1 on loopback: nothing listens there, so the broker is unreachable.
      gateway = await startGateway(
        loadConfig({ PORT: '0', MONGO_URL: mongoUrlFor('health'), AMQP_URL: 'amqp://guest:guest@127.0.0.1:1' }),
        silentLogger(),
      );
    });
    after(() => gateway?.stop());

    it('still starts and is alive', async () => {
      const res = await fetch(`http://127.0.0.1:${gateway.port}/healthz`);
      expect(res.status).to.equal(200);
    });

    it('GET /readyz answers 503 problem+json naming rabbitmq as the failing part', async () => {
      const res = await fetch(`http://127.0.0.1:${gateway.port}/readyz`);
      expect(res.status).to.equal(503);
      expect(res.headers.get('content-type')).to.match(/^application\/problem\+json/);
      expect(res.headers.get('retry-after')).to.equal('5');
      const body = (await res.json()) as { detail: string; checks: Record<string, string> };
      expect(body.detail).to.equal('Not ready: rabbitmq.');
      expect(body.checks.mongodb).to.equal('ok');
      expect(body.checks.rabbitmq).to.match(/no open RabbitMQ channel/);
    });
  });

  describe('with the broker connection lost and restored', () => {
    let gateway: Gateway;
    before(async () => {
      gateway = await startGateway(
        loadConfig({ PORT: '0', MONGO_URL: mongoUrlFor('health'), AMQP_URL }),
        silentLogger(),
      );
      await gateway.amqp.waitUntilReady(10000);
    });
    after(() => gateway?.stop());

    it('becomes ready again by itself after a forced disconnect', async () => {
      const { forceCloseConnection } = await import('../support/rabbitmq');
      forceCloseConnection(gateway.amqp);
      await waitFor(
        async () => (await fetch(`http://127.0.0.1:${gateway.port}/readyz`)).status === 200,
        15000,
        'ready again',
      );
    });
  });
});
