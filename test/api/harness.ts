import { resolve } from 'node:path';
import type { Connection } from 'mongoose';
import { createApp } from '../../src/api/app';
import { createAuth, type AuthDeps, type AuthOptions } from '../../src/api/auth';
import { openApiRoutes } from '../../src/api/openapi';
import { declarationsRoutes } from '../../src/api/routes/declarations';
import { healthRoutes } from '../../src/api/routes/health';
import { orderClashesRoutes } from '../../src/api/routes/order-clashes';
import { ordersRoutes } from '../../src/api/routes/orders';
import { receiptsRoutes } from '../../src/api/routes/receipts';
import { webhooksRoutes } from '../../src/api/routes/webhooks';
import { CoalescingCapacityLedger } from '../../src/centers/capacity-ledger';
import { loadCenterRegistry } from '../../src/centers/registry';
import { loadConfig } from '../../src/config';
import type { Submission } from '../../src/pipeline/submission';
import { WebhookRegistry } from '../../src/pipeline/webhooks';
import { createReceiptIngestor, createSubmission } from '../../src/runtime/components';
import { listen } from '../../src/runtime/http-server';
import { loadTrustLists } from '../../src/signing/trust';
import { createStores, type Stores } from '../../src/store';
import { connectMongo, pingMongo } from '../../src/store/mongo';
import type { IdempotencyKeyRepository } from '../../src/store/idempotency-keys';
import { createRepositories, type Repositories } from '../../src/store/repositories';
import { silentLogger } from '../support/logger';
import { dropDatabase, mongoUrlFor, requireMongo } from '../support/services';

/**
 * The seller API as the gateway wires it, on a database of its own and an ephemeral port: real stores
 * (FerretDB), real submission, routing, receipt verification and access control. Same wiring as the
 * composition root (src/runtime/gateway.ts).
 */
export interface ApiHarness {
  base: string;
  connection: Connection;
  stores: Stores;
  repositories: Repositories;
  auth: AuthDeps;
  submission: Submission;
  webhooks: WebhookRegistry;
  idempotency: IdempotencyKeyRepository;
  /** Counts documents of a collection (optionally filtered), for "nothing was stored" checks. */
  count(collection: string, filter?: Record<string, unknown>): Promise<number>;
  close(): Promise<void>;
}

export async function startApiHarness(
  name: string,
  options: {
    auth?: AuthOptions;
    limits?: { maxBodyBytes?: number; maxOrders?: number };
    submission?: (s: Submission) => Submission;
  } = {},
): Promise<ApiHarness> {
  await requireMongo();
  const url = mongoUrlFor(name);
  await dropDatabase(url);
  const logger = silentLogger();
  // Explicit 32-byte keys: test data only.
  const config = loadConfig({
    MONGO_URL: url,
    PII_KEYS: `apitest:${Buffer.alloc(32, 7).toString('base64')}`,
    PII_HASH_KEY: Buffer.alloc(32, 9).toString('base64'),
  });
  const connection = await connectMongo(url, logger);
  const stores = createStores(connection, config);
  await stores.init();
  const repositories = createRepositories(connection);
  await repositories.init();
  // The production wiring (routing view, source mappings), not a copy of it.
  let submission = createSubmission({
    config,
    logger,
    stores,
    registry: loadCenterRegistry(),
    capacity: new CoalescingCapacityLedger(repositories.capacity),
    centerStates: repositories.centerStates,
  });
  if (options.submission) submission = options.submission(submission);
  const auth = createAuth(repositories, { cacheMs: 0, ...(options.auth ?? {}) });
  const idempotency = repositories.idempotencyKeys;
  const webhooks = new WebhookRegistry({
    subscriptions: repositories.webhookSubscriptions,
    deliveries: repositories.webhookDeliveries,
  });
  const ingestor = createReceiptIngestor({
    config,
    logger,
    stores,
    registry: loadCenterRegistry(),
    trustLists: loadTrustLists(resolve('certs-dev/trust-lists')),
  });
  const app = createApp({
    logger,
    routers: [
      healthRoutes({ mongodb: () => pingMongo(connection) }),
      openApiRoutes(),
      ordersRoutes({ submission, declarations: stores.declarations, auth, idempotency, limits: options.limits }),
      declarationsRoutes({
        declarations: stores.declarations,
        receipts: stores.receipts,
        submission,
        auth,
        idempotency,
      }),
      receiptsRoutes({ ingestor, auth }),
      orderClashesRoutes({ orderNumbers: stores.orderNumbers, declarations: stores.declarations, auth }),
      // Test receivers listen on loopback: the development allow-list names it.
      webhooksRoutes({ webhooks, auth, targets: { allowed: ['127.0.0.1'] } }),
    ],
  });
  const http = await listen(app, 0, '127.0.0.1');
  return {
    base: `http://127.0.0.1:${http.port}`,
    connection,
    stores,
    repositories,
    auth,
    submission,
    webhooks,
    idempotency,
    count: (collection, filter = {}) => connection.db!.collection(collection).countDocuments(filter),
    close: async () => {
      await http.close();
      await connection.close();
    },
  };
}

export interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
  text: string;
}

/** One HTTP call; JSON bodies are serialised, strings sent as they are. */
export async function call(
  base: string,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; json?: unknown; body?: string | Buffer; type?: string } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  let body: string | Buffer | undefined = options.body;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers['Content-Type'] ??= 'application/json';
  }
  if (options.type) headers['Content-Type'] = options.type;
  const res = await fetch(base + path, { method, headers, body: body as BodyInit | undefined });
  const text = await res.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    parsed = {};
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

export function isProblem(reply: Reply, status: number): boolean {
  return reply.status === status && /^application\/problem\+json/.test(reply.headers.get('content-type') ?? '');
}
