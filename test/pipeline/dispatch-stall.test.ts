import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { buildMessage } from '../../src/mapping/message-builder';
import { DispatchStepTimeoutError, Dispatcher, type ManifestPublisher } from '../../src/pipeline/dispatcher';
import { AmqpClient } from '../../src/queue/amqp';
import type { XmlSigner } from '../../src/signing/signers/types';
import type { DeclarationStore } from '../../src/store/contracts';
import type { Stores } from '../../src/store/index';
import { silentLogger } from '../support/logger';
import { addScratchTopology, dropScratchQueue, waitFor } from '../support/rabbitmq';
import { AMQP_URL, requireRabbitMQ } from '../support/services';
import { importOrder, newDeclaration, openStores } from '../store/store-fixtures';

/**
 * Finding 5 of docs/CHAOS.md: an await of the claim–sign–publish–mark cycle that never settles stalled the
 * dispatch loop for good. Here a store call or a publish hangs on purpose (the store is the real one on the
 * shared FerretDB, the broker the real RabbitMQ) and the loop must time the step out and go on.
 */
describe('dispatcher with a step that never settles (FerretDB, real RabbitMQ)', function () {
  this.timeout(60000);
  // Long enough for real FerretDB calls on a loaded machine; the hung steps cost this much each.
  const STEP_TIMEOUT_MS = 4000;
  const suffix = randomUUID().slice(0, 8);
  const exchange = `test.dispatch-stall.x.${suffix}`;
  const queue = `test.dispatch-stall.q.${suffix}`;
  const sender = { copCode: '4403960ABC', copName: 'Baygate Test', dxpId: 'DXPENT0000458712' };
  const signer: XmlSigner = {
    algorithm: 'rsa-sha256' as XmlSigner['algorithm'],
    identity: {
      subject: 'CN=Baygate Test Signer',
      serialHex: '01691f7f',
      trustedBy: 'pinned',
      notAfter: new Date(Date.now() + 86400000),
    },
    sign: async (xml) => xml,
    close: async () => undefined,
  };
  let stores: Stores;
  let closeStores: () => Promise<void>;
  let amqp: AmqpClient;
  let seed = 8100;

  before(async () => {
    await requireRabbitMQ();
    ({ stores, close: closeStores } = await openStores('pipeline_dispatch_stall'));
    amqp = new AmqpClient({ url: AMQP_URL, logger: silentLogger(), initialMaxRetries: 2 });
    await amqp.connect();
    await addScratchTopology(amqp, exchange, queue, 'center-gz');
  });
  after(async () => {
    await dropScratchQueue(amqp, queue);
    await amqp?.close();
    await closeStores?.();
  });

  const brokerPublisher: ManifestPublisher = {
    publish: (center, body, meta) =>
      amqp.publish(exchange, center, body, { messageId: meta.messageGuid, mandatory: true }),
  };

  function dispatcher(store: DeclarationStore, publisher: ManifestPublisher = brokerPublisher): Dispatcher {
    return new Dispatcher({
      store,
      builder: { build: (claim) => buildMessage(claim.messageType, claim.order, { sender }) },
      signers: { signerFor: () => signer },
      publisher,
      logger: silentLogger(),
      stepTimeoutMs: STEP_TIMEOUT_MS,
      pollMs: 20,
      baseBackoffMs: 60000, // a failed declaration is not retried within the test unless the test says so
    });
  }

  /** The real store, except that the named method's next call returns a promise that never settles. */
  function hangingOnce(method: 'claimDue'): { store: DeclarationStore; hung: () => boolean } {
    const real = stores.declarations;
    let hung = false;
    const store = new Proxy(real, {
      get(target, prop) {
        if (prop === method && !hung) {
          return () => {
            hung = true;
            return new Promise(() => undefined);
          };
        }
        const value = Reflect.get(target, prop, target) as unknown;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    return { store, hung: () => hung };
  }

  async function newCeb311(): Promise<string> {
    const declaration = newDeclaration(importOrder(seed++), 'CEB311');
    await stores.declarations.insertMany([declaration]);
    return declaration.id;
  }

  async function messageIdsInQueue(): Promise<string[]> {
    return amqp.withChannel(async (ch) => {
      const ids: string[] = [];
      for (let msg = await ch.get(queue, { noAck: true }); msg; msg = await ch.get(queue, { noAck: true }))
        ids.push(String(msg.properties.messageId));
      return ids;
    });
  }

  it('ends a cycle whose claim never settles with DispatchStepTimeoutError, and the next cycle dispatches the declaration', async () => {
    const id = await newCeb311();
    const { store, hung } = hangingOnce('claimDue');
    const d = dispatcher(store);

    let error: unknown;
    try {
      await d.runOnce();
    } catch (err) {
      error = err;
    }
    expect(hung()).to.equal(true);
    expect(error).to.be.instanceOf(DispatchStepTimeoutError);
    expect(error).to.include({ step: 'claimDue', ms: STEP_TIMEOUT_MS });
    expect(d.health()).to.include({ cycles: 1, lastCycleOk: false, consecutiveFailures: 1 });

    d.start();
    try {
      await waitFor(
        async () => (await stores.declarations.findById(id))?.status === 'queued',
        30000,
        'the declaration to be queued',
      );
    } finally {
      await d.stop();
    }
    expect(d.health()).to.include({ lastCycleOk: true, consecutiveFailures: 0 });
    const view = (await stores.declarations.findById(id))!;
    expect(await messageIdsInQueue()).to.deep.equal([view.messageGuid]);
  });

  it('reports in health() the cycle in progress and the step it waits for, then the failed cycle once the step times out', async () => {
    const { store } = hangingOnce('claimDue');
    const d = dispatcher(store);
    d.start();
    try {
      await waitFor(() => d.health().waitingFor === 'claimDue', 5000, 'health to name the hung claim');
      const during = d.health();
      expect(during).to.include({ running: true, cycles: 0, consecutiveFailures: 0 });
      expect(during.currentCycleMs).to.be.a('number').and.at.least(0);
      expect(during.lastCycleEndedAt).to.equal(undefined);

      await waitFor(() => d.health().cycles >= 1, STEP_TIMEOUT_MS + 10000, 'the hung cycle to end');
      const after = d.health();
      expect(after.lastCycleEndedAt).to.be.instanceOf(Date);
      expect(after.lastError).to.match(/claimDue did not settle within 4000 ms/);
      // and the loop goes on with the next cycles (the hung claim is abandoned, not awaited)
      await waitFor(() => d.health().cycles >= 3, 10000, 'further cycles');
      expect(d.health()).to.include({ lastCycleOk: true, consecutiveFailures: 0 });
    } finally {
      await d.stop();
    }
    expect(d.health()).to.include({ running: false });
    expect(d.health().currentCycleMs).to.equal(undefined);
  });

  it('never marks a declaration queued whose publish timed out, not even when the broker confirms it late; the retry publishes it again', async () => {
    const id = await newCeb311();
    let lateConfirm: (() => void) | undefined;
    const publisher: ManifestPublisher = {
      publish: (center, body, meta) => {
        if (!lateConfirm) return new Promise<void>((resolve) => (lateConfirm = resolve)); // the first confirm never comes in time
        return brokerPublisher.publish(center, body, meta);
      },
    };
    const d = dispatcher(stores.declarations, publisher);
    d.start();
    try {
      await waitFor(() => d.health().waitingFor === 'publish', 15000, 'health to name the hung publish');
      await waitFor(
        async () => (await stores.declarations.findById(id))?.attempts === 1,
        STEP_TIMEOUT_MS + 15000,
        'the timed-out publish to be recorded',
      );
    } finally {
      await d.stop();
    }
    const failed = (await stores.declarations.findById(id))!;
    expect(failed.status).to.equal('signed');
    expect(failed.messageGuid).to.be.a('string');
    expect(failed.lastError).to.match(/publish did not settle within 4000 ms/);

    lateConfirm!(); // the abandoned publish "confirms" now: nothing may move
    await new Promise((r) => setTimeout(r, 300));
    expect((await stores.declarations.findById(id))!.status).to.equal('signed');

    // The retry (due after its back-off) re-sends the stored manifest under the same guid, and only its confirm queues it.
    const retried = await dispatcher(stores.declarations).runOnce(new Date(Date.now() + 5 * 60000));
    expect(retried).to.equal(1);
    const queued = (await stores.declarations.findById(id))!;
    expect(queued.status).to.equal('queued');
    expect(queued.messageGuid).to.equal(failed.messageGuid);
    expect(await messageIdsInQueue()).to.deep.equal([failed.messageGuid]);
  });
});
