/**
 * One large batch through Submission.submit in-process (no HTTP), timed by stage, with the routing as it
 * was (routeAndReserve per order: two reads and one serialised capacity `$inc` each) and as it is
 * (RoutingView: one read per second, increments merged). Shows where a 1,000-order batch spends its time.
 *
 *   node --import tsx bench/support/submit-batch.ts [--orders 1000]
 */
import { randomUUID } from 'node:crypto';
import { TEST_EBC_CODES } from '../../test/support/order-generator';
import { MongoClient } from 'mongodb';
import { routeAndReserve, RoutingView, type CapacityLedger } from '../../src/centers/routing';
import { loadConfig } from '../../src/config';
import type { BaygateOrder } from '../../src/domain/order';
import { loadSourceMappings, paramsFromConfig } from '../../src/mapping/source-mapper';
import { Submission } from '../../src/pipeline/submission';
import { startCore } from '../../src/runtime/components';
import { silentLogger } from '../../test/support/logger';
import { orderFactory } from './orders';

const i = process.argv.indexOf('--orders');
const ORDERS = i >= 0 ? Number(process.argv[i + 1]) : 1000;
const base = new URL(process.env.MONGO_URL || 'mongodb://127.0.0.1:27017/baygate');
base.pathname = '/baygate_bench_submit';
const amqp = new URL(process.env.AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672');
amqp.pathname = '/baygate_bench';

const client = new MongoClient(base.toString());
await client.connect();
await client.db().dropDatabase();
await client.close();
const config = loadConfig({ ...process.env, MONGO_URL: base.toString(), AMQP_URL: amqp.toString() });
const core = await startCore(config, silentLogger(), 'bench-submit');

/** The ledger as before: one increment at a time, each its own round trip. */
function oneAtATime(ledger: CapacityLedger): CapacityLedger {
  let chain: Promise<unknown> = Promise.resolve();
  return {
    usedOn: (day, centers) => ledger.usedOn(day, centers),
    consume: (center, day, count) => {
      const next = chain.then(() => ledger.consume(center, day, count));
      chain = next.catch(() => undefined);
      return next;
    },
  };
}

interface Stage {
  first: number;
  last: number;
  calls: number;
}
const stage = (): Stage => ({ first: Infinity, last: 0, calls: 0 });
async function timed<T>(s: Stage, fn: () => Promise<T>): Promise<T> {
  s.first = Math.min(s.first, performance.now());
  s.calls++;
  try {
    return await fn();
  } finally {
    s.last = Math.max(s.last, performance.now());
  }
}

async function measure(label: string, route: (order: BaygateOrder) => Promise<string>): Promise<void> {
  const stages = { route: stage(), orderNumbers: stage(), annualUsage: stage(), insert: stage() };
  const declarations = core.stores.declarations;
  const submission = new Submission({
    // A class instance: its methods live on the prototype, so the timed one is set on an object inheriting it.
    declarations: Object.assign(Object.create(declarations) as typeof declarations, {
      insertMany: (d: Parameters<typeof declarations.insertMany>[0]) =>
        timed(stages.insert, () => declarations.insertMany(d)),
    }),
    orderNumbers: Object.assign(Object.create(core.stores.orderNumbers) as typeof core.stores.orderNumbers, {
      claim: (...a: Parameters<typeof core.stores.orderNumbers.claim>) =>
        timed(stages.orderNumbers, () => core.stores.orderNumbers.claim(...a)),
    }),
    annualUsage: {
      reserve: (...a) => timed(stages.annualUsage, () => core.stores.annualUsage.reserve(...a)),
      release: (...a) => core.stores.annualUsage.release(...a),
      usedThisYear: (...a) => core.stores.annualUsage.usedThisYear(...a),
    },
    route: (order) => timed(stages.route, () => route(order)),
    sourceMappings: loadSourceMappings('mappings/sources'),
    sourceParams: paramsFromConfig(config),
    logger: silentLogger(),
  });
  const next = orderFactory(`${label}${Date.now().toString(36)}`);
  const orders = Array.from({ length: ORDERS }, next);
  const t0 = performance.now();
  const result = await submission.submit(orders, {
    sellerId: 'bench',
    ebcCodes: TEST_EBC_CODES,
    requestId: randomUUID(),
  });
  const total = performance.now() - t0;
  const span = (s: Stage) => (s.calls ? `${((s.last - s.first) / 1000).toFixed(2)} s (${s.calls} calls)` : '-');
  process.stdout.write(
    `${label.padEnd(34)} ${ORDERS} orders in ${(total / 1000).toFixed(2)} s (${result.accepted} accepted, ${result.rejected} rejected); ` +
      `routing ${span(stages.route)}, order numbers ${span(stages.orderNumbers)}, annual usage ${span(stages.annualUsage)}, store insert ${span(stages.insert)}\n`,
  );
}

const centers = core.registry.centers;
const slow = oneAtATime(core.capacity);
await measure(
  'before: routeAndReserve per order',
  async (order) => (await routeAndReserve(order.customsCode, centers, slow, core.centerStates, { count: 4 })).center,
);
const view = new RoutingView(centers, core.capacity, core.centerStates);
await measure('after: RoutingView', async (order) => (await view.route(order.customsCode, { count: 4 })).center);
await core.close();
const c2 = new MongoClient(base.toString());
await c2.connect();
await c2.db().dropDatabase();
await c2.close();
