import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';

/**
 * A FerretDB of its own for a test or a benchmark: the binary scripts/install-ferretdb.sh built (patched, or
 * `upstream` = unpatched v1.24.0), on a free loopback port, with its data in a temporary directory, started
 * with the same flags as scripts/services.sh. It can be killed (SIGKILL) and started again on the same data.
 */
const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export type FerretBuild = 'patched' | 'upstream';

/** The binary of a build; BAYGATE_FERRETDB_BIN overrides the patched one (e.g. to run a test on upstream). */
export function ferretdbBinary(build: FerretBuild = 'patched'): string {
  if (build === 'patched' && process.env.BAYGATE_FERRETDB_BIN) return resolve(process.env.BAYGATE_FERRETDB_BIN);
  return join(root, '.services', 'bin', build === 'patched' ? 'ferretdb' : 'ferretdb-upstream');
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export interface PrivateFerretDB {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  readonly binary: string;
  /** SIGKILL, as a crash: no shutdown of any kind. Resolves when the process is gone. */
  kill(): Promise<void>;
  /** Starts the server again on the same port and data (after kill or stop). */
  start(): Promise<void>;
  /** Stops the server (SIGTERM) and deletes its data. */
  dispose(): Promise<void>;
}

async function answers(url: string): Promise<boolean> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 300, connectTimeoutMS: 300 });
  try {
    await client.connect();
    await client.db('admin').command({ ping: 1 });
    return true;
  } catch {
    return false;
  } finally {
    await client.close().catch(() => undefined);
  }
}

export async function startPrivateFerretDB(
  build: FerretBuild = 'patched',
  extraArgs: string[] = [],
): Promise<PrivateFerretDB> {
  const binary = ferretdbBinary(build);
  if (!existsSync(binary)) {
    throw new Error(
      `${binary} does not exist: build it with \`bash scripts/install-ferretdb.sh${build === 'upstream' ? ' --upstream' : ''}\``,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), `baygate-ferretdb-${build}-`));
  const port = await freePort();
  const url = `mongodb://127.0.0.1:${port}/`;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = async (): Promise<void> => {
    const log = openSync(join(dir, 'ferretdb.log'), 'a');
    const proc = spawn(
      binary,
      [
        '--handler=sqlite',
        `--sqlite-url=file:${dir}/?_pragma=synchronous(normal)`,
        `--listen-addr=127.0.0.1:${port}`,
        `--state-dir=${dir}`,
        '--telemetry=disable',
        '--log-level=warn',
        '--debug-addr=-',
        ...extraArgs,
      ],
      { stdio: ['ignore', log, log] },
    );
    closeSync(log);
    child = proc;
    // never outlive the test run (mocha exits with --exit once the tests are done)
    const reap = (): void => void proc.kill('SIGKILL');
    process.once('exit', reap);
    proc.once('exit', () => process.off('exit', reap));
    exited = new Promise((done) => proc.once('exit', () => done()));
    const deadline = Date.now() + 30_000;
    while (!(await answers(url))) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(`FerretDB (${binary}) exited at start-up: see ${join(dir, 'ferretdb.log')}`);
      }
      if (Date.now() > deadline) throw new Error(`FerretDB (${binary}) did not answer on port ${port} within 30 s`);
    }
  };

  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
      await exited;
    }
    child = undefined;
  };

  await start();
  return {
    url,
    port,
    dir,
    binary,
    kill: () => stop('SIGKILL'),
    start,
    dispose: async () => {
      await stop('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
