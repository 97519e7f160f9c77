import { problems } from '../problem';

/**
 * JSON and NDJSON text → values, with every failure a 400 problem naming the line and column, so a
 * client can find its mistake in a 16 MiB batch.
 */

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
