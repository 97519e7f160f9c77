/**
 * `npm run bench:db`: FerretDB 1.24 as upstream builds it and with Baygate's patches (scripts/ferretdb-patches),
 * side by side in one run, on the probe of issue 14 and the store's hot query shapes.
 *
 *   npm run bench:db                                  both servers, 20k and 100k documents, backlogs 1k and 50k
 *   npm run bench:db -- --sizes 20000 --backlogs 1000,50000 --seconds 5
 *
 * Each server is a private FerretDB (test/support/private-ferretdb.ts: free port, temporary data directory,
 * the flags of scripts/services.sh), started for its turn and deleted after it; the binaries are built first
 * (scripts/install-ferretdb.sh and --upstream). The two run one after the other on the same machine, so a busy
 * machine skews both (the load average is printed).
 *
 * What is measured, per server:
 *  - atomicity, three rounds: 50 concurrent `updateOne({_id, stock: {$gt: 0}}, {$inc: {stock: -1}})` on a stock
 *    of 30 (how many succeed: must be 30), then 50 concurrent `updateOne({_id}, {$inc: {n: 1}})` (final n: must
 *    be 50), and both again through findOneAndUpdate;
 *  - at each size (documents of ~400 B with indexes on orderNo and sellerId): findOne by _id (median of up to 20),
 *    find by an indexed field (median of up to 10), updateOne by _id per second with 32 writers;
 *  - the work claim at each backlog (documents with dueAt in the past, index on dueAt): one cycle is
 *    `find({dueAt: {$lte: now}}).sort({dueAt: 1}).limit(50)` then `updateMany({_id: {$in: ids}, dueAt:
 *    {$lte: now}}, {$set: {dueAt: later}})` (median of up to 10).
 * Every timed part stops at its time budget, so the slow server's figures come from fewer samples.
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient, type Db } from 'mongodb';
import { startPrivateFerretDB, type FerretBuild } from '../test/support/private-ferretdb';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? (process.argv[i + 1] as string) : fallback;
}
const numbers = (s: string): number[] => s.split(',').map((x) => Number(x.trim()));
const SIZES = numbers(option('sizes', '20000,100000'));
const BACKLOGS = numbers(option('backlogs', '1000,50000'));
const SECONDS = Number(option('seconds', '10'));
const BUILDS = option('builds', 'upstream,patched').split(',') as FerretBuild[];

type Figures = Map<string, string>;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : (s[Math.floor((s.length - 1) / 2)] as number);
};
const ms = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)) + ' ms';

/** Times fn up to maxN times or until the budget is spent (at least once); returns the median and the count. */
async function timed(budgetMs: number, maxN: number, fn: (i: number) => Promise<void>): Promise<string> {
  const samples: number[] = [];
  const end = Date.now() + budgetMs;
  while (samples.length < maxN && (samples.length === 0 || Date.now() < end)) {
    const t = performance.now();
    await fn(samples.length);
    samples.push(performance.now() - t);
  }
  return `${ms(median(samples))} (n=${samples.length})`;
}

async function atomicity(db: Db, f: Figures): Promise<void> {
  const c = db.collection<{ _id: string; stock: number; n: number }>('probe');
  const rounds: Record<string, number[]> = { dec: [], inc: [], famDec: [], famInc: [] };
  const fifty = <T>(fn: () => Promise<T>): Promise<T[]> => Promise.all(Array.from({ length: 50 }, fn));
  for (let round = 0; round < 3; round++) {
    await c.deleteMany({});
    await c.insertOne({ _id: 'x', stock: 30, n: 0 });
    const dec = await fifty(() => c.updateOne({ _id: 'x', stock: { $gt: 0 } }, { $inc: { stock: -1 } }));
    rounds.dec?.push(dec.filter((r) => r.modifiedCount === 1).length);
    await fifty(() => c.updateOne({ _id: 'x' }, { $inc: { n: 1 } }));
    rounds.inc?.push((await c.findOne({ _id: 'x' }))?.n ?? -1);
    await c.updateOne({ _id: 'x' }, { $set: { stock: 30, n: 0 } });
    const famDec = await fifty(() => c.findOneAndUpdate({ _id: 'x', stock: { $gt: 0 } }, { $inc: { stock: -1 } }));
    rounds.famDec?.push(famDec.filter((d) => d !== null).length);
    await fifty(() => c.findOneAndUpdate({ _id: 'x' }, { $inc: { n: 1 } }));
    rounds.famInc?.push((await c.findOne({ _id: 'x' }))?.n ?? -1);
  }
  const show = (xs: number[] | undefined): string => (xs ?? []).join(', ');
  f.set('conditional decrements that succeed (must be 30), 3 rounds', show(rounds.dec));
  f.set('… through findOneAndUpdate (must be 30)', show(rounds.famDec));
  f.set('final $inc count (must be 50), 3 rounds', show(rounds.inc));
  f.set('… through findOneAndUpdate (must be 50)', show(rounds.famInc));
}

const pad = 'x'.repeat(300);
const docId = (i: number): string => `d${String(i).padStart(7, '0')}`;

async function fill(
  db: Db,
  name: string,
  from: number,
  to: number,
  doc: (i: number) => Record<string, unknown>,
): Promise<void> {
  const c = db.collection(name);
  for (let i = from; i < to; i += 1000) {
    await c.insertMany(Array.from({ length: Math.min(1000, to - i) }, (_, k) => doc(i + k)));
  }
}

async function sizes(db: Db, f: Figures): Promise<void> {
  const c = db.collection<{ _id: string; orderNo: string; v?: number; status?: string }>('docs');
  await c.createIndex({ orderNo: 1 });
  await c.createIndex({ sellerId: 1 });
  let filled = 0;
  for (const size of SIZES) {
    const label = `${size / 1000}k`;
    process.stdout.write(`  filling to ${size} documents…\n`);
    await fill(db, 'docs', filled, size, (i) => ({
      _id: docId(i),
      orderNo: `O${i}`,
      sellerId: `seller${i % 50}`,
      status: 'accepted',
      createdAt: new Date(),
      payload: pad,
    }));
    filled = size;
    const rnd = (): number => Math.floor(Math.random() * size);
    f.set(
      `findOne by _id at ${label}`,
      await timed(SECONDS * 1000, 20, async () => void (await c.findOne({ _id: docId(rnd()) }))),
    );
    f.set(
      `find by an indexed field at ${label}`,
      await timed(SECONDS * 1000, 10, async () => void (await c.find({ orderNo: `O${rnd()}` }).toArray())),
    );
    let ok = 0;
    let errors = 0;
    const end = Date.now() + SECONDS * 1000;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (Date.now() < end) {
          try {
            await c.updateOne({ _id: docId(rnd()) }, { $set: { status: 'queued' }, $inc: { v: 1 } });
            ok++;
          } catch {
            errors++;
          }
        }
      }),
    );
    const rate = ok / ((performance.now() - started) / 1000);
    f.set(
      `updateOne/s by _id, 32 writers, at ${label}`,
      `${rate.toFixed(rate < 10 ? 1 : 0)}${errors ? ` (${errors} errors)` : ''}`,
    );
  }
}

async function claims(db: Db, f: Figures): Promise<void> {
  for (const backlog of BACKLOGS) {
    const name = `work${backlog}`;
    const c = db.collection<{ _id: string; dueAt: Date }>(name);
    await c.createIndex({ dueAt: 1 });
    process.stdout.write(`  filling a backlog of ${backlog}…\n`);
    const base = Date.now() - 3_600_000;
    await fill(db, name, 0, backlog, (i) => ({ _id: docId(i), dueAt: new Date(base + i), payload: pad }));
    f.set(
      `work claim (find due, sort, limit 50 + updateMany) at a backlog of ${backlog / 1000}k`,
      await timed(SECONDS * 1500, 10, async () => {
        const now = new Date();
        const due = await c
          .find({ dueAt: { $lte: now } })
          .sort({ dueAt: 1 })
          .limit(50)
          .toArray();
        const r = await c.updateMany(
          { _id: { $in: due.map((d) => d._id) }, dueAt: { $lte: now } },
          { $set: { dueAt: new Date(now.getTime() + 3_600_000) } },
        );
        if (r.modifiedCount !== due.length) throw new Error(`claimed ${r.modifiedCount} of ${due.length}`);
      }),
    );
  }
}

async function measure(build: FerretBuild): Promise<Figures> {
  const f: Figures = new Map();
  const server = await startPrivateFerretDB(build);
  const client = new MongoClient(server.url + 'bench_db', { maxPoolSize: 64 });
  try {
    await client.connect();
    const info = (await client.db('admin').command({ buildInfo: 1 })) as { gitVersion?: string };
    process.stdout.write(`${build}: ${server.binary} (${info.gitVersion}) on port ${server.port}\n`);
    f.set('build', String(info.gitVersion));
    const db = client.db();
    await atomicity(db, f);
    await sizes(db, f);
    await claims(db, f);
  } finally {
    await client.close();
    await server.dispose();
  }
  return f;
}

async function main(): Promise<void> {
  for (const build of BUILDS) {
    execFileSync('bash', [`${root}/scripts/install-ferretdb.sh`, ...(build === 'upstream' ? ['--upstream'] : [])], {
      stdio: 'inherit',
    });
  }
  const load = (): string =>
    loadavg()
      .map((x) => x.toFixed(2))
      .join(' ');
  const startLoad = load();
  const started = new Date();
  const results: Figures[] = [];
  for (const build of BUILDS) results.push(await measure(build));
  const rows = [...new Set(results.flatMap((r) => [...r.keys()]))];
  console.log(`\nFerretDB 1.24 (SQLite), ${started.toISOString()}, load average ${startLoad} → ${load()}\n`);
  console.log(`| measure | ${BUILDS.join(' | ')} |`);
  console.log(`|---|${BUILDS.map(() => '---').join('|')}|`);
  for (const row of rows) console.log(`| ${row} | ${results.map((r) => r.get(row) ?? '–').join(' | ')} |`);
}

await main();
