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

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The body as UTF-8, refusing invalid byte sequences with 400: a lenient decode would silently turn them
 * into U+FFFD and declare data the seller never sent (docs/CHAOS.md, finding 10 of the fuzz run).
 */
export function decodeUtf8(body: Buffer, what = 'request body'): string {
  try {
    return strictUtf8.decode(body);
  } catch {
    const bad = firstInvalidUtf8(body);
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

function firstInvalidUtf8(body: Buffer): number {
  // Everything before the first replacement character of a lenient decode is valid UTF-8, so its byte
  // length is where the bad sequence starts (exact unless the body itself contains U+FFFD earlier).
  const lenient = body.toString('utf8');
  const at = lenient.indexOf('\uFFFD');
  return at === -1 ? 0 : Buffer.byteLength(lenient.slice(0, at), 'utf8');
}

/** JSON.parse with a 400 problem naming the line and column of the first error. */
export function parseJson(text: string, what = 'request body'): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const at = /position (\d+)/.exec(message);
    const offset = at ? Number(at[1]) : jsonErrorOffset(text);
    const { line, column } = lineColumn(text, offset);
    throw problems.badRequest(`The ${what} is not valid JSON: error at line ${line}, column ${column}.`, [
      {
        path: '',
        code: 'MALFORMED_JSON',
        message: `${stripPosition(message)} (line ${line}, column ${column})`,
        messageZh: `JSON 格式错误（第 ${line} 行第 ${column} 列）`,
      },
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
      throw problems.payloadTooLarge(
        `An NDJSON batch may hold at most ${maxRecords} orders; line ${i + 1} is order ${maxRecords + 1}.`,
      );
    }
    try {
      values.push(JSON.parse(row));
      lines.push(i + 1);
    } catch (err) {
      const at = /position (\d+)/.exec((err as Error).message);
      const column = (at ? Number(at[1]) : jsonErrorOffset(row)) + 1;
      throw problems.badRequest(`NDJSON line ${i + 1} is not valid JSON (column ${column}).`, [
        {
          path: '',
          code: 'MALFORMED_NDJSON',
          message: `line ${i + 1}, column ${column}: ${stripPosition((err as Error).message)}`,
          messageZh: `NDJSON 第 ${i + 1} 行不是有效的 JSON（第 ${column} 列）`,
        },
      ]);
    }
  }
  return { values, lines };
}

function stripPosition(message: string): string {
  return message.replace(/\s*(in JSON )?at position \d+.*$/, '').replace(/\s*\(line \d+ column \d+\)$/, '');
}

/**
 * Offset of the first JSON syntax error. V8 names the position for some errors only ("Unexpected token"
 * has none), so on failure the text is scanned once more by this small validator (iterative: no recursion
 * limit on deeply nested input). Only used after JSON.parse failed.
 */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const n = text.length;
  const ws = () => {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const string = (): boolean => {
    i++; // opening quote
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 34) {
        i++;
        return true;
      }
      if (c < 32) return false;
      if (c === 92) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            i += 2;
            return false;
          }
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else {
          i++;
          return false;
        }
      } else i++;
    }
    return false;
  };
  const scalar = (): boolean => {
    const c = text[i];
    if (c === '"') return string();
    for (const word of ['true', 'false', 'null']) {
      if (c === word[0]) {
        for (let k = 0; k < word.length; k++, i++) if (text[i] !== word[k]) return false;
        return true;
      }
    }
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m || m[0] === '' || m[0] === '-') return false;
    i += m[0].length;
    return true;
  };
  // Stack of containers: '[' or '{'; after each value we expect ',' or the closer.
  const stack: string[] = [];
  ws();
  for (;;) {
    // expect a value
    ws();
    if (i >= n) return i;
    const c = text[i];
    if (c === '[' || c === '{') {
      stack.push(c);
      i++;
      ws();
      if (c === '[' && text[i] === ']') {
        stack.pop();
        i++;
      } else if (c === '{') {
        if (text[i] === '}') {
          stack.pop();
          i++;
        } else {
          if (text[i] !== '"' || !string()) return i;
          ws();
          if (text[i] !== ':') return i;
          i++;
          continue;
        }
      } else continue;
    } else if (!scalar()) return i;
    // after a value
    for (;;) {
      ws();
      const top = stack[stack.length - 1];
      if (top === undefined) return i < n ? i : n;
      if (i >= n) return i;
      if (text[i] === ',') {
        i++;
        if (top === '{') {
          ws();
          if (text[i] !== '"' || !string()) return i;
          ws();
          if (text[i] !== ':') return i;
          i++;
        }
        break;
      }
      if ((top === '[' && text[i] === ']') || (top === '{' && text[i] === '}')) {
        stack.pop();
        i++;
        continue;
      }
      return i;
    }
  }
}
