import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MongoClient } from 'mongodb';
import { AccountStore } from '../../../src/api/auth/account-store';
import { MongoAccountRepository } from '../../../src/store/accounts';
import { connectMongo } from '../../../src/store/mongo';
import { AmqpClient } from '../../../src/queue/amqp';
import { DEAD_LETTER_QUEUE, RECEIPTS_QUEUE, centerQueueName } from '../../../src/queue/topology';
import { silentLogger } from '../logger';
import { ROOT } from './processes';

/**
 * Where a chaos run lives: a database of its own on the shared MongoDB-compatible server, a RabbitMQ
 * virtual host of its own on the shared broker (so other engineers' tests, which purge and consume the
 * default vhost's `baygate.*` queues, neither take our messages nor have theirs taken), its own port and
 * its own API keys.
 */
const run = promisify(execFile);

export const BASE_AMQP_URL = process.env.AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672';
export const BASE_MONGO_URL = process.env.MONGO_URL || 'mongodb://127.0.0.1:27017/baygate';
export const CENTERS = ['GD', 'GD2', 'HK', 'MO'] as const;

/** Development-only keys this harness stores in its own database (never used anywhere else). */
export const CHAOS_KEYS = {
  seller: { account: 'chaos-seller', keyId: 'bgk_chaos_seller', secret: 'chaos-only-seller-not-a-secret' },
  broker: { account: 'chaos-broker', keyId: 'bgk_chaos_broker', secret: 'chaos-only-broker-not-a-secret' },
  centers: Object.fromEntries(
    CENTERS.map((c) => [
      c,
      { account: c, keyId: `bgk_chaos_center_${c.toLowerCase()}`, secret: `chaos-only-center-${c.toLowerCase()}-key` },
    ]),
  ) as Record<(typeof CENTERS)[number], { account: string; keyId: string; secret: string }>,
};

export const bearerOf = (k: { keyId: string; secret: string }) => `Bearer ${k.keyId}.${k.secret}`;

export function mongoUrlForDb(db: string): string {
  const url = new URL(BASE_MONGO_URL);
  url.pathname = '/' + db;
  return url.toString();
}

/**
 * Makes sure the virtual host exists (rabbitmqctl through scripts/services.sh, which works when the
 * broker is the one that script started) and returns the AMQP URL for it. When rabbitmqctl cannot reach the
 * broker, falls back to the broker's default vhost and says so in one line.
 */
export async function amqpUrlForVhost(vhost: string): Promise<{ url: string; isolated: boolean }> {
  const ctl = (...args: string[]) =>
    run('bash', ['scripts/services.sh', 'ctl', ...args], { cwd: ROOT, timeout: 60000, env: serviceEnv() });
  try {
    const { stdout } = await ctl('list_vhosts', '--quiet');
    if (
      !stdout
        .split('\n')
        .map((l) => l.trim())
        .includes(vhost)
    )
      await ctl('add_vhost', vhost);
    await ctl('set_permissions', '-p', vhost, new URL(BASE_AMQP_URL).username || 'guest', '.*', '.*', '.*');
    const url = new URL(BASE_AMQP_URL);
    url.pathname = '/' + encodeURIComponent(vhost);
    return { url: url.toString(), isolated: true };
  } catch (err) {
    process.stdout.write(
      `chaos: could not create RabbitMQ vhost "${vhost}" (${(err as Error).message.split('\n')[0]}); using the default vhost, shared with other runs\n`,
    );
    return { url: BASE_AMQP_URL, isolated: false };
  }
}

/** The environment scripts/services.sh expects: the base URLs, not the chaos run's database or vhost. */
function serviceEnv(): NodeJS.ProcessEnv {
  return { ...process.env, AMQP_URL: BASE_AMQP_URL, MONGO_URL: BASE_MONGO_URL };
}

/** `scripts/services.sh restart rabbitmq|mongo`; returns how long the restart took (ms). */
export async function restartService(which: 'rabbitmq' | 'mongo'): Promise<number> {
  const started = Date.now();
  try {
    await run('bash', ['scripts/services.sh', 'restart', which], { cwd: ROOT, timeout: 240000, env: serviceEnv() });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`scripts/services.sh restart ${which} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`, {
      cause: err,
    });
  }
  return Date.now() - started;
}

/** Empties the run's queues (a previous, interrupted run may have left messages in this vhost). */
export async function purgeQueues(amqpUrl: string): Promise<void> {
  const client = new AmqpClient({ url: amqpUrl, logger: silentLogger(), initialMaxRetries: 3 });
  await client.connect();
  try {
    for (const queue of [RECEIPTS_QUEUE, DEAD_LETTER_QUEUE, ...CENTERS.map(centerQueueName)]) {
      await client.withChannel((ch) => ch.purgeQueue(queue)).catch(() => undefined);
    }
  } finally {
    await client.close();
  }
}

/** Drops the run's database and stores the accounts and keys the run uses. */
export async function prepareDatabase(mongoUrl: string): Promise<void> {
  const client = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 5000 });
  try {
    await client.connect();
    await client.db().dropDatabase();
  } finally {
    await client.close();
  }
  const connection = await connectMongo(mongoUrl, silentLogger());
  try {
    const accounts = new AccountStore(new MongoAccountRepository(connection));
    const { seller, broker, centers } = CHAOS_KEYS;
    // A rate limit well above the load, so what the run measures is the pipeline, not the limiter.
    await accounts.upsertAccount({
      role: 'seller',
      id: seller.account,
      name: 'Chaos load seller',
      ebcCodes: ['4401960E01', 'HK3496A101', 'MO5795B201'],
      rateLimitPerMinute: 1_000_000,
    });
    await accounts.putKnownKey(seller.account, seller.keyId, seller.secret);
    await accounts.upsertAccount({
      role: 'broker',
      id: broker.account,
      name: 'Chaos broker',
      sellerIds: [seller.account],
      rateLimitPerMinute: 1_000_000,
    });
    await accounts.putKnownKey(broker.account, broker.keyId, broker.secret);
    for (const c of Object.values(centers)) {
      await accounts.upsertAccount({
        role: 'center',
        id: c.account,
        name: `Chaos center ${c.account}`,
        rateLimitPerMinute: 1_000_000,
      });
      await accounts.putKnownKey(c.account, c.keyId, c.secret);
    }
  } finally {
    await connection.close();
  }
}

/** True when a mocha run (other than this process's) is going on: a full `npm test` we should not disturb. */
export async function otherMochaRuns(): Promise<string[]> {
  try {
    const { stdout } = await run('pgrep', ['-af', 'mocha']);
    return stdout
      .split('\n')
      .filter((l) => l.trim() && !l.startsWith(`${process.pid} `) && !l.includes('test/chaos') && !l.includes('pgrep'))
      .filter((l) => /cli\.js|\.bin\/mocha/.test(l));
  } catch {
    return [];
  }
}

/**
 * A FerretDB (SQLite) of the chaos run's own, from the binary scripts/install-ferretdb.sh built: the run
 * can restart it (it is our process, stopped by its pid) without touching the server other test runs
 * share, and their load does not distort our measurements. The data directory survives restarts.
 */
export class PrivateFerretDb {
  private child?: import('node:child_process').ChildProcess;
  readonly url: string;

  constructor(
    readonly dir: string,
    readonly port: number,
  ) {
    this.url = `mongodb://127.0.0.1:${port}/baygate`;
  }

  static binary(): string {
    return join(ROOT, '.services', 'bin', 'ferretdb');
  }

  static available(): boolean {
    return existsSync(PrivateFerretDb.binary());
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(timeoutMs = 60000): Promise<number> {
    const started = Date.now();
    mkdirSync(join(this.dir, 'data'), { recursive: true });
    const log = openSync(join(this.dir, 'ferretdb.log'), 'a');
    this.child = spawn(
      PrivateFerretDb.binary(),
      // The same SQLite settings as scripts/services.sh (synchronous(normal): durable across the restarts
      // this run makes, not across a power loss, which it does not make).
      [
        '--handler=sqlite',
        `--sqlite-url=file:${join(this.dir, 'data')}/?_pragma=synchronous(normal)`,
        `--listen-addr=127.0.0.1:${this.port}`,
        `--state-dir=${this.dir}`,
        '--telemetry=disable',
        '--log-level=warn',
        '--debug-addr=-',
      ],
      { cwd: this.dir, stdio: ['ignore', log, log] },
    );
    closeSync(log);
    for (;;) {
      const client = new MongoClient(this.url, { serverSelectionTimeoutMS: 1000 });
      try {
        await client.connect();
        await client.db('admin').command({ ping: 1 });
        return Date.now() - started;
      } catch (err) {
        if (Date.now() - started > timeoutMs)
          throw new Error(
            `private FerretDB on port ${this.port} did not answer within ${timeoutMs} ms: ${(err as Error).message}`,
            { cause: err },
          );
        await new Promise((r) => setTimeout(r, 250));
      } finally {
        await client.close().catch(() => undefined);
      }
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
    await exited;
    clearTimeout(timer);
  }

  /** Stops and starts the server (same port, same data); returns the time until it answered again (ms). */
  async restart(): Promise<number> {
    const started = Date.now();
    await this.stop();
    await this.start();
    return Date.now() - started;
  }
}
