/**
 * Extracts the error-code tables of §7 of the official CEB specification text into
 * mappings/codes/return-codes.json, so the receipt parser can explain negative `returnStatus` codes
 * (and the DXP platform's four-digit codes) without anyone retyping the spec.
 *
 *   npx tsx scripts/extract-return-codes.ts [../shared/ceb-2022/spec-2022-05.txt] [mappings/codes/return-codes.json]
 *
 * The text is a PDF dump: table rows are "…  <code>   <message>", a message may wrap onto following
 * indented lines, and the left columns carry range labels ("-301001  订单信息", "至-301017  错误",
 * "0001 至 0999") that are not codes. A code token is taken as a row only when it is the last code token
 * on its line, is not part of a "X 至 Y" range and is not alone at column 0 (a range label).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

export interface ReturnCodeEntry {
  code: string;
  message: string;
  /** `dxp`: transport platform table 7-1 (four digits); `business`: table 7-2 (negative). */
  table: 'dxp' | 'business';
  category: string;
}

/** Category of a code by its range, following the range column of tables 7-1 and 7-2. */
const CATEGORIES: ReadonlyArray<[RegExp, string]> = [
  [/^0\d{3}$/, 'message format'],
  [/^1\d{3}$/, 'message security'],
  [/^2\d{3}$/, 'message business logic'],
  [/^3\d{3}$/, 'system'],
  [/^[4-9]\d{3}$/, 'other'],
  [/^-101\d\d$/, 'enterprise'],
  [/^-301\d{3}$/, 'order'],
  [/^-401\d{3}$/, 'payment'],
  [/^-50[2-5]\d{3}$/, 'waybill'],
  [/^-621\d{3}$/, 'inventory'],
  [/^-623\d{3}$/, 'inventory cancel'],
  [/^-625\d{3}$/, 'inventory refund'],
  [/^-800\d{3}$/, 'warehouse entry'],
];

const CODE_TOKEN = /^-?\d{4,6}$/;

interface Token {
  text: string;
  start: number;
  end: number;
}

function tokens(line: string): Token[] {
  const out: Token[] = [];
  const re = /\S+/g;
  for (let m = re.exec(line); m; m = re.exec(line))
    out.push({ text: m[0], start: m.index, end: m.index + m[0].length });
  return out;
}

export function extractReturnCodes(specText: string): ReturnCodeEntry[] {
  const lines = specText.split(/\r?\n/);
  // The table of contents lists the same headings; the section itself is the last occurrence.
  let start = -1;
  lines.forEach((l, i) => {
    if (/^7\.\s*错误信息\s*$/.test(l.trim())) start = i;
  });
  const end = lines.findIndex((l, i) => i > start && /^8\.\s*报文对接流程/.test(l.trim()));
  if (start < 0 || end < 0) throw new Error('§7 (错误信息) not found in the specification text');

  const entries: ReturnCodeEntry[] = [];
  let table: ReturnCodeEntry['table'] | undefined;
  let open: { entry: ReturnCodeEntry; messageColumn: number } | undefined;

  for (const line of lines.slice(start + 1, end)) {
    if (/表\s*7-1/.test(line)) {
      table = 'dxp';
      open = undefined;
      continue;
    }
    if (/7-2/.test(line) && /错误信息及其代码/.test(line)) {
      table = 'business';
      open = undefined;
      continue;
    }
    if (!table) continue;
    if (line.trim() === '' || /^\s*\d{1,3}\s*$/.test(line)) {
      open = undefined;
      continue;
    } // blank or page number
    const toks = tokens(line);
    let row: { code: Token; rest: string; messageColumn: number } | undefined;
    for (let i = toks.length - 1; i >= 0; i--) {
      const t = toks[i] as Token;
      if (!CODE_TOKEN.test(t.text)) continue;
      const inRange = toks[i - 1]?.text === '至' || toks[i + 1]?.text === '至';
      const rangeLabel = t.start === 0 && !toks.slice(i + 1).some((u) => CODE_TOKEN.test(u.text));
      const next = toks[i + 1];
      if (!inRange && !rangeLabel && next)
        row = { code: t, rest: line.slice(next.start).trim(), messageColumn: next.start };
      break;
    }
    if (row) {
      const code = row.code.text;
      const category = CATEGORIES.find(([re]) => re.test(code))?.[1] ?? 'unknown';
      const entry: ReturnCodeEntry = { code, message: row.rest.replace(/\s+/g, ' '), table, category };
      entries.push(entry);
      open = { entry, messageColumn: row.messageColumn };
      continue;
    }
    // A wrapped message continues on an indented line whose text reaches the message column.
    if (open && line.length > open.messageColumn - 2) {
      const tail = line.slice(Math.max(0, open.messageColumn - 2)).trim();
      const headText = line.slice(0, Math.max(0, open.messageColumn - 2)).trim();
      if (tail && !CODE_TOKEN.test(tail)) {
        open.entry.message += tail;
        if (headText) continue; // left columns carried a category label; the message part was taken
      }
    }
  }
  return entries;
}

export function toReturnCodeTable(entries: ReturnCodeEntry[], source: string): unknown {
  const codes: Record<string, { messages: string[]; table: string; category: string }> = {};
  for (const e of entries) {
    const slot = codes[e.code] ?? (codes[e.code] = { messages: [], table: e.table, category: e.category });
    if (!slot.messages.includes(e.message)) slot.messages.push(e.message);
  }
  return {
    source,
    note:
      'Generated by scripts/extract-return-codes.ts from §7 of the specification text; do not edit by hand. ' +
      'A code can carry several messages when the specification lists it twice.',
    codes,
  };
}

const isMain = process.argv[1] && resolve(process.argv[1]).endsWith('extract-return-codes.ts');
if (isMain) {
  const specPath = resolve(process.argv[2] ?? '../shared/ceb-2022/spec-2022-05.txt');
  const outPath = resolve(process.argv[3] ?? 'mappings/codes/return-codes.json');
  const entries = extractReturnCodes(readFileSync(specPath, 'utf8'));
  const json = toReturnCodeTable(entries, 'CEB specification 2022-05, §7 错误信息 (tables 7-1 and 7-2)');
  writeFileSync(outPath, JSON.stringify(json, null, 2) + '\n');
  process.stdout.write(`wrote ${entries.length} code rows to ${outPath}\n`);
}
