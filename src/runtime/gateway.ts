import type { Logger } from 'pino';
import { createApp } from '../api/app';
import { createAuth, seedAccounts } from '../api/auth';
import { LiveEvents } from '../api/live-events';
import { createMetrics } from '../api/metrics';
import { openApiRoutes, undocumentedRoutes } from '../api/openapi';
import { dashboardRoutes } from '../api/routes/dashboard';
import { declarationsRoutes } from '../api/routes/declarations';
import { healthRoutes } from '../api/routes/health';
import { metricsRoutes } from '../api/routes/metrics';
import { orderClashesRoutes } from '../api/routes/order-clashes';
import { ordersRoutes } from '../api/routes/orders';
import { receiptsRoutes } from '../api/routes/receipts';
import { statsRoutes } from '../api/routes/stats';
import { streamRoutes } from '../api/routes/stream';
import { webhooksRoutes } from '../api/routes/webhooks';
import type { Config } from '../config';
import { parseAllowedTargets } from '../pipeline/webhook-targets';
import { WebhookRegistry } from '../pipeline/webhooks';
import type { AmqpClient } from '../queue/amqp';
import { centerQueueName } from '../queue/topology';
import type { StoreConnection } from '../store/collections';
import { pingMongo } from '../store/mongo';
import { createReceiptIngestor, createSubmission, startCore, type Core } from './components';
import { listen } from './http-server';

export interface Gateway {
  port: number;
  core: Core;
  mongo: StoreConnection;
  amqp: AmqpClient;
  /** Stop accepting, finish in-flight requests, close RabbitMQ, then MongoDB. */
  stop(): Promise<void>;
  stopSteps: { name: string; run: () => Promise<void> }[];
}

/**
 * Composition root of the HTTP gateway: every router with its dependencies. The gateway persists and
 * reads; it never publishes declarations (the workers do), so it starts and accepts orders while the
 * broker is away and /readyz reports it.
 */
export async function startGateway(config: Config, logger: Logger): Promise<Gateway> {
  const core = await startCore(config, logger, 'gateway');
  const { mongo, amqp, stores, repositories, registry } = core;
  const auth = createAuth(repositories);
  if (process.env.SEED_DEV_ACCOUNTS === 'true') {
    await seedAccounts(auth.accounts, 'config/accounts.dev.json', { production: config.NODE_ENV === 'production' });
  }

  const metrics = createMetrics({ declarations: stores.declarations, centers: registry.codes() });
  const idempotency = repositories.idempotencyKeys;
  const submission = createSubmission(core, undefined, metrics.hooks.onClash);
  const ingestor = createReceiptIngestor(core, { onApplied: metrics.hooks.onApplied });
  const live = new LiveEvents({ store: stores.declarations, logger: logger.child({ component: 'live-events' }) });

  const routers = [
    healthRoutes({
      mongodb: () => pingMongo(mongo),
      rabbitmq: async () => {
        if (!amqp.isReady) throw new Error('no open RabbitMQ channel');
      },
    }),
    openApiRoutes(),
    metricsRoutes(metrics.registry),
    dashboardRoutes(),
    ordersRoutes({ submission, declarations: stores.declarations, auth, idempotency }),
    declarationsRoutes({ declarations: stores.declarations, receipts: stores.receipts, submission, auth, idempotency }),
    receiptsRoutes({ ingestor, auth }),
    orderClashesRoutes({ orderNumbers: stores.orderNumbers, declarations: stores.declarations, auth }),
    webhooksRoutes({
      webhooks: new WebhookRegistry({
        subscriptions: repositories.webhookSubscriptions,
        deliveries: repositories.webhookDeliveries,
      }),
      auth,
      targets: { allowed: parseAllowedTargets(config.WEBHOOK_ALLOWED_TARGETS) },
    }),
    streamRoutes({ live, declarations: stores.declarations, auth: auth.guard('declarations.read') }),
    statsRoutes({
      declarations: stores.declarations,
      centers: registry.centers,
      queueDepth: (center) => amqp.withChannel((ch) => ch.checkQueue(centerQueueName(center))),
      capacity: core.capacity,
      centerStates: core.centerStates,
      auth: auth.guard('declarations.read'),
    }),
  ];
  const missing = undocumentedRoutes(routers);
  if (missing.length > 0) logger.warn({ missing }, 'routes without OpenAPI documentation');

  const app = createApp({ logger, routers, observe: [metrics.httpMiddleware()], proxy: config.TRUST_PROXY });
  const http = await listen(app, config.PORT, config.HOST);
  logger.info({ port: http.port, host: config.HOST }, 'gateway listening');

  const stopSteps = [
    { name: 'live-events', run: () => live.close() },
    { name: 'http', run: () => http.close() },
    { name: 'rabbitmq', run: () => amqp.close() },
    { name: 'mongodb', run: () => mongo.close() },
  ];
  return {
    port: http.port,
    core,
    mongo,
    amqp,
    stopSteps,
    stop: async () => {
      for (const step of stopSteps) await step.run();
    },
  };
}
