import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { RESTART_EXIT_CODE } from '../../../src/runtime/restart';

/**
 * The whole Baygate system as child processes, started with the very commands the stack uses
 * (`node bin/baygate.js serve|worker|center simulate …`), each logging to its own file. The chaos tests
 * kill and restart them by name and ask afterwards whether any died on its own (a crash is a finding).
 * The group also plays the supervisor of production (docker compose `restart: unless-stopped`): a process
 * that exits with 75 asked for a restart (src/runtime/restart.ts) and is started again after a second;
 * those exits are counted apart, not as crashes.
 */
export const ROOT = resolve(new URL('../../..', import.meta.url).pathname);
const BIN = join(ROOT, 'bin', 'baygate.js');

export interface ManagedExit {
  name: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  at: Date;
  /** true when the harness killed or stopped it on purpose. */
  expected: boolean;
  /** true when the process asked for a restart (exit 75) and the supervisor started it again. */
  restartRequested: boolean;
}

interface Managed {
  name: string;
  args: string[];
  child: ChildProcess;
  log: WriteStream;
  /** Set before the harness signals it, so the exit is not reported as a crash. */
  expectingExit: boolean;
  starts: number;
}

export class ProcessGroup {
  private readonly managed = new Map<string, Managed>();
  readonly exits: ManagedExit[] = [];
  private stopping = false;
  private readonly restarting = new Set<string>();
  /** How long the supervisor waits before starting a process that asked for a restart. */
  static readonly RESTART_DELAY_MS = 1000;

  constructor(
    readonly logDir: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    mkdirSync(logDir, { recursive: true });
  }

  /** Starts `baygate <args>` as `name` (log: <logDir>/<name>.log, appended across restarts). */
  start(name: string, args: string[]): void {
    const existing = this.managed.get(name);
    if (existing && this.isAlive(name)) throw new Error(`${name} is already running (pid ${existing.child.pid})`);
    const log = existing?.log ?? createWriteStream(join(this.logDir, `${name}.log`), { flags: 'a' });
    const starts = (existing?.starts ?? 0) + 1;
    log.write(`\n===== ${new Date().toISOString()} start #${starts}: baygate ${args.join(' ')}\n`);
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: this.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    const entry: Managed = { name, args, child, log, expectingExit: false, starts };
    child.on('exit', (code, signal) => {
      const restartRequested = !entry.expectingExit && code === RESTART_EXIT_CODE && !this.stopping;
      this.exits.push({ name, code, signal, at: new Date(), expected: entry.expectingExit, restartRequested });
      const why = entry.expectingExit
        ? ''
        : restartRequested
          ? ' (restart requested: the supervisor starts it again)'
          : ' (UNEXPECTED)';
      log.write(`===== ${new Date().toISOString()} exit code=${code} signal=${signal}${why}\n`);
      if (restartRequested) {
        this.restarting.add(name);
        setTimeout(() => {
          this.restarting.delete(name);
          if (!this.stopping && this.managed.get(name) === entry && !this.isAlive(name)) this.start(name, args);
        }, ProcessGroup.RESTART_DELAY_MS);
      }
    });
    this.managed.set(name, entry);
  }

  pid(name: string): number | undefined {
    return this.managed.get(name)?.child.pid;
  }

  isAlive(name: string): boolean {
    const m = this.managed.get(name);
    return !!m && m.child.exitCode === null && m.child.signalCode === null;
  }

  names(): string[] {
    return [...this.managed.keys()];
  }

  /** Names of the processes that are not running now (one about to be restarted by the supervisor is not dead). */
  dead(): string[] {
    return this.names().filter((n) => !this.isAlive(n) && !this.restarting.has(n));
  }

  /** Exits the harness did not cause and no restart was asked for: crashes. */
  unexpectedExits(): ManagedExit[] {
    return this.exits.filter((e) => !e.expected && !e.restartRequested);
  }

  /** Exits with 75: the process asked its supervisor for a restart (and got it). */
  restartRequests(): ManagedExit[] {
    return this.exits.filter((e) => e.restartRequested);
  }

  /** Sends `signal` to one process (by its pid, never by name) and waits for it to exit. */
  async kill(name: string, signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 15000): Promise<void> {
    const m = this.managed.get(name);
    if (!m || !this.isAlive(name)) return;
    m.expectingExit = true;
    const exited = new Promise<void>((done) => m.child.once('exit', () => done()));
    m.child.kill(signal);
    const timer = setTimeout(() => m.child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  /** Starts `name` again with the arguments it was first started with. */
  restart(name: string): void {
    const m = this.managed.get(name);
    if (!m) throw new Error(`unknown process ${name}`);
    this.start(name, m.args);
  }

  /** Graceful stop of everything (SIGTERM, SIGKILL after the timeout); closes the log files. */
  async stopAll(timeoutMs = 15000): Promise<void> {
    this.stopping = true;
    await Promise.all(this.names().map((n) => this.kill(n, 'SIGTERM', timeoutMs)));
    await Promise.all([...this.managed.values()].map((m) => new Promise<void>((done) => m.log.end(() => done()))));
  }
}

/** Polls `url` until it answers 2xx, or throws with the last answer after `timeoutMs`. */
export async function waitForHttp(url: string, timeoutMs: number): Promise<number> {
  const started = Date.now();
  let last = '';
  while (Date.now() - started < timeoutMs) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return Date.now() - started;
      last = `${res.status} ${(await res.text()).slice(0, 200)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer 2xx within ${timeoutMs} ms (last: ${last})`);
}
