/**
 * Load generator process for bench/pipeline.ts: autocannon against POST /v1/orders, each request a fresh
 * unique order (or a JSON array of `batch` orders). Prints one JSON line with the results on stdout.
 *
 *   node --import tsx bench/support/load.ts <json options>
 */
import autocannon from 'autocannon';
import { orderFactory } from './orders';

interface LoadOptions {
  urls: string[];
  key: string;
  seconds: number;
  connections: number;
  batch: number;
  runTag: string;
  /** Requests per second over all connections (open loop); absent: as fast as the answers come (closed loop). */
  rate?: number;
}

const options = JSON.parse(process.argv[2] ?? '{}') as LoadOptions;
const next = orderFactory(options.runTag);
const bodies = { count: 0 };

async function runOne(
  url: string,
  connections: number,
  rate: number | undefined,
): Promise<autocannon.Result & { accepted: number; rejected: number; statuses: Record<string, number> }> {
  let accepted = 0;
  let rejected = 0;
  const statuses: Record<string, number> = {};
  const instance = autocannon({
    url: `${url}/v1/orders`,
    connections,
    duration: options.seconds,
    timeout: 60,
    ...(rate ? { overallRate: rate } : {}),
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${options.key}` },
        setupRequest: (req) => {
          bodies.count++;
          const body =
            options.batch > 1 ? JSON.stringify(Array.from({ length: options.batch }, next)) : JSON.stringify(next());
          return { ...req, body };
        },
        onResponse: (status, body) => {
          statuses[status] = (statuses[status] ?? 0) + 1;
          if (status !== 202) {
            if (rejected < 3) process.stderr.write(`load: ${status} ${String(body).slice(0, 400)}\n`);
            rejected++;
            return;
          }
          const parsed = JSON.parse(String(body)) as { accepted: number; rejected: number };
          accepted += parsed.accepted;
          rejected += parsed.rejected;
        },
      },
    ],
  });
  const result = await instance;
  return Object.assign(result, { accepted, rejected, statuses });
}

const perUrl = Math.max(1, Math.round(options.connections / options.urls.length));
const perUrlRate = options.rate ? Math.max(1, Math.round(options.rate / options.urls.length)) : undefined;
const results = await Promise.all(options.urls.map((url) => runOne(url, perUrl, perUrlRate)));
const merged = {
  requests: results.reduce((s, r) => s + r.requests.total, 0),
  errors: results.reduce((s, r) => s + r.errors + r.timeouts, 0),
  non2xx: results.reduce((s, r) => s + r.non2xx, 0),
  acceptedOrders: results.reduce((s, r) => s + r.accepted, 0),
  rejectedOrders: results.reduce((s, r) => s + r.rejected, 0),
  statuses: results.map((r) => r.statuses),
  // With several gateways, the worst percentile of the two (autocannon keeps no mergeable histogram).
  latencyP50: Math.max(...results.map((r) => r.latency.p50)),
  latencyP99: Math.max(...results.map((r) => r.latency.p99)),
  latencyMax: Math.max(...results.map((r) => r.latency.max)),
  durationS: Math.max(...results.map((r) => r.duration)),
};
process.stdout.write(JSON.stringify(merged) + '\n');
process.exit(0);
