import { execFileSync } from 'node:child_process';
import { TEST_EBC_CODES } from '../support/order-generator';
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { identityFiles } from '../../src/centers/identities';
import { buildReceipt, readManifest, startSimulators, type SimulatorFleet } from '../../src/centers/simulator';
import { isTerminal } from '../../src/domain/status';
import { buildMessage } from '../../src/mapping/message-builder';
import { Dispatcher } from '../../src/pipeline/dispatcher';
import { createSubmission } from '../../src/runtime/components';
import { createManifestSigner, singleSignerProvider } from '../../src/runtime/signing';
import { freshenOrder } from '../../src/runtime/stack';
import { startWorker, type Worker } from '../../src/runtime/worker';
import { SoftwareXmlSigner } from '../../src/signing/signers/software';
import { trustListCheck } from '../../src/signing/trust-check';
import {
  DEAD_LETTER_QUEUE,
  MANIFESTS_EXCHANGE,
  RECEIPT_ROUTING_KEY,
  RECEIPTS_EXCHANGE,
} from '../../src/queue/topology';
import type { DeclarationView } from '../../src/store/contracts';
import type { ImportOrder } from '../../src/domain/order';
import { limitYear } from '../../src/domain/rules';
import { AnnualLimit } from '../../src/pipeline/annual-limit';
import { silentLogger } from '../support/logger';
import { exampleOrders, pipelineConfig, purgeBaygateQueues, sleep } from '../support/pipeline';
import { dropDatabase, mongoUrlFor, requireMongo, requireRabbitMQ } from '../support/services';

const CENTERS = ['GD', 'GD2', 'HK', 'MO'];
const SELLER = { sellerId: 'seller-test', ebcCodes: TEST_EBC_CODES };

async function waitUntil<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

async function submitExample(worker: Worker, index = 1): Promise<DeclarationView[]> {
  const submission = createSubmission(worker.core, () => worker.dispatcher.nudge());
  const order = freshenOrder(exampleOrders()[index]!.order, randomUUID());
  const result = await submission.submit([order], { ...SELLER, requestId: `req-${randomUUID()}` });
  const outcome = result.orders[0]!;
  if (outcome.outcome === 'rejected') throw new Error(JSON.stringify(outcome.violations));
  return Promise.all(outcome.declarations.map(async (d) => (await worker.core.stores.declarations.findById(d.id))!));
}

function allFinal(worker: Worker, ids: string[]) {
  return async () => {
    const views = await Promise.all(ids.map((id) => worker.core.stores.declarations.findById(id)));
    return views.every((v) => v && isTerminal(v.status, v.messageType)) ? (views as DeclarationView[]) : undefined;
  };
}

function expectEachStepOnce(view: DeclarationView): void {
  const steps = view.history.map((h) => h.status);
  expect(new Set(steps).size, `${view.messageType}: ${steps.join(' → ')}`).to.equal(steps.length);
}

describe('pipeline under failure (real RabbitMQ, MongoDB-compatible server and center simulators)', function () {
  this.timeout(120000);

  before(async () => {
    await requireMongo();
    await requireRabbitMQ();
  });

  describe('receipts out of order, twice, unknown and poisonous', () => {
    const config = pipelineConfig('failures_receipts');
    let worker: Worker;
    let centerSigner: SoftwareXmlSigner;

    before(async () => {
      await dropDatabase(mongoUrlFor('failures_receipts'));
      await purgeBaygateQueues(CENTERS);
      worker = await startWorker(config, silentLogger(), { monitorCenters: false, webhooks: false });
      await worker.core.amqp.waitUntilReady(10000);
      const files = identityFiles('center-gd');
      centerSigner = await SoftwareXmlSigner.fromFiles(
        { keyPath: files.keyPath, certPath: files.certPath },
        { trust: trustListCheck(worker.core.trustLists) },
      );
    });
    after(async () => {
      await worker?.stop();
      await purgeBaygateQueues(CENTERS);
    });

    async function signedReceipt(manifestXml: string, status: string, guid?: string): Promise<string> {
      const manifest = readManifest(manifestXml);
      const built = buildReceipt(
        manifest,
        [
          {
            status,
            info: `status ${status}`,
            at: new Date(),
            invtNo: ['120', '399', '800', '899'].includes(status) ? '514120261000000001' : undefined,
          },
        ],
        { guid },
      );
      return centerSigner.sign(built.xml);
    }

    it('applies receipts arriving out of order and twice so status only moves forward, each step once', async () => {
      const declarations = await submitExample(worker);
      const inventory = declarations.find((d) => d.messageType === 'CEB621')!;
      expect(inventory.center).to.equal('GD');
      const queued = await waitUntil('the inventory to be queued', 15000, async () => {
        const v = await worker.core.stores.declarations.findById(inventory.id);
        return v && v.status === 'queued' ? v : undefined;
      });
      const manifestXml = (await worker.core.stores.declarations.manifestXml(queued.id))!;

      const arrival = ['120', '2', '800', '399', '120', '899', '800', '2'];
      const outcomes = [];
      for (const status of arrival)
        outcomes.push(
          await worker.ingestor.ingest(await signedReceipt(manifestXml, status), {
            via: 'http',
            center: 'GD',
            authenticated: true,
          }),
        );
      expect(outcomes.map((o) => o.returns[0]!.applied)).to.deep.equal([
        true,
        false,
        true,
        false,
        false,
        true,
        false,
        false,
      ]);

      // The very same bytes again: stored once, reported as a duplicate, nothing changes.
      const again = await signedReceipt(manifestXml, '899');
      const first = await worker.ingestor.ingest(again, { via: 'http', center: 'GD', authenticated: true });
      const second = await worker.ingestor.ingest(again, { via: 'http', center: 'GD', authenticated: true });
      expect(first.duplicate).to.equal(false);
      expect(second.duplicate).to.equal(true);
      expect(second.receiptId).to.equal(first.receiptId);

      const final = (await worker.core.stores.declarations.findById(inventory.id))!;
      expect(final.status).to.equal('899');
      expect(final.history.filter((h) => h.source === 'receipt').map((h) => h.status)).to.deep.equal([
        '120',
        '800',
        '899',
      ]);
      expectEachStepOnce(final);
    });

    it('keeps and reports a receipt for a declaration it does not know', async () => {
      const declarations = await submitExample(worker, 2);
      const inventory = declarations.find((d) => d.messageType === 'CEB621')!;
      await waitUntil(
        'a manifest',
        15000,
        async () => (await worker.core.stores.declarations.manifestXml(inventory.id)) ?? undefined,
      );
      const manifestXml = (await worker.core.stores.declarations.manifestXml(inventory.id))!;
      // The same manifest under a guid Baygate never sent.
      const foreign = manifestXml
        .replace(/ guid="[0-9A-F-]{36}"/, ` guid="${randomUUID().toUpperCase()}"`)
        .replace(/<ceb:orderNo>[^<]*</, '<ceb:orderNo>NOT-OURS-1<');
      const center = inventory.center === 'GD' || inventory.center === 'GD2' ? centerSigner : centerSigner;
      const built = buildReceipt(readManifest(foreign), [{ status: '2', info: 'declared', at: new Date() }]);
      const result = await worker.ingestor.ingest(await center.sign(built.xml), {
        via: 'http',
        center: 'GD',
        authenticated: true,
      });
      expect(result.unknown).to.equal(true);
      expect(result.returns[0]).to.include({ declarationId: null, applied: false, reason: 'unknown-declaration' });
      const unknown = await worker.core.stores.receipts.listUnknown(100);
      expect(unknown.map((r) => r.id)).to.include(result.receiptId);
    });

    it('refuses, storing nothing, a receipt signed by a center the declaration was not sent to', async () => {
      const declarations = await submitExample(worker, 3); // Macao seller: routed to MO
      const inventory = declarations.find((d) => d.messageType === 'CEB621')!;
      expect(inventory.center).to.equal('MO');
      const manifestXml = await waitUntil(
        'a manifest',
        15000,
        async () => (await worker.core.stores.declarations.manifestXml(inventory.id)) ?? undefined,
      );
      const before = await worker.core.mongo.db!.collection('receipts').countDocuments();
      const refused = await worker.ingestor
        .ingest(await signedReceipt(manifestXml, '120'), { via: 'http', center: 'GD', authenticated: true }) // signed by the GD center
        .then(
          () => undefined,
          (err: unknown) => err as { code?: string; category?: string },
        );
      expect(refused).to.include({ code: 'RECEIPT_FOR_ANOTHER_CENTER', category: 'forbidden' });
      expect(await worker.core.mongo.db!.collection('receipts').countDocuments()).to.equal(before);
      expect((await worker.core.stores.declarations.findById(inventory.id))!.status).to.not.equal('120');
    });

    it('dead-letters a poison receipt from the queue instead of retrying it forever', async () => {
      const marker = `poison-${randomUUID()}`;
      await worker.core.amqp.publish(
        RECEIPTS_EXCHANGE,
        RECEIPT_ROUTING_KEY,
        Buffer.from(`<not-a-receipt>${marker}</not-a-receipt>`),
        { messageId: marker, mandatory: true, persistent: true },
      );
      const dead = await waitUntil('the poison message in the dead-letter queue', 15000, () =>
        worker.core.amqp.withChannel(async (ch) => {
          for (;;) {
            const msg = await ch.get(DEAD_LETTER_QUEUE, { noAck: true });
            if (!msg) return undefined;
            if (msg.properties.messageId === marker) return msg;
          }
        }),
      );
      expect(dead.content.toString()).to.contain(marker);
    });
  });

  describe('dispatch failures', () => {
    const config = pipelineConfig('failures_dispatch', { WORKER_LEASE_MS: '1500' });
    let worker: Worker;
    let fleet: SimulatorFleet | undefined;
    const startFleet = async () => {
      fleet = await startSimulators({
        amqpUrl: config.AMQP_URL,
        profile: 'fast',
        centers: CENTERS,
        logger: silentLogger(),
        xsdDir: null,
      });
      return fleet;
    };

    before(async () => {
      await dropDatabase(mongoUrlFor('failures_dispatch'));
      await purgeBaygateQueues(CENTERS);
    });
    after(async () => {
      await fleet?.stop();
      await worker?.stop().catch(() => undefined);
    });

    it('a worker killed between publish and mark: another takes the lease over and the duplicate delivery is harmless', async () => {
      const doomed = await startWorker(config, silentLogger(), {
        monitorCenters: false,
        webhooks: false,
        consumeReceipts: false,
      });
      await doomed.core.amqp.waitUntilReady(10000);
      let killed = false;
      // The broker confirmed the publish, then the process died before writing "queued".
      doomed.core.stores.declarations.markQueued = async () => {
        if (!killed) {
          killed = true;
          void doomed.dispatcher.stop();
        }
        throw new Error('worker killed before marking queued');
      };
      const declarations = await submitExample(doomed);
      await waitUntil('the first worker to die', 15000, async () => (killed ? true : undefined));
      const before = (await Promise.all(declarations.map((d) => doomed.core.stores.declarations.findById(d.id)))).map(
        (v) => v!.status,
      );
      expect(
        before.every((s) => s === 'signed'),
        before.join(','),
      ).to.equal(true);

      // The centers come up only now: the first copies are still in their queues, no delivery notice
      // has moved anything to "delivered", so the new worker's re-publish is a real duplicate delivery.
      worker = await startWorker(config, silentLogger(), { monitorCenters: false, webhooks: false });
      await worker.core.amqp.waitUntilReady(10000);
      const queued = async () =>
        (await worker.core.amqp.withChannel((ch) => ch.checkQueue('baygate.center.GD'))).messageCount;
      await waitUntil('the new worker to re-publish every manifest after the lease expired', 30000, async () =>
        (await queued()) >= 2 * declarations.length ? true : undefined,
      );
      const centers = await startFleet();
      const finals = await waitUntil(
        'final statuses after the takeover',
        60000,
        allFinal(
          worker,
          declarations.map((d) => d.id),
        ),
      );
      for (const view of finals) {
        expect(view.status).to.equal(view.messageType === 'CEB621' ? '899' : '120');
        expectEachStepOnce(view);
      }
      const duplicates = centers.simulators.reduce((n, s) => n + s.stats().duplicatesIgnored, 0);
      expect(duplicates, 'the center saw the re-published manifests and ignored them').to.be.greaterThan(0);
      await doomed.stop().catch(() => undefined);
    });

    it('gives an unroutable declaration up into "failed" with the reason after the configured attempts, and gives the buyer’s annual allowance back', async () => {
      const core = worker.core;
      // Only this test's dispatcher (2 attempts) may handle the declaration, not the suite worker's.
      await worker.dispatcher.stop();
      const fresh = freshenOrder(exampleOrders()[1]!.order, randomUUID()) as unknown as ImportOrder;
      const annualLimit = new AnnualLimit(core.stores.annualUsage, core.stores.declarations);
      expect((await annualLimit.reserve(fresh)).added).to.equal(true);
      const { inserted } = await core.stores.declarations.insertMany([
        {
          id: randomUUID(),
          sellerId: 'seller-test',
          platformCode: fresh.ebpCode,
          orderNo: fresh.orderNo,
          messageType: 'CEB621',
          direction: 'import',
          tradeMode: fresh.tradeMode,
          customsCode: fresh.customsCode,
          center: 'NOWHERE',
          order: fresh,
          amountCny: fresh.acturalPaid,
          requestId: 'req-unroutable',
        },
      ]);
      const signer = await createManifestSigner(config, core.trustLists);
      let publishAttempts = 0;
      const dispatcher = new Dispatcher({
        store: core.stores.declarations,
        builder: {
          // Any message will do: the publish is what fails (the inventory's own would need its copNo).
          build: (claim) =>
            buildMessage('CEB311', claim.order, {
              sender: { copCode: config.SENDER_COP_CODE, copName: config.SENDER_COP_NAME, dxpId: config.SENDER_DXP_ID },
            }),
        },
        signers: singleSignerProvider(signer),
        publisher: {
          publish: (center, body, meta) => {
            publishAttempts++;
            return core.amqp.publish(MANIFESTS_EXCHANGE, center, body, {
              messageId: meta.messageGuid,
              mandatory: true,
              persistent: true,
            });
          },
        },
        logger: silentLogger(),
        maxAttempts: 2,
        baseBackoffMs: 50,
        pollMs: 20,
        // As the worker wires it (src/runtime/worker.ts).
        onFailed: async (claim) => {
          await annualLimit.releaseIfRefused(claim, 'failed');
        },
      });
      dispatcher.start();
      try {
        const failed = await waitUntil('the permanent failure', 20000, async () => {
          const v = await core.stores.declarations.findById(inserted[0]!.id);
          return v?.status === 'failed' ? v : undefined;
        });
        expect(publishAttempts).to.equal(2);
        expect(failed.lastError).to.match(/unroutable/);
        expect(failed.terminal).to.equal(true);
        await waitUntil('the allowance given back', 5000, async () =>
          (await core.stores.annualUsage.usedThisYear(fresh.buyerIdNumber, limitYear(fresh))) === 0 ? true : undefined,
        );
      } finally {
        await dispatcher.stop();
        worker.dispatcher.start();
      }
    });

    it('loses and duplicates nothing when RabbitMQ restarts during dispatch', async function () {
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) ids.push(...(await submitExample(worker, i + 1)).map((d) => d.id));
      try {
        execFileSync('bash', ['scripts/services.sh', 'restart', 'rabbitmq'], { stdio: 'pipe', timeout: 120000 });
      } catch (err) {
        throw new Error(
          `this test restarts the local RabbitMQ started by scripts/services.sh: ${(err as Error).message}`,
          { cause: err },
        );
      }
      const finals = await waitUntil('final statuses after the broker restart', 90000, allFinal(worker, ids));
      for (const view of finals) {
        expect(view.status, `${view.orderNo} ${view.messageType}`).to.equal(
          view.messageType === 'CEB621' ? '899' : '120',
        );
        expectEachStepOnce(view);
      }
      const perKey = new Set(finals.map((v) => `${v.platformCode}/${v.orderNo}/${v.messageType}`));
      expect(perKey.size).to.equal(ids.length);
    });
  });
});
