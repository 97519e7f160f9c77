/**
 * End-to-end pipeline benchmark: POST /v1/orders until every declaration is confirmed by RabbitMQ
 * (status `queued`), on the real services, with the gateway, the dispatch workers, a queue drain (stands
 * in for the centers) and the load generator (autocannon) as separate processes. In the same run it
 * measures the database's own ceiling for the store's writes (plain driver calls, same documents, same
 * writes per declaration), the cost of one work claim at a backlog of 1,000 and of 50,000 declarations,
 * and `openssl speed rsa2048`, and prints Baygate's figures beside them with the targets of issue 14.
 *
 *   npm run bench:pipeline                      60 s per phase: single orders with 1 and 2 workers, then
 *                                               2 workers at half the load, claim cost, DB ceiling, openssl
 *   npm run bench:pipeline -- --seconds 20      shorter phases
 *   npm run bench:pipeline -- --batch 1,50      also batches of 50 orders per request
 *   npm run bench:pipeline -- --workers 1,2,4   scale-out: the same load with 1, 2 and 4 worker processes
 *   npm run bench:pipeline -- --gateways 2      two gateway processes (load split between them)
 *   npm run bench:pipeline -- --backlogs 1000,50000 --no-half --no-claims --no-baselines
 *   npm run bench:pipeline -- --cpu-prof        .services/bench/profiles/*.cpuprofile of gateway and workers
 *
 * Isolation: database `baygate_bench` (dropped first), RabbitMQ vhost `baygate_bench`, port 18480+.
 * Services: scripts/services.sh start (FerretDB 1.24 with Baygate's patches + RabbitMQ, or whatever
 * MONGO_URL/AMQP_URL point at). A script, not a test: minutes, machine-dependent, nothing in `npm test`.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { BSON, MongoClient, type Document } from 'mongodb';
import { AccountStore } from '../src/api/auth/account-store';
import { MongoAccountRepository } from '../src/store/accounts';
import { loadCenterRegistry } from '../src/centers/registry';
import { centerQueueName } from '../src/queue/topology';
import { connectMongo } from '../src/store/mongo';
import { silentLogger } from '../test/support/logger';
import { SAMPLED } from './support/samples';
import { opensslSpeed } from './support/openssl-speed';
import { cpuSeconds, exited, listenerPid, loadAverage, peakRssMb, Procs, sleep, waitReady } from './support/procs';

const run = promisify(execFile);
const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const BIN = join(ROOT, 'bin', 'baygate.js');
const OUT = join(ROOT, '.services', 'bench'); // git-ignored
const BASE_MONGO = process.env.MONGO_URL || 'mongodb://127.0.0.1:27017/baygate';
const BASE_AMQP = process.env.AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672';
const DB = 'baygate_bench';
const VHOST = 'baygate_bench';
const KEY = { account: 'bench-seller', keyId: 'bgk_bench_seller', secret: 'bench-only-seller-not-a-secret' };

// ------------------------------------------------------------------------------------------------ args
function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] && !process.argv[i + 1]!.startsWith('--') ? process.argv[i + 1]! : fallback;
}
const flag = (name: string) => process.argv.includes(`--${name}`);
const list = (s: string) =>
  s
    .split(',')
    .map((x) => Number(x.trim()))
    .filter((x) => Number.isInteger(x) && x > 0);
const SECONDS = Number(arg('seconds', '60'));
const BATCHES = list(arg('batch', '1'));
const WORKERS = list(arg('workers', '1,2'));
const GATEWAYS = Number(arg('gateways', '1'));
const CONNECTIONS = Number(arg('connections', '32'));
const BATCH_CONNECTIONS = Number(arg('batch-connections', '4'));
const DB_SECONDS = Number(arg('db-seconds', '10'));
const BACKLOGS = list(arg('backlogs', '1000,50000'));
const PORT = Number(arg('port', '18480'));
const CPU_PROF = flag('cpu-prof');
const BASELINES = !flag('no-baselines');
const HALF = !flag('no-half');
const CLAIMS = !flag('no-claims');

const dbUrl = (name: string) => {
  const u = new URL(BASE_MONGO);
  u.pathname = '/' + name;
  return u.toString();
};
const mongoUrl = dbUrl(DB);
const amqpUrl = (() => {
  const u = new URL(BASE_AMQP);
  u.pathname = '/' + VHOST;
  return u.toString();
})();
const centers = loadCenterRegistry(join(ROOT, 'config', 'centers.json')).codes();
const procs = new Procs(ROOT, join(OUT, 'logs'));
process.on('SIGINT', () => void procs.stopAll().finally(() => process.exit(130)));

// ------------------------------------------------------------------------------------------------ setup
async function prepare(): Promise<void> {
  const ctl = (...args: string[]) =>
    run('bash', ['scripts/services.sh', 'ctl', ...args], {
      cwd: ROOT,
      timeout: 60000,
      env: { ...process.env, AMQP_URL: BASE_AMQP, MONGO_URL: BASE_MONGO },
    });
  const { stdout } = await ctl('list_vhosts', '--quiet');
  if (
    !stdout
      .split('\n')
      .map((l) => l.trim())
      .includes(VHOST)
  )
    await ctl('add_vhost', VHOST);
  await ctl('set_permissions', '-p', VHOST, new URL(BASE_AMQP).username || 'guest', '.*', '.*', '.*');
}

async function freshDatabase(): Promise<void> {
  const client = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  await client.db().dropDatabase();
  await client.close();
  const connection = await connectMongo(mongoUrl, silentLogger());
  const accounts = new AccountStore(new MongoAccountRepository(connection));
  // A rate limit far above the load: the benchmark measures the pipeline, not the limiter.
  await accounts.upsertAccount({
    role: 'seller',
    id: KEY.account,
    name: 'Benchmark seller',
    ebcCodes: ['4401960E01', '4403960E02', 'HK3496A101', 'MO5795B201'],
    rateLimitPerMinute: 100_000_000,
  });
  await accounts.putKnownKey(KEY.account, KEY.keyId, KEY.secret);
  await connection.close();
}

async function purgeQueues(): Promise<void> {
  const amqp = await import('amqplib');
  const conn = await amqp.connect(amqpUrl);
  for (const q of centers.map(centerQueueName)) {
    const ch = await conn.createChannel();
    ch.on('error', () => undefined);
    await ch.purgeQueue(q).catch(() => undefined);
    await ch.close().catch(() => undefined);
  }
  await conn.close();
}

/** What serves MONGO_URL: "FerretDB v1.24.0 (…)" or "MongoDB 7.0.x". */
async function databaseServer(): Promise<string> {
  const client = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  try {
    const info = (await client.db().admin().command({ buildInfo: 1 })) as {
      version?: string;
      ferretdbVersion?: string;
    };
    return info.ferretdbVersion ? `FerretDB ${info.ferretdbVersion} (SQLite)` : `MongoDB ${info.version}`;
  } finally {
    await client.close();
  }
}

// ------------------------------------------------------------------------------------------------ one phase
interface PhaseResult {
  batch: number;
  workers: number;
  gateways: number;
  connections: number;
  /** Requests/s asked of the load generator (open loop), or undefined for "as fast as answered". */
  rate?: number;
  seconds: number;
  requests: number;
  errors: number;
  acceptedOrders: number;
  rejectedOrders: number;
  ordersPerS: number;
  acceptedDeclPerS: number;
  queuedInWindowPerS: number;
  /** The lower of accepted/s and queued/s in the window: what the pipeline sustained. */
  sustainedDeclPerS: number;
  queuedTotal: number;
  drainAfterS: number;
  httpP50: number;
  httpP99: number;
  queueP50: number;
  queueP99: number;
  rss: Record<string, number>;
  cpu: Record<string, number>;
  load: string;
}

const pct = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN;

async function phase(
  batch: number,
  workers: number,
  options: { samplesFile?: string; rate?: number } = {},
): Promise<PhaseResult> {
  const tag = `b${batch}w${workers}g${GATEWAYS}${options.rate ? `r${options.rate}` : ''}`;
  process.stdout.write(
    `\n— phase ${tag}: batch ${batch}, ${workers} worker(s), ${GATEWAYS} gateway(s), ` +
      `${options.rate ? `${options.rate} requests/s` : 'as fast as answered'}, ${SECONDS} s; load avg ${loadAverage()} —\n`,
  );
  await freshDatabase();
  await purgeQueues().catch(() => undefined);
  const env = {
    MONGO_URL: mongoUrl,
    AMQP_URL: amqpUrl,
    SEED_DEV_ACCOUNTS: 'true',
    LOG_LEVEL: 'warn',
    NODE_ENV: 'development',
  };
  const profDir = join(OUT, 'profiles', tag);
  if (CPU_PROF) mkdirSync(profDir, { recursive: true });
  const nodeArgs = CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
  const urls: string[] = [];
  const gateways = Array.from({ length: GATEWAYS }, (_, g) => {
    urls.push(`http://127.0.0.1:${PORT + g}`);
    return procs.start(`gateway-${g + 1}`, [BIN, 'serve'], { ...env, PORT: String(PORT + g) }, nodeArgs);
  });
  const workerProcs = Array.from({ length: workers }, (_, i) =>
    procs.start(`worker-${i + 1}`, [BIN, 'worker'], env, nodeArgs),
  );
  for (const url of urls) await waitReady(url, 60000);
  await sleep(1500); // workers assert the topology
  const drain = procs.start('drain', [
    '--import',
    'tsx',
    join(ROOT, 'bench/support/drain.ts'),
    amqpUrl,
    ...centers.map(centerQueueName),
  ]);
  const drainDeadline = Date.now() + 20000;
  while (!drain.stdout.join('').includes('drain ready') && Date.now() < drainDeadline) await sleep(100);

  const watched: Record<string, number | undefined> = {
    database: listenerPid(Number(new URL(BASE_MONGO).port || 27017)),
    rabbitmq: listenerPid(Number(new URL(BASE_AMQP).port || 5672)),
    drain: drain.child.pid,
  };
  gateways.forEach((g, i) => (watched[`gateway-${i + 1}`] = g.child.pid));
  workerProcs.forEach((w, i) => (watched[`worker-${i + 1}`] = w.child.pid));
  const cpuBefore = Object.fromEntries(Object.entries(watched).map(([k, pid]) => [k, pid ? cpuSeconds(pid) : NaN]));

  const connections = batch > 1 ? BATCH_CONNECTIONS : CONNECTIONS;
  const load = procs.start('load', [
    '--import',
    'tsx',
    join(ROOT, 'bench/support/load.ts'),
    JSON.stringify({
      urls,
      key: `${KEY.keyId}.${KEY.secret}`,
      seconds: SECONDS,
      connections,
      batch,
      runTag: `${tag}${Date.now().toString(36)}`,
      ...(options.rate ? { rate: options.rate } : {}),
    }),
  ]);
  const loadStart = cpuSeconds(load.child.pid!);
  let loadCpu = NaN;
  let loadRss = NaN;
  const client = new MongoClient(mongoUrl);
  await client.connect();
  const db = client.db();
  if (options.samplesFile) await sample(db, options.samplesFile);
  // Sample the load generator's CPU and peak RSS just before it ends.
  const loadTimer = setInterval(() => {
    const c = cpuSeconds(load.child.pid!);
    if (!Number.isNaN(c)) loadCpu = c - loadStart;
    const r = peakRssMb(load.child.pid!);
    if (!Number.isNaN(r)) loadRss = r;
  }, 250);
  const code = await exited(load);
  clearInterval(loadTimer);
  const t1 = new Date();
  if (code !== 0) throw new Error(`load generator exited ${code} (see .services/bench/logs/load.log)`);
  const result = JSON.parse(load.stdout.join('').trim().split('\n').pop()!) as {
    requests: number;
    errors: number;
    non2xx: number;
    acceptedOrders: number;
    rejectedOrders: number;
    latencyP50: number;
    latencyP99: number;
    durationS: number;
  };
  const loadAvg = loadAverage();

  // Let the workers finish the backlog (bounded), then read the timings from the database.
  const drainStarted = Date.now();
  const backlogDeadline = Date.now() + Math.max(60000, SECONDS * 2000);
  while (Date.now() < backlogDeadline) {
    // A declaration still to hand over carries dueAt (an indexed date range: one row read).
    if (!(await db.collection('declarations').findOne({ dueAt: { $gt: new Date(0) } }, { projection: { _id: 1 } })))
      break;
    await sleep(1000);
  }
  const drainAfterS = (Date.now() - drainStarted) / 1000;
  const cpu: Record<string, number> = {};
  const rss: Record<string, number> = {};
  for (const [k, pid] of Object.entries(watched)) {
    cpu[k] = pid ? cpuSeconds(pid) - cpuBefore[k]! : NaN;
    rss[k] = pid ? peakRssMb(pid) : NaN;
  }
  cpu.load = loadCpu;
  rss.load = loadRss;

  // The load window: autocannon's own duration, ending when the generator finished (its start-up excluded).
  const seconds = result.durationS;
  const windowStart = t1.getTime() - seconds * 1000;
  const declarations = await db
    .collection<{ createdAt: Date; history: { status: string; at: Date }[] }>('declarations')
    .find({}, { projection: { createdAt: 1, 'history.status': 1, 'history.at': 1 } })
    .toArray();
  const acceptedOrders = declarations.length / 4;
  const delays: number[] = [];
  let inWindow = 0;
  let queuedTotal = 0;
  for (const d of declarations) {
    const queued = d.history.find((h) => h.status === 'queued');
    if (!queued) continue;
    queuedTotal++;
    const at = queued.at.getTime();
    delays.push(at - d.createdAt.getTime());
    if (at >= windowStart && at <= t1.getTime()) inWindow++;
  }
  delays.sort((a, b) => a - b);
  await client.close();
  await Promise.all([...gateways, ...workerProcs, drain].map((p) => procs.stop(p)));

  const acceptedDeclPerS = (acceptedOrders * 4) / seconds;
  const queuedInWindowPerS = inWindow / seconds;
  return {
    batch,
    workers,
    gateways: GATEWAYS,
    connections,
    ...(options.rate ? { rate: options.rate } : {}),
    seconds,
    requests: result.requests,
    errors: result.errors + result.non2xx,
    acceptedOrders,
    rejectedOrders: result.rejectedOrders,
    // Counted in the database: requests still in flight when autocannon stops are stored too.
    ordersPerS: acceptedOrders / seconds,
    acceptedDeclPerS,
    queuedInWindowPerS,
    sustainedDeclPerS: Math.min(acceptedDeclPerS, queuedInWindowPerS),
    queuedTotal,
    drainAfterS,
    httpP50: result.latencyP50,
    httpP99: result.latencyP99,
    queueP50: pct(delays, 50),
    queueP99: pct(delays, 99),
    rss,
    cpu,
    load: loadAvg,
  };
}

/** One document of each collection the store writes, taken mid-run: the DB ceiling writes their like. */
async function sample(db: ReturnType<MongoClient['db']>, file: string): Promise<void> {
  await sleep((SECONDS * 1000) / 2);
  const samples: Record<string, Document> = {};
  const until = Date.now() + (SECONDS * 1000) / 2 - 1000;
  do {
    for (const n of SAMPLED.filter((x) => !samples[x])) {
      const doc = await db.collection(n).findOne({});
      if (doc) samples[n] = doc;
    }
    if (SAMPLED.every((n) => samples[n])) break;
    await sleep(1000);
  } while (Date.now() < until);
  writeFileSync(file, BSON.EJSON.stringify(samples));
}

// ------------------------------------------------------------------------------------------------ baselines
interface Ceiling {
  declarationsPerS: number;
  writesPerS: number;
}

function dbCeiling(samplesFile: string, concurrency: number, batch: number): Promise<Ceiling> {
  return procs.run<Ceiling>(`db-ceiling-b${batch}`, [
    '--import',
    'tsx',
    join(ROOT, 'bench/support/db-ceiling.ts'),
    JSON.stringify({ mongoUrl: dbUrl(`${DB}_raw`), samplesFile, seconds: DB_SECONDS, concurrency, batch }),
  ]);
}

interface ClaimCost {
  limit: number;
  backlogs: { backlog: number; insertS: number; claimMs: number[]; medianMs: number }[];
}

function claimCost(): Promise<ClaimCost> {
  return procs.run<ClaimCost>('claim-cost', [
    '--import',
    'tsx',
    join(ROOT, 'bench/support/claim-cost.ts'),
    JSON.stringify({ mongoUrl: dbUrl(`${DB}_claims`), backlogs: BACKLOGS, limit: 256, rounds: 10 }),
  ]);
}

// ------------------------------------------------------------------------------------------------ main
const fmt = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

async function main(): Promise<void> {
  mkdirSync(join(OUT, 'logs'), { recursive: true });
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  const cores = readFileSync('/proc/cpuinfo', 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('processor')).length;
  const server = await databaseServer();
  process.stdout.write(
    `bench:pipeline ${new Date().toISOString()} commit ${commit}, ${cores} cores, load avg ${loadAverage()}\n` +
      `database ${server} at ${mongoUrl.replace(/\/\/[^@]*@/, '//…@')}, broker vhost ${VHOST}; logs in .services/bench/logs/\n`,
  );
  await prepare();
  const results: PhaseResult[] = [];
  const ceilings = new Map<number, Ceiling>();
  let claims: ClaimCost | undefined;
  let rsa = NaN;
  try {
    for (const batch of BATCHES) {
      const samplesFile = join(OUT, `samples-b${batch}.json`);
      for (const [i, workers] of WORKERS.entries()) {
        const r = await phase(batch, workers, i === 0 ? { samplesFile } : {});
        results.push(r);
        printPhase(r);
      }
      if (BASELINES) {
        const connections = batch > 1 ? BATCH_CONNECTIONS : CONNECTIONS;
        const c = await dbCeiling(samplesFile, connections, batch);
        ceilings.set(batch, c);
        process.stdout.write(
          `\nDB ceiling (batch ${batch}, ${connections} writers, ${DB_SECONDS} s, the store's writes by plain driver calls): ` +
            `${fmt(c.declarationsPerS)} declarations/s (${fmt(c.writesPerS)} writes/s); load avg ${loadAverage()}\n`,
        );
      }
    }
    const full = best(results.filter((r) => r.batch === 1 && !r.rate));
    if (HALF && full) {
      const rate = Math.max(1, Math.round(full.sustainedDeclPerS / 4 / 2));
      const r = await phase(1, full.workers, { rate });
      results.push(r);
      printPhase(r);
    }
    if (CLAIMS && BACKLOGS.length) {
      process.stdout.write(`\n— claim cost: claims of 256 at a backlog of ${BACKLOGS.join(' and ')} —\n`);
      claims = await claimCost();
      for (const b of claims.backlogs)
        process.stdout.write(
          `backlog ${b.backlog}: ${b.claimMs.length} claims of ${claims.limit} (taking turns with the other backlog), median ${fmt(b.medianMs, 1)} ms ` +
            `(${b.claimMs.map((m) => fmt(m)).join(', ')} ms); backlog inserted in ${fmt(b.insertS, 1)} s; load avg ${loadAverage()}\n`,
        );
    }
    if (BASELINES) rsa = opensslSpeed('rsa2048', 3).signPerS;
  } finally {
    await procs.stopAll();
  }
  printSummary(results, ceilings, claims, rsa);
  writeFileSync(
    join(OUT, `pipeline-${Date.now()}.json`),
    JSON.stringify(
      {
        commit,
        at: new Date().toISOString(),
        server,
        results,
        ceilings: Object.fromEntries(ceilings),
        claims,
        rsaSignPerS: rsa,
      },
      null,
      2,
    ),
  );
}

/** The phase with the most declarations sustained. */
function best(rs: PhaseResult[]): PhaseResult | undefined {
  return rs.reduce<PhaseResult | undefined>(
    (b, r) => (!b || r.sustainedDeclPerS > b.sustainedDeclPerS ? r : b),
    undefined,
  );
}

function printPhase(r: PhaseResult): void {
  process.stdout.write(
    `orders accepted ${r.acceptedOrders} (${r.rejectedOrders} rejected, ${r.errors} errors) in ${fmt(r.seconds, 1)} s; ` +
      `queued ${r.queuedTotal}/${r.acceptedOrders * 4}, backlog cleared ${fmt(r.drainAfterS, 1)} s after the load; load avg ${r.load}\n` +
      `  orders/s ${fmt(r.ordersPerS)}  declarations accepted/s ${fmt(r.acceptedDeclPerS)}  declarations queued/s (in window) ${fmt(r.queuedInWindowPerS)}\n` +
      `  HTTP p50 ${fmt(r.httpP50)} ms p99 ${fmt(r.httpP99)} ms   accepted→queued p50 ${fmt(r.queueP50)} ms p99 ${fmt(r.queueP99)} ms\n` +
      `  peak RSS MB: ${Object.entries(r.rss)
        .map(([k, v]) => `${k} ${fmt(v)}`)
        .join(', ')}\n` +
      `  CPU s during load+drain: ${Object.entries(r.cpu)
        .map(([k, v]) => `${k} ${fmt(v, 1)}`)
        .join(', ')}\n`,
  );
}

function printSummary(
  results: PhaseResult[],
  ceilings: Map<number, Ceiling>,
  claims: ClaimCost | undefined,
  rsa: number,
): void {
  const lines = [
    '',
    `openssl speed -seconds 3 rsa2048: ${fmt(rsa)} sign/s per core`,
    '',
    'mode              workers  orders/s  decl/s(queued)  HTTP p50/p99 ms  →queued p50/p99 ms  DB ceiling decl/s  ÷ceiling  max RSS MB  load avg',
  ];
  for (const r of results) {
    const ceiling = ceilings.get(r.batch)?.declarationsPerS ?? NaN;
    const maxRss = Math.max(
      ...Object.entries(r.rss)
        .filter(([k]) => /gateway|worker/.test(k))
        .map(([, v]) => v),
    );
    const mode = (r.batch > 1 ? `batch ${r.batch}` : 'single') + (r.rate ? ` @${r.rate}/s` : '');
    lines.push(
      `${mode.padEnd(18)}${String(r.workers).padStart(7)}  ${fmt(r.ordersPerS).padStart(8)}  ${fmt(r.sustainedDeclPerS).padStart(14)}  ${`${fmt(r.httpP50)}/${fmt(r.httpP99)}`.padStart(15)}  ${`${fmt(r.queueP50)}/${fmt(r.queueP99)}`.padStart(18)}  ${fmt(ceiling).padStart(17)}  ${`${fmt((100 * r.sustainedDeclPerS) / ceiling)} %`.padStart(8)}  ${fmt(maxRss).padStart(10)}  ${r.load}`,
    );
  }
  lines.push(
    '',
    'decl/s(queued) = the lower of declarations accepted/s and declarations confirmed by the broker (queued) per second during the load window.',
    '',
    'targets (issue 14 item 4; 2 cores, database and broker on the same machine):',
  );
  const verdict = (ok: boolean | undefined) => (ok === undefined ? '[ n/a ]' : ok ? '[ met ]' : '[MISSED]');
  const single = results.filter((r) => r.batch === 1 && !r.rate);
  const two = single.find((r) => r.workers === 2);
  const one = single.find((r) => r.workers === 1);
  const half = results.find((r) => r.batch === 1 && r.rate);
  const ceiling = ceilings.get(1)?.declarationsPerS;
  if (two) {
    lines.push(
      `${verdict(two.sustainedDeclPerS >= 500)} single orders, 2 workers: ≥ 500 declarations/s handed to the broker (moonshot 1,000): ${fmt(two.sustainedDeclPerS)}${two.sustainedDeclPerS >= 1000 ? ' — moonshot met' : ''}`,
      `${verdict(ceiling ? two.sustainedDeclPerS >= 0.5 * ceiling : undefined)} ≥ 50 % of the DB ceiling: ${ceiling ? `${fmt((100 * two.sustainedDeclPerS) / ceiling)} % of ${fmt(ceiling)}` : 'n/a'}`,
      `${verdict(two.httpP99 < 500)} HTTP p99 < 500 ms at that load: ${fmt(two.httpP99)} ms`,
      `${verdict(two.queueP99 < 2000)} accepted→queued p99 < 2 s: ${fmt(two.queueP99)} ms`,
    );
  }
  if (half)
    lines.push(
      `${verdict(half.httpP99 < 100)} HTTP p99 < 100 ms at half the load (${half.rate} orders/s, ${half.workers} workers): ${fmt(half.httpP99)} ms`,
    );
  if (claims && claims.backlogs.length >= 2) {
    const [small, large] = [claims.backlogs[0]!, claims.backlogs[claims.backlogs.length - 1]!];
    const ratio = large.medianMs / small.medianMs;
    lines.push(
      `${verdict(ratio < 1.5)} claim cost flat from a backlog of ${small.backlog} to ${large.backlog}: ${fmt(small.medianMs, 1)} → ${fmt(large.medianMs, 1)} ms per claim of ${claims.limit} (×${fmt(ratio, 2)}; flat = under ×1.5)`,
    );
  }
  if (one && two)
    lines.push(
      `${verdict(two.sustainedDeclPerS > one.sustainedDeclPerS)} throughput grows from 1 to 2 workers: ${fmt(one.sustainedDeclPerS)} → ${fmt(two.sustainedDeclPerS)} declarations/s`,
    );
  process.stdout.write(lines.join('\n') + '\n');
}

await main();
