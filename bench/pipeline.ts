/**
 * End-to-end pipeline benchmark: POST /v1/orders until every declaration is confirmed by RabbitMQ
 * (status `queued`), on the real services, with the gateway, the dispatch workers, a queue drain (stands
 * in for the centers) and the load generator (autocannon) as separate processes. In the same run it
 * measures the raw write ceiling of the database (plain driver inserts of the same documents) and
 * `openssl speed rsa2048`, and prints our figures beside them.
 *
 *   npm run bench:pipeline                      60 s per mode, single orders then batches of 50, 1 worker
 *   npm run bench:pipeline -- --seconds 20      shorter
 *   npm run bench:pipeline -- --batch 50        batches of 50 only (--batch 1,50 = both, the default)
 *   npm run bench:pipeline -- --workers 1,2,4   scale-out: the same load with 1, 2 and 4 workers
 *   npm run bench:pipeline -- --gateways 2      two gateway processes (load split between them)
 *   npm run bench:pipeline -- --cpu-prof        .services/bench/profiles/*.cpuprofile of gateway and workers
 *
 * Isolation: database `baygate_bench` (dropped first), RabbitMQ vhost `baygate_bench`, port 18480+.
 * Services: scripts/services.sh start (FerretDB 1.24/SQLite + RabbitMQ, or whatever MONGO_URL/AMQP_URL
 * point at). A script, not a test: minutes, machine-dependent, nothing in `npm test`.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { BSON, MongoClient } from 'mongodb';
import { AccountStore } from '../src/api/auth/account-store';
import { MongoAccountRepository } from '../src/store/accounts';
import { loadCenterRegistry } from '../src/centers/registry';
import { centerQueueName } from '../src/queue/topology';
import { connectMongo } from '../src/store/mongo';
import { silentLogger } from '../test/support/logger';
import { opensslSpeed } from './support/openssl-speed';

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
const BATCHES = list(arg('batch', '1,50'));
const WORKERS = list(arg('workers', '1'));
const GATEWAYS = Number(arg('gateways', '1'));
const CONNECTIONS = Number(arg('connections', '32'));
const BATCH_CONNECTIONS = Number(arg('batch-connections', '4'));
const DB_SECONDS = Number(arg('db-seconds', '10'));
const PORT = Number(arg('port', '18480'));
const CPU_PROF = flag('cpu-prof');
const BASELINES = !flag('no-baselines');

const mongoUrl = (() => {
  const u = new URL(BASE_MONGO);
  u.pathname = '/' + DB;
  return u.toString();
})();
const rawMongoUrl = mongoUrl.replace(`/${DB}`, `/${DB}_raw`);
const amqpUrl = (() => {
  const u = new URL(BASE_AMQP);
  u.pathname = '/' + VHOST;
  return u.toString();
})();
const centers = loadCenterRegistry(join(ROOT, 'config', 'centers.json')).codes();

// ------------------------------------------------------------------------------------------------ processes
interface Proc {
  name: string;
  child: ChildProcess;
  stdout: string[];
}
const procs: Proc[] = [];

function start(name: string, args: string[], env: NodeJS.ProcessEnv = {}, nodeArgs: string[] = []): Proc {
  const child = spawn(process.execPath, [...nodeArgs, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const p: Proc = { name, child, stdout: [] };
  const log = join(OUT, 'logs', `${name}.log`);
  writeFileSync(log, '');
  child.stdout!.on('data', (d: Buffer) => {
    p.stdout.push(d.toString());
    writeFileSync(log, d, { flag: 'a' });
  });
  child.stderr!.on('data', (d: Buffer) => writeFileSync(log, d, { flag: 'a' }));
  procs.push(p);
  return p;
}

async function stop(p: Proc): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  await new Promise<void>((done) => {
    p.child.once('exit', () => done());
    p.child.kill('SIGTERM');
    setTimeout(() => p.child.kill('SIGKILL'), 20000).unref();
  });
}

async function stopAll(): Promise<void> {
  await Promise.all(procs.splice(0).map(stop));
}

process.on('SIGINT', () => void stopAll().finally(() => process.exit(130)));

function waitExit(p: Proc): Promise<number> {
  if (p.child.exitCode !== null) return Promise.resolve(p.child.exitCode);
  return new Promise((r) => p.child.once('exit', (code) => r(code ?? 1)));
}

/** Peak resident set (VmHWM) in MB, from /proc. */
function peakRssMb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

function listenerPid(port: number): number | undefined {
  try {
    const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
    const m = /pid=(\d+)/.exec(out);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitReady(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) return;
    } catch {
      /* not yet */
    }
    await sleep(250);
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms (see .services/bench/logs/)`);
}

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

// ------------------------------------------------------------------------------------------------ one phase
interface PhaseResult {
  batch: number;
  workers: number;
  gateways: number;
  connections: number;
  seconds: number;
  requests: number;
  errors: number;
  acceptedOrders: number;
  rejectedOrders: number;
  ordersPerS: number;
  acceptedDeclPerS: number;
  queuedInWindowPerS: number;
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

async function phase(batch: number, workers: number, samplesFile?: string): Promise<PhaseResult> {
  const tag = `b${batch}w${workers}g${GATEWAYS}`;
  process.stdout.write(
    `\n— phase ${tag}: batch ${batch}, ${workers} worker(s), ${GATEWAYS} gateway(s), ${SECONDS} s —\n`,
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
  const gateways: Proc[] = [];
  for (let g = 0; g < GATEWAYS; g++) {
    gateways.push(start(`gateway-${g + 1}`, [BIN, 'serve'], { ...env, PORT: String(PORT + g) }, nodeArgs));
    urls.push(`http://127.0.0.1:${PORT + g}`);
  }
  const workerProcs = Array.from({ length: workers }, (_, i) =>
    start(`worker-${i + 1}`, [BIN, 'worker'], env, nodeArgs),
  );
  for (const url of urls) await waitReady(url, 60000);
  await sleep(1500); // workers assert the topology
  const drain = start('drain', [
    '--import',
    'tsx',
    join(ROOT, 'bench/support/drain.ts'),
    amqpUrl,
    ...centers.map(centerQueueName),
  ]);
  const drainDeadline = Date.now() + 20000;
  while (!drain.stdout.join('').includes('drain ready') && Date.now() < drainDeadline) await sleep(100);

  const ferret = listenerPid(Number(new URL(BASE_MONGO).port || 27017));
  const rabbit = listenerPid(Number(new URL(BASE_AMQP).port || 5672));
  const watched: Record<string, number | undefined> = { ferretdb: ferret, rabbitmq: rabbit, drain: drain.child.pid };
  gateways.forEach((g, i) => (watched[`gateway-${i + 1}`] = g.child.pid));
  workerProcs.forEach((w, i) => (watched[`worker-${i + 1}`] = w.child.pid));
  const cpuBefore = Object.fromEntries(Object.entries(watched).map(([k, pid]) => [k, pid ? cpuSeconds(pid) : NaN]));

  const connections = batch > 1 ? BATCH_CONNECTIONS : CONNECTIONS;
  const load = start('load', [
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
    }),
  ]);
  watched.load = load.child.pid;
  const loadStart = cpuSeconds(load.child.pid!);
  let loadCpu = NaN;
  let loadRss = NaN;
  const client = new MongoClient(mongoUrl);
  await client.connect();
  const db = client.db();
  // Samples of every document the store writes, taken mid-run (work items and leases leave when queued).
  if (samplesFile) {
    await sleep((SECONDS * 1000) / 2);
    const names = [
      'declaration_orders',
      'declarations',
      'dispatch_queue',
      'declaration_events',
      'dispatch_leases',
      'declaration_manifests',
      'dispatch_signed',
      'declaration_tracking',
      'annual_usage',
    ];
    const samples: Record<string, unknown> = {};
    // A slow pipeline may not have signed anything yet at half time: look again until the load ends.
    const sampleUntil = Date.now() + (SECONDS * 1000) / 2 - 1000;
    do {
      for (const n of names.filter((x) => !samples[x])) {
        const doc =
          n === 'declaration_events'
            ? await db.collection(n).findOne({ status: 'signed' })
            : await db.collection(n).findOne({});
        if (doc) samples[n] = doc;
      }
      if (names.every((n) => samples[n])) break;
      await sleep(1000);
    } while (Date.now() < sampleUntil);
    // The signed marker lives only between "signed" and "queued": rebuild its shape from the manifest if missed.
    const manifest = samples.declaration_manifests as
      { declarationId: string; messageGuid: string; digest: string; xmlSealed: unknown } | undefined;
    if (!samples.dispatch_signed && manifest)
      samples.dispatch_signed = {
        _id: manifest.declarationId,
        messageGuid: manifest.messageGuid,
        digest: manifest.digest,
        xmlSealed: manifest.xmlSealed,
      };
    // Leases, too, live only while a batch is in hand: same fields as the store writes (declarations.ts claimDue).
    const item = samples.dispatch_queue as Record<string, unknown> | undefined;
    if (!samples.dispatch_leases && item) {
      samples.dispatch_leases = {
        _id: `${String(item._id)}#1`,
        declarationId: item._id,
        seq: 1,
        owner: `worker-${process.pid}-0123abcd`,
        token: randomUUID(),
        until: new Date(),
        sellerId: item.sellerId,
        platformCode: item.platformCode,
        center: item.center,
        messageType: item.messageType,
        orderNo: item.orderNo,
        declaredAt: item.declaredAt,
        attempts: 0,
      };
    }
    writeFileSync(samplesFile, BSON.EJSON.stringify(samples));
  }
  // Sample the load generator's CPU and peak RSS just before it ends.
  const loadTimer = setInterval(() => {
    const c = cpuSeconds(load.child.pid!);
    if (!Number.isNaN(c)) loadCpu = c - loadStart;
    const r = peakRssMb(load.child.pid!);
    if (!Number.isNaN(r)) loadRss = r;
  }, 250);
  const code = await waitExit(load);
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
  const loadAvg = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

  // Let the workers finish the backlog (bounded), then read the timings from the database.
  const drainStarted = Date.now();
  const backlogDeadline = Date.now() + Math.max(60000, SECONDS * 2000);
  while (Date.now() < backlogDeadline) {
    // findOne with no filter reads one row (FerretDB pushes the limit down); a count would scan the queue.
    if (!(await db.collection('dispatch_queue').findOne({}, { projection: { _id: 1 } }))) break;
    await sleep(1000);
  }
  const drainAfterS = (Date.now() - drainStarted) / 1000;
  const cpu: Record<string, number> = {};
  const rss: Record<string, number> = {};
  for (const [k, pid] of Object.entries(watched)) {
    if (k === 'load') continue;
    cpu[k] = pid ? cpuSeconds(pid) - cpuBefore[k]! : NaN;
    rss[k] = pid ? peakRssMb(pid) : NaN;
  }
  cpu.load = loadCpu;
  rss.load = loadRss;

  // The load window: autocannon's own duration, ending when the generator finished (its start-up excluded).
  const seconds = result.durationS;
  const windowStart = t1.getTime() - seconds * 1000;
  const acceptedOrders = (await db.collection('declarations').countDocuments({})) / 4;
  const created = new Map<string, number>();
  for (const d of await db
    .collection('declarations')
    .find({}, { projection: { _id: 1, createdAt: 1 } })
    .toArray())
    created.set(String(d._id), (d.createdAt as Date).getTime());
  const queued = await db
    .collection('declaration_events')
    .find({ status: 'queued' }, { projection: { declarationId: 1, at: 1 } })
    .toArray();
  const delays: number[] = [];
  let inWindow = 0;
  for (const e of queued) {
    const at = (e.at as Date).getTime();
    const c = created.get(String(e.declarationId));
    if (c !== undefined) delays.push(at - c);
    if (at >= windowStart && at <= t1.getTime()) inWindow++;
  }
  delays.sort((a, b) => a - b);
  await client.close();
  await Promise.all([...gateways, ...workerProcs, drain].map(stop));
  procs.splice(0);

  return {
    batch,
    workers,
    gateways: GATEWAYS,
    connections,
    seconds,
    requests: result.requests,
    errors: result.errors + result.non2xx,
    acceptedOrders,
    rejectedOrders: result.rejectedOrders,
    // Counted in the database: requests still in flight when autocannon stops are stored too.
    ordersPerS: acceptedOrders / seconds,
    acceptedDeclPerS: (acceptedOrders * 4) / seconds,
    queuedInWindowPerS: inWindow / seconds,
    queuedTotal: queued.length,
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

// ------------------------------------------------------------------------------------------------ baselines
async function dbCeiling(
  samplesFile: string,
  concurrency: number,
  batch: number,
): Promise<{ declarationsPerS: number; docsPerS: number }> {
  const p = start(`db-ceiling-b${batch}`, [
    '--import',
    'tsx',
    join(ROOT, 'bench/support/db-ceiling.ts'),
    JSON.stringify({ mongoUrl: rawMongoUrl, samplesFile, seconds: DB_SECONDS, concurrency, batch }),
  ]);
  const code = await waitExit(p);
  procs.splice(procs.indexOf(p), 1);
  if (code !== 0) throw new Error(`db ceiling exited ${code} (see .services/bench/logs/${p.name}.log)`);
  return JSON.parse(p.stdout.join('').trim().split('\n').pop()!) as { declarationsPerS: number; docsPerS: number };
}

// ------------------------------------------------------------------------------------------------ main
const fmt = (n: number, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

async function main(): Promise<void> {
  mkdirSync(join(OUT, 'logs'), { recursive: true });
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  process.stdout.write(
    `bench:pipeline ${new Date().toISOString()} commit ${commit}, ${
      readFileSync('/proc/cpuinfo', 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('processor')).length
    } cores, load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}\n`,
  );
  process.stdout.write(
    `database ${mongoUrl.replace(/\/\/[^@]*@/, '//…@')}, broker vhost ${VHOST}; logs in .services/bench/logs/\n`,
  );
  await prepare();
  const results: PhaseResult[] = [];
  const ceilings = new Map<number, { declarationsPerS: number; docsPerS: number }>();
  try {
    for (const batch of BATCHES) {
      const samplesFile = join(OUT, `samples-b${batch}.json`);
      for (const [i, workers] of WORKERS.entries()) {
        const r = await phase(batch, workers, i === 0 ? samplesFile : undefined);
        results.push(r);
        printPhase(r);
      }
      if (BASELINES) {
        const connections = batch > 1 ? BATCH_CONNECTIONS : CONNECTIONS;
        const c = await dbCeiling(samplesFile, connections, batch);
        ceilings.set(batch, c);
        process.stdout.write(
          `DB ceiling (batch ${batch}, ${connections} writers, ${DB_SECONDS} s): ${fmt(c.declarationsPerS)} declarations/s (${fmt(c.docsPerS)} inserts/s)\n`,
        );
      }
    }
  } finally {
    await stopAll();
  }
  const rsa = BASELINES ? opensslSpeed('rsa2048', 3).signPerS : NaN;
  printSummary(results, ceilings, rsa);
  writeFileSync(
    join(OUT, `pipeline-${Date.now()}.json`),
    JSON.stringify(
      { commit, at: new Date().toISOString(), results, ceilings: Object.fromEntries(ceilings), rsaSignPerS: rsa },
      null,
      2,
    ),
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

function printSummary(results: PhaseResult[], ceilings: Map<number, { declarationsPerS: number }>, rsa: number): void {
  const lines = [
    '',
    `openssl speed -seconds 3 rsa2048: ${fmt(rsa)} sign/s per core`,
    '',
    'mode        workers  orders/s  decl/s(queued)  HTTP p50/p99 ms  →queued p50/p99 ms  DB ceiling decl/s  ÷ceiling  ÷(rsa sign/s per core)  max RSS MB',
  ];
  for (const r of results) {
    const sustained = Math.min(r.acceptedDeclPerS, r.queuedInWindowPerS);
    const ceiling = ceilings.get(r.batch)?.declarationsPerS ?? NaN;
    const maxRss = Math.max(
      ...Object.entries(r.rss)
        .filter(([k]) => /gateway|worker/.test(k))
        .map(([, v]) => v),
    );
    lines.push(
      `${(r.batch > 1 ? `batch ${r.batch}` : 'single').padEnd(12)}${String(r.workers).padStart(7)}  ${fmt(r.ordersPerS).padStart(8)}  ${fmt(sustained).padStart(14)}  ${`${fmt(r.httpP50)}/${fmt(r.httpP99)}`.padStart(15)}  ${`${fmt(r.queueP50)}/${fmt(r.queueP99)}`.padStart(18)}  ${fmt(ceiling).padStart(17)}  ${`${fmt((100 * sustained) / ceiling)} %`.padStart(8)}  ${`${fmt((100 * sustained) / rsa, 1)} %`.padStart(22)}  ${fmt(maxRss).padStart(10)}`,
    );
  }
  lines.push(
    '',
    'targets (2 cores, DB and broker on the same machine): ≥ 1,000 declarations/s sustained, HTTP p99 < 100 ms, RSS < 300 MB per process, ≥ 50 % of the DB ceiling',
  );
  lines.push(
    'decl/s(queued) = the lower of declarations accepted/s and declarations confirmed (queued) per second during the load window.',
  );
  process.stdout.write(lines.join('\n') + '\n');
}

await main();
