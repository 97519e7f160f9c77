import type { Command } from 'commander';
import { CliError } from './cli-error';

/**
 * The CLI's HTTP client for a running gateway: base URL and API key from `--url`/`--key` or the
 * BAYGATE_URL/BAYGATE_API_KEY environment variables, problem+json errors turned into one readable line,
 * and a Server-Sent Events reader for `baygate watch`.
 */
export const DEFAULT_URL = 'http://127.0.0.1:8080';

export interface ConnectionOptions {
  url?: string;
  key?: string;
}

/** Adds --url and --key to a command. */
export function withConnectionOptions(command: Command): Command {
  return command
    .option('--url <url>', `gateway base URL (env BAYGATE_URL, default ${DEFAULT_URL})`)
    .option('--key <apiKey>', 'API key "<keyId>.<secret>" (env BAYGATE_API_KEY)');
}

export interface ProblemBody {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  errors?: { path: string; code: string; message: string }[];
  [extension: string]: unknown;
}

export class GatewayError extends Error {
  constructor(
    public readonly status: number,
    public readonly problem: ProblemBody | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'GatewayError';
  }
}

export class GatewayClient {
  readonly baseUrl: string;
  private readonly key: string;

  constructor(options: ConnectionOptions, env: NodeJS.ProcessEnv = process.env) {
    const url = options.url ?? env.BAYGATE_URL ?? DEFAULT_URL;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new CliError(`--url "${url}" is not a URL (e.g. ${DEFAULT_URL})`, 2);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new CliError(`--url must be http:// or https://, got "${url}"`, 2);
    this.baseUrl = parsed.toString().replace(/\/+$/, '');
    const key = options.key ?? env.BAYGATE_API_KEY;
    if (!key) throw new CliError('no API key: pass --key <keyId.secret> or set BAYGATE_API_KEY', 2);
    this.key = key;
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { authorization: `Bearer ${this.key}`, accept: 'application/json', ...extra };
  }

  url(path: string, query: Record<string, string | undefined> = {}): string {
    const u = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') u.searchParams.set(k, v);
    return u.toString();
  }

  /** Sends a request; returns status and parsed JSON. Network failures become a CliError naming the URL. */
  async send(
    method: string,
    path: string,
    options: { query?: Record<string, string | undefined>; body?: unknown; signal?: AbortSignal } = {},
  ): Promise<{ status: number; body: unknown; headers: Headers }> {
    let res: Response;
    try {
      res = await fetch(this.url(path, options.query), {
        method,
        headers: this.headers(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (err) {
      throw new CliError(`cannot reach the gateway at ${this.baseUrl}: ${describeFetchError(err)}`, 1);
    }
    const text = await res.text();
    let body: unknown = undefined;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    return { status: res.status, body, headers: res.headers };
  }

  /** GET that must succeed (2xx); anything else throws a GatewayError with the problem's words. */
  async getJson<T>(path: string, query: Record<string, string | undefined> = {}): Promise<T> {
    const res = await this.send('GET', path, { query });
    if (res.status < 200 || res.status >= 300) throw gatewayError(res.status, res.body);
    return res.body as T;
  }

  /** Opens the event stream (fetch with the key in a header: EventSource cannot send one). */
  async openStream(path: string, lastEventId: string | undefined, signal: AbortSignal): Promise<Response> {
    return fetch(this.url(path), {
      headers: this.headers({ accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) }),
      signal,
    });
  }
}

export function describeFetchError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (err as Error)?.message ?? String(err);
}

export function gatewayError(status: number, body: unknown): GatewayError {
  const problem = typeof body === 'object' && body !== null ? (body as ProblemBody) : undefined;
  const detail = problem?.detail ?? problem?.title ?? (typeof body === 'string' ? body.slice(0, 200) : '');
  const fields = (problem?.errors ?? []).slice(0, 5).map((e) => `${e.path}: ${e.message}`);
  return new GatewayError(
    status,
    problem,
    `gateway answered ${status}${detail ? `: ${detail}` : ''}${fields.length ? ` (${fields.join('; ')})` : ''}`,
  );
}

/** A GatewayError as the CLI reports it (auth problems are exit 1 too: the command could not do its job). */
export function toCliError(err: unknown): unknown {
  if (err instanceof GatewayError) return new CliError(err.message, 1);
  return err;
}

export interface SseMessage {
  id?: string;
  event: string;
  data: string;
  retry?: number;
}

/**
 * Incremental text/event-stream parser (the WHATWG rules: fields per line, blank line dispatches,
 * comment lines ignored, CR/LF/CRLF endings).
 */
export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private event = '';
  private id: string | undefined;
  private retry: number | undefined;
  /** The server's latest reconnection delay (`retry:`), if it sent one. */
  retryMs: number | undefined;

  push(chunk: string): SseMessage[] {
    this.buffer += chunk;
    const out: SseMessage[] = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buffer);
      if (!m) break;
      // A lone CR at the very end may be the first half of CRLF: wait for more.
      if (m[0] === '\r' && m.index === this.buffer.length - 1) break;
      const line = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      if (line === '') {
        if (this.data.length > 0)
          out.push({
            ...(this.id !== undefined ? { id: this.id } : {}),
            event: this.event || 'message',
            data: this.data.join('\n'),
            ...(this.retry !== undefined ? { retry: this.retry } : {}),
          });
        this.data = [];
        this.event = '';
        this.retry = undefined;
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'data') this.data.push(value);
      else if (field === 'event') this.event = value;
      else if (field === 'id' && !value.includes('\u0000')) this.id = value;
      else if (field === 'retry' && /^\d+$/.test(value)) this.retry = this.retryMs = Number(value);
    }
    return out;
  }

  /** The last event id seen (kept across events, as the spec says). */
  get lastEventId(): string | undefined {
    return this.id;
  }
}
