import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { gb11643CheckChar } from '../domain/rules';

/**
 * `npm run stack`: the whole system on one machine, then its main job.
 * Starts the gateway, dispatch workers and one simulator per clearance center as child processes
 * (logs in .services/logs/), submits the example orders as their sellers, follows every declaration
 * to its final status and prints the outcome. Keeps running for the dashboard unless `exitWhenDone`.
 */
export interface StackOptions {
  port: number;
  workers: number;
  centers: string[];
  profile: string;
  exitWhenDone: boolean;
  timeoutMs: number;
  ordersDir: string;
  logger: Logger;
  env?: NodeJS.ProcessEnv;
}

interface Child {
  name: string;
  process: ChildProcess;
}

const ROOT = resolve(new URL('../..', import.meta.url).pathname);
const BIN = join(ROOT, 'bin', 'baygate.js');

/** Development keys from config/accounts.dev.json (public, development-only). */
const DEV_KEYS = {
  broker: 'bgk_dev_broker_gba.dev-only-broker-gba-not-a-secret',
};

export async function runStack(options: StackOptions): Promise<{ ok: boolean; summary: StackSummary }> {
  const { logger } = options;
  const logDir = join(ROOT, '.services', 'logs');
  mkdirSync(logDir, { recursive: true });
  const env = { ...process.env, ...options.env, PORT: String(options.port), SEED_DEV_ACCOUNTS: 'true' };
  const children: Child[] = [];
  const start = (name: string, args: string[]) => {
    const out = createWriteStream(join(logDir, `${name}.log`), { flags: 'a' });
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT });
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
    child.on('exit', (code, signal) => {
      if (!stopping)
        logger.error({ name, code, signal }, `${name} exited unexpectedly (see .services/logs/${name}.log)`);
    });
    children.push({ name, process: child });
  };
  let stopping = false;
  const stopAll = async () => {
    stopping = true;
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((done) => {
            if (c.process.exitCode !== null || c.process.signalCode !== null) return done();
            c.process.once('exit', () => done());
            c.process.kill('SIGTERM');
            setTimeout(() => c.process.kill('SIGKILL'), 15000).unref();
          }),
      ),
    );
  };

  const base = `http://127.0.0.1:${options.port}`;
  try {
    start('gateway', ['serve']);
    for (let i = 1; i <= options.workers; i++) start(`worker-${i}`, ['worker']);
    for (const center of options.centers)
      start(`center-${center}`, ['center', 'simulate', '--center', center, '--profile', options.profile]);
    await waitReady(base, 60000);
    logger.info({ url: base, workers: options.workers, centers: options.centers }, 'stack is up');

    const summary = await submitExamplesAndFollow(base, options);
    printSummary(summary);
    const ok =
      summary.declarations.length > 0 &&
      summary.declarations.every((d) => d.terminal) &&
      summary.rejectedOrders.length === 0;
    if (options.exitWhenDone) {
      await stopAll();
      return { ok, summary };
    }
    process.stdout.write(
      `\nBaygate is running. Dashboard: ${base}/dashboard  (broker key: ${DEV_KEYS.broker})\nAPI docs: ${base}/docs   metrics: ${base}/metrics   logs: .services/logs/\nCtrl-C stops everything.\n`,
    );
    await new Promise<void>((resolveStop) => {
      process.once('SIGINT', resolveStop);
      process.once('SIGTERM', resolveStop);
    });
    await stopAll();
    return { ok, summary };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

async function waitReady(base: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${base}/readyz`);
      if (res.ok) return;
      last = `${res.status} ${await res.text()}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(300);
  }
  throw new Error(`gateway not ready after ${timeoutMs} ms: ${last}`);
}

export interface StackSummary {
  orders: { file: string; orderNo: string; seller: string }[];
  rejectedOrders: { file: string; problems: string }[];
  declarations: {
    id: string;
    orderNo: string;
    messageType: string;
    center: string;
    status: string;
    terminal: boolean;
  }[];
  elapsedMs: number;
}

/** Seller keys by ebcCode, from the development accounts file. */
function sellerKeys(): Map<string, { seller: string; key: string }> {
  const file = JSON.parse(readFileSync(join(ROOT, 'config', 'accounts.dev.json'), 'utf8')) as {
    accounts: { role: string; id: string; ebcCodes?: string[]; keys?: { keyId: string; secret: string }[] }[];
  };
  const map = new Map<string, { seller: string; key: string }>();
  for (const account of file.accounts) {
    if (account.role !== 'seller' || !account.keys?.[0]) continue;
    for (const code of account.ebcCodes ?? [])
      map.set(code, { seller: account.id, key: `${account.keys[0].keyId}.${account.keys[0].secret}` });
  }
  return map;
}

/**
 * Each run declares fresh orders: a run suffix on the order and waybill numbers, and a new buyer ID
 * number (valid GB 11643 check digit) so the annual limit of the example buyers is not used up by demos.
 */
export function freshenOrder(order: Record<string, unknown>, runId: string): Record<string, unknown> {
  let text = JSON.stringify(order);
  // Same length as the original (field limits), unique per run and per value.
  const fresh = (value: string) =>
    value.slice(0, Math.max(0, value.length - 6)) +
    createHash('sha256').update(`${runId}:${value}`).digest('hex').slice(0, 6).toUpperCase();
  for (const key of ['orderNo', 'logisticsNo', 'payTransactionId', 'copNo']) {
    for (const m of text.matchAll(new RegExp(`"${key}":"([^"]+)"`, 'g'))) {
      const value = m[1]!;
      if (value.length >= 8) text = text.split(`"${value}"`).join(`"${fresh(value)}"`);
    }
  }
  const buyerId = (order as { buyerIdNumber?: string }).buyerIdNumber;
  if (typeof buyerId === 'string' && /^\d{17}[\dX]$/.test(buyerId)) {
    const body = buyerId.slice(0, 14) + String(Math.floor(Math.random() * 900) + 100);
    text = text.split(buyerId).join(body + gb11643CheckChar(body));
  }
  return JSON.parse(text) as Record<string, unknown>;
}

async function submitExamplesAndFollow(base: string, options: StackOptions): Promise<StackSummary> {
  const started = Date.now();
  const keys = sellerKeys();
  const runId = Date.now().toString(36);
  const summary: StackSummary = { orders: [], rejectedOrders: [], declarations: [], elapsedMs: 0 };
  const files = readdirSync(options.ordersDir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  for (const file of files) {
    const order = freshenOrder(
      JSON.parse(readFileSync(join(options.ordersDir, file), 'utf8')) as Record<string, unknown>,
      runId,
    );
    const seller = keys.get(String(order.ebcCode));
    if (!seller) {
      summary.rejectedOrders.push({
        file,
        problems: `no development seller account declares for ebcCode ${String(order.ebcCode)}`,
      });
      continue;
    }
    const res = await fetch(`${base}/v1/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${seller.key}` },
      body: JSON.stringify(order),
    });
    const body = (await res.json()) as {
      orders?: {
        outcome: string;
        declarations?: { id: string; messageType: string; center: string; status: string }[];
      }[];
      errors?: { path: string; message: string }[];
      detail?: string;
    };
    const outcome = body.orders?.[0];
    if (res.status !== 202 || !outcome?.declarations) {
      summary.rejectedOrders.push({
        file,
        problems: `${res.status} ${body.detail ?? ''} ${(body.errors ?? []).map((e) => `${e.path}: ${e.message}`).join('; ')}`,
      });
      continue;
    }
    summary.orders.push({ file, orderNo: String(order.orderNo), seller: seller.seller });
    for (const d of outcome.declarations)
      summary.declarations.push({
        id: d.id,
        orderNo: String(order.orderNo),
        messageType: d.messageType,
        center: d.center,
        status: d.status,
        terminal: false,
      });
    process.stdout.write(
      `submitted ${file} as ${seller.seller}: order ${String(order.orderNo)} → ${outcome.declarations.map((d) => `${d.messageType}@${d.center}`).join(', ')}\n`,
    );
  }

  const deadline = Date.now() + options.timeoutMs;
  while (summary.declarations.some((d) => !d.terminal) && Date.now() < deadline) {
    await sleep(500);
    for (const d of summary.declarations.filter((x) => !x.terminal)) {
      const res = await fetch(`${base}/v1/declarations/${d.id}`, {
        headers: { authorization: `Bearer ${DEV_KEYS.broker}` },
      });
      if (!res.ok) continue;
      const view = (await res.json()) as { status: string; terminal: boolean };
      if (view.status !== d.status)
        process.stdout.write(`  ${d.orderNo} ${d.messageType.padEnd(6)} ${d.status.padStart(9)} → ${view.status}\n`);
      d.status = view.status;
      d.terminal = view.terminal;
    }
  }
  summary.elapsedMs = Date.now() - started;
  return summary;
}

function printSummary(summary: StackSummary): void {
  const lines = ['', `Declarations (${summary.declarations.length}) after ${(summary.elapsedMs / 1000).toFixed(1)} s:`];
  for (const d of summary.declarations)
    lines.push(
      `  ${d.orderNo.padEnd(30)} ${d.messageType.padEnd(7)} ${d.center.padEnd(4)} ${d.status.padEnd(9)} ${d.terminal ? 'final' : 'NOT FINAL'}`,
    );
  for (const r of summary.rejectedOrders) lines.push(`  REJECTED ${r.file}: ${r.problems}`);
  const final = summary.declarations.filter((d) => d.terminal).length;
  lines.push(
    `${summary.orders.length} orders accepted, ${summary.rejectedOrders.length} rejected; ${final}/${summary.declarations.length} declarations final.`,
  );
  process.stdout.write(lines.join('\n') + '\n');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
