import type { ParameterizedContext } from 'koa';
import { problems } from '../problem';

/**
 * Request bodies read by hand (not a generic body parser) so every failure is a precise problem+json:
 * too large → 413 (the stream is abandoned as soon as the limit is passed, never buffered whole),
 * wrong media type → 415, malformed JSON / NDJSON → 400 naming the line and column.
 */
export async function readRawBody(ctx: ParameterizedContext, limitBytes: number): Promise<Buffer> {
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

/** The media type without parameters, lower-cased ('' when absent). */
export function mediaType(ctx: ParameterizedContext): string {
  return (ctx.get('Content-Type').split(';')[0] ?? '').trim().toLowerCase();
}

export function requireMediaType(ctx: ParameterizedContext, allowed: readonly string[]): string {
  const type = mediaType(ctx);
  if (!allowed.includes(type)) {
    throw problems.unsupportedMediaType(`Content-Type must be ${allowed.join(' or ')}${type ? `, not ${type}` : ''}.`);
  }
  return type;
}

/** Line and column (1-based) of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/** JSON.parse with a 400 problem naming the line and column of the first error. */
export function parseJson(text: string, what = 'request body'): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const at = /position (\d+)/.exec(message);
    const offset = at ? Number(at[1]) : text.length;
    const { line, column } = lineColumn(text, offset);
    throw problems.badRequest(`The ${what} is not valid JSON: error at line ${line}, column ${column}.`, [
      { path: '', code: 'MALFORMED_JSON', message: `${stripPosition(message)} (line ${line}, column ${column})`, messageZh: `JSON 格式错误（第 ${line} 行第 ${column} 列）` },
    ]);
  }
}

/** One JSON value per non-blank line; 400 naming the first bad line. Returns the values with their line numbers. */
export function parseNdjson(text: string, maxRecords: number): { values: unknown[]; lines: number[] } {
  const values: unknown[] = [];
  const lines: number[] = [];
  const rows = text.split('\n');
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!.replace(/\r$/, '');
    if (row.trim() === '') continue;
    if (values.length >= maxRecords) {
      throw problems.payloadTooLarge(`An NDJSON batch may hold at most ${maxRecords} orders; line ${i + 1} is order ${maxRecords + 1}.`);
    }
    try {
      values.push(JSON.parse(row));
      lines.push(i + 1);
    } catch (err) {
      const at = /position (\d+)/.exec((err as Error).message);
      const column = at ? Number(at[1]) + 1 : row.length;
      throw problems.badRequest(`NDJSON line ${i + 1} is not valid JSON (column ${column}).`, [
        { path: '', code: 'MALFORMED_NDJSON', message: `line ${i + 1}, column ${column}: ${stripPosition((err as Error).message)}`, messageZh: `NDJSON 第 ${i + 1} 行不是有效的 JSON（第 ${column} 列）` },
      ]);
    }
  }
  return { values, lines };
}

function stripPosition(message: string): string {
  return message.replace(/\s*(in JSON )?at position \d+.*$/, '').replace(/\s*\(line \d+ column \d+\)$/, '');
}
