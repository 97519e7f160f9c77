import { createServer } from 'node:net';
import { join } from 'node:path';
import { AmqpClient } from '../../../src/queue/amqp';
import { DEAD_LETTER_QUEUE } from '../../../src/queue/topology';
import { silentLogger } from '../logger';
import {
  BASE_MONGO_URL,
  CENTERS,
  PrivateFerretDb,
  amqpUrlForVhost,
  prepareDatabase,
  purgeQueues,
  restartService,
} from './environment';
import { ProcessGroup, ROOT, waitForHttp } from './processes';

/**
 * The system under test for the chaos and fuzz runs: gateway + 2 workers + one simulator per center as
 * child processes, on the run's own port, database and vhost, logs under test-artifacts/chaos/<run>/.
 */
export interface ChaosSystem {
  base: string;
  port: number;
  mongoUrl: string;
  amqpUrl: string;
  logDir: string;
  processes: ProcessGroup;
  workers: string[];
  /** Waits until the gateway answers /readyz (database and broker reachable). */
  waitReady(timeoutMs?: number): Promise<number>;
  /** Which database server the run uses: its own FerretDB process, or the shared one (scripts/services.sh). */
  database: 'private' | 'shared';
  /** Restarts the database server; returns how long it took (ms). */
  restartDatabase(): Promise<number>;
  /** Messages in the run's dead-letter queue now (-1 when the broker cannot be asked). */
  deadLetters(): Promise<number>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startChaosSystem(options: {
  name: string;
  workers?: number;
  profile?: string;
  env?: Record<string, string>;
}): Promise<ChaosSystem> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const logDir = join(ROOT, 'test-artifacts', 'chaos', `${options.name}-${stamp}`);
  // CHAOS_DATABASE=shared uses the server scripts/services.sh runs (and restarts it with that script).
  const wantPrivate = (process.env.CHAOS_DATABASE ?? 'private') !== 'shared';
  const ferret =
    wantPrivate && PrivateFerretDb.available()
      ? new PrivateFerretDb(join(logDir, 'ferretdb'), await freePort())
      : undefined;
  if (wantPrivate && !ferret)
    process.stdout.write(
      `chaos: no FerretDB binary at ${PrivateFerretDb.binary()} (scripts/install-ferretdb.sh builds it): using the shared database server\n`,
    );
  if (ferret) await ferret.start();
  const mongo = new URL(ferret?.url ?? BASE_MONGO_URL);
  mongo.pathname = `/baygate_chaos_${options.name.replace(/[^A-Za-z0-9]/g, '_')}`;
  const mongoUrl = mongo.toString();
  const { url: amqpUrl } = await amqpUrlForVhost(`baygate-chaos-${options.name}`);
  await prepareDatabase(mongoUrl);
  await purgeQueues(amqpUrl);
  const port = Number(process.env.CHAOS_PORT) || (await freePort());
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'development',
    PORT: String(port),
    HOST: '127.0.0.1',
    MONGO_URL: mongoUrl,
    AMQP_URL: amqpUrl,
    LOG_LEVEL: process.env.CHAOS_LOG_LEVEL ?? 'info',
    LOG_PRETTY: 'false',
    WORKER_POLL_MS: '50',
    // A killed worker's claims are taken over when its lease ends: short enough for a bounded test.
    WORKER_LEASE_MS: '15000',
    METRICS_PORT: '',
    SEED_DEV_ACCOUNTS: 'false',
    ...(options.env ?? {}),
  };
  const processes = new ProcessGroup(logDir, env);
  const workers = Array.from({ length: options.workers ?? 2 }, (_, i) => `worker-${i + 1}`);
  processes.start('gateway', ['serve']);
  for (const w of workers) processes.start(w, ['worker']);
  for (const c of CENTERS)
    processes.start(`center-${c}`, ['center', 'simulate', '--center', c, '--profile', options.profile ?? 'bench']);
  const base = `http://127.0.0.1:${port}`;
  const system: ChaosSystem = {
    base,
    port,
    mongoUrl,
    amqpUrl,
    logDir,
    processes,
    workers,
    database: ferret ? 'private' : 'shared',
    restartDatabase: () => (ferret ? ferret.restart() : restartService('mongo')),
    waitReady: (timeoutMs = 90000) => waitForHttp(`${base}/readyz`, timeoutMs),
    deadLetters: async () => {
      const client = new AmqpClient({ url: amqpUrl, logger: silentLogger(), initialMaxRetries: 3 });
      try {
        await client.connect();
        return await client.withChannel(async (ch) => (await ch.checkQueue(DEAD_LETTER_QUEUE)).messageCount);
      } catch {
        return -1;
      } finally {
        await client.close();
      }
    },
    stop: async () => {
      await processes.stopAll();
      await ferret?.stop();
    },
  };
  try {
    await system.waitReady();
  } catch (err) {
    await system.stop();
    throw new Error(`${(err as Error).message}; logs in ${logDir}`, { cause: err });
  }
  return system;
}
