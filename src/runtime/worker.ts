import type { Logger } from 'pino';
import { Gauge } from 'prom-client';
import { createApp } from '../api/app';
import { createMetrics } from '../api/metrics';
import { healthRoutes } from '../api/routes/health';
import { metricsRoutes } from '../api/routes/metrics';
import { startWebhookDispatcher } from '../pipeline/webhooks';
import { listen } from './http-server';
import { CenterHealthMonitor } from '../centers/health';
import { wrapDxp } from '../centers/dxp';
import { centerKeyrings, SEALED_CONTENT_TYPE, sealPayload } from '../centers/payload-seal';
import type { CenterRegistry } from '../centers/registry';
import type { Config } from '../config';
import { buildMessage } from '../mapping/message-builder';
import { Dispatcher, type DispatcherHealth, type ManifestEncoder } from '../pipeline/dispatcher';
import { AnnualLimit } from '../pipeline/annual-limit';
import { parseAllowedTargets } from '../pipeline/webhook-targets';
import { ReceiptIngestor, ReceiptRejectedError, type ReceiptSender } from '../pipeline/receipts';
import type { Delivery } from '../queue/amqp';
import {
  DELIVERY_ROUTING_KEY,
  HEADER_CENTER,
  HEADER_DECLARATION_ID,
  HEADER_MESSAGE_TYPE,
  MANIFESTS_EXCHANGE,
  RECEIPTS_QUEUE,
} from '../queue/topology';
import type { ClaimedDeclaration } from '../store/contracts';
import { createReceiptIngestor, startCore, type Core } from './components';
import { createManifestSigner, singleSignerProvider } from './signing';

/**
 * `baygate worker`: the dispatch loop, the receipt consumer and the center health monitor. Stateless:
 * run as many copies as the load needs; they coordinate only through MongoDB leases and RabbitMQ.
 */
export interface Worker {
  core: Core;
  dispatcher: Dispatcher;
  ingestor: ReceiptIngestor;
  stop(): Promise<void>;
  stopSteps: { name: string; run: () => Promise<void> }[];
}

export async function startWorker(
  config: Config,
  logger: Logger,
  options: { consumeReceipts?: boolean; monitorCenters?: boolean; webhooks?: boolean } = {},
): Promise<Worker> {
  const core = await startCore(config, logger, 'worker');
  const metrics = createMetrics({ centers: core.registry.codes() });
  const signer = await createManifestSigner(config, core.trustLists);
  logger.info(
    { signer: signer.identity.subject, serial: signer.identity.serialHex, algorithm: signer.algorithm },
    'manifest signer ready',
  );

  const sender = { copCode: config.SENDER_COP_CODE, copName: config.SENDER_COP_NAME, dxpId: config.SENDER_DXP_ID };
  const build = (claim: ClaimedDeclaration) => {
    const extra = claim.extra as { invtNo?: string; reason?: string } | undefined;
    const ctx = {
      sender,
      ...(claim.messageType === 'CEB623'
        ? { cancel: { invtNo: extra?.invtNo ?? '', reason: extra?.reason ?? '' } }
        : {}),
      ...(claim.messageType === 'CEB625'
        ? { refund: { invtNo: extra?.invtNo ?? '', reason: extra?.reason ?? '' } }
        : {}),
    };
    const built = buildMessage(claim.messageType, withCopNo(claim), ctx as Parameters<typeof buildMessage>[2]);
    return { xml: built.xml, guid: built.guid };
  };

  const keyrings = centerKeyrings(config, core.registry.centers);
  const encode: ManifestEncoder = (center, signedXml, meta) => {
    const target = core.registry.get(center);
    const xml =
      target.transport === 'dxp' && target.dxp
        ? wrapDxp(signedXml, {
            copMsgId: meta.messageGuid,
            senderId: target.dxp.senderId,
            receiverIds: [target.dxp.receiverId],
            createdAt: new Date(),
            msgType: `${meta.messageType}Message`,
          })
        : signedXml;
    const body = Buffer.from(xml, 'utf8');
    // The manifest carries the buyer's personal data: on the broker's disk it is sealed for its center.
    if (target.payload === 'clear') return { body, contentType: 'application/xml' };
    return { body: sealPayload(keyrings.get(center)!, meta.messageGuid, body), contentType: SEALED_CONTENT_TYPE };
  };

  const annualLimit = new AnnualLimit(core.stores.annualUsage, core.stores.declarations);
  const dispatcher = new Dispatcher({
    store: core.stores.declarations,
    builder: { build },
    signers: singleSignerProvider(signer),
    encode,
    publisher: {
      publish: (center, body, meta) =>
        core.amqp.publish(
          MANIFESTS_EXCHANGE,
          center,
          body,
          {
            messageId: meta.messageGuid,
            correlationId: meta.requestId,
            persistent: true,
            mandatory: true,
            contentType: meta.contentType,
            headers: {
              [HEADER_DECLARATION_ID]: meta.declarationId,
              [HEADER_MESSAGE_TYPE]: meta.messageType,
              [HEADER_CENTER]: center,
            },
          },
          2000,
        ),
    },
    logger: logger.child({ component: 'dispatcher' }),
    batchSize: config.WORKER_BATCH_SIZE,
    leaseMs: config.WORKER_LEASE_MS,
    pollMs: config.WORKER_POLL_MS,
    maxAttempts: config.WORKER_MAX_ATTEMPTS,
    onSigned: metrics.hooks.onSigned,
    onPublished: metrics.hooks.onPublished,
    onFailed: async (claim) => {
      await annualLimit.releaseIfRefused(claim, 'failed');
    },
  });
  // Liveness of the dispatch loop: a cycle that ends now and then, and none that runs without end.
  new Gauge({
    name: 'baygate_dispatch_last_cycle_end_timestamp_seconds',
    help: 'When the dispatch loop last ended a cycle (Unix time; 0 before the first)',
    registers: [metrics.registry],
    collect() {
      this.set((dispatcher.health().lastCycleEndedAt?.getTime() ?? 0) / 1000);
    },
  });
  new Gauge({
    name: 'baygate_dispatch_cycle_running_seconds',
    help: 'How long the dispatch cycle in progress has been running (0 between cycles)',
    registers: [metrics.registry],
    collect() {
      this.set((dispatcher.health().currentCycleMs ?? 0) / 1000);
    },
  });

  const ingestor = createReceiptIngestor(core, { onApplied: metrics.hooks.onApplied });

  if (options.consumeReceipts !== false) {
    await core.amqp.consume(
      RECEIPTS_QUEUE,
      (delivery) => handleReceiptDelivery(delivery, ingestor, logger, core.registry),
      {
        prefetch: 32,
      },
    );
  }
  const monitor = new CenterHealthMonitor({
    amqp: core.amqp,
    centers: core.registry.centers.map((c) => ({
      code: c.code,
      queue: c.queue,
      interruptionBacklog: c.interruptionBacklog,
    })),
    store: core.centerStates,
    logger: logger.child({ component: 'center-health' }),
  });
  if (options.monitorCenters !== false) monitor.start();
  dispatcher.start();
  const webhooks =
    options.webhooks === false
      ? undefined
      : startWebhookDispatcher({
          repositories: {
            subscriptions: core.repositories.webhookSubscriptions,
            deliveries: core.repositories.webhookDeliveries,
            cursors: core.repositories.cursors,
          },
          declarations: core.stores.declarations,
          targets: { allowed: parseAllowedTargets(config.WEBHOOK_ALLOWED_TARGETS) },
          logger: logger.child({ component: 'webhooks' }),
        });

  // Workers serve no API; their metrics (publish confirms, signing time, receipt lag) get a port of their own.
  const metricsServer =
    config.METRICS_PORT !== undefined
      ? await listen(
          createApp({
            logger,
            routers: [
              metricsRoutes(metrics.registry),
              healthRoutes({
                dispatcher: async () => assertDispatchLive(dispatcher.health(), dispatcher.stepTimeoutMs),
              }),
            ],
          }),
          config.METRICS_PORT,
          config.HOST,
        )
      : undefined;

  const stopSteps = [
    ...(metricsServer ? [{ name: 'metrics-http', run: () => metricsServer.close() }] : []),
    ...(webhooks ? [{ name: 'webhooks', run: () => webhooks.stop() }] : []),
    { name: 'dispatcher', run: () => dispatcher.stop() },
    { name: 'center-health', run: () => monitor.stop() },
    { name: 'rabbitmq', run: () => core.amqp.close() },
    { name: 'mongodb', run: () => core.mongo.close() },
  ];
  return {
    core,
    dispatcher,
    ingestor,
    stopSteps,
    stop: async () => {
      for (const step of stopSteps) await step.run();
    },
  };
}

/**
 * Readiness of the dispatch loop: it runs, its cycle in progress (if any) is younger than `stallMs`, and
 * cycles do not keep failing. Throws with the reason otherwise.
 */
export function assertDispatchLive(health: DispatcherHealth, stallMs: number): void {
  if (!health.running) throw new Error('dispatcher not running');
  if (health.currentCycleMs !== undefined && health.currentCycleMs > stallMs) {
    throw new Error(
      `dispatch cycle running for ${Math.round(health.currentCycleMs / 1000)} s, waiting for ${health.waitingFor || 'nothing it knows of'}`,
    );
  }
  if (health.consecutiveFailures >= 3)
    throw new Error(
      `${health.consecutiveFailures} dispatch cycles failed in a row: ${health.lastError ?? 'unknown error'}`,
    );
}

/**
 * copNo (企业内部编号) is optional on CEB621 but the inventory receipts (CEB622/624/626) always carry one,
 * and CEB623/625 require it: when the seller gave none, the gateway numbers the inventory itself from the
 * declaration id (stable, so a rebuilt message carries the same number).
 */
function withCopNo(claim: ClaimedDeclaration): ClaimedDeclaration['order'] {
  const { order } = claim;
  if (order.direction !== 'import' || order.copNo) return order;
  const inventoryId =
    (claim.extra as { inventoryDeclarationId?: string } | undefined)?.inventoryDeclarationId ?? claim.id;
  return { ...order, copNo: 'BG' + inventoryId.replace(/-/g, '').slice(0, 18).toUpperCase() };
}

/**
 * Who sent an AMQP receipt: the center whose `receiptsUser` RabbitMQ validated as the message's user-id
 * (authenticated), else only the center its header claims.
 */
export function receiptSender(
  userId: unknown,
  claimed: string | undefined,
  registry: Pick<CenterRegistry, 'centers'>,
): ReceiptSender {
  const byUser =
    typeof userId === 'string' && userId !== ''
      ? registry.centers.find((c) => c.receiptsUser === userId)?.code
      : undefined;
  if (byUser) return { via: 'amqp', center: byUser, authenticated: true };
  return { via: 'amqp', ...(claimed ? { center: claimed } : {}), authenticated: false };
}

/**
 * Receipts queue consumer. A receipt that can never be accepted (bad signature, unreadable) is
 * dead-lettered at once; a transient failure (database away) is retried in place with backoff rather than
 * requeued, so an outage does not burn the queue's delivery limit and dead-letter good receipts.
 */
/** In-place retries (≈ 1 min with backoff) before a receipt goes back to the queue. */
const IN_PLACE_ATTEMPTS = 15;

export async function handleReceiptDelivery(
  delivery: Delivery,
  ingestor: ReceiptIngestor,
  logger: Logger,
  registry: Pick<CenterRegistry, 'centers'>,
): Promise<void> {
  const { message } = delivery;
  const center = (message.properties.headers?.[HEADER_CENTER] as string | undefined) ?? undefined;
  const sender = receiptSender(message.properties.userId, center, registry);
  let delay = 250;
  for (let attempt = 1; delivery.channelOpen; attempt++) {
    if (attempt > IN_PLACE_ATTEMPTS) {
      // Give the receipt back so another worker (with a healthy database connection) can take it.
      logger.warn(
        { attempts: attempt - 1, messageId: message.properties.messageId },
        'receipt still failing; requeued for another worker',
      );
      delivery.nack({ requeue: true });
      return;
    }
    try {
      if (message.fields.routingKey === DELIVERY_ROUTING_KEY) {
        const notice = JSON.parse(delivery.content.toString('utf8')) as {
          messageGuid?: unknown;
          center?: unknown;
          at?: unknown;
        };
        if (typeof notice.messageGuid !== 'string')
          throw new ReceiptRejectedError('DELIVERY_NOTICE_INVALID', 'delivery notice without messageGuid');
        await ingestor.delivered({
          messageGuid: notice.messageGuid,
          center: typeof notice.center === 'string' ? notice.center : center,
          at: typeof notice.at === 'string' ? notice.at : undefined,
        });
      } else {
        const result = await ingestor.ingest(delivery.content, sender);
        logger.debug(
          {
            receiptId: result.receiptId,
            type: result.receiptType,
            duplicate: result.duplicate,
            unknown: result.unknown,
          },
          'receipt ingested',
        );
      }
      delivery.ack();
      return;
    } catch (err) {
      if (err instanceof ReceiptRejectedError || err instanceof SyntaxError) {
        logger.warn(
          {
            code: (err as ReceiptRejectedError).code ?? 'MALFORMED',
            err: (err as Error).message,
            messageId: message.properties.messageId,
          },
          'receipt rejected; dead-lettered',
        );
        delivery.nack({ requeue: false });
        return;
      }
      logger.warn({ attempt, err: (err as Error).message }, 'receipt processing failed; retrying');
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 5000);
    }
  }
}
