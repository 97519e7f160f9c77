import { randomBytes } from 'node:crypto';
import amqplib, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { expect } from 'chai';
import { wrapDxp } from '../../src/centers/dxp';
import { startSimulator, startSimulators, type Simulator, type SimulatorOptions } from '../../src/centers/simulator';
import { buildCenterRegistry } from '../../src/centers/registry';
import { loadSimulatorProfile, type SimulatorProfile } from '../../src/centers/simulator/profiles';
import { centerQueueName, RECEIPTS_EXCHANGE } from '../../src/queue/topology';
import { devIdentity, devTrustLists } from '../signing/support/dev-identities';
import { captureLogger, silentLogger } from '../support/logger';
import { AmqpClient } from '../../src/queue/amqp';
import { waitFor } from '../support/rabbitmq';
import { AMQP_URL, requireRabbitMQ } from '../support/services';
import {
  allFour,
  freshImportOrder,
  publishManifest,
  ReceiptCollector,
  sellerGdSigner,
  SENDER,
  signedManifest,
  uniqueCenterCode,
} from './support';
import { buildMessage } from '../../src/mapping/message-builder';
import { exportExample } from '../domain/example-orders';
import { officialXsdDir } from '../../src/centers/simulator/schema-check';

/**
 * The clearance-center simulator end to end at the queue level: signed manifests published to
 * `baygate.manifests` with the center's routing key, signed receipts read back from the
 * `baygate.receipts` exchange (this run's own routing keys), verified against the dev trust lists and
 * parsed by the gateway's receipt parser.
 */
describe('centers/simulator against RabbitMQ', function () {
  this.timeout(30000);
  const run = randomBytes(4).toString('hex');
  const centerGd = devIdentity('center-gd');
  let connection: ChannelModel;
  let channel: ConfirmChannel;
  let collector: ReceiptCollector;
  const started: Simulator[] = [];
  const codes: string[] = [];
  const fast = loadSimulatorProfile('fast');

  before(async () => {
    await requireRabbitMQ();
    connection = await amqplib.connect(AMQP_URL);
    channel = await connection.createConfirmChannel();
    collector = await ReceiptCollector.open(RECEIPTS_EXCHANGE, run);
  });

  after(async () => {
    for (const s of started) await s.stop().catch(() => undefined);
    const cleanup = await connection.createChannel();
    for (const code of codes) await cleanup.deleteQueue(centerQueueName(code)).catch(() => undefined);
    await connection.close().catch(() => undefined);
    await collector?.close();
  });

  async function simulator(
    overrides: Partial<SimulatorOptions> & { profile?: SimulatorProfile } = {},
  ): Promise<Simulator> {
    const code = uniqueCenterCode();
    codes.push(code);
    const sim = await startSimulator({
      center: { code, queue: centerQueueName(code), receiptSigner: 'center-gd' },
      amqpUrl: AMQP_URL,
      logger: silentLogger(),
      profile: fast,
      seed: 7,
      trustLists: devTrustLists(),
      receipts: { receiptKey: collector.receiptKey, deliveryKey: collector.deliveryKey },
      ...overrides,
    });
    started.push(sim);
    return sim;
  }

  it('startSimulators runs one simulator per registry center on one connection, skipping https centers', async () => {
    const [a, b, c] = [uniqueCenterCode(), uniqueCenterCode(), uniqueCenterCode()];
    codes.push(a, b, c);
    const center = (code: string, transport: string, extra: Record<string, unknown> = {}) => ({
      code,
      region: 'GD',
      name: { zh: '测试', en: 'test' },
      districts: ['5141'],
      queue: centerQueueName(code),
      transport,
      receiptSigner: code === b ? 'center-mo' : 'center-gd',
      dailyCapacity: 10,
      interruptionBacklog: 5,
      ...extra,
    });
    const registry = buildCenterRegistry({
      centers: [
        center(a, 'amqp'),
        center(b, 'dxp', { dxp: { senderId: 'DXPENT0000460001', receiverId: 'DXPEDCCEB0000002' } }),
        center(c, 'https', {
          https: {
            url: 'https://127.0.0.1:9/ceb',
            clientIdentity: 'operator-rsa',
            caPath: 'certs-dev/eport/eport-root.cert.pem',
          },
        }),
      ],
    });
    const fleet = await startSimulators({
      registry,
      amqpUrl: AMQP_URL,
      logger: silentLogger(),
      profile: fast,
      trustLists: devTrustLists(),
      receipts: { receiptKey: collector.receiptKey, deliveryKey: collector.deliveryKey },
    });
    try {
      expect(fleet.simulators.map((s) => s.center)).to.deep.equal([a, b]);
      const one = await signedManifest('CEB311', freshImportOrder());
      const two = await signedManifest('CEB311', freshImportOrder());
      await publishManifest(channel, a, one, one.signed);
      await publishManifest(channel, b, two, two.signed);
      expect(await collector.waitForStatuses(one.guid, 2)).to.deep.equal(['2', '120']);
      expect(await collector.waitForStatuses(two.guid, 2)).to.deep.equal(['2', '120']);
      expect((await collector.receiptsFor(two.guid))[0]?.signerSerial).to.equal(devIdentity('center-mo').serialHex);
    } finally {
      await fleet.stop();
    }
  });

  it('answers an order, payment, waybill and inventory with signed receipts in the expected order', async () => {
    const sim = await simulator();
    const order = freshImportOrder();
    const m = await allFour(order);
    for (const type of ['CEB311', 'CEB411', 'CEB511', 'CEB621'] as const)
      await publishManifest(channel, sim.center, m[type], m[type].signed);

    expect(await collector.waitForStatuses(m.CEB621.guid, 5)).to.deep.equal(['2', '120', '399', '800', '899']);
    for (const type of ['CEB311', 'CEB411', 'CEB511'] as const)
      expect(await collector.waitForStatuses(m[type].guid, 2)).to.deep.equal(['2', '120']);

    const inventory = await collector.receiptsFor(m.CEB621.guid);
    for (const r of inventory) {
      expect(r.signerSerial).to.equal(centerGd.serialHex);
      expect(devTrustLists().receiptSigners.map((s) => s.cert.serialHex)).to.include(r.signerSerial);
      expect(r.receipt.type).to.equal('CEB622');
      expect(r.receipt.guid).to.not.equal(m.CEB621.guid);
      expect(r.receipt.returns[0]?.returnTime).to.match(/^\d{17}$/);
      expect(r.receipt.returns[0]?.keys).to.include({
        copNo: order.copNo,
        customsCode: order.customsCode,
        ebcCode: order.ebcCode,
      });
    }
    expect(new Set(inventory.map((r) => r.receipt.guid)).size).to.equal(5);
    expect(inventory[0]?.receipt.returns[0]?.keys.invtNo, 'no inventory number while only declared').to.equal(
      undefined,
    );
    expect(inventory[4]?.receipt.returns[0]?.keys.invtNo).to.match(/^5141\d{4}1\d{9}$/);
    const orderReceipt = (await collector.receiptsFor(m.CEB311.guid))[0];
    expect(orderReceipt?.receipt.type).to.equal('CEB312');
    expect(orderReceipt?.receipt.returns[0]?.keys.orderNo).to.equal(order.orderNo);
    expect((await collector.receiptsFor(m.CEB411.guid))[0]?.receipt.returns[0]?.keys.payTransactionId).to.equal(
      order.payment.payTransactionId,
    );
    expect((await collector.receiptsFor(m.CEB511.guid))[0]?.receipt.returns[0]?.keys.logisticsNo).to.equal(
      order.logistics.logisticsNo,
    );

    const notices = collector.notices().filter((n) => n.center === sim.center);
    expect(notices.map((n) => n.messageGuid).sort()).to.deep.equal(
      Object.values(m)
        .map((x) => x.guid)
        .sort(),
    );
    expect(sim.stats()).to.include({ accepted: 4, rejected: 0, duplicatesIgnored: 0 });
  });

  it('answers export declarations: CEB303 → CEB304, CEB505 → CEB506, CEB603 → CEB604 (with its inventory number)', async () => {
    const sim = await simulator();
    const order = exportExample();
    const signer = await sellerGdSigner();
    const sent: Record<string, string> = {};
    for (const type of ['CEB303', 'CEB505', 'CEB603'] as const) {
      const built = buildMessage(type, order, { sender: SENDER });
      await publishManifest(channel, sim.center, built, await signer.sign(built.xml));
      sent[type] = built.guid;
    }
    expect(await collector.waitForStatuses(sent.CEB603 as string, 5)).to.deep.equal(['2', '120', '399', '800', '899']);
    expect(await collector.waitForStatuses(sent.CEB303 as string, 2)).to.deep.equal(['2', '120']);
    expect(await collector.waitForStatuses(sent.CEB505 as string, 2)).to.deep.equal(['2', '120']);
    const inventory = await collector.receiptsFor(sent.CEB603 as string);
    expect(inventory.map((r) => r.receipt.type)).to.deep.equal(Array(5).fill('CEB604'));
    expect(inventory[0]?.receipt.returns[0]?.keys).to.include({ orderNo: order.orderNo, copNo: order.copNo });
    expect(inventory[0]?.receipt.returns[0]?.keys.invtNo).to.match(/^\d{8}0\d{9}$/);
    expect((await collector.receiptsFor(sent.CEB303 as string))[0]?.receipt.type).to.equal('CEB304');
  });

  it('holds an inventory that arrives before its order, payment and waybill, and releases it once they come', async () => {
    const sim = await simulator();
    const m = await allFour(freshImportOrder());
    await publishManifest(channel, sim.center, m.CEB621, m.CEB621.signed);
    await new Promise((r) => setTimeout(r, 150));
    expect(await collector.statusesFor(m.CEB621.guid)).to.deep.equal([]);
    for (const type of ['CEB311', 'CEB411', 'CEB511'] as const)
      await publishManifest(channel, sim.center, m[type], m[type].signed);
    expect(await collector.waitForStatuses(m.CEB621.guid, 5)).to.deep.equal(['2', '120', '399', '800', '899']);
  });

  it('rejects (100) an inventory whose companion documents never arrive, naming what is missing', async () => {
    const sim = await simulator({ profile: { ...fast, threeDocuments: { waitMs: 200, pollMs: 20 } } });
    const m = await allFour(freshImportOrder());
    await publishManifest(channel, sim.center, m.CEB311, m.CEB311.signed);
    await publishManifest(channel, sim.center, m.CEB621, m.CEB621.signed);
    expect(await collector.waitForStatuses(m.CEB621.guid, 1)).to.deep.equal(['100']);
    const info = (await collector.receiptsFor(m.CEB621.guid))[0]?.receipt.returns[0]?.returnInfo ?? '';
    expect(info).to.include('CEB411').and.to.include('CEB511').and.not.include('CEB311');
  });

  it('answers an unsigned inventory with -621029 (signature verification failed)', async () => {
    const sim = await simulator();
    const m = await allFour(freshImportOrder());
    await publishManifest(channel, sim.center, m.CEB621, m.CEB621.xml);
    expect(await collector.waitForStatuses(m.CEB621.guid, 1)).to.deep.equal(['-621029']);
    const r = (await collector.receiptsFor(m.CEB621.guid))[0];
    expect(r?.receipt.returns[0]?.error?.known).to.equal(true);
    expect(r?.signerSerial).to.equal(centerGd.serialHex);
  });

  it('answers a tampered signed inventory (a value changed after signing) with -621029', async () => {
    const sim = await simulator();
    const order = freshImportOrder();
    const m = await allFour(order);
    const tampered = m.CEB621.signed.replace(
      `<ceb:buyerName>${order.buyerName}</ceb:buyerName>`,
      '<ceb:buyerName>王五</ceb:buyerName>',
    );
    expect(tampered).to.not.equal(m.CEB621.signed);
    await publishManifest(channel, sim.center, m.CEB621, tampered);
    expect(await collector.waitForStatuses(m.CEB621.guid, 1)).to.deep.equal(['-621029']);
    expect(sim.stats().rejected).to.equal(1);
  });

  it('answers an inventory over the 5,000 CNY single-transaction limit with -621005', async () => {
    const sim = await simulator();
    const order = freshImportOrder((o) => {
      o.acturalPaid = 5200;
      o.payment.amountPaid = 5200;
    });
    const m = await allFour(order);
    for (const type of ['CEB311', 'CEB411', 'CEB511', 'CEB621'] as const)
      await publishManifest(channel, sim.center, m[type], m[type].signed);
    expect(await collector.waitForStatuses(m.CEB621.guid, 1)).to.deep.equal(['-621005']);
    expect((await collector.receiptsFor(m.CEB621.guid))[0]?.receipt.returns[0]?.returnInfo).to.include('单笔限额');
  });

  it('answers the inventory that would take a buyer past 26,000 CNY a year with -621018', async () => {
    const sim = await simulator({ profile: { ...fast, xsdValidation: false } }); // many manifests: schema checks are covered elsewhere
    const guids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const m = await allFour(
        freshImportOrder((o) => {
          o.acturalPaid = 4800;
          o.payment.amountPaid = 4800;
        }),
      );
      for (const type of ['CEB311', 'CEB411', 'CEB511', 'CEB621'] as const)
        await publishManifest(channel, sim.center, m[type], m[type].signed);
      guids.push(m.CEB621.guid);
      await collector.waitForStatuses(m.CEB621.guid, 1); // one after the other: the ledger books them in order
    }
    const firsts = await Promise.all(guids.map(async (g) => (await collector.statusesFor(g))[0]));
    expect(firsts).to.deep.equal(['2', '2', '2', '2', '2', '-621018']); // 5 × 4,800 = 24,000; a 6th exceeds 26,000
  });

  it("gives the buyer's annual quota back when a released inventory is cancelled (CEB623 → CEB624)", async () => {
    const sim = await simulator({ profile: { ...fast, xsdValidation: false } });
    const big = (paid: number) =>
      freshImportOrder((o) => {
        o.acturalPaid = paid;
        o.payment.amountPaid = paid;
      });
    const first = big(4900);
    const m1 = await allFour(first);
    for (const type of ['CEB311', 'CEB411', 'CEB511', 'CEB621'] as const)
      await publishManifest(channel, sim.center, m1[type], m1[type].signed);
    await collector.waitForStatuses(m1.CEB621.guid, 5);
    const invtNo = (await collector.receiptsFor(m1.CEB621.guid)).at(-1)?.receipt.returns[0]?.keys.invtNo as string;
    // 4,900 + 4 × 4,900 = 24,500 used; a further 4,900 would pass 26,000 …
    for (let i = 0; i < 4; i++) {
      const m = await allFour(big(4900));
      for (const type of ['CEB311', 'CEB411', 'CEB511', 'CEB621'] as const)
        await publishManifest(channel, sim.center, m[type], m[type].signed);
      await collector.waitForStatuses(m.CEB621.guid, 1);
    }
    // … unless the first inventory is cancelled.
    const cancel = buildMessage('CEB623', first, { sender: SENDER, cancel: { invtNo, reason: '买家取消订单' } });
    const cancelSigned = await (await sellerGdSigner()).sign(cancel.xml);
    await publishManifest(channel, sim.center, cancel, cancelSigned);
    expect(await collector.waitForStatuses(cancel.guid, 3)).to.deep.equal(['2', '120', '399']);
    expect((await collector.receiptsFor(cancel.guid))[0]?.receipt.type).to.equal('CEB624');
    expect((await collector.receiptsFor(cancel.guid))[0]?.receipt.returns[0]?.keys.invtNo).to.equal(invtNo);
    const last = await allFour(big(4900));
    for (const type of ['CEB311', 'CEB411', 'CEB511', 'CEB621'] as const)
      await publishManifest(channel, sim.center, last[type], last[type].signed);
    expect((await collector.waitForStatuses(last.CEB621.guid, 1))[0]).to.equal('2');
  });

  it('answers a correctly signed inventory that breaks the official schema with -621001 naming the element', async function () {
    if (!officialXsdDir()) {
      console.log('official CEB schemas not found at ../shared/ceb-2022: XSD conformance checks not run');
      return;
    }
    const sim = await simulator();
    const order = freshImportOrder();
    const built = buildMessage('CEB621', order, { sender: SENDER });
    // copNo is at most 20 characters in the schema; signed after the change, so only the XSD can catch it.
    const broken = built.xml.replace(
      `<ceb:copNo>${order.copNo}</ceb:copNo>`,
      `<ceb:copNo>${'C'.repeat(25)}</ceb:copNo>`,
    );
    const signed = await (await sellerGdSigner()).sign(broken);
    await publishManifest(channel, sim.center, built, signed);
    expect(await collector.waitForStatuses(built.guid, 1)).to.deep.equal(['-621001']);
    expect((await collector.receiptsFor(built.guid))[0]?.receipt.returns[0]?.returnInfo).to.match(/copNo/);
  });

  it('without the official schemas logs one line saying so and falls back to a structural check', async () => {
    const { logger, text } = captureLogger('info');
    const sim = await simulator({ xsdDir: null, logger });
    expect(text()).to.include('official CEB schemas not found at ../shared/ceb-2022');
    const good = await signedManifest('CEB311', freshImportOrder());
    const built = buildMessage('CEB311', freshImportOrder(), { sender: SENDER });
    const badSigned = await (
      await sellerGdSigner()
    ).sign(built.xml.replace('<ceb:dxpMode>DXP</ceb:dxpMode>', '<ceb:dxpMode>FTP</ceb:dxpMode>'));
    await publishManifest(channel, sim.center, good, good.signed);
    await publishManifest(channel, sim.center, built, badSigned);
    expect(await collector.waitForStatuses(good.guid, 2)).to.deep.equal(['2', '120']);
    expect(await collector.waitForStatuses(built.guid, 1)).to.deep.equal(['-301008']);
    expect((await collector.receiptsFor(built.guid))[0]?.receipt.returns[0]?.returnInfo).to.include(
      'dxpMode must be "DXP"',
    );
  });

  it('keeps consuming after its connection drops (AmqpClient reconnects and re-creates the consumer)', async () => {
    const { logger: amqpLogger, text: amqpLog } = captureLogger('debug');
    const amqp = new AmqpClient({ url: AMQP_URL, logger: amqpLogger, maxReconnectDelayMs: 300 });
    await amqp.connect();
    try {
      const sim = await simulator({ amqp });
      const before = await signedManifest('CEB311', freshImportOrder());
      await publishManifest(channel, sim.center, before, before.signed);
      await collector.waitForStatuses(before.guid, 2);
      // Cut only this client's socket (what a network failure looks like); other connections are untouched.
      const model = amqp.currentConnection as unknown as { connection: { stream: { destroy(err?: Error): void } } };
      model.connection.stream.destroy(new Error('network cut by test'));
      await waitFor(() => !amqp.isReady, 5000, 'the drop to be noticed');
      await waitFor(() => amqp.isReady, 10000, 'reconnection');
      const after = await signedManifest('CEB311', freshImportOrder());
      await publishManifest(channel, sim.center, after, after.signed);
      expect(await collector.waitForStatuses(after.guid, 2)).to.deep.equal(['2', '120']);
    } catch (err) {
      console.log(amqpLog());
      throw err;
    } finally {
      await amqp.close();
    }
  });

  it('takes a manifest delivered twice only once: one receipt sequence, the duplicate acked and ignored', async () => {
    const sim = await simulator();
    const m = await allFour(freshImportOrder());
    for (const type of ['CEB311', 'CEB411', 'CEB511', 'CEB621'] as const)
      await publishManifest(channel, sim.center, m[type], m[type].signed);
    await publishManifest(channel, sim.center, m.CEB621, m.CEB621.signed);
    await collector.waitForStatuses(m.CEB621.guid, 5);
    await sim.idle();
    await new Promise((r) => setTimeout(r, 150));
    expect(await collector.statusesFor(m.CEB621.guid)).to.deep.equal(['2', '120', '399', '800', '899']);
    expect(sim.stats().duplicatesIgnored).to.equal(1);
    const q = await (await connection.createChannel()).checkQueue(centerQueueName(sim.center));
    expect(q.messageCount).to.equal(0);
  });

  it('unwraps a DXP envelope and answers the wrapped declaration', async () => {
    const sim = await simulator();
    const m = await allFour(freshImportOrder());
    const wrap = (x: { guid: string; type: string; signed: string }) =>
      wrapDxp(x.signed, {
        copMsgId: x.guid,
        senderId: 'DXPENT0000460001',
        receiverIds: ['DXPEDCCEB0000002'],
        createdAt: new Date(),
        msgType: `${x.type}Message`,
      });
    for (const type of ['CEB311', 'CEB411', 'CEB511', 'CEB621'] as const)
      await publishManifest(channel, sim.center, m[type], wrap(m[type]));
    expect(await collector.waitForStatuses(m.CEB621.guid, 5)).to.deep.equal(['2', '120', '399', '800', '899']);
  });

  it('fault "duplicate" sends every receipt twice (same receipt guid), nothing else changes', async () => {
    const sim = await simulator({ faults: 'duplicate=1' });
    const m = await signedManifest('CEB311', freshImportOrder());
    await publishManifest(channel, sim.center, m, m.signed);
    expect(await collector.waitForStatuses(m.guid, 4)).to.deep.equal(['2', '2', '120', '120']);
    const guids = (await collector.receiptsFor(m.guid)).map((r) => r.receipt.guid);
    expect(guids[0]).to.equal(guids[1]);
    expect(guids[2]).to.equal(guids[3]);
    expect(sim.stats().faults.duplicate).to.equal(2);
  });

  it('fault "out-of-order" delivers later statuses before earlier ones, with returnTime still in generation order', async () => {
    const sim = await simulator({ faults: 'out-of-order=1' });
    const m = await allFour(freshImportOrder());
    for (const type of ['CEB311', 'CEB411', 'CEB511', 'CEB621'] as const)
      await publishManifest(channel, sim.center, m[type], m[type].signed);
    expect(await collector.waitForStatuses(m.CEB621.guid, 5)).to.deep.equal(['120', '2', '800', '399', '899']);
    const times = (await collector.receiptsFor(m.CEB621.guid)).map((r) => r.receipt.returns[0]?.returnTime ?? '');
    expect(times[0]! > times[1]!, '120 was generated after 2').to.equal(true);
  });

  it('fault "drop-delivery-notice" takes the manifest without announcing it', async () => {
    const sim = await simulator({ faults: 'drop-delivery-notice=1' });
    const m = await signedManifest('CEB311', freshImportOrder());
    await publishManifest(channel, sim.center, m, m.signed);
    await collector.waitForStatuses(m.guid, 2);
    expect(collector.notices().filter((n) => n.messageGuid === m.guid)).to.have.length(0);
  });

  it('fault "no-ack" leaves the manifest unacknowledged: it is back in the queue once the simulator stops', async () => {
    const sim = await simulator({ faults: 'no-ack=1' });
    const m = await signedManifest('CEB311', freshImportOrder());
    await publishManifest(channel, sim.center, m, m.signed);
    await collector.waitForStatuses(m.guid, 2);
    await sim.stop();
    const check = await connection.createChannel();
    await waitFor(
      async () => (await check.checkQueue(centerQueueName(sim.center))).messageCount === 1,
      5000,
      'manifest back in the queue',
    );
    await check.close();
  });

  it('fault "slow-ack" holds the ack for the profile delay: with prefetch 1 the next manifest waits for it', async () => {
    const sim = await simulator({ faults: 'slow-ack=1', prefetch: 1, profile: { ...fast, slowAckMs: 600 } });
    const first = await signedManifest('CEB311', freshImportOrder());
    const second = await signedManifest('CEB311', freshImportOrder());
    const t0 = Date.now();
    await publishManifest(channel, sim.center, first, first.signed);
    await publishManifest(channel, sim.center, second, second.signed);
    await collector.waitForStatuses(first.guid, 2);
    const firstDone = Date.now() - t0;
    await collector.waitForStatuses(second.guid, 2);
    expect(firstDone).to.be.below(550);
    expect(Date.now() - t0).to.be.at.least(600);
    expect(sim.stats().faults['slow-ack']).to.equal(2);
  });
});
