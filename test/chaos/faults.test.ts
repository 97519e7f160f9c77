import { expect } from 'chai';
import { checkRun, countsTable, type CheckResult } from '../support/chaos/checker';
import { CHAOS_KEYS, bearerOf, otherMochaRuns, restartService } from '../support/chaos/environment';
import { LoadGenerator } from '../support/chaos/load';
import { startChaosSystem, type ChaosSystem } from '../support/chaos/system';
import { requireMongo, requireRabbitMQ } from '../support/services';

/**
 * "Prove it", part 3: the whole system as child processes under steady load while three faults hit it in
 * sequence — (a) RabbitMQ restarted, (b) the gateway and a worker SIGKILLed and restarted, (c) the database
 * restarted. Afterwards every order that got a 202 must have exactly one declaration per message type, and
 * each must reach a final status through the simulated centers.
 *
 *   CHAOS_RATE      orders per second (default 5: what 2 cores sustain with FerretDB/SQLite, docs/CHAOS.md)
 *   CHAOS_SEED      seed of the generated orders (default random; printed)
 *   CHAOS_STEADY_MS load between faults (default 15000)
 *   CHAOS_DRAIN_MS  how long the pipeline may take to finish after the load stops (default 300000; ends early when all are final)
 *
 * The database is a FerretDB process of the run's own; RabbitMQ is the shared broker, restarted: other test
 * runs on the machine see it go. Hence `npm run test:chaos`, run by .ci/run after `npm test`, not inside it.
 */
const RATE = Number(process.env.CHAOS_RATE) || 5;
const SEED = Number(process.env.CHAOS_SEED) || Math.floor(Math.random() * 2 ** 31);
const STEADY_MS = Number(process.env.CHAOS_STEADY_MS) || 15000;
const DRAIN_MS = Number(process.env.CHAOS_DRAIN_MS) || 300000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const log = (line: string) => process.stdout.write(`chaos: ${line}\n`);

describe('chaos: steady load through a RabbitMQ restart, a killed gateway and worker, and a database restart', function () {
  this.timeout(900000);
  let system: ChaosSystem | undefined;
  let load: LoadGenerator | undefined;
  const startedAt = Date.now();

  before(async () => {
    await requireMongo();
    await requireRabbitMQ();
    const others = await otherMochaRuns();
    if (others.length > 0)
      log(`other mocha runs on this machine will see RabbitMQ and the database restart:\n  ${others.join('\n  ')}`);
    log(`seed ${SEED} (CHAOS_SEED=${SEED} reproduces the orders), ${RATE} orders/s, ${STEADY_MS} ms between faults`);
    system = await startChaosSystem({ name: 'faults', workers: 2, profile: 'bench' });
    log(
      `database: ${system.database === 'private' ? 'a FerretDB process of this run (CHAOS_DATABASE=shared: the shared server, restarted with scripts/services.sh)' : 'the shared server'}`,
    );
    log(`system up on ${system.base} in ${((Date.now() - startedAt) / 1000).toFixed(1)} s; logs in ${system.logDir}`);
  });

  after(async () => {
    await load?.stop(0).catch(() => undefined);
    await system?.stop();
  });

  it('loses nothing, duplicates nothing, answers no 500, and every accepted order reaches a final status', async () => {
    const sys = system as ChaosSystem;
    const gen = new LoadGenerator({
      base: sys.base,
      authorization: bearerOf(CHAOS_KEYS.seller),
      ordersPerSecond: RATE,
      seedBase: SEED,
      maxInFlight: 64,
      requestTimeoutMs: 30000,
    });
    load = gen;
    const timings: string[] = [];
    const phase = (name: string) => {
      gen.phase = name;
      log(`phase ${name} at +${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
    };

    gen.start();
    phase('warm-up');
    await sleep(STEADY_MS);

    phase('rabbitmq-restart');
    const rabbitMs = await restartService('rabbitmq');
    timings.push(`rabbitmq restart ${(rabbitMs / 1000).toFixed(1)} s`);
    phase('after-rabbitmq');
    await sleep(STEADY_MS);

    phase('kill-gateway');
    const killedWorker = sys.workers[0] as string;
    await Promise.all([sys.processes.kill('gateway', 'SIGKILL'), sys.processes.kill(killedWorker, 'SIGKILL')]);
    await sleep(3000);
    sys.processes.restart('gateway');
    sys.processes.restart(killedWorker);
    const gatewayBackMs = await sys.waitReady(90000);
    timings.push(`gateway back ${(gatewayBackMs / 1000).toFixed(1)} s after restart`);
    phase('after-kill');
    await sleep(STEADY_MS);

    phase('mongo-restart');
    const mongoMs = await sys.restartDatabase();
    timings.push(`database (${sys.database}) restart ${(mongoMs / 1000).toFixed(1)} s`);
    phase('after-mongo');
    await sleep(STEADY_MS);

    phase('retries');
    await gen.stop(60000);
    const loadEndedAt = Date.now();
    log(`load stopped at +${((loadEndedAt - startedAt) / 1000).toFixed(1)} s; draining (≤ ${DRAIN_MS / 1000} s)`);

    let result: CheckResult = await checkRun(sys.mongoUrl, gen.orders.values(), { progress: true });
    const drainDeadline = Date.now() + DRAIN_MS;
    let lastFinal = -1;
    while (
      result.counts.final + result.counts.lost + result.counts.failed < result.counts.accepted &&
      Date.now() < drainDeadline
    ) {
      if (result.counts.final !== lastFinal)
        log(`draining: ${result.counts.final}/${result.counts.accepted} orders final`);
      lastFinal = result.counts.final;
      await sleep(10000);
      result = await checkRun(sys.mongoUrl, gen.orders.values(), { progress: true });
    }
    result = await checkRun(sys.mongoUrl, gen.orders.values());
    const drainMs = Date.now() - loadEndedAt;
    const healthz = await fetch(`${sys.base}/healthz`)
      .then((r) => r.status)
      .catch((err: Error) => err.message);
    const deadLetters = await sys.deadLetters();

    const rejected = [...gen.orders.values()].filter((o) => o.result === 'rejected');
    const gaveUp = [...gen.orders.values()].filter((o) => o.result === 'gave-up');
    const lines = [
      '',
      `chaos run ${new Date().toISOString()} seed=${SEED} rate=${RATE}/s total=${((Date.now() - startedAt) / 1000).toFixed(0)} s drain=${(drainMs / 1000).toFixed(1)} s`,
      countsTable(result.counts),
      ...gen.summary(),
      `orders sent=${gen.orders.size} rejected(4xx)=${rejected.length} gave-up=${gaveUp.length}; dead-lettered messages=${deadLetters}; /healthz=${healthz}`,
      `timings: ${timings.join(', ')}`,
      `final statuses: ${JSON.stringify(result.finalStatuses)}`,
      `restarts asked of the supervisor (exit 75, e.g. a wedged database client): ${sys.processes.restartRequests().length}` +
        sys.processes
          .restartRequests()
          .map((e) => ` ${e.name}@${e.at.toISOString()}`)
          .join(''),
      ...sys.processes
        .unexpectedExits()
        .map((e) => `UNEXPECTED EXIT ${e.name} code=${e.code} signal=${e.signal} at ${e.at.toISOString()}`),
      ...result.examples.map((e) => `  ${e}`),
      ...rejected.slice(0, 5).map((o) => `  rejected ${o.orderNo}: ${o.rejection}`),
      ...gen
        .violations()
        .slice(0, 20)
        .map((v) => `  VIOLATION ${v}`),
      '',
    ];
    process.stdout.write(lines.join('\n') + '\n');

    expect(result.counts.accepted, 'orders accepted').to.be.greaterThan(RATE * 10);
    expect(result.counts.lost, 'lost').to.equal(0);
    expect(result.counts.duplicated, 'duplicated').to.equal(0);
    expect(result.counts.resigned, 'declarations signed under two guids').to.equal(0);
    expect(result.counts.final, 'orders final (every declaration through the simulator)').to.equal(
      result.counts.accepted,
    );
    expect(gen.violations(), 'answers other than 2xx/4xx/503 (or errors not in problem+json)').to.deep.equal([]);
    expect(
      rejected.map((o) => o.rejection),
      'valid orders rejected',
    ).to.deep.equal([]);
    expect(sys.processes.unexpectedExits(), 'processes that died on their own').to.deep.equal([]);
    expect(sys.processes.dead(), 'processes not running at the end').to.deep.equal([]);
    expect(healthz).to.equal(200);
  });
});
