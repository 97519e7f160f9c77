import { createServer } from 'node:http';
import type { Middleware } from 'koa';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DeclarationStore, DeclarationSubject } from '../store/contracts';

/**
 * Prometheus metrics of one process (a registry per process, never prom-client's global one, so tests and
 * several components in one process do not collide). Labels are bounded sets only: route templates (not
 * raw paths), status codes, center codes, message types — never ids, order numbers or personal data.
 *
 * Wiring (composition root):
 *   const metrics = createMetrics({ declarations, centers: registry.codes() });
 *   createApp({ …, observe: [metrics.httpMiddleware()] }); // HTTP latency by matched route
 *   new Dispatcher({ …, onSigned: metrics.hooks.onSigned, onPublished: metrics.hooks.onPublished });
 *   new ReceiptIngestor({ …, onApplied: metrics.hooks.onApplied });
 *   routers: [metricsRoutes(metrics.registry)]
 */
export interface MetricsOptions {
  /** Declarations gauge source; omitted in processes that do not serve it (e.g. a worker). */
  declarations?: Pick<DeclarationStore, 'countByStatus'>;
  /** Center codes the declarations gauge is broken down by. */
  centers?: readonly string[];
  /** How long one countByStatus read is reused across scrapes. */
  gaugeCacheMs?: number;
  /** Node.js process metrics (event loop lag, heap, …). */
  defaultMetrics?: boolean;
  prefix?: string;
}

export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  declarations?: Gauge<'status' | 'center'>;
  publishes: Counter<'center' | 'outcome'>;
  signingSeconds: Histogram<'message_type'>;
  receiptLagSeconds: Histogram<'center'>;
  statusDelaySeconds: Histogram<'status' | 'message_type'>;
  statusChanges: Counter<'status' | 'center'>;
  orderNumberClashes: Counter;
  /** Functions to hand to the dispatcher, the receipt ingestor and the submission. */
  hooks: {
    onSigned: (ms: number, messageType: string) => void;
    onPublished: (ok: boolean, center: string) => void;
    onApplied: (
      declaration: DeclarationSubject,
      status: string,
      receivedAt: Date,
      returnTime: Date | undefined,
    ) => void;
    onClash: () => void;
  };
  /** Koa middleware timing each request by its matched route template: createApp's `observe`, outermost. */
  httpMiddleware(): Middleware;
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const p = options.prefix ?? 'baygate_';
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: p });

  const httpDuration = new Histogram({
    name: `${p}http_request_duration_seconds`,
    help: 'HTTP request latency by matched route template',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });

  let declarations: Gauge<'status' | 'center'> | undefined;
  if (options.declarations) {
    const store = options.declarations;
    const centers = options.centers ?? [];
    const cacheMs = options.gaugeCacheMs ?? 5000;
    let cached: { at: number; rows: { status: string; center: string; count: number }[] } | undefined;
    const read = async () => {
      if (cached && Date.now() - cached.at < cacheMs) return cached.rows;
      // One countByStatus per center (single-collection count queries, no $lookup): bounded by the registry size.
      const rows = (
        await Promise.all(
          centers.map(async (center) =>
            Object.entries(await store.countByStatus({ center: [center] })).map(([status, count]) => ({
              status,
              center,
              count,
            })),
          ),
        )
      ).flat();
      cached = { at: Date.now(), rows };
      return rows;
    };
    declarations = new Gauge({
      name: `${p}declarations`,
      help: 'Declarations by status and clearance center (read from the store on scrape, cached a few seconds)',
      labelNames: ['status', 'center'] as const,
      registers: [registry],
      async collect() {
        try {
          const rows = await read();
          this.reset();
          for (const r of rows) this.set({ status: r.status, center: r.center }, r.count);
        } catch {
          // Keep the last values: a scrape must not fail because the database blinked.
        }
      },
    });
  }

  const publishes = new Counter({
    name: `${p}manifest_publishes_total`,
    help: 'Manifest publishes by outcome (confirmed by the broker, or failed)',
    labelNames: ['center', 'outcome'] as const,
    registers: [registry],
  });
  const signingSeconds = new Histogram({
    name: `${p}signing_duration_seconds`,
    help: 'Time to build and sign one manifest',
    labelNames: ['message_type'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const receiptLagSeconds = new Histogram({
    name: `${p}receipt_lag_seconds`,
    help: 'Receipt received at the gateway minus its returnTime',
    labelNames: ['center'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
    registers: [registry],
  });
  const statusDelaySeconds = new Histogram({
    name: `${p}status_delay_seconds`,
    help: 'Time from acceptance of a declaration to a status applied from a receipt',
    labelNames: ['status', 'message_type'] as const,
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14_400, 86_400],
    registers: [registry],
  });
  const statusChanges = new Counter({
    name: `${p}receipt_status_changes_total`,
    help: 'Declaration status changes applied from receipts',
    labelNames: ['status', 'center'] as const,
    registers: [registry],
  });

  const orderNumberClashes = new Counter({
    name: `${p}order_number_clashes_total`,
    help: 'Orders refused because another seller holds their platform order number (each is recorded for the operator: GET /v1/order-clashes)',
    registers: [registry],
  });

  // Customs codes are an open set (negative business errors): fold those into one label value.
  const statusLabelValue = (status: string) => (/^-\d+$/.test(status) ? 'negative' : status);

  const hooks: Metrics['hooks'] = {
    onClash: () => orderNumberClashes.inc(),
    onSigned: (ms, messageType) => signingSeconds.observe({ message_type: messageType }, ms / 1000),
    onPublished: (ok, center) => publishes.inc({ center, outcome: ok ? 'confirmed' : 'failed' }),
    onApplied: (declaration, status, receivedAt, returnTime) => {
      statusChanges.inc({ status: statusLabelValue(status), center: declaration.center });
      if (returnTime)
        receiptLagSeconds.observe(
          { center: declaration.center },
          Math.max(0, (receivedAt.getTime() - returnTime.getTime()) / 1000),
        );
      statusDelaySeconds.observe(
        { status: statusLabelValue(status), message_type: declaration.messageType },
        Math.max(0, (receivedAt.getTime() - new Date(declaration.createdAt).getTime()) / 1000),
      );
    },
  };

  const httpMiddleware = (): Middleware => async (ctx, next) => {
    const end = httpDuration.startTimer();
    let status = 500;
    try {
      await next();
      status = ctx.status;
    } catch (err) {
      status = (err as { status?: number }).status ?? 500;
      throw err;
    } finally {
      // The template the router matched ("/v1/declarations/:id"), never the raw path (unbounded, may carry ids).
      const route = (ctx as unknown as { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
      // Streams stay open for minutes: their latency says nothing, so they are not observed.
      if (!ctx.response.is('text/event-stream')) end({ method: ctx.method, route, status: String(status) });
    }
  };

  return {
    registry,
    httpDuration,
    ...(declarations ? { declarations } : {}),
    publishes,
    signingSeconds,
    receiptLagSeconds,
    statusDelaySeconds,
    statusChanges,
    orderNumberClashes,
    hooks,
    httpMiddleware,
  };
}

/**
 * A bare HTTP listener serving only GET /metrics, for processes without the gateway's HTTP API (dispatch
 * workers). Returns its port and a close function.
 */
export async function startMetricsServer(
  registry: Registry,
  port: number,
  host = '127.0.0.1',
): Promise<{ port: number; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' }).end(text),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
