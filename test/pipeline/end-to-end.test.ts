import { randomUUID } from 'node:crypto';
import { TEST_EBC_CODES } from '../support/order-generator';
import { expect } from 'chai';
import { startSimulators, type SimulatorFleet } from '../../src/centers/simulator';
import { isTerminal } from '../../src/domain/status';
import type { Submission } from '../../src/pipeline/submission';
import { createSubmission } from '../../src/runtime/components';
import { freshenOrder } from '../../src/runtime/stack';
import { startWorker, type Worker } from '../../src/runtime/worker';
import type { DeclarationView } from '../../src/store/contracts';
import { createLogger } from '../../src/log';
import { silentLogger } from '../support/logger';
import { exampleOrders, pipelineConfig, purgeBaygateQueues, sleep } from '../support/pipeline';
import { dropDatabase, mongoUrlFor, requireMongo, requireRabbitMQ } from '../support/services';

const CENTERS = ['GD', 'GD2', 'HK', 'MO'];

async function waitForFinal(worker: Worker, ids: string[], timeoutMs: number): Promise<DeclarationView[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const views = await Promise.all(ids.map((id) => worker.core.stores.declarations.findById(id)));
    if (views.every((v) => v && isTerminal(v.status, v.messageType))) return views as DeclarationView[];
    if (Date.now() > deadline) {
      throw new Error(
        `not final after ${timeoutMs} ms: ${views.map((v) => `${v?.messageType}=${v?.status}`).join(', ')}`,
      );
    }
    await sleep(100);
  }
}

describe('pipeline end to end: accepted order → signed manifest → center simulator → receipts → final status', function () {
  this.timeout(90000);
  const config = pipelineConfig('e2e');
  let worker: Worker;
  let fleet: SimulatorFleet;
  let submission: Submission;

  before(async () => {
    await requireMongo();
    await requireRabbitMQ();
    await dropDatabase(mongoUrlFor('e2e'));
    await purgeBaygateQueues(CENTERS);
    worker = await startWorker(
      config,
      process.env.TEST_LOG ? createLogger({ level: process.env.TEST_LOG }) : silentLogger(),
    );
    await worker.core.amqp.waitUntilReady(10000);
    fleet = await startSimulators({
      amqpUrl: config.AMQP_URL,
      profile: 'fast',
      centers: CENTERS,
      logger: process.env.TEST_LOG ? createLogger({ level: process.env.TEST_LOG, name: 'sim' }) : silentLogger(),
      xsdDir: null,
    });
    submission = createSubmission(worker.core, () => worker.dispatcher.nudge());
  });

  after(async () => {
    await fleet?.stop();
    await worker?.stop();
  });

  it('takes every example order to its final status, each declaration exactly once', async () => {
    const runId = randomUUID();
    const orders = exampleOrders().map(({ order }) => freshenOrder(order, runId));
    const result = await submission.submit(orders, {
      sellerId: 'seller-test',
      ebcCodes: TEST_EBC_CODES,
      requestId: 'req-e2e',
    });
    expect(result.rejected, JSON.stringify(result.orders.filter((o) => o.outcome === 'rejected'))).to.equal(0);
    expect(result.accepted).to.equal(orders.length);
    const ids = result.orders.flatMap((o) => (o.outcome === 'rejected' ? [] : o.declarations.map((d) => d.id)));
    expect(ids.length).to.equal(orders.reduce((n, o) => n + (o.direction === 'import' ? 4 : 3), 0));

    const finals = await waitForFinal(worker, ids, 60000);
    for (const view of finals) {
      const expected = view.messageType === 'CEB621' || view.messageType === 'CEB603' ? '899' : '120';
      expect(view.status, `${view.orderNo} ${view.messageType}`).to.equal(expected);
      // The path went through our own states before the customs codes, and never repeated a step.
      const steps = view.history.map((h) => h.status);
      // "queued" (our confirm) and "delivered" (the center's notice) race; whichever ranks lower and comes
      // second is a no-op, so at least one of them is in the history.
      expect(steps.slice(0, 2)).to.deep.equal(['accepted', 'signed']);
      expect(steps.includes('queued') || steps.includes('delivered'), steps.join(' → ')).to.equal(true);
      expect(new Set(steps).size).to.equal(steps.length);
      const fromReceipts = view.history.filter((h) => h.source === 'receipt');
      expect(fromReceipts.length).to.be.greaterThan(0);
      for (const step of fromReceipts) {
        expect(step.receiptId, 'receipt reference').to.be.a('string');
        expect(step.signer?.serialHex, 'receipt signer').to.be.a('string');
      }
      expect(view.messageGuid).to.match(/^[0-9A-F-]{36}$/);
    }
  });

  it('answers a resubmission of the same orders with the same declarations, storing nothing new', async () => {
    const runId = randomUUID();
    const orders = exampleOrders()
      .slice(0, 2)
      .map(({ order }) => freshenOrder(order, runId));
    const first = await submission.submit(orders, {
      sellerId: 'seller-test',
      ebcCodes: TEST_EBC_CODES,
      requestId: 'req-1',
    });
    const again = await submission.submit(orders, {
      sellerId: 'seller-test',
      ebcCodes: TEST_EBC_CODES,
      requestId: 'req-2',
    });
    expect(first.accepted).to.equal(2);
    expect(again.accepted).to.equal(0);
    expect(again.duplicates).to.equal(2);
    const ids = (r: typeof first) =>
      r.orders.flatMap((o) => (o.outcome === 'rejected' ? [] : o.declarations.map((d) => d.id))).sort();
    expect(ids(again)).to.deep.equal(ids(first));
    for (const order of orders) {
      const stored = await worker.core.stores.declarations.findByOrderNo(String(order.orderNo));
      expect(stored.length).to.equal(order.direction === 'import' ? 4 : 3);
    }
  });

  it('rejects an invalid order with every violation and stores nothing for it', async () => {
    const runId = randomUUID();
    const bad = freshenOrder({ ...exampleOrders()[0]!.order, customsCode: '9999' }, runId);
    const result = await submission.submit([bad], {
      sellerId: 'seller-test',
      ebcCodes: TEST_EBC_CODES,
      requestId: 'req-bad',
    });
    expect(result.rejected).to.equal(1);
    const outcome = result.orders[0]!;
    expect(outcome.outcome).to.equal('rejected');
    if (outcome.outcome === 'rejected') expect(outcome.violations.map((v) => v.path)).to.include('customsCode');
    expect(await worker.core.stores.declarations.findByOrderNo(String(bad.orderNo))).to.have.length(0);
  });
});
