/**
 * Differential check of the patched FerretDB's filter, sort and limit pushdown (scripts/ferretdb-patches 0003,
 * 0004): the same random documents and queries on two private servers from the same binary, one with pushdown and
 * one started with --test-disable-pushdown (every filter, sort and limit applied in Go, as FerretDB always did).
 * Any difference in the answers is a pushdown bug. Evidence for docs/decisions/0001-ferretdb-patches.md.
 *
 *   node --import tsx scripts/ferretdb-pushdown-check.ts [--seeds 23,101,202] [--rounds 30]
 *
 * Each round: a new database with indexes on s, t (non-unique), {u, s} (unique, sparse) and n.b; 40 documents whose
 * fields are strings (with escapes, and a hex that equals an ObjectID), dates (negative too), ObjectIDs, booleans,
 * numbers, null, missing, sub-documents and, in every other round, arrays (of scalars and of documents); in the
 * rounds without arrays, an array arrives after the queries and three more are compared. Each of 40 random
 * filters (equality, $eq, $in, one- and two-sided date ranges, on s, t, u, n.b or _id, sometimes with a second key)
 * is compared as find (ids), find().sort().limit(3) (ids with _id as tie-break, and the sort key's values alone)
 * and countDocuments. Prints the differences and how many filters the server pushed down (explain).
 */
import { MongoClient, ObjectId, type Collection, type Document } from 'mongodb';
import { startPrivateFerretDB } from '../test/support/private-ferretdb';

type Doc = { _id: string } & Document;

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? (process.argv[i + 1] as string) : fallback;
}
const SEEDS = option('seeds', '23,101,202').split(',').map(Number);
const ROUNDS = Number(option('rounds', '30'));

async function run(
  seed: number,
  a: MongoClient,
  b: MongoClient,
): Promise<{ differences: number; stats: Map<string, number> }> {
  let state = seed;
  const rnd = (): number => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const oids = [new ObjectId('0123456789abcdef01234567'), new ObjectId('89abcdef0123456789abcdef')];
  const strs = ['a', 'b', 'a<b', '\u2028x', '"q"', oids[0]?.toHexString() ?? '', '1000', ''];
  const dates = [0, 1000, 2000, 1e12, 1733000000000, -5000].map((t) => new Date(t));
  let arrays = false;
  const value = (): unknown =>
    pick<unknown>([
      ...strs,
      ...dates,
      ...oids,
      true,
      false,
      1,
      1000,
      2000.5,
      null,
      undefined,
      { x: 1 },
      ...(arrays ? [[pick(strs), pick(strs)], [pick(dates)], [{ b: pick(strs) }]] : []),
    ]);
  let differences = 0;
  const stats = new Map<string, number>();
  const differ = (what: string, x: unknown, y: unknown): void => {
    if (JSON.stringify(x) === JSON.stringify(y)) return;
    differences++;
    console.log(`  DIFFERENCE ${what}: pushdown ${JSON.stringify(x)} / none ${JSON.stringify(y)}`);
  };

  for (let round = 0; round < ROUNDS; round++) {
    arrays = round % 2 === 1;
    const docs = Array.from({ length: 40 }, (_, i) => {
      const d: Doc = { _id: `d${i}` };
      for (const f of ['s', 't', 'u']) {
        const v = value();
        if (v !== undefined) d[f] = v;
      }
      if (rnd() < 0.5) d.n = { b: arrays ? pick<unknown>([...strs, [pick(strs)]]) : pick(strs) };
      return d;
    });
    const cols: Collection<Doc>[] = [];
    for (const client of [a, b]) {
      const db = client.db(`pushdown_check_${seed}_${round}`);
      await db.dropDatabase();
      const c = db.collection<Doc>('c');
      await c.createIndex({ s: 1 });
      await c.createIndex({ t: 1 });
      await c.createIndex({ u: 1, s: 1 }, { unique: true, sparse: true });
      await c.createIndex({ 'n.b': 1 });
      for (const d of docs) await c.insertOne(structuredClone(d)).catch(() => undefined); // duplicates: same on both
      cols.push(c);
    }
    const [pushed, plain] = cols as [Collection<Doc>, Collection<Doc>];
    for (let i = 0; i < 40; i++) {
      const field = pick(['s', 't', 'u', 'n.b', '_id']);
      const kind = pick(['eq', 'eqop', 'in', 'range', 'range2']);
      const condition =
        kind === 'eq'
          ? pick<unknown>([...strs, ...dates, ...oids, true, 'd3'])
          : kind === 'eqop'
            ? { $eq: pick<unknown>([...strs, ...dates, true]) }
            : kind === 'in'
              ? { $in: [pick<unknown>([...strs, ...dates, ...oids]), pick<unknown>([...strs, ...dates, true, 'd5'])] }
              : kind === 'range'
                ? { [pick(['$lt', '$lte', '$gt', '$gte'])]: pick(dates) }
                : { $gte: pick(dates), $lt: pick(dates) };
      const filter: Document = { [field]: condition };
      if (rnd() < 0.3) filter.s = pick(strs);
      const explain = (await pushed
        .find(filter)
        .sort({ [field]: 1 })
        .limit(3)
        .explain()) as {
        filterPushdown?: boolean;
        sortPushdown?: boolean;
      };
      const key = `${explain.filterPushdown ? 'filter pushed down' : 'filter in Go'}${explain.sortPushdown ? ', sort and limit in SQL' : ''}`;
      stats.set(key, (stats.get(key) ?? 0) + 1);
      const both = async <T>(f: (c: Collection<Doc>) => Promise<T>): Promise<[T, T]> => [
        await f(pushed),
        await f(plain),
      ];
      const ids = (xs: Document[]): string[] => xs.map((d) => String(d._id));
      const [f1, f2] = await both(async (c) => ids(await c.find(filter).toArray()).sort());
      differ(`find ${JSON.stringify(filter)}`, f1, f2);
      const [s1, s2] = await both(async (c) =>
        ids(
          await c
            .find(filter)
            .sort({ [field]: 1, _id: 1 })
            .limit(3)
            .toArray(),
        ),
      );
      differ(`sort+limit ${JSON.stringify(filter)}`, s1, s2);
      const [k1, k2] = await both(async (c) =>
        (
          await c
            .find(filter)
            .sort({ [field]: 1 })
            .limit(3)
            .toArray()
        ).map((d) => JSON.stringify(d[field])),
      );
      differ(`sort keys ${JSON.stringify(filter)}`, k1, k2);
      const [c1, c2] = await both((c) => c.countDocuments(filter));
      differ(`count ${JSON.stringify(filter)}`, c1, c2);
    }
    if (!arrays) {
      for (const c of cols) await c.insertOne({ _id: 'late', s: ['a', 'zz'], t: [new Date(1000)] });
      for (const filter of [{ s: 'zz' }, { t: new Date(1000) }, { t: { $lte: new Date(5000) } }]) {
        const [x, y] = [await pushed.find(filter).toArray(), await plain.find(filter).toArray()];
        differ(
          `after an array arrived ${JSON.stringify(filter)}`,
          x.map((d) => d._id).sort(),
          y.map((d) => d._id).sort(),
        );
      }
    }
    for (const client of [a, b]) await client.db(`pushdown_check_${seed}_${round}`).dropDatabase();
  }
  return { differences, stats };
}

async function main(): Promise<void> {
  const withPushdown = await startPrivateFerretDB('patched');
  const without = await startPrivateFerretDB('patched', ['--test-disable-pushdown']);
  const a = new MongoClient(withPushdown.url);
  const b = new MongoClient(without.url);
  let total = 0;
  try {
    const info = (await a.db('admin').command({ buildInfo: 1 })) as { gitVersion?: string };
    console.log(`FerretDB ${info.gitVersion}: ${withPushdown.binary}, with pushdown and with --test-disable-pushdown`);
    for (const seed of SEEDS) {
      const { differences, stats } = await run(seed, a, b);
      total += differences;
      const filters = [...stats.entries()].map(([k, n]) => `${n} ${k}`).join('; ');
      console.log(`seed ${seed}: ${ROUNDS} rounds, ${differences} differences (${filters})`);
    }
  } finally {
    await a.close();
    await b.close();
    await withPushdown.dispose();
    await without.dispose();
  }
  console.log(total === 0 ? 'no difference' : `${total} differences`);
  process.exitCode = total === 0 ? 0 : 1;
}

await main();
