import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Child processes of a benchmark, logged to `<logDir>/<name>.log`, and what /proc says about processes. */
export interface Proc {
  name: string;
  child: ChildProcess;
  stdout: string[];
}

export class Procs {
  private readonly procs: Proc[] = [];

  constructor(
    private readonly cwd: string,
    private readonly logDir: string,
  ) {}

  start(name: string, args: string[], env: NodeJS.ProcessEnv = {}, nodeArgs: string[] = []): Proc {
    const child = spawn(process.execPath, [...nodeArgs, ...args], {
      cwd: this.cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const p: Proc = { name, child, stdout: [] };
    const log = join(this.logDir, `${name}.log`);
    writeFileSync(log, '');
    child.stdout!.on('data', (d: Buffer) => {
      p.stdout.push(d.toString());
      writeFileSync(log, d, { flag: 'a' });
    });
    child.stderr!.on('data', (d: Buffer) => writeFileSync(log, d, { flag: 'a' }));
    this.procs.push(p);
    return p;
  }

  async stop(p: Proc): Promise<void> {
    const i = this.procs.indexOf(p);
    if (i >= 0) this.procs.splice(i, 1);
    if (p.child.exitCode !== null || p.child.signalCode !== null) return;
    await new Promise<void>((done) => {
      p.child.once('exit', () => done());
      p.child.kill('SIGTERM');
      setTimeout(() => p.child.kill('SIGKILL'), 20000).unref();
    });
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.procs].map((p) => this.stop(p)));
  }

  /** Runs a child to its end; returns its last stdout line parsed as JSON (throws naming its log otherwise). */
  async run<T>(name: string, args: string[]): Promise<T> {
    const p = this.start(name, args);
    const code = await exited(p);
    await this.stop(p);
    if (code !== 0) throw new Error(`${name} exited ${code} (see ${join(this.logDir, `${name}.log`)})`);
    return JSON.parse(p.stdout.join('').trim().split('\n').pop()!) as T;
  }
}

export function exited(p: Proc): Promise<number> {
  if (p.child.exitCode !== null) return Promise.resolve(p.child.exitCode);
  return new Promise((r) => p.child.once('exit', (code) => r(code ?? 1)));
}

/** Peak resident set (VmHWM) in MB, from /proc. */
export function peakRssMb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** The pid listening on a local TCP port (the database, the broker), if `ss` can tell. */
export function listenerPid(port: number): number | undefined {
  try {
    const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
    const m = /pid=(\d+)/.exec(out);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The machine's load average (1, 5, 15 min), as /proc/loadavg says. */
export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitReady(url: string, timeoutMs: number): Promise<void> {
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
