import { expect } from 'chai';
import { MongoBulkWriteError, MongoClient, ObjectId, type Collection, type Db, type Document } from 'mongodb';
import { dropDatabase, mongoUrlFor, requireMongo } from '../support/services';
import { startPrivateFerretDB } from '../support/private-ferretdb';
import {
  cuttingProxy,
  failedOnlyOnDuplicates,
  queryPlan,
  serverInfo,
  usesIndex,
  type ServerInfo,
} from '../support/server-contract';

/**
 * The database server contract: every behaviour of the MongoDB-compatible server that the store relies on,
 * each stated as a test that fails when the server does not keep it. It runs on whatever MONGO_URL points at:
 * MongoDB 7 in production, the patched FerretDB 1.24 (scripts/ferretdb-patches) in development and CI. A server
 * change, or a MongoDB upgrade, is a run of this file. On FerretDB 1.24 without the patches the atomicity,
 * index and update-duplicate tests fail (docs/decisions/0001-ferretdb-patches.md has that run).
 *
 * What the store may rely on is exactly what is here: single-document atomicity of conditional updates,
 * $inc, $push, findOneAndUpdate, deletes and upserts; unique indexes (single, compound, sparse) refusing
 * duplicates with 11000, on insert and on update; unordered insertMany reporting duplicates by index; the
 * driver's report of a connection dropped mid-insertMany; an index for each hot query shape; acknowledged
 * writes surviving a crash of the server. Not here, so not to be relied on: transactions (FerretDB 1.24 has
 * none), TTL and partial indexes (FerretDB 1.24 refuses them), anything about documents' order without a sort.
 */
describe('database server contract (what the store relies on)', function () {
  this.timeout(120_000);
  const url = mongoUrlFor('server_contract');
  let client: MongoClient;
  let db: Db;
  let server: ServerInfo;

  before(async () => {
    await requireMongo();
    await dropDatabase(url);
    // enough connections for 50 truly concurrent writers
    client = new MongoClient(url, { maxPoolSize: 64 });
    await client.connect();
    db = client.db();
    server = await serverInfo(db);
    console.log(`      server: ${server.kind} ${server.version} (${server.build})`);
  });
  after(async () => {
    await client?.close();
    await dropDatabase(url);
  });

  const all = <T>(n: number, f: (i: number) => Promise<T>): Promise<T[]> =>
    Promise.all(Array.from({ length: n }, (_, i) => f(i)));

  describe('single-document atomicity', () => {
    for (const round of [1, 2, 3]) {
      it(`50 concurrent conditional decrements of a stock of 30: exactly 30 succeed (round ${round})`, async () => {
        const c = db.collection<{ _id: string; stock: number }>('stock');
        await c.deleteMany({});
        await c.insertOne({ _id: 'x', stock: 30 });
        const results = await all(50, () => c.updateOne({ _id: 'x', stock: { $gt: 0 } }, { $inc: { stock: -1 } }));
        expect(results.filter((r) => r.modifiedCount === 1).length).to.equal(30);
        expect((await c.findOne({ _id: 'x' }))?.stock).to.equal(0);
      });

      it(`50 concurrent $inc: the count is exactly 50 (round ${round})`, async () => {
        const c = db.collection<{ _id: string; n: number }>('counter');
        await c.deleteMany({});
        await c.insertOne({ _id: 'x', n: 0 });
        await all(50, () => c.updateOne({ _id: 'x' }, { $inc: { n: 1 } }));
        expect((await c.findOne({ _id: 'x' }))?.n).to.equal(50);
      });

      it(`the same through findOneAndUpdate: 30 of 50 decrements return a document, 50 $inc count 50 (round ${round})`, async () => {
        const c = db.collection<{ _id: string; stock: number; n: number }>('stock_fam');
        await c.deleteMany({});
        await c.insertOne({ _id: 'x', stock: 30, n: 0 });
        const decrements = await all(50, () =>
          c.findOneAndUpdate({ _id: 'x', stock: { $gt: 0 } }, { $inc: { stock: -1 } }, { returnDocument: 'after' }),
        );
        const won = decrements.filter((d) => d !== null);
        expect(won.length).to.equal(30);
        // each winner saw its own state: the stocks after each decrement are 29 … 0, once each
        expect(won.map((d) => d?.stock).sort((a, b) => (a ?? 0) - (b ?? 0))).to.deep.equal(
          Array.from({ length: 30 }, (_, i) => i),
        );
        await all(50, () => c.findOneAndUpdate({ _id: 'x' }, { $inc: { n: 1 } }));
        expect((await c.findOne({ _id: 'x' }))?.n).to.equal(50);
      });

      it(`$push in the conditional update that moves a rank forward: the history is exactly the steps taken, in order (round ${round})`, async () => {
        interface Step {
          rank: number;
          writer: number;
        }
        const c = db.collection<{ _id: string; rank: number; status: string; history: Step[] }>('ranked');
        await c.deleteMany({});
        await c.insertOne({ _id: 'decl', rank: 0, status: 'new', history: [] });
        const results = await all(50, (i) => {
          const rank = 1 + (i % 10);
          return c.updateOne(
            { _id: 'decl', rank: { $lt: rank } },
            { $set: { rank, status: `s${rank}` }, $push: { history: { rank, writer: i } } },
          );
        });
        const taken = results.filter((r) => r.modifiedCount === 1).length;
        const doc = await c.findOne({ _id: 'decl' });
        expect(doc?.rank).to.equal(10);
        expect(doc?.status).to.equal('s10');
        expect(doc?.history.length).to.equal(taken);
        const ranks = doc?.history.map((h) => h.rank) ?? [];
        expect(
          ranks.every((r, i) => i === 0 || r > (ranks[i - 1] ?? 0)),
          `ranks ${ranks.join(',')}`,
        ).to.equal(true);
        expect(ranks.at(-1)).to.equal(10);
      });
    }

    it('a lease taken by a conditional update on a date has exactly one holder (20 documents, 10 claimants each)', async () => {
      const c = db.collection<{ _id: string; leaseUntil: Date; owner: number | null }>('leases');
      await c.insertMany(
        Array.from({ length: 20 }, (_, i) => ({ _id: `l${i}`, leaseUntil: new Date(0), owner: null })),
      );
      const now = new Date();
      const results = await all(200, (k) =>
        c
          .updateOne(
            { _id: `l${k % 20}`, leaseUntil: { $lt: now } },
            { $set: { leaseUntil: new Date(now.getTime() + 60_000), owner: k } },
          )
          .then((r) => ({ doc: `l${k % 20}`, owner: k, won: r.modifiedCount === 1 })),
      );
      const winners = results.filter((r) => r.won);
      expect(winners.length).to.equal(20);
      expect(new Set(winners.map((w) => w.doc)).size).to.equal(20);
      for (const w of winners) expect((await c.findOne({ _id: w.doc }))?.owner).to.equal(w.owner);
    });

    it('a claim by updateMany on {_id: {$in}, dueAt: {$lte: now}}: 4 concurrent claimants take each document once', async () => {
      const c = db.collection<{ _id: string; dueAt: Date; owner?: number }>('claims');
      const ids = Array.from({ length: 40 }, (_, i) => `w${i}`);
      await c.insertMany(ids.map((_id) => ({ _id, dueAt: new Date(Date.now() - 1000) })));
      const now = new Date();
      const results = await all(4, (owner) =>
        c.updateMany(
          { _id: { $in: ids }, dueAt: { $lte: now } },
          { $set: { dueAt: new Date(now.getTime() + 60_000), owner } },
        ),
      );
      expect(results.reduce((sum, r) => sum + r.modifiedCount, 0)).to.equal(40);
      for (const [owner, r] of results.entries()) {
        expect(await c.countDocuments({ owner })).to.equal(r.modifiedCount);
      }
    });

    it('a conditional delete and a conditional update of one document: exactly one of them acts (20 documents)', async () => {
      const c = db.collection<{ _id: string; status: string }>('delete_race');
      await c.insertMany(Array.from({ length: 20 }, (_, i) => ({ _id: `r${i}`, status: 'done' })));
      const outcomes = await all(20, async (i) => {
        const [deleted, updated] = await Promise.all([
          c.deleteOne({ _id: `r${i}`, status: 'done' }),
          c.updateOne({ _id: `r${i}`, status: 'done' }, { $set: { status: 'reopened' } }),
        ]);
        return { id: `r${i}`, deleted: deleted.deletedCount, updated: updated.modifiedCount };
      });
      for (const o of outcomes) {
        expect(o.deleted + o.updated, o.id).to.equal(1);
        expect(await c.countDocuments({ _id: o.id }), o.id).to.equal(o.updated);
      }
    });

    it('20 concurrent upserts of one _id create one document: one upserts, the others update it', async () => {
      const c = db.collection<{ _id: string; createdBy: number; hits: number }>('upserts');
      const results = await all(20, (i) =>
        c.updateOne({ _id: 'key' }, { $setOnInsert: { createdBy: i }, $inc: { hits: 1 } }, { upsert: true }),
      );
      expect(results.filter((r) => r.upsertedCount === 1).length).to.equal(1);
      expect(results.filter((r) => r.matchedCount === 1).length).to.equal(19);
      expect((await c.findOne({ _id: 'key' }))?.hits).to.equal(20);
    });
  });

  describe('unique indexes', () => {
    const code = (r: PromiseSettledResult<unknown>): number | 'ok' =>
      r.status === 'fulfilled' ? 'ok' : ((r.reason as { code?: number }).code ?? -1);

    it('a single-field unique index refuses a duplicate with 11000 on insert, also between concurrent inserts', async () => {
      const c = db.collection<{ _id: string; slot: string }>('unique_insert');
      await c.createIndex({ slot: 1 }, { unique: true });
      await c.insertOne({ _id: 'a', slot: 'x:10' });
      const results = await Promise.allSettled([
        c.insertOne({ _id: 'b', slot: 'x:20' }),
        c.insertOne({ _id: 'c', slot: 'x:20' }),
        c.insertOne({ _id: 'a', slot: 'y' }),
      ]);
      expect(results.map(code).sort()).to.deep.equal([11000, 11000, 'ok']);
    });

    it('a compound unique index refuses the same key triple and accepts any other', async () => {
      const c = db.collection<{ _id: string; platformCode: string; orderNo: string; messageType: string }>(
        'unique_compound',
      );
      await c.createIndex({ platformCode: 1, orderNo: 1, messageType: 1 }, { unique: true, name: 'idempotency_key' });
      await c.insertOne({ _id: '1', platformCode: 'P', orderNo: 'O', messageType: 'CEB311' });
      const results = await Promise.allSettled([
        c.insertOne({ _id: '2', platformCode: 'P', orderNo: 'O', messageType: 'CEB311' }),
        c.insertOne({ _id: '3', platformCode: 'P', orderNo: 'O', messageType: 'CEB411' }),
        c.insertOne({ _id: '4', platformCode: 'P', orderNo: 'O2', messageType: 'CEB311' }),
        c.insertOne({ _id: '5', platformCode: 'Q', orderNo: 'O', messageType: 'CEB311' }),
      ]);
      expect(results.map(code)).to.deep.equal([11000, 'ok', 'ok', 'ok']);
    });

    it('a duplicate caused by an update (updateOne, findOneAndUpdate) is refused with 11000 and changes nothing', async () => {
      const c = db.collection<{ _id: string; g: string }>('update_dup');
      await c.createIndex({ g: 1 }, { unique: true });
      await c.insertMany([
        { _id: 'a', g: 'G' },
        { _id: 'b', g: 'H' },
      ]);
      const results = await Promise.allSettled([
        c.updateOne({ _id: 'b' }, { $set: { g: 'G' } }),
        c.findOneAndUpdate({ _id: 'b' }, { $set: { g: 'G' } }),
      ]);
      expect(results.map(code)).to.deep.equal([11000, 11000]);
      expect(await c.find({}, { sort: { _id: 1 } }).toArray()).to.deep.equal([
        { _id: 'a', g: 'G' },
        { _id: 'b', g: 'H' },
      ]);
    });

    it('an unordered insertMany reports each duplicate by its index with 11000 and inserts the rest', async () => {
      const c = db.collection<{ _id: string; k: string }>('insert_many');
      await c.createIndex({ k: 1 }, { unique: true });
      await c.insertOne({ _id: '1', k: 'one' });
      const docs = [
        { _id: '2', k: 'two' },
        { _id: '3', k: 'one' },
        { _id: '1', k: 'other' },
        { _id: '4', k: 'four' },
      ];
      let error: unknown;
      try {
        await c.insertMany(docs, { ordered: false });
      } catch (err) {
        error = err;
      }
      expect(error).to.be.instanceOf(MongoBulkWriteError);
      const bulk = error as MongoBulkWriteError;
      expect(
        (Array.isArray(bulk.writeErrors) ? bulk.writeErrors : [bulk.writeErrors]).map((w) => [w.index, w.code]),
      ).to.deep.equal([
        [1, 11000],
        [2, 11000],
      ]);
      expect(bulk.insertedCount).to.equal(2);
      expect(failedOnlyOnDuplicates(error, docs.length)).to.equal(true);
      expect((await c.find({}).toArray()).map((d) => d._id).sort()).to.deep.equal(['1', '2', '4']);
    });

    it('a sparse unique index keeps any number of documents without the field', async () => {
      const c = db.collection<{ _id: string; g?: string }>('sparse_unique');
      await c.createIndex({ g: 1 }, { unique: true, sparse: true });
      await c.insertMany([{ _id: 'a' }, { _id: 'b' }, { _id: 'c', g: 'G' }]);
      const [dup] = await Promise.allSettled([c.insertOne({ _id: 'd', g: 'G' })]);
      expect(code(dup as PromiseSettledResult<unknown>)).to.equal(11000);
    });
  });

  describe('a connection dropped during an unordered insertMany', () => {
    // The store must treat this as a failure (and retry: stored documents then come back as duplicates),
    // never as "some duplicates": see failedOnlyOnDuplicates, the rule src/store's duplicateIndexes must apply.
    for (const cut of ['request', 'reply'] as const) {
      it(`cut ${cut === 'request' ? 'while the request is sent' : 'before the reply'}: a failure that is not "only duplicates"`, async () => {
        const target = new URL(url);
        const proxy = await cuttingProxy({ host: target.hostname, port: Number(target.port || 27017) });
        const viaProxy = new URL(url);
        viaProxy.host = `127.0.0.1:${proxy.port}`;
        const cutClient = new MongoClient(viaProxy.toString(), { retryWrites: false, serverSelectionTimeoutMS: 5000 });
        try {
          const c = cutClient.db().collection<{ _id: string; pad: string }>(`cut_${cut}`);
          await c.insertOne({ _id: 'existing', pad: '' });
          const docs = Array.from({ length: 2000 }, (_, i) => ({ _id: `d${i}`, pad: 'x'.repeat(1000) }));
          proxy.arm(cut, 1_000_000);
          let error: unknown;
          try {
            await c.insertMany(docs, { ordered: false });
          } catch (err) {
            error = err;
          }
          await proxy.cutDone;
          expect(error, 'insertMany must fail').to.not.equal(undefined);
          expect(failedOnlyOnDuplicates(error, docs.length)).to.equal(false);
          // what driver 7.8 raises: a MongoBulkWriteError with EMPTY writeErrors (read as "no duplicates" by a
          // rule that only looks at writeErrors, which is how an accepted declaration once lost its step)
          if (error instanceof MongoBulkWriteError) {
            const writeErrors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
            expect(writeErrors.length).to.equal(0);
          }
          const stored = await db
            .collection<{ _id: string }>(`cut_${cut}`)
            .countDocuments({ _id: { $ne: 'existing' } });
          if (cut === 'request') expect(stored).to.equal(0);
          else expect(stored).to.equal(docs.length);
        } finally {
          await cutClient.close().catch(() => undefined);
          await proxy.close();
        }
      });
    }
  });

  describe('queries on indexed fields answer as MongoDB does (arrays, types, missing fields)', () => {
    const oid = new ObjectId('0123456789abcdef01234567');
    const odd = 'a<b&\u2028"q"';
    const docs: Document[] = [
      { _id: 'a', s: 'x', d: new Date(1000) },
      { _id: 'b', s: ['x', 'y'], d: [new Date(2000)] },
      { _id: 'c', s: 'y', d: 1500 },
      { _id: 'e', s: oid },
      { _id: 'f', s: oid.toHexString(), d: null },
      { _id: 'g', s: 'x', d: new Date(3000), n: { b: 'x' } },
      { _id: 'h', n: [{ b: 'x' }, { b: 'z' }] },
      { _id: 'i', s: true, d: '1970-01-01' },
      { _id: 'j', s: odd, d: new Date(-1000) },
    ];
    // with arrays in the indexed fields, and without (where FerretDB's patched server answers from its indexes)
    const withoutArrays = new Set(['b', 'h']);
    before(async () => {
      for (const [name, set] of [
        ['semantics', docs],
        ['semantics_scalar', docs.filter((d) => !withoutArrays.has(String(d._id)))],
      ] as const) {
        const c = db.collection(name);
        await c.createIndex({ s: 1 });
        await c.createIndex({ d: 1 });
        await c.createIndex({ 'n.b': 1 });
        await c.insertMany(set.map((d) => ({ ...d })));
      }
    });
    const ids = async (name: string, filter: Document): Promise<string[]> =>
      (await db.collection(name).find(filter).toArray()).map((d) => String(d._id)).sort();

    const cases: [string, Document, string[]][] = [
      ['a string, also inside arrays', { s: 'x' }, ['a', 'b', 'g']],
      ['$in of strings', { s: { $in: ['y', 'x'] } }, ['a', 'b', 'c', 'g']],
      ['a string that is an ObjectID in hex: the string only', { s: oid.toHexString() }, ['f']],
      ['an ObjectID: the ObjectID only', { s: oid }, ['e']],
      ['a boolean', { s: true }, ['i']],
      ['a string with escapes', { s: odd }, ['j']],
      ['dates up to a bound: dates only, also inside arrays', { d: { $lte: new Date(2000) } }, ['a', 'b', 'j']],
      ['a date range', { d: { $gt: new Date(0), $lt: new Date(3000) } }, ['a', 'b']],
      ['a date', { d: new Date(3000) }, ['g']],
      ['a nested field, also in arrays of documents', { 'n.b': 'x' }, ['g', 'h']],
      ['_id $in', { _id: { $in: ['a', 'zz', 'j'] } }, ['a', 'j']],
      ['two indexed fields', { s: 'x', d: { $gte: new Date(2000) } }, ['b', 'g']],
    ];
    for (const [what, filter, expected] of cases) {
      it(`${what}: ${JSON.stringify(filter)}`, async () => {
        expect(await ids('semantics', filter), 'with arrays').to.deep.equal(expected);
        const scalar = expected.filter((id) => !withoutArrays.has(id));
        expect(await ids('semantics_scalar', filter), 'without arrays').to.deep.equal(scalar);
      });
    }

    it('the earliest due dates, sorted and limited, skip values of other types', async () => {
      const w = db.collection<{ _id: string; dueAt: unknown }>('due');
      await w.createIndex({ dueAt: 1 });
      await w.insertMany([
        { _id: 'n1', dueAt: 5 },
        { _id: 's1', dueAt: '1970' },
        { _id: 'm1', dueAt: null },
        { _id: 'x1' } as { _id: string; dueAt: unknown },
        ...Array.from({ length: 10 }, (_, i) => ({ _id: `t${i}`, dueAt: new Date(10_000 - i * 1000) })),
      ]);
      const due = await w
        .find({ dueAt: { $lte: new Date(6000) } })
        .sort({ dueAt: 1 })
        .limit(3)
        .toArray();
      expect(due.map((d) => d._id)).to.deep.equal(['t9', 't8', 't7']);
      const latest = await w
        .find({ dueAt: { $lte: new Date(6000) } })
        .sort({ dueAt: -1 })
        .limit(2)
        .toArray();
      expect(latest.map((d) => d._id)).to.deep.equal(['t4', 't5']);
    });

    it('an array arriving in an indexed field that had none is found at once (find, count, update, delete)', async () => {
      const w = db.collection<{ _id: string; tag: string | string[] }>('late_arrays');
      await w.createIndex({ tag: 1 });
      await w.insertMany([
        { _id: '1', tag: 'q' },
        { _id: '2', tag: 'q' },
      ]);
      expect(await w.countDocuments({ tag: 'q' })).to.equal(2);
      await w.insertOne({ _id: '3', tag: ['q', 'r'] });
      expect((await w.find({ tag: 'q' }).toArray()).length).to.equal(3);
      expect(await w.countDocuments({ tag: 'r' })).to.equal(1);
      await w.updateOne({ _id: '1' }, { $set: { tag: ['s'] } });
      expect((await w.updateMany({ tag: 's' }, { $set: { seen: true } })).modifiedCount).to.equal(1);
      expect((await w.deleteMany({ tag: 'q' })).deletedCount).to.equal(2);
    });
  });

  describe('every hot query shape is answered from an index', () => {
    const now = new Date();
    let c: Collection<{ _id: string } & Document>;
    before(async () => {
      c = db.collection<{ _id: string } & Document>('hot');
      await c.createIndex({ platformCode: 1, orderNo: 1, messageType: 1 }, { unique: true, name: 'idempotency_key' });
      await c.createIndex({ orderNo: 1 });
      await c.createIndex({ messageGuid: 1 }, { unique: true });
      await c.createIndex({ sellerId: 1 });
      await c.createIndex({ dueAt: 1 });
      await c.insertMany(
        Array.from({ length: 300 }, (_, i) => ({
          _id: `decl${i}`,
          platformCode: `P${i % 3}`,
          orderNo: `O${i}`,
          messageType: 'CEB311',
          messageGuid: `guid-${i}`,
          sellerId: `seller${i % 7}`,
          rank: i % 5,
          dueAt: new Date(now.getTime() + (i - 150) * 1000),
        })),
      );
    });

    const shapes: [string, () => Document, Document | undefined, number | undefined, string[]][] = [
      ['{_id}', () => ({ _id: 'decl7' }), undefined, undefined, ['_id_']],
      ['{_id: {$in}}', () => ({ _id: { $in: ['decl1', 'decl2', 'decl3'] } }), undefined, undefined, ['_id_']],
      [
        '{_id, rank: {$lt}} (a conditional step)',
        () => ({ _id: 'decl7', rank: { $lt: 3 } }),
        undefined,
        undefined,
        ['_id_'],
      ],
      [
        '{_id, dueAt: {$lte: now}} (a conditional claim)',
        () => ({ _id: 'decl7', dueAt: { $lte: now } }),
        undefined,
        undefined,
        ['_id_', 'dueAt_1'],
      ],
      [
        '{platformCode, orderNo, messageType} (the idempotency key)',
        () => ({ platformCode: 'P1', orderNo: 'O7', messageType: 'CEB311' }),
        undefined,
        undefined,
        ['idempotency_key', 'orderNo_1'],
      ],
      ['{orderNo}', () => ({ orderNo: 'O7' }), undefined, undefined, ['orderNo_1']],
      ['{messageGuid}', () => ({ messageGuid: 'guid-7' }), undefined, undefined, ['messageGuid_1']],
      ['{sellerId}', () => ({ sellerId: 'seller3' }), undefined, undefined, ['sellerId_1']],
      [
        'the work claim: {dueAt: {$lte: now}} sorted by dueAt, limit 50',
        () => ({ dueAt: { $lte: now } }),
        { dueAt: 1 },
        50,
        ['dueAt_1'],
      ],
    ];
    for (const [what, filter, sort, limit, indexes] of shapes) {
      it(what, async () => {
        let cursor = c.find(filter());
        if (sort) cursor = cursor.sort(sort);
        if (limit) cursor = cursor.limit(limit);
        const facts = await queryPlan(server, cursor, sort !== undefined);
        expect(usesIndex(server, facts, indexes), `index ${indexes.join(' or ')}: ${facts.raw}`).to.equal(true);
        expect(facts.scans, `no scan: ${facts.raw}`).to.equal(false);
        if (sort) expect(facts.sortsInMemory, `sorted by the index: ${facts.raw}`).to.equal(false);
        if (limit && server.kind === 'ferretdb') expect(facts.limited, `limited in SQL: ${facts.raw}`).to.equal(true);
      });
    }
  });

  describe('durability', () => {
    it('acknowledged writes survive a kill -9 of the server', async function () {
      if (server.kind !== 'ferretdb') {
        // the test must control the server it kills; production's MongoDB is not one to kill from a test
        console.log(
          `      skipped: MONGO_URL is ${server.kind} ${server.version}, not a FerretDB this test can start and kill`,
        );
        return;
      }
      const ferret = await startPrivateFerretDB();
      const writer = new MongoClient(ferret.url + 'durability', { maxPoolSize: 16, retryWrites: false });
      try {
        const c = writer.db().collection<{ _id: string; i?: number; n?: number }>('acked');
        // one counter per writer: what is measured is durability, not concurrency
        await c.insertMany(Array.from({ length: 8 }, (_, w) => ({ _id: `counter${w}`, n: 0 })));
        const acked = new Set<string>();
        const increments = Array.from({ length: 8 }, () => ({ acked: 0, attempted: 0 }));
        let stop = false;
        let killing: Promise<void> | undefined;
        const loop = async (w: number): Promise<void> => {
          const mine = increments[w] ?? { acked: 0, attempted: 0 };
          for (let i = 0; !stop; i++) {
            try {
              await c.insertOne({ _id: `w${w}-${i}`, i });
              acked.add(`w${w}-${i}`);
              mine.attempted++;
              await c.updateOne({ _id: `counter${w}` }, { $inc: { n: 1 } });
              mine.acked++;
            } catch {
              stop = true;
            }
            if (acked.size >= 400 && !killing) killing = ferret.kill();
          }
        };
        await Promise.all(Array.from({ length: 8 }, (_, w) => loop(w)));
        await killing;
        await writer.close(true);
        await ferret.start();
        const reader = new MongoClient(ferret.url + 'durability');
        try {
          const r = reader.db().collection<{ _id: string; n?: number }>('acked');
          const present = await r.countDocuments({ _id: { $in: [...acked] } });
          expect(present, 'acknowledged inserts present after the crash').to.equal(acked.size);
          for (const [w, { acked: ackedIncrements, attempted }] of increments.entries()) {
            const n = (await r.findOne({ _id: `counter${w}` }))?.n ?? -1;
            expect(n, `counter${w}: acknowledged ${ackedIncrements}, attempted ${attempted}`)
              .to.be.at.least(ackedIncrements)
              .and.at.most(attempted);
          }
        } finally {
          await reader.close();
        }
      } finally {
        await writer.close(true).catch(() => undefined);
        await ferret.dispose();
      }
    });
  });
});
