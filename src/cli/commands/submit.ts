import { stripBom } from '../../xml/bom';
import { readFileSync } from 'node:fs';
import { SingleBar, Presets } from 'cli-progress';
import type { Command } from 'commander';
import { CliError } from '../cli-error';
import { GatewayClient, gatewayError, toCliError, withConnectionOptions, type ConnectionOptions } from '../http-client';

/**
 * `baygate submit <orders.json|orders.ndjson> [--source fmt] [--atomic]`: sends orders to the gateway
 * (POST /v1/orders) in batches of at most 1,000 and prints what was accepted and why anything was not.
 * Exit 0 = every order accepted (or already known), 1 = some rejected or the gateway failed, 2 = usage.
 */
export const MAX_BATCH = 1000;

interface OrderOutcome {
  index: number;
  orderNo?: string;
  outcome: 'accepted' | 'duplicate' | 'rejected';
  declarations?: { id: string; messageType: string; center: string; status: string }[];
  /** Field errors: path is a JSON Pointer prefixed with the order's index (/orders/3/items/0/price). */
  errors?: { path: string; code: string; message: string; messageZh?: string }[];
}

interface SubmitResponse {
  accepted?: number;
  duplicates?: number;
  rejected?: number;
  orders: OrderOutcome[];
}

/** Reads a JSON array (or one order, or {orders: […]}) or NDJSON file; errors name the file and line. */
export function readOrders(file: string): unknown[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 2);
  }
  text = stripBom(text); // Windows exports often start with a byte-order mark
  const trimmed = text.trim();
  if (trimmed === '')
    throw new CliError(`${file} is empty: expected a JSON array of orders or one order per line (NDJSON)`, 2);
  const ndjson = /\.(ndjson|jsonl)$/i.test(file) || (!trimmed.startsWith('[') && /\}\s*\r?\n\s*\{/.test(trimmed));
  if (ndjson) {
    const orders: unknown[] = [];
    text.split(/\r?\n/).forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        orders.push(JSON.parse(line));
      } catch (err) {
        throw new CliError(`${file} line ${i + 1}: not valid JSON (${(err as Error).message})`, 2);
      }
    });
    return orders;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch (err) {
    throw new CliError(`${file}: not valid JSON (${(err as Error).message})`, 2);
  }
  if (Array.isArray(parsed)) return parsed;
  if (typeof parsed === 'object' && parsed !== null && Array.isArray((parsed as { orders?: unknown }).orders))
    return (parsed as { orders: unknown[] }).orders;
  if (typeof parsed === 'object' && parsed !== null) return [parsed];
  throw new CliError(`${file}: expected a JSON array of orders, one order object, or NDJSON`, 2);
}

interface Progress {
  update(done: number): void;
  stop(): void;
}

function progress(total: number, stream: NodeJS.WriteStream, enabled: boolean): Progress {
  if (!enabled) return { update: () => undefined, stop: () => undefined };
  if (stream.isTTY) {
    const bar = new SingleBar(
      { format: 'submitting [{bar}] {value}/{total} orders | {percentage}% | ETA {eta}s', stream, hideCursor: true },
      Presets.shades_classic,
    );
    bar.start(total, 0);
    return { update: (done) => bar.update(done), stop: () => bar.stop() };
  }
  return { update: (done) => stream.write(`submitted ${done}/${total} orders\n`), stop: () => undefined };
}

function errorText(e: NonNullable<OrderOutcome['errors']>[number]): string {
  return `${e.path}: ${e.message}${e.messageZh ? ` / ${e.messageZh}` : ''} [${e.code}]`;
}

/** Pulls the per-order outcomes out of a 2xx answer or a 4xx problem that carries them. */
function outcomesOf(status: number, body: unknown): SubmitResponse | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const orders = (body as { orders?: unknown }).orders;
  if (!Array.isArray(orders)) return undefined;
  if (status >= 500) return undefined;
  return body as SubmitResponse;
}

export async function submitOrders(
  client: GatewayClient,
  orders: unknown[],
  options: {
    source?: string;
    atomic?: boolean;
    batchSize?: number;
    progress?: boolean;
    out?: NodeJS.WriteStream;
    err?: NodeJS.WriteStream;
  },
): Promise<{ accepted: number; duplicates: number; rejected: number; orders: OrderOutcome[] }> {
  const batchSize = options.batchSize ?? MAX_BATCH;
  const err = options.err ?? process.stderr;
  const bar = progress(orders.length, err, options.progress ?? true);
  const all: OrderOutcome[] = [];
  try {
    for (let offset = 0; offset < orders.length; offset += batchSize) {
      const batch = orders.slice(offset, offset + batchSize);
      const res = await client.send('POST', '/v1/orders', {
        query: { ...(options.source ? { source: options.source } : {}), ...(options.atomic ? { atomic: 'true' } : {}) },
        body: batch,
      });
      const result = outcomesOf(res.status, res.body);
      if (!result) {
        const e = gatewayError(res.status, res.body);
        throw new CliError(
          `batch of orders ${offset + 1}–${offset + batch.length}: ${e.message}${offset > 0 ? ` (orders 1–${offset} were sent)` : ''}`,
          1,
        );
      }
      for (const o of result.orders) all.push({ ...o, index: offset + (typeof o.index === 'number' ? o.index : 0) });
      bar.update(Math.min(orders.length, offset + batch.length));
    }
  } finally {
    bar.stop();
  }
  return {
    accepted: all.filter((o) => o.outcome === 'accepted').length,
    duplicates: all.filter((o) => o.outcome === 'duplicate').length,
    rejected: all.filter((o) => o.outcome === 'rejected').length,
    orders: all,
  };
}

export function register(program: Command): void {
  withConnectionOptions(
    program
      .command('submit')
      .description(
        'submit orders (JSON array or NDJSON) to a running gateway; exit 0 all accepted, 1 any rejected, 2 usage',
      )
      .argument('<file>', 'orders.json (array, or one order) or orders.ndjson (one order per line)')
      .option('--source <format>', 'source format of the orders (a mapping in mappings/sources/)')
      .option('--atomic', 'all or nothing: if any order is invalid none is stored (at most 1,000 orders)')
      .option('--batch-size <n>', `orders per request (1–${MAX_BATCH})`, String(MAX_BATCH))
      .option('--json', 'print the combined result as JSON')
      .option('--no-progress', 'no progress bar or progress lines'),
  ).action(
    async (
      file: string,
      opts: ConnectionOptions & {
        source?: string;
        atomic?: boolean;
        batchSize: string;
        json?: boolean;
        progress: boolean;
      },
    ) => {
      const batchSize = Number(opts.batchSize);
      if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH)
        throw new CliError(`--batch-size must be an integer from 1 to ${MAX_BATCH}, got "${opts.batchSize}"`, 2);
      if (opts.source !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(opts.source))
        throw new CliError(`--source "${opts.source}" is not a format name`, 2);
      const orders = readOrders(file);
      if (orders.length === 0) throw new CliError(`${file} holds no orders`, 2);
      if (opts.atomic && orders.length > batchSize)
        throw new CliError(
          `--atomic needs the whole file in one request: ${orders.length} orders is more than ${batchSize}`,
          2,
        );
      const client = new GatewayClient(opts);
      let result;
      try {
        result = await submitOrders(client, orders, {
          source: opts.source,
          atomic: opts.atomic,
          batchSize,
          progress: opts.progress && !opts.json,
        });
      } catch (err) {
        throw toCliError(err);
      }
      if (opts.json) {
        process.stdout.write(JSON.stringify(result, null, 2) + '\n');
      } else {
        const lines: string[] = [];
        for (const o of result.orders) {
          const label = `#${o.index + 1}${o.orderNo ? ` ${o.orderNo}` : ''}`;
          if (o.outcome === 'rejected') {
            lines.push(`REJECTED ${label}`);
            for (const e of o.errors ?? []) lines.push(`  ${errorText(e)}`);
          } else {
            const decls = (o.declarations ?? []).map((d) => `${d.messageType}@${d.center}`).join(', ');
            lines.push(`${o.outcome === 'duplicate' ? 'DUPLICATE' : 'ACCEPTED'} ${label}${decls ? ` → ${decls}` : ''}`);
          }
        }
        lines.push(
          `${result.accepted} accepted, ${result.duplicates} already known, ${result.rejected} rejected (of ${orders.length} orders)`,
        );
        process.stdout.write(lines.join('\n') + '\n');
      }
      if (result.rejected > 0) process.exitCode = 1;
    },
  );
}
