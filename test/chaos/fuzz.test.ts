import { expect } from 'chai';
import { MongoClient } from 'mongodb';
import { CENTERS, CHAOS_KEYS, bearerOf } from '../support/chaos/environment';
import { reportLines, runFuzz, type FuzzReport } from '../support/chaos/fuzz';
import { startChaosSystem, type ChaosSystem } from '../support/chaos/system';
import { generateValidOrder } from '../support/order-generator';
import { requireMongo, requireRabbitMQ } from '../support/services';

/**
 * "Prove it", part 4: bad input at scale against the running system (gateway, workers and center
 * simulators as child processes). Random and mutated JSON orders — type flips, missing and extra fields,
 * huge strings, deep nesting, wrong encodings, invalid JSON, NDJSON garbage, 1,001-order batches,
 * prototype-pollution keys — and XML receipts posted with a center key: the signature attack fixtures,
 * DOCTYPE/entity bombs, oversize bodies, receipts built and signed with a center certificate then tampered
 * with (or built with odd values and signed properly).
 *
 * No process may crash, every answer must be 4xx problem+json (never 5xx, never 2xx for an invalid
 * request, never no answer), and the declarations and receipts collections must grow by exactly what the
 * 2xx answers reported (a mutation that is still a valid order is fine, and counted, only with its 202).
 *
 *   FUZZ_SEED           reproduces a run (default random; printed)
 *   FUZZ_ORDER_CASES    default 600;  FUZZ_RECEIPT_CASES default 400;  FUZZ_BUDGET_MS default 150000
 */
const SEED = Number(process.env.FUZZ_SEED) || Math.floor(Math.random() * 2 ** 31);
const ORDER_CASES = Number(process.env.FUZZ_ORDER_CASES) || 600;
const RECEIPT_CASES = Number(process.env.FUZZ_RECEIPT_CASES) || 400;
const BUDGET_MS = Number(process.env.FUZZ_BUDGET_MS) || 150000;

const log = (line: string) => process.stdout.write(`fuzz: ${line}\n`);

async function counts(mongoUrl: string): Promise<{ declarations: number; receipts: number }> {
  const client = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 10000 });
  await client.connect();
  try {
    const db = client.db();
    return {
      declarations: await db.collection('declarations').countDocuments({}),
      receipts: await db.collection('receipts').countDocuments({ via: 'http' }),
    };
  } finally {
    await client.close();
  }
}

describe('fuzz at scale: bad orders and receipts against the running system', function () {
  this.timeout(600000);
  let system: ChaosSystem | undefined;

  before(async () => {
    await requireMongo();
    await requireRabbitMQ();
    log(`seed ${SEED} (FUZZ_SEED=${SEED} reproduces the cases)`);
    system = await startChaosSystem({ name: 'fuzz', workers: 2, profile: 'bench' });
    log(`system up on ${system.base}; logs in ${system.logDir}`);
  });

  after(async () => {
    await system?.stop();
  });

  it('crashes nothing, answers only 4xx problems or honest 2xx, and stores only what it reported', async () => {
    const sys = system as ChaosSystem;
    const before = await counts(sys.mongoUrl);
    const started = Date.now();
    const report: FuzzReport = await runFuzz({
      base: sys.base,
      auth: {
        seller: bearerOf(CHAOS_KEYS.seller),
        centers: Object.fromEntries(CENTERS.map((c) => [c, bearerOf(CHAOS_KEYS.centers[c])])),
      },
      seed: SEED,
      orderCases: ORDER_CASES,
      receiptCases: RECEIPT_CASES,
      timeBudgetMs: BUDGET_MS,
      heavy: true,
      concurrency: 4,
      requestTimeoutMs: 20000,
      check: () => {
        const dead = sys.processes.dead();
        if (dead.length > 0)
          throw new Error(`process(es) died during the fuzz run: ${dead.join(', ')} (logs in ${sys.logDir})`);
      },
    });
    const elapsed = Date.now() - started;
    // Let the gateway finish anything still running before counting (and before asking for health).
    await new Promise((r) => setTimeout(r, 2000));
    const after = await counts(sys.mongoUrl);
    const healthz = await fetch(`${sys.base}/healthz`, { signal: AbortSignal.timeout(5000) })
      .then((r) => r.status)
      .catch((err: Error) => err.message);
    const valid = await fetch(`${sys.base}/v1/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: bearerOf(CHAOS_KEYS.seller) },
      body: JSON.stringify(generateValidOrder((SEED % 1_000_000) + 9_000_000)),
      signal: AbortSignal.timeout(20000),
    })
      .then((r) => r.status)
      .catch((err: Error) => err.message);

    const lines = [
      '',
      `fuzz run ${new Date().toISOString()} seed=${SEED}: ${report.cases} cases in ${(elapsed / 1000).toFixed(1)} s; failures=${report.failures.length}`,
      `declarations ${before.declarations} → ${after.declarations} (202 answers reported ${report.declarationsStored}); http receipts ${before.receipts} → ${after.receipts} (202 answers ${report.receiptsStored})`,
      `accepted mutations: ${JSON.stringify(report.acceptedMutations)}`,
      `/healthz after: ${healthz}; a valid order after: ${valid}; processes not running: [${sys.processes.dead().join(', ')}]`,
      ...reportLines(report),
      ...report.failures.slice(0, 30).map((f) => `  FAILURE ${f.slice(0, 400)}`),
      '',
    ];
    process.stdout.write(lines.join('\n') + '\n');

    expect(sys.processes.unexpectedExits(), 'processes that died').to.deep.equal([]);
    expect(report.failures, `seed ${SEED}`).to.deep.equal([]);
    expect(after.declarations - before.declarations, 'declarations stored = those the 202 answers listed').to.equal(
      report.declarationsStored,
    );
    expect(after.receipts - before.receipts, 'receipts stored = the 202 answers').to.equal(report.receiptsStored);
    expect(healthz).to.equal(200);
    expect(valid).to.equal(202);
  });
});
