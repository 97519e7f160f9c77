import type { Middleware, ParameterizedContext } from 'koa';
import type { z } from 'zod';
import { problems } from '../problem';
import type { RequestState } from '../state';
import { parseJson, parseNdjson } from './json-text';

/**
 * The one place a request body is read and decoded. A route that takes a body puts `body({...})` in front
 * of its handler; the middleware enforces, in this order, and changes nothing when one fails:
 *   415 Content-Type is not one the route accepts;
 *   413 the body is larger than the route's limit (refused from Content-Length when it says so, else the
 *       stream is abandoned as soon as the limit is passed — never buffered whole);
 *   400 the bytes are not strict UTF-8 (a lenient decode would turn them into U+FFFD and declare data the
 *       sender never sent), or not JSON / NDJSON (naming line and column);
 * and leaves a typed RequestBody on `ctx.state.body`. The raw bytes stay with it (Idempotency-Key hashes
 * them); handlers read the decoded value through bodyOf / jsonBody.
 */
export type RequestBody =
  | { kind: 'json'; raw: Buffer; value: unknown }
  | { kind: 'ndjson'; raw: Buffer; values: unknown[]; lines: number[] }
  | { kind: 'xml'; raw: Buffer; text: string };

const KINDS = {
  'application/json': 'json',
  'application/x-ndjson': 'ndjson',
  'application/xml': 'xml',
  'text/xml': 'xml',
} as const satisfies Record<string, RequestBody['kind']>;

export type BodyMediaType = keyof typeof KINDS;

export interface BodyOptions {
  accept: readonly BodyMediaType[];
  limitBytes: number;
  /** NDJSON: most records (a line past it is 413). */
  maxRecords?: number;
}

export function body(options: BodyOptions): Middleware<RequestState> {
  return async (ctx, next) => {
    const type = requireMediaType(ctx, options.accept);
    const raw = await readRawBody(ctx, options.limitBytes);
    const text = decodeUtf8(raw);
    const kind = KINDS[type];
    if (kind === 'json') ctx.state.body = { kind, raw, value: parseJson(text) };
    else if (kind === 'ndjson')
      ctx.state.body = { kind, raw, ...parseNdjson(text, options.maxRecords ?? Number.MAX_SAFE_INTEGER) };
    else ctx.state.body = { kind, raw, text };
    await next();
  };
}

/** The decoded body; a route without the body middleware asking for one is a bug (500). */
export function bodyOf(ctx: { state: RequestState }): RequestBody {
  const read = ctx.state.body;
  if (!read) throw new Error('bodyOf: this route has no body middleware');
  return read;
}

/** The parsed JSON value of a route that accepts only application/json. */
export function jsonBody(ctx: { state: RequestState }): unknown {
  const read = bodyOf(ctx);
  if (read.kind !== 'json') throw new Error(`jsonBody: the body is ${read.kind}`);
  return read.value;
}

/**
 * A JSON body validated against `schema`: the typed value, or 422 with one error per field (JSON Pointer
 * paths like /reason, UNKNOWN_FIELD for fields the schema does not know).
 */
export function validBody<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw problems.validation(
    `The ${what} is invalid; nothing was stored.`,
    parsed.error.issues.map((i) => ({
      path: '/' + i.path.map(String).join('/'),
      code: i.code === 'unrecognized_keys' ? 'UNKNOWN_FIELD' : 'INVALID_FIELD',
      message: i.message,
      messageZh: `字段无效：${i.message}`,
    })),
  );
}

async function readRawBody(ctx: ParameterizedContext, limitBytes: number): Promise<Buffer> {
  const declared = Number(ctx.get('Content-Length'));
  if (Number.isFinite(declared) && declared > limitBytes) throw tooLarge(limitBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) {
      ctx.req.unpipe?.();
      ctx.req.resume(); // drain the rest without keeping it, so the 413 can still be written
      throw tooLarge(limitBytes);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

function tooLarge(limitBytes: number) {
  return problems.payloadTooLarge(`The request body exceeds ${formatBytes(limitBytes)}.`);
}

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${Math.round((n / 1024 / 1024) * 10) / 10} MiB` : `${Math.round(n / 1024)} KiB`;
}

function requireMediaType(ctx: ParameterizedContext, allowed: readonly BodyMediaType[]): BodyMediaType {
  const type = (ctx.get('Content-Type').split(';')[0] ?? '').trim().toLowerCase();
  const match = allowed.find((a) => a === type);
  if (!match)
    throw problems.unsupportedMediaType(`Content-Type must be ${allowed.join(' or ')}${type ? `, not ${type}` : ''}.`);
  return match;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The bytes as UTF-8, refusing invalid byte sequences with 400 naming the offset of the first one. */
export function decodeUtf8(raw: Buffer, what = 'request body'): string {
  try {
    return strictUtf8.decode(raw);
  } catch {
    const bad = firstInvalidUtf8(raw);
    throw problems.badRequest(`The ${what} is not valid UTF-8 (first invalid byte at offset ${bad}).`, [
      {
        path: '',
        code: 'INVALID_UTF8',
        message: `invalid UTF-8 byte sequence at byte offset ${bad}`,
        messageZh: `请求内容不是有效的 UTF-8 编码（字节偏移 ${bad}）`,
      },
    ]);
  }
}

function firstInvalidUtf8(raw: Buffer): number {
  // Everything before the first replacement character of a lenient decode is valid UTF-8, so its byte
  // length is where the bad sequence starts (exact unless the body itself contains U+FFFD earlier).
  const lenient = raw.toString('utf8');
  const at = lenient.indexOf('\uFFFD');
  return at === -1 ? 0 : Buffer.byteLength(lenient.slice(0, at), 'utf8');
}
