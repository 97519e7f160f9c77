import { randomUUID } from 'node:crypto';
import type { Connection } from 'mongoose';
import type { Logger } from 'pino';
import { createApp } from '../../src/api/app';
import type Router from '@koa/router';
import { createAuth } from '../../src/api/auth';
import type { RequestState } from '../../src/api/middleware/request-context';
import { ordersRoutes } from '../../src/api/routes/orders';
import { loadCenterRegistry } from '../../src/centers/registry';
import { LiveEvents } from '../../src/api/live-events';
import { createMetrics, type Metrics } from '../../src/api/metrics';
import { declarationsRoutes } from '../../src/api/routes/declarations';
import { dashboardRoutes } from '../../src/api/routes/dashboard';
import { metricsRoutes } from '../../src/api/routes/metrics';
import { statsRoutes, type StatsRouteDeps } from '../../src/api/routes/stats';
import { streamRoutes } from '../../src/api/routes/stream';
import { CoalescingCapacityLedger } from '../../src/centers/capacity-ledger';
import { loadConfig, type Config } from '../../src/config';
import type { MessageType } from '../../src/domain/message-types';
import { createSubmission } from '../../src/runtime/components';
import { listen } from '../../src/runtime/http-server';
import { createStores } from '../../src/store';
import type { DeclarationStore, DeclarationView, HistoryEntry, ReceiptStore } from '../../src/store/contracts';
import { connectMongo } from '../../src/store/mongo';
import { createRepositories } from '../../src/store/repositories';
import { silentLogger } from '../support/logger';
import { generateValidOrder } from '../support/order-generator';
import { dropDatabase, mongoUrlFor, requireMongo } from '../support/services';

/**
 * A gateway with the broker-side routers only (broker, stream, stats, metrics, dashboard), the real
 * stores on a database of its own, and real API-key authentication — over real HTTP on a free port.
 * Shared by test/api/{broker,stream,stats,metrics}*.test.ts and test/cli.
 */
export interface BrokerHarness {
  base: string;
  /** The configuration the stores use (same PII keys for any worker started against this database). */
  config: Config;
  mongo: Connection;
  declarations: DeclarationStore;
  receipts: ReceiptStore;
  live: LiveEvents;
  metrics: Metrics;
  logger: Logger;
  close(): Promise<void>;
}

export const HARNESS_CENTERS = [
  { code: 'GD', name: { zh: '广东中心', en: 'Guangdong center' }, dailyCapacity: 1000 },
  { code: 'HK', name: { zh: '粤港中心', en: 'Hong Kong center' }, dailyCapacity: 500 },
];

export async function startBrokerHarness(
  name: string,
  options: {
    logger?: Logger;
    queueDepth?: StatsRouteDeps['queueDepth'];
    heartbeatMs?: number;
    /** Also mount POST /v1/orders (real submission and routing). */ withOrders?: boolean;
  } = {},
): Promise<BrokerHarness> {
  await requireMongo();
  const url = mongoUrlFor(name);
  await dropDatabase(url);
  const logger = options.logger ?? silentLogger();
  const config = loadConfig({
    MONGO_URL: url,
    NODE_ENV: 'test',
    PII_KEYS: `t1:${Buffer.alloc(32, 7).toString('base64')}`,
    PII_HASH_KEY: Buffer.alloc(32, 9).toString('base64'),
  });
  const mongo = await connectMongo(url, logger);
  const stores = createStores(mongo, config);
  await stores.init();
  const repositories = createRepositories(mongo);
  await repositories.init();
  const authDeps = createAuth(repositories, { cacheMs: 0, rateLimit: false });
  const auth = authDeps.guard('declarations.read');
  // The production wiring (routing view, source mappings), not a copy of it.
  const submission = createSubmission({
    config,
    logger,
    stores,
    registry: loadCenterRegistry(),
    capacity: new CoalescingCapacityLedger(repositories.capacity),
    centerStates: repositories.centerStates,
  });
  const idempotency = repositories.idempotencyKeys;
  const extra: Router<RequestState>[] = [];
  if (options.withOrders)
    extra.push(ordersRoutes({ submission, declarations: stores.declarations, auth: authDeps, idempotency }));
  const live = new LiveEvents({ store: stores.declarations, logger, pollMs: 50 });
  const metrics = createMetrics({
    declarations: stores.declarations,
    centers: HARNESS_CENTERS.map((c) => c.code),
    gaugeCacheMs: 0,
    defaultMetrics: false,
  });
  const app = createApp({
    logger,
    observe: [metrics.httpMiddleware()],
    routers: [
      ...extra,
      declarationsRoutes({
        declarations: stores.declarations,
        receipts: stores.receipts,
        submission,
        auth: authDeps,
        idempotency,
      }),
      streamRoutes({
        live,
        declarations: stores.declarations,
        auth,
        ...(options.heartbeatMs ? { heartbeatMs: options.heartbeatMs } : {}),
      }),
      statsRoutes({
        declarations: stores.declarations,
        centers: HARNESS_CENTERS,
        queueDepth: options.queueDepth ?? (async () => ({ messageCount: 0, consumerCount: 1 })),
        capacity: new CoalescingCapacityLedger(repositories.capacity),
        centerStates: repositories.centerStates,
        auth,
        cacheMs: 0,
      }),
      metricsRoutes(metrics.registry),
      dashboardRoutes(),
    ],
  });
  const http = await listen(app, 0, '127.0.0.1');
  return {
    base: `http://127.0.0.1:${http.port}`,
    config,
    mongo,
    declarations: stores.declarations,
    receipts: stores.receipts,
    live,
    metrics,
    logger,
    close: async () => {
      await live.close();
      await http.close();
      await mongo.close();
    },
  };
}

let seedCounter = 1;

/** Inserts one declaration of a generated import order (real personal data, which must never leave masked). */
export async function seedDeclaration(
  declarations: DeclarationStore,
  options: { sellerId: string; center?: string; messageType?: MessageType; orderNo?: string; seed?: number },
): Promise<{ view: DeclarationView; buyer: { idNumber: string; name: string; phone: string; address: string } }> {
  const seed = options.seed ?? 7000 + seedCounter++;
  const generated = generateValidOrder(seed, { direction: 'import', tradeMode: '9610', sellerRegion: 'GD' });
  const order = { ...generated, ...(options.orderNo ? { orderNo: options.orderNo } : {}) } as typeof generated;
  const o = order as unknown as {
    orderNo: string;
    buyerIdNumber: string;
    buyerName: string;
    buyerTelephone: string;
    consigneeAddress: string;
    ebpCode: string;
    customsCode: string;
    acturalPaid: number;
  };
  const { inserted } = await declarations.insertMany([
    {
      id: randomUUID(),
      sellerId: options.sellerId,
      platformCode: o.ebpCode,
      orderNo: o.orderNo,
      messageType: options.messageType ?? 'CEB311',
      direction: 'import',
      tradeMode: '9610',
      customsCode: o.customsCode,
      center: options.center ?? 'GD',
      order,
      amountCny: o.acturalPaid,
      requestId: `req-${seed}`,
      sellerRegion: 'GD',
    },
  ]);
  const view = inserted[0];
  if (!view) throw new Error('seed declaration was not inserted');
  return {
    view,
    buyer: { idNumber: o.buyerIdNumber, name: o.buyerName, phone: o.buyerTelephone, address: o.consigneeAddress },
  };
}

/** Moves a declaration forward through the store, as the worker and receipt ingestion would. */
export async function advance(
  declarations: DeclarationStore,
  id: string,
  statuses: string[],
  entry: Partial<Omit<HistoryEntry, 'eventId' | 'status'>> = {},
): Promise<void> {
  for (const status of statuses) {
    const result = await declarations.applyStatus({ id }, status, { at: new Date(), source: 'receipt', ...entry });
    if (!result.applied) throw new Error(`status ${status} not applied to ${id}: ${result.reason}`);
  }
}

export async function getJson<T = Record<string, unknown>>(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T; headers: Headers; text: string }> {
  const res = await fetch(url, { headers });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, headers: res.headers, text };
}
