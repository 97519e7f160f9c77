import type { Command } from 'commander';
import { CliError } from '../cli-error';
import {
  GatewayClient,
  describeFetchError,
  gatewayError,
  withConnectionOptions,
  SseParser,
  type ConnectionOptions,
} from '../http-client';

/**
 * `baygate watch`: follows GET /v1/stream and prints one line per status change. When the connection
 * drops it reconnects with the last event id it saw (Last-Event-ID), so nothing is missed; authentication
 * and permission errors are final.
 */
interface StatusEvent {
  declarationId: string;
  orderNo: string;
  messageType: string;
  center: string;
  status: string;
  label: { zh: string; en: string };
  at: string;
}

export function formatEvent(e: StatusEvent): string {
  return `${e.at}  ${e.orderNo}  ${e.messageType}  ${e.center}  ${e.status}  ${e.label.zh} (${e.label.en})  ${e.declarationId}`;
}

export interface WatchOptions {
  lastEventId?: string;
  /** Stop after this many events (scripts, tests). */
  count?: number;
  json?: boolean;
  out?: (line: string) => void;
  log?: (line: string) => void;
  signal?: AbortSignal;
  /** Longest wait between reconnection attempts. */
  maxBackoffMs?: number;
}

export async function watch(client: GatewayClient, options: WatchOptions): Promise<number> {
  const out = options.out ?? ((line: string) => process.stdout.write(line + '\n'));
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  let lastEventId = options.lastEventId;
  let seen = 0;
  let failures = 0;
  let retryMs = 1000;
  const controller = new AbortController();
  options.signal?.addEventListener('abort', () => controller.abort(), { once: true });
  while (!controller.signal.aborted) {
    let res: Response | undefined;
    try {
      res = await client.openStream('/v1/stream', lastEventId, controller.signal);
    } catch (err) {
      if (controller.signal.aborted) break;
      log(`watch: cannot reach ${client.baseUrl} (${describeFetchError(err)}); retrying`);
    }
    if (res) {
      if (res.status === 401 || res.status === 403 || res.status === 400) {
        const text = await res.text();
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON: the text is the message
        }
        throw new CliError(gatewayError(res.status, body).message, 1);
      }
      if (res.ok && res.body) {
        failures = 0;
        const parser = new SseParser();
        const decoder = new TextDecoder();
        try {
          for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
            for (const message of parser.push(decoder.decode(chunk, { stream: true }))) {
              if (message.id) lastEventId = message.id;
              if (message.event !== 'status') continue;
              let event: StatusEvent;
              try {
                event = JSON.parse(message.data) as StatusEvent;
              } catch {
                continue;
              }
              out(options.json ? JSON.stringify({ id: message.id, ...event }) : formatEvent(event));
              seen += 1;
              if (options.count !== undefined && seen >= options.count) {
                controller.abort();
                return seen;
              }
            }
          }
        } catch (err) {
          if (controller.signal.aborted) break;
          log(`watch: stream interrupted (${describeFetchError(err)}); resuming after ${lastEventId ?? 'the start'}`);
        }
        if (parser.retryMs !== undefined) retryMs = parser.retryMs;
      } else {
        log(`watch: gateway answered ${res.status}; retrying`);
        await res.body?.cancel().catch(() => undefined);
      }
    }
    if (controller.signal.aborted) break;
    failures += 1;
    const wait = Math.min(options.maxBackoffMs ?? 30_000, retryMs * 2 ** Math.min(failures - 1, 5));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, wait);
      controller.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });
  }
  return seen;
}

export function register(program: Command): void {
  withConnectionOptions(
    program
      .command('watch')
      .description(
        'print each declaration status change as it happens (Server-Sent Events; reconnects where it left off)',
      )
      .option('--last-event-id <id>', 'start after this event (replays what happened since)')
      .option('--count <n>', 'exit after n events')
      .option('--json', 'one JSON object per line'),
  ).action(async (opts: ConnectionOptions & { lastEventId?: string; count?: string; json?: boolean }) => {
    const count = opts.count === undefined ? undefined : Number(opts.count);
    if (count !== undefined && (!Number.isInteger(count) || count < 1))
      throw new CliError(`--count must be a positive integer, got "${opts.count}"`, 2);
    if (opts.lastEventId !== undefined && !/^[0-9a-f]{24}$/i.test(opts.lastEventId))
      throw new CliError('--last-event-id must be an event id (24 hex digits)', 2);
    const client = new GatewayClient(opts);
    const controller = new AbortController();
    const stop = () => controller.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      await watch(client, { lastEventId: opts.lastEventId, count, json: opts.json, signal: controller.signal });
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  });
}
