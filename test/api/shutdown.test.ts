import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { freshenOrder } from '../../src/runtime/stack';
import { exampleOrders } from '../support/pipeline';
import { mongoUrlFor, requireMongo, requireRabbitMQ } from '../support/services';

const SELLER_GD = 'bgk_dev_seller_gd.dev-only-seller-gd-not-a-secret';

describe('gateway graceful shutdown (a real process and SIGTERM)', function () {
  this.timeout(90000);
  before(async () => {
    await requireMongo();
    await requireRabbitMQ();
  });

  it('finishes the request in flight, then closes HTTP, RabbitMQ and MongoDB in that order and exits 0', async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const child = spawn(process.execPath, ['bin/baygate.js', 'serve'], {
      env: {
        ...process.env,
        PORT: String(port),
        MONGO_URL: mongoUrlFor('shutdown'),
        SEED_DEV_ACCOUNTS: 'true',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let logs = '';
    child.stdout.on('data', (c: Buffer) => (logs += c.toString()));
    child.stderr.on('data', (c: Buffer) => (logs += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 60000;
    for (;;) {
      const ok = await fetch(`${base}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`gateway not ready:\n${logs}`);
      await new Promise((r) => setTimeout(r, 200));
    }

    const gz = exampleOrders().find((e) => e.file.startsWith('gz-'))!.order;
    const batch = Array.from({ length: 30 }, () => freshenOrder(gz, randomUUID()));
    const inFlight = fetch(`${base}/v1/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${SELLER_GD}` },
      body: JSON.stringify(batch),
    });
    await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGTERM');

    const response = await inFlight;
    expect(response.status, logs).to.equal(202);
    const body = (await response.json()) as { accepted: number };
    expect(body.accepted).to.equal(30);
    expect(await exited, logs).to.equal(0);
    const steps = [...logs.matchAll(/"step":"([a-z-]+)","msg":"shutdown step done"/g)].map((m) => m[1]);
    expect(steps).to.deep.equal(['live-events', 'http', 'rabbitmq', 'mongodb']);
    // New connections are refused once it is gone.
    expect(
      await fetch(`${base}/healthz`).then(
        () => 'answered',
        () => 'refused',
      ),
    ).to.equal('refused');
  });
});
