import { expect } from 'chai';
import { startSimulator, type Simulator } from '../../src/centers/simulator';
import { loadCenterRegistry } from '../../src/centers/registry';
import { startWorker, type Worker } from '../../src/runtime/worker';
import { createSeller } from '../support/accounts';
import { captureLogger } from '../support/logger';
import { generateValidOrder } from '../support/order-generator';
import { waitFor } from '../support/rabbitmq';
import { AMQP_URL, requireRabbitMQ } from '../support/services';
import { startBrokerHarness, type BrokerHarness } from './broker-harness';

/**
 * Observability must not leak personal data: the whole flow — HTTP submission, signing and publishing by
 * the worker, the simulated clearance centers, receipt ingestion — logs into one captured logger at debug
 * level, and the buyer's ID number, phone and address never appear in it.
 */
describe('logs of a full flow (submit → final status) carry no personal data', function () {
  this.timeout(90000);
  const captured = captureLogger('debug');
  let h: BrokerHarness;
  let worker: Worker;
  const simulators: Simulator[] = [];

  before(async () => {
    await requireRabbitMQ();
    h = await startBrokerHarness('pii_logs', { withOrders: true, logger: captured.logger });
    worker = await startWorker({ ...h.config, AMQP_URL }, captured.logger, { monitorCenters: false });
    const registry = loadCenterRegistry();
    for (const center of registry.servingDistrict('5141')) {
      simulators.push(
        await startSimulator({
          center: center.code,
          registry,
          amqpUrl: AMQP_URL,
          logger: captured.logger,
          profile: 'fast',
          seed: 1,
        }),
      );
    }
  });
  after(async () => {
    for (const s of simulators) await s.stop().catch(() => undefined);
    await worker?.stop().catch(() => undefined);
    await h?.close();
  });

  it('submits an order, follows every declaration to its final status, and finds no ID number, phone or address in any log line', async () => {
    const seller = await createSeller(h.mongo);
    const order = generateValidOrder(4242, {
      direction: 'import',
      tradeMode: '9610',
      sellerRegion: 'GD',
    }) as unknown as Record<string, unknown> & {
      buyerIdNumber: string;
      buyerTelephone: string;
      consigneeAddress: string;
      consigneeTelephone: string;
      orderNo: string;
    };
    order.orderNo = `PIILOG${Date.now()}`;
    const res = await fetch(`${h.base}/v1/orders`, {
      method: 'POST',
      headers: { ...seller.headers, 'content-type': 'application/json' },
      body: JSON.stringify(order),
    });
    expect(res.status, await res.clone().text()).to.equal(202);
    const body = (await res.json()) as { orders: { declarations: { id: string }[] }[] };
    const ids = body.orders[0]!.declarations.map((d) => d.id);
    expect(ids).to.have.length(4);
    worker.dispatcher.nudge();
    await waitFor(
      async () => (await Promise.all(ids.map((id) => h.declarations.findById(id)))).every((d) => d?.terminal),
      60000,
      'every declaration final',
    );
    const finals = await Promise.all(ids.map(async (id) => (await h.declarations.findById(id))!.status));
    expect(finals.sort()).to.deep.equal(['120', '120', '120', '899']);

    const logs = captured.text();
    // The flow was really logged (so the absence below means something): requests, dispatch, the centers, receipts.
    expect(logs).to.include('"route":"/v1/orders"');
    expect(logs).to.match(/"center":"GD2?"/);
    expect(captured.lines.length).to.be.greaterThan(10);
    for (const [what, value] of [
      ['buyer ID number', order.buyerIdNumber],
      ['buyer phone', order.buyerTelephone],
      ['consignee phone', order.consigneeTelephone],
      ['consignee address', order.consigneeAddress],
    ] as const) {
      expect(logs.includes(value), `${what} appears in the logs`).to.equal(false);
    }
    // Nor in JSON-escaped form (pino escapes non-ASCII as is, but quotes and slashes would be escaped).
    expect(logs.includes(JSON.stringify(order.consigneeAddress).slice(1, -1))).to.equal(false);
  });
});
