import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { identityFiles } from '../../../src/centers/identities';
import { buildReceipt } from '../../../src/centers/simulator/receipt-builder';
import type { MessageType } from '../../../src/domain/message-types';
import { SoftwareXmlSigner } from '../../../src/signing/signers/software';
import { loadTrustLists } from '../../../src/signing/trust';
import { trustListCheck } from '../../../src/signing/trust-check';
import { generateValidOrder, seededRandom } from '../order-generator';
import { ROOT } from './processes';

/**
 * Bad input at scale: random and mutated requests for POST /v1/orders and POST /v1/receipts, from a
 * seeded PRNG (the seed reproduces the run), and the judge of every answer.
 *
 * Each case says whether it MUST be refused (malformed JSON, wrong media type, oversize, tampered
 * signature…) or MAY turn out valid (a mutated order can still be a valid order; a receipt built with odd
 * values and then properly signed is a genuine receipt). Any 5xx, any error that is not
 * application/problem+json, any 2xx for a must-refuse case and any request left without an answer is a
 * failure. What the 2xx answers stored is added up, so the caller can check that the collections grew by
 * exactly that much and nothing else (nothing invalid stored).
 */
export interface FuzzCase {
  kind: string;
  path: '/v1/orders' | '/v1/receipts';
  query?: string;
  headers: Record<string, string>;
  body: Buffer;
  /** true: a 2xx is acceptable (the mutation may have left a valid request); false: must be a 4xx. */
  mayBeValid: boolean;
  note?: string;
}

export interface FuzzAuth {
  seller: string;
  /** Authorization header per center code (GD, GD2, HK, MO). */
  centers: Record<string, string>;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Rnd = () => number;

const pick = <T>(list: readonly T[], rnd: Rnd): T => list[Math.floor(rnd() * list.length)] as T;
const int = (min: number, max: number, rnd: Rnd) => min + Math.floor(rnd() * (max - min + 1));

/** Every path to a value in a JSON tree (arrays by index). */
function paths(value: Json, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value)) {
      out.push([...prefix, k]);
      paths(v, [...prefix, k], out);
    }
  }
  return out;
}

function parentOf(
  root: Json,
  path: (string | number)[],
): { parent: Json[] | Record<string, Json>; key: string | number } {
  let node: Json = root;
  for (const k of path.slice(0, -1)) node = (node as Record<string, Json>)[k as string] as Json;
  return { parent: node as Json[] | Record<string, Json>, key: path[path.length - 1] as string | number };
}

function setAt(root: Json, path: (string | number)[], value: Json): void {
  const { parent, key } = parentOf(root, path);
  (parent as Record<string, Json>)[key as string] = value;
}

function deleteAt(root: Json, path: (string | number)[]): void {
  const { parent, key } = parentOf(root, path);
  if (Array.isArray(parent)) parent.splice(key as number, 1);
  else delete parent[key as string];
}

function getAt(root: Json, path: (string | number)[]): Json {
  const { parent, key } = parentOf(root, path);
  return (parent as Record<string, Json>)[key as string] as Json;
}

/** A value of another JSON type than `v`. */
function flipType(v: Json, rnd: Rnd): Json {
  const options: Json[] = [
    null,
    true,
    false,
    0,
    -1,
    1e308,
    -0.000001,
    2 ** 53 + 1,
    '',
    ' ',
    '0',
    'true',
    'null',
    '１２３',
    [],
    [v],
    {},
    { value: v },
  ];
  const differ = options.filter(
    (o) => typeof o !== typeof v || Array.isArray(o) !== Array.isArray(v) || (o === null) !== (v === null),
  );
  return pick(differ, rnd);
}

function nudge(v: Json, rnd: Rnd): Json {
  if (typeof v === 'number')
    return pick([v + 0.01, v - 0.01, v * 10, -v, 0, v + 1e-9, Math.round(v), v / 3, Number.MAX_SAFE_INTEGER], rnd);
  if (typeof v === 'string') {
    return pick(
      [
        '',
        v + ' ',
        ' ' + v,
        v.toLowerCase(),
        v.slice(0, Math.max(0, v.length - 1)),
        v + v,
        v.replace(/\d/, 'X'),
        v + '\u0000',
        v + '\u202e\u200b',
        v + '😀',
        '\ud800' + v, // lone surrogate
        v + '<![CDATA[]]>&lt;<x/>',
        v + "' OR '1'='1",
        v + '{"$gt":""}',
        '$where',
      ],
      rnd,
    );
  }
  if (typeof v === 'boolean') return !v;
  return flipType(v, rnd);
}

function deepNest(depth: number, rnd: Rnd): string {
  const [open, close] = rnd() < 0.5 ? ['[', ']'] : ['{"a":', '}'];
  return open.repeat(depth) + '1' + close.repeat(depth);
}

function orderBase(seed: number): Record<string, Json> {
  return JSON.parse(JSON.stringify(generateValidOrder(seed))) as Record<string, Json>;
}

const PROTO_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  '__defineGetter__',
  'hasOwnProperty',
  'toString',
  'valueOf',
  'isAdmin',
  '$where',
  '$gt',
];

/** Builds the order cases. `seedBase` keeps every generated order (and its orderNo) unique across runs. */
export class OrderFuzzer {
  private n = 0;
  private turn = 0;
  constructor(
    private readonly rnd: Rnd,
    private readonly seedBase: number,
    private readonly auth: FuzzAuth,
  ) {}

  private fresh(): Record<string, Json> {
    return orderBase(this.seedBase + this.n++);
  }

  private json(kind: string, body: string | Buffer, mayBeValid: boolean, extra: Partial<FuzzCase> = {}): FuzzCase {
    return {
      kind,
      path: '/v1/orders',
      headers: { 'content-type': 'application/json', authorization: this.auth.seller, ...(extra.headers ?? {}) },
      body: Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'),
      mayBeValid,
      ...(extra.query ? { query: extra.query } : {}),
      ...(extra.note ? { note: extra.note } : {}),
    };
  }

  /** One random case; `heavy` allows the multi-megabyte ones. */
  next(heavy: boolean): FuzzCase {
    const rnd = this.rnd;
    const kinds = [
      'truncated',
      'corrupt',
      'type-flip',
      'missing',
      'extra',
      'proto',
      'nudge',
      'huge-string',
      'deep-nesting',
      'encoding',
      'ndjson',
      'non-object',
      'media-type',
      'batch-mixed',
      'query',
      'no-auth',
      'multi-mutation',
    ];
    if (heavy) kinds.push('batch-1001', 'oversize');
    // Kinds in turn (every kind is covered even by a short run), variants at random.
    const kind = kinds[this.turn++ % kinds.length] as string;
    const order = this.fresh();
    const text = JSON.stringify(order);
    const allPaths = paths(order);
    switch (kind) {
      case 'truncated':
        return this.json(kind, text.slice(0, int(0, text.length - 1, rnd)), false);
      case 'corrupt': {
        const at = int(0, text.length, rnd);
        return this.json(
          kind,
          text.slice(0, at) +
            pick(['{', '}', '[', ']', ',', ':', '"', '\\', '\u0000', 'NaN', 'undefined', "'", '//', '\n}'], rnd) +
            text.slice(at),
          true,
        );
      }
      case 'type-flip': {
        const p = pick(allPaths, rnd);
        setAt(order, p, flipType(getAt(order, p), rnd));
        return this.json(kind, JSON.stringify(order), true, { note: p.join('.') });
      }
      case 'missing': {
        const p = pick(allPaths, rnd);
        deleteAt(order, p);
        return this.json(kind, JSON.stringify(order), true, { note: p.join('.') });
      }
      case 'extra': {
        const objects = [
          [] as (string | number)[],
          ...allPaths.filter((p) => {
            const v = getAt(order, p);
            return v !== null && typeof v === 'object' && !Array.isArray(v);
          }),
        ];
        const p = pick(objects, rnd);
        const target = (p.length === 0 ? order : getAt(order, p)) as Record<string, Json>;
        target[
          pick(['extra', 'x'.repeat(int(1, 300, rnd)), 'orderNo ', 'ORDERNO', '', '\u0000', pick(PROTO_KEYS, rnd)], rnd)
        ] = flipType('', rnd);
        return this.json(kind, JSON.stringify(order), true, { note: p.join('.') });
      }
      case 'proto': {
        // Raw text: JSON.stringify would not write a __proto__ own key set through assignment.
        const payload = pick(
          [
            '"__proto__":{"polluted":"yes","isAdmin":true}',
            '"constructor":{"prototype":{"polluted":"yes"}}',
            '"__proto__":null',
            '"__proto__":[1,2]',
            '"prototype":{"polluted":1}',
          ],
          rnd,
        );
        const where = pick(['top', 'item', 'payment', 'logistics'], rnd);
        let body: string;
        if (where === 'top') body = `{${payload},${text.slice(1)}`;
        else {
          const anchor = where === 'item' ? '"items":[{' : `"${where}":{`;
          body = text.includes(anchor) ? text.replace(anchor, `${anchor}${payload},`) : `{${payload},${text.slice(1)}`;
        }
        return this.json(kind, body, true, { note: `${where} ${payload}` });
      }
      case 'nudge':
      case 'multi-mutation': {
        const count = kind === 'nudge' ? 1 : int(2, 6, rnd);
        const notes: string[] = [];
        for (let i = 0; i < count; i++) {
          const leaves = paths(order).filter((p) => {
            const v = getAt(order, p);
            return v === null || typeof v !== 'object';
          });
          if (leaves.length === 0) break;
          const p = pick(leaves, rnd);
          setAt(order, p, nudge(getAt(order, p), rnd));
          notes.push(p.join('.'));
        }
        return this.json(kind, JSON.stringify(order), true, { note: notes.join(' ') });
      }
      case 'huge-string': {
        const strings = allPaths.filter((p) => typeof getAt(order, p) === 'string');
        const p = pick(strings, rnd);
        setAt(
          order,
          p,
          pick(['A', '中', '😀', '&<>"\'', '\\u0000'], rnd).repeat(
            heavy ? int(1000, 2_000_000, rnd) : int(1000, 100_000, rnd),
          ),
        );
        return this.json(kind, JSON.stringify(order), true, { note: p.join('.') });
      }
      case 'deep-nesting': {
        const depth = heavy ? pick([1000, 10_000, 100_000, 1_000_000], rnd) : pick([100, 1000, 10_000, 50_000], rnd);
        const nested = deepNest(depth, rnd);
        const where = pick(['root', 'field', 'items', 'batch'], rnd);
        const body =
          where === 'root'
            ? nested
            : where === 'batch'
              ? `[${text},${nested}]`
              : where === 'items'
                ? text.replace('"items":[', `"items":[${nested},`)
                : `{"deep":${nested},${text.slice(1)}`;
        // Unknown order fields are ignored: an order with a deep unknown field ("field") or a batch with one
        // valid order may be accepted; a deep root or a deep line item never.
        return this.json(kind, body, where === 'batch' || where === 'field', { note: `${where} depth ${depth}` });
      }
      case 'encoding': {
        const variant = pick(
          ['utf16le', 'utf16-bom', 'utf8-bom', 'latin1', 'invalid-utf8', 'overlong', 'nul-bytes', 'charset-header'],
          rnd,
        );
        let body: Buffer;
        let headers: Record<string, string> = {};
        switch (variant) {
          case 'utf16le':
            body = Buffer.from(text, 'utf16le');
            break;
          case 'utf16-bom':
            body = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
            break;
          case 'utf8-bom':
            body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]);
            break;
          case 'latin1':
            body = Buffer.from(text, 'latin1');
            break;
          case 'invalid-utf8': {
            const b = Buffer.from(text, 'utf8');
            const at = text.indexOf('"orderNo":"') + 11;
            body = Buffer.concat([b.subarray(0, at), Buffer.from([0xc3, 0x28, 0xff, 0xfe]), b.subarray(at)]);
            break;
          }
          case 'overlong': {
            const b = Buffer.from(text, 'utf8');
            const at = text.indexOf('"orderNo":"') + 11;
            body = Buffer.concat([b.subarray(0, at), Buffer.from([0xc0, 0xaf, 0xe0, 0x80, 0xaf]), b.subarray(at)]);
            break;
          }
          case 'nul-bytes':
            body = Buffer.concat([Buffer.from(text, 'utf8'), Buffer.alloc(int(1, 64, rnd))]);
            break;
          default:
            body = Buffer.from(text, 'utf8');
            headers = {
              'content-type': pick(
                [
                  'application/json; charset=utf-16',
                  'application/json; charset=iso-8859-1',
                  'application/json;;;',
                  'APPLICATION/JSON',
                  'application/json; boundary=x',
                ],
                rnd,
              ),
            };
        }
        // utf8-bom / charset parameters may well be accepted: the content is the valid order. Invalid or
        // overlong UTF-8 must be refused: decoding it with replacement characters would declare an order
        // number the seller never sent.
        return this.json(`encoding:${variant}`, body, variant === 'utf8-bom' || variant === 'charset-header', {
          headers,
        });
      }
      case 'ndjson': {
        const lines: string[] = [];
        const count = int(1, heavy ? 50 : 8, rnd);
        for (let i = 0; i < count; i++) {
          const r = rnd();
          if (r < 0.3) lines.push(JSON.stringify(this.fresh()));
          else {
            lines.push(
              pick(
                [
                  '{',
                  '}{',
                  'garbage',
                  '[1,2]',
                  'null',
                  '""',
                  '\u0000\u0001',
                  '{"a":1}{"b":2}',
                  text.slice(0, 50),
                  '\r',
                  '   ',
                  JSON.stringify([this.fresh()]),
                  '\\',
                  '{"__proto__":{"x":1}}',
                ],
                rnd,
              ),
            );
          }
        }
        const joined = lines.join(pick(['\n', '\r\n', '\n\n', '\r'], rnd)) + (rnd() < 0.5 ? '\n' : '');
        // Valid lines among the garbage may be stored (their declarations are counted from the 202).
        return {
          ...this.json('ndjson', joined, true),
          headers: { 'content-type': 'application/x-ndjson', authorization: this.auth.seller },
        };
      }
      case 'non-object':
        return this.json(
          kind,
          pick(
            [
              '42',
              '"order"',
              'null',
              'true',
              '[]',
              '[1,2,3]',
              '[[]]',
              '[null]',
              '[""]',
              '{}',
              '[{}]',
              '',
              ' ',
              '\n',
              '0',
              '-0',
              '1e999',
              '{"orders":[]}',
            ],
            rnd,
          ),
          false,
        );
      case 'media-type': {
        const type = pick(
          [
            'text/plain',
            'application/xml',
            'multipart/form-data; boundary=x',
            'application/x-www-form-urlencoded',
            'application/jsonx',
            'json',
            '',
            '*/*',
            'application/problem+json',
          ],
          rnd,
        );
        const c = this.json(kind, text, false);
        if (type) c.headers['content-type'] = type;
        else delete c.headers['content-type'];
        return c;
      }
      case 'batch-mixed': {
        const batch: Json[] = [order];
        for (let i = 0; i < int(1, 4, rnd); i++) {
          const bad = this.fresh();
          const p = pick(paths(bad), rnd);
          setAt(bad, p, flipType(getAt(bad, p), rnd));
          batch.push(bad);
        }
        const atomic = rnd() < 0.3;
        return this.json(kind, JSON.stringify(batch), true, atomic ? { query: '?atomic=true' } : {});
      }
      case 'query': {
        const query = pick(
          [
            '?source=../../etc/passwd',
            '?source=',
            '?source=nonexistent-format',
            '?atomic=maybe',
            '?atomic=true&atomic=false',
            '?source[$gt]=',
            '?__proto__[x]=1',
            '?source=' + 'a'.repeat(5000),
            '?%ff=%fe',
          ],
          rnd,
        );
        // Unknown parameters are ignored (like unknown fields), so those may be accepted.
        return this.json(
          kind,
          text,
          query.startsWith('?__proto__') || query.startsWith('?%ff') || query.startsWith('?source['),
          { query },
        );
      }
      case 'no-auth': {
        const c = this.json(kind, text, false);
        const auth = pick(
          [
            '',
            'Bearer',
            'Bearer ',
            'Bearer x.y',
            'Basic Zm9vOmJhcg==',
            this.auth.seller + 'x',
            this.auth.seller.replace('.', ''),
            'Bearer ' + 'a'.repeat(9000),
            Object.values(this.auth.centers)[0] ?? '',
          ],
          rnd,
        );
        if (auth) c.headers.authorization = auth;
        else delete c.headers.authorization;
        return c;
      }
      case 'batch-1001': {
        const one = JSON.stringify(this.fresh());
        return this.json(kind, `[${Array.from({ length: 1001 }, () => one).join(',')}]`, false);
      }
      case 'oversize': {
        // 17 MiB of valid-looking JSON: over the 16 MiB limit however it is read.
        const filler = 'x'.repeat(17 * 1024 * 1024);
        return this.json(kind, `{"note":"${filler}",${text.slice(1)}`, false);
      }
      default:
        throw new Error(`unknown order fuzz kind ${kind}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Receipts
// ---------------------------------------------------------------------------------------------------

const ATTACKS_DIR = join(ROOT, 'test', 'fixtures', 'signing', 'attacks');

async function signerFor(identity: string): Promise<SoftwareXmlSigner> {
  const files = identityFiles(identity);
  return SoftwareXmlSigner.fromFiles(
    { keyPath: files.keyPath, certPath: files.certPath },
    { trust: trustListCheck(loadTrustLists(resolve(ROOT, 'certs-dev/trust-lists'))) },
  );
}

const RECEIPT_MANIFEST_TYPES: MessageType[] = ['CEB311', 'CEB411', 'CEB511', 'CEB621', 'CEB303', 'CEB505', 'CEB603'];

export class ReceiptFuzzer {
  private readonly attacks: { file: string; xml: Buffer }[];
  private turn = 0;
  private constructor(
    private readonly rnd: Rnd,
    private readonly auth: FuzzAuth,
    private readonly signers: Record<string, SoftwareXmlSigner>,
  ) {
    this.attacks = readdirSync(ATTACKS_DIR)
      .filter((f) => f.endsWith('.xml'))
      .sort()
      .map((file) => ({ file, xml: readFileSync(join(ATTACKS_DIR, file)) }));
  }

  static async create(rnd: Rnd, auth: FuzzAuth): Promise<ReceiptFuzzer> {
    const signers = {
      GD: await signerFor('center-gd'),
      HK: await signerFor('center-hk'),
      MO: await signerFor('center-mo'),
      seller: await signerFor('seller-gd'),
    };
    return new ReceiptFuzzer(rnd, auth, signers);
  }

  get attackFiles(): string[] {
    return this.attacks.map((a) => a.file);
  }

  private post(
    kind: string,
    center: string,
    body: string | Buffer,
    mayBeValid: boolean,
    extra: { type?: string; note?: string; authorization?: string | null } = {},
  ): FuzzCase {
    const headers: Record<string, string> = { 'content-type': extra.type ?? 'application/xml' };
    const authorization = extra.authorization === undefined ? this.auth.centers[center] : extra.authorization;
    if (authorization) headers.authorization = authorization;
    return {
      kind,
      path: '/v1/receipts',
      headers,
      body: Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'),
      mayBeValid,
      ...(extra.note ? { note: extra.note } : {}),
    };
  }

  /** A genuine receipt (unsigned XML) for a made-up declaration, with optionally odd returns. */
  private unsigned(odd: boolean): { xml: string; center: string } {
    const rnd = this.rnd;
    const type = pick(RECEIPT_MANIFEST_TYPES, rnd);
    const order = generateValidOrder(int(1, 1_000_000_000, rnd));
    const head: Record<string, string> = {
      orderNo: order.orderNo,
      ebpCode: order.ebpCode,
      ebcCode: order.ebcCode,
      copNo: `C${int(1e8, 9e8, rnd)}`,
      agentCode: order.agentCode,
      customsCode: order.customsCode,
      logisticsCode: order.logistics.logisticsCode,
      logisticsNo: order.logistics.logisticsNo,
      payCode: '4401966P01',
      payTransactionId: `WP${int(1e9, 9e9, rnd)}`,
      statisticsFlag: 'A',
      appTime: '20260315101500',
    };
    const manifest = { type, guid: randomUUID().toUpperCase(), headGuid: randomUUID().toUpperCase(), head, lines: [] };
    const count = odd ? pick([1, 2, 50, 100], rnd) : 1;
    const returns = Array.from({ length: count }, () => ({
      status: odd
        ? pick(['2', '120', '899', '-621005', '999', '0', 'abc', '1'.repeat(50), '-', '899 '], rnd)
        : pick(['2', '120', '399', '800', '899'], rnd),
      info: odd ? pick(['x', '中'.repeat(1000), '&<>"\'', '\u0001ctrl', ']]>', 'ok'], rnd) : '已入库',
      at: odd ? pick([new Date(0), new Date('2099-01-01'), new Date()], rnd) : new Date(),
    }));
    const built = buildReceipt(manifest, returns);
    return { xml: built.xml, center: pick(['GD', 'HK', 'MO'], rnd) };
  }

  async next(heavy: boolean): Promise<FuzzCase> {
    const rnd = this.rnd;
    const kinds = [
      'attack',
      'entity',
      'tampered',
      'signed-odd',
      'wrong-signer',
      'garbage',
      'media-type',
      'no-auth',
      'wrapped',
    ];
    if (heavy) kinds.push('oversize');
    const kind = kinds[this.turn++ % kinds.length] as string;
    switch (kind) {
      case 'attack': {
        const a = pick(this.attacks, rnd);
        return this.post(`attack:${a.file}`, pick(['GD', 'HK', 'MO'], rnd), a.xml, false);
      }
      case 'entity': {
        const { xml, center } = this.unsigned(false);
        const signed = await (this.signers[center] as SoftwareXmlSigner).sign(xml);
        const root = /^<([A-Za-z0-9:]+)/.exec(signed)?.[1] ?? 'x';
        const dtd = pick(
          [
            `<!DOCTYPE ${root} [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">]>`,
            `<!DOCTYPE ${root} [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>`,
            `<!DOCTYPE ${root} [<!ENTITY % p SYSTEM "http://127.0.0.1:1/evil.dtd"> %p;]>`,
            `<!DOCTYPE ${root} SYSTEM "http://127.0.0.1:1/x.dtd">`,
            `<!DOCTYPE ${root}>`,
            `<!ENTITY a "b">`,
          ],
          rnd,
        );
        const withRef = rnd() < 0.5 ? signed.replace('</returnInfo>', '&e;&xxe;</returnInfo>') : signed;
        return this.post('entity', center, `<?xml version="1.0" encoding="UTF-8"?>${dtd}${withRef}`, false);
      }
      case 'tampered': {
        const { xml, center } = this.unsigned(false);
        const signed = await (this.signers[center] as SoftwareXmlSigner).sign(xml);
        const variant = pick(
          [
            'status',
            'flip-char',
            'drop-signature',
            'duplicate-return',
            'truncate',
            'guid-attr',
            'whitespace',
            'comment',
            'cdata',
            'namespace',
            'signature-value',
          ],
          rnd,
        );
        let body: string;
        switch (variant) {
          case 'status':
            body = signed.replace(/<returnStatus>[^<]*<\/returnStatus>/, '<returnStatus>899</returnStatus>');
            if (body === signed)
              body = signed.replace(/<returnStatus>[^<]*<\/returnStatus>/, '<returnStatus>120</returnStatus>');
            break;
          case 'flip-char': {
            const end = signed.indexOf('<Signature') > 0 ? signed.indexOf('<Signature') : signed.length;
            const textAt = [...signed.slice(0, end).matchAll(/>([^<]+)</g)];
            const m = pick(textAt, rnd);
            const at = (m.index ?? 0) + 1 + int(0, (m[1]?.length ?? 1) - 1, rnd);
            const ch = signed[at] === 'Z' ? 'Y' : 'Z';
            body = signed.slice(0, at) + ch + signed.slice(at + 1);
            break;
          }
          case 'drop-signature':
            body = signed.replace(/<(\w+:)?Signature[\s\S]*<\/(\w+:)?Signature>/, '');
            break;
          case 'duplicate-return': {
            const m = /<(\w+Return)>[\s\S]*?<\/\1>/.exec(signed);
            body = m ? signed.replace(m[0], m[0] + m[0]) : signed + '<x/>';
            break;
          }
          case 'truncate':
            body = signed.slice(0, int(1, signed.length - 2, rnd));
            break;
          case 'guid-attr':
            body = signed.replace(/guid="[^"]*"/, `guid="${randomUUID().toUpperCase()}"`);
            break;
          case 'whitespace':
            body = signed.replace(/<returnInfo>/, '<returnInfo> ');
            break;
          case 'comment':
            // Comments are outside canonical XML: the signature may still verify (the receipt is then genuine).
            body = signed.replace(/<returnStatus>/, '<!--x--><returnStatus>');
            return this.post('tampered:comment', center, body, true);
          case 'cdata':
            body = signed.replace(/<returnInfo>([^<]*)<\/returnInfo>/, '<returnInfo><![CDATA[$1]]></returnInfo>');
            // CDATA of the same text canonicalises to the same bytes: may verify.
            return this.post('tampered:cdata', center, body, true);
          case 'namespace':
            body = signed.replace(
              'xmlns="http://www.chinaport.gov.cn/ceb"',
              'xmlns="http://www.chinaport.gov.cn/cebx"',
            );
            break;
          default:
            body = signed.replace(
              /<(\w+:)?SignatureValue>([A-Za-z0-9+/])/,
              (_m, p: string | undefined, c: string) => `<${p ?? ''}SignatureValue>${c === 'A' ? 'B' : 'A'}`,
            );
        }
        return this.post(`tampered:${variant}`, center, body, body === signed);
      }
      case 'signed-odd': {
        const { xml, center } = this.unsigned(true);
        const signed = await (this.signers[center] as SoftwareXmlSigner).sign(xml);
        return this.post('signed-odd', center, signed, true);
      }
      case 'wrong-signer': {
        const { xml, center } = this.unsigned(false);
        const signerName = pick(['seller', 'GD', 'HK', 'MO'], rnd);
        const signed = await (this.signers[signerName] as SoftwareXmlSigner).sign(xml);
        // Signed by a trusted center posted with another center's key may be accepted; a seller's signature never.
        return this.post(`wrong-signer:${signerName}`, center, signed, signerName !== 'seller');
      }
      case 'wrapped': {
        const { xml, center } = this.unsigned(false);
        const signed = await (this.signers[center] as SoftwareXmlSigner).sign(xml);
        const variant = pick(['in-envelope', 'two-roots', 'prolog-garbage', 'bom', 'utf16'], rnd);
        const body =
          variant === 'in-envelope'
            ? `<Envelope>${signed}</Envelope>`
            : variant === 'two-roots'
              ? signed + signed
              : variant === 'prolog-garbage'
                ? `garbage${signed}`
                : variant === 'bom'
                  ? Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(signed, 'utf8')])
                  : Buffer.from(signed, 'utf16le');
        return this.post(`wrapped:${variant}`, center, body, variant === 'bom');
      }
      case 'garbage': {
        const body = pick(
          [
            Buffer.alloc(0),
            Buffer.from('{"receipt":true}'),
            Buffer.from('<'),
            // Unclosed tags: xmldom recovers from them in quadratic time (see unclosedTags), so the light
            // run keeps them small enough not to stall an in-process server.
            Buffer.from('<a>'.repeat(heavy ? int(10, 20_000, rnd) : int(10, 2000, rnd))),
            Buffer.from(Array.from({ length: int(1, 4096, rnd) }, () => int(0, 255, rnd))),
            Buffer.from('<?xml version="1.0" encoding="GBK"?><CEB312Message/>'),
            Buffer.from('<CEB312Message xmlns="http://www.chinaport.gov.cn/ceb" guid="x" version="1.0"/>'),
            Buffer.from('<?xml-stylesheet href="http://127.0.0.1:1/x"?><CEB312Message/>'),
          ],
          rnd,
        );
        return this.post('garbage', pick(['GD', 'HK', 'MO'], rnd), body, false);
      }
      case 'media-type': {
        const { xml, center } = this.unsigned(false);
        const signed = await (this.signers[center] as SoftwareXmlSigner).sign(xml);
        return this.post('media-type', center, signed, false, {
          type: pick(['application/json', 'text/plain', 'application/xhtml+xml', 'application/octet-stream'], rnd),
        });
      }
      case 'no-auth': {
        const { xml, center } = this.unsigned(false);
        const signed = await (this.signers[center] as SoftwareXmlSigner).sign(xml);
        return this.post('no-auth', center, signed, false, {
          authorization: pick([null, this.auth.seller, 'Bearer nope.nope'], rnd),
        });
      }
      case 'oversize': {
        const { xml, center } = this.unsigned(false);
        const signed = await (this.signers[center] as SoftwareXmlSigner).sign(xml);
        return this.post(
          'oversize',
          center,
          signed.replace('</returnInfo>', 'x'.repeat(1024 * 1024 + 10) + '</returnInfo>'),
          false,
        );
      }
      default:
        throw new Error(`unknown receipt fuzz kind ${kind}`);
    }
  }

  async close(): Promise<void> {
    for (const s of Object.values(this.signers)) await s.close();
  }
}

// ---------------------------------------------------------------------------------------------------
// Running the cases and judging the answers
// ---------------------------------------------------------------------------------------------------

export interface FuzzReport {
  cases: number;
  byKind: Record<string, Record<string, number>>;
  failures: string[];
  /** Declarations the 202 answers said were newly stored (outcome accepted). */
  declarationsStored: number;
  /** Receipts answered 202 (new receipt stored). */
  receiptsStored: number;
  /** Cases that MAY be valid and were accepted (2xx), by kind. */
  acceptedMutations: Record<string, number>;
  /** Slowest answer per kind (ms). */
  slowestMs: Record<string, number>;
}

export function emptyReport(): FuzzReport {
  return {
    cases: 0,
    byKind: {},
    failures: [],
    declarationsStored: 0,
    receiptsStored: 0,
    acceptedMutations: {},
    slowestMs: {},
  };
}

function describe(c: FuzzCase): string {
  return `${c.kind}${c.note ? ` (${c.note.slice(0, 80)})` : ''} ${c.path}${c.query ? c.query.slice(0, 60) : ''} ${c.body.length} bytes`;
}

/** Sends one case and records the judgement in `report`. */
export async function runCase(base: string, c: FuzzCase, report: FuzzReport, timeoutMs = 60000): Promise<void> {
  report.cases++;
  let status: number;
  let type: string;
  let text: string;
  const started = Date.now();
  try {
    const res = await fetch(base + c.path + (c.query ?? ''), {
      method: 'POST',
      headers: c.headers,
      body: new Uint8Array(c.body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    status = res.status;
    type = res.headers.get('content-type') ?? '';
    text = await res.text();
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const kindCounts = (report.byKind[c.kind] ??= {});
    kindCounts['no-answer'] = (kindCounts['no-answer'] ?? 0) + 1;
    report.failures.push(`no answer (${e.cause?.code ?? e.name}: ${e.cause?.message ?? e.message}) to ${describe(c)}`);
    return;
  }
  const kindCounts = (report.byKind[c.kind] ??= {});
  kindCounts[status] = (kindCounts[status] ?? 0) + 1;
  report.slowestMs[c.kind] = Math.max(report.slowestMs[c.kind] ?? 0, Date.now() - started);
  if (status >= 500) {
    report.failures.push(`${status} to ${describe(c)}: ${text.slice(0, 300)}`);
    return;
  }
  if (status >= 400) {
    if (!/^application\/problem\+json/.test(type))
      report.failures.push(`${status} answered as ${type || 'no content type'} to ${describe(c)}`);
    else {
      try {
        const p = JSON.parse(text) as { status?: unknown; type?: unknown; title?: unknown };
        if (p.status !== status || typeof p.type !== 'string' || typeof p.title !== 'string')
          report.failures.push(
            `${status} problem body without status/type/title to ${describe(c)}: ${text.slice(0, 200)}`,
          );
      } catch {
        report.failures.push(`${status} problem+json that is not JSON to ${describe(c)}`);
      }
    }
    return;
  }
  if (status >= 200 && status < 300) {
    if (!c.mayBeValid) {
      report.failures.push(`${status} (accepted) for an invalid request: ${describe(c)}: ${text.slice(0, 200)}`);
    }
    report.acceptedMutations[c.kind] = (report.acceptedMutations[c.kind] ?? 0) + 1;
    try {
      const body = JSON.parse(text) as { orders?: { outcome?: string; declarations?: unknown[] }[] };
      if (c.path === '/v1/orders') {
        if (status !== 202) report.failures.push(`${status} instead of 202 for an order: ${describe(c)}`);
        for (const o of body.orders ?? [])
          if (o.outcome === 'accepted') report.declarationsStored += o.declarations?.length ?? 0;
      } else if (status === 202) report.receiptsStored++;
    } catch {
      report.failures.push(`${status} with a body that is not JSON for ${describe(c)}`);
    }
    return;
  }
  report.failures.push(`unexpected status ${status} to ${describe(c)}`);
}

export interface FuzzRunOptions {
  base: string;
  auth: FuzzAuth;
  seed: number;
  /** Case budget per endpoint. */
  orderCases: number;
  receiptCases: number;
  /** Stop generating new cases after this long (the counts are then lower). */
  timeBudgetMs: number;
  heavy: boolean;
  concurrency?: number;
  /** A request without an answer after this long is a failure (default 60 s). */
  requestTimeoutMs?: number;
  /** Called between cases; throwing stops the run (e.g. a child process died). */
  check?: () => void;
}

/** Runs the order and receipt cases (interleaved, a few in parallel) and returns the report. */
export async function runFuzz(options: FuzzRunOptions): Promise<FuzzReport> {
  const rnd = seededRandom(options.seed);
  const orders = new OrderFuzzer(rnd, (options.seed % 100_000) * 10_000, options.auth);
  const receipts = await ReceiptFuzzer.create(rnd, options.auth);
  const report = emptyReport();
  const deadline = Date.now() + options.timeBudgetMs;
  let orderLeft = options.orderCases;
  let receiptLeft = options.receiptCases;
  // The attack fixtures always go first, each once: they are the known-bad receipts.
  const fixed: FuzzCase[] = receipts.attackFiles.map((file) => ({
    kind: `attack:${file}`,
    path: '/v1/receipts',
    headers: { 'content-type': 'application/xml', authorization: options.auth.centers.GD ?? '' },
    body: readFileSync(join(ATTACKS_DIR, file)),
    mayBeValid: false,
  }));
  const nextCase = async (): Promise<FuzzCase | undefined> => {
    if (Date.now() > deadline) return undefined;
    const f = fixed.shift();
    if (f) return f;
    if (orderLeft <= 0 && receiptLeft <= 0) return undefined;
    const takeOrder = receiptLeft <= 0 || (orderLeft > 0 && rnd() < orderLeft / (orderLeft + receiptLeft));
    if (takeOrder) {
      orderLeft--;
      return orders.next(options.heavy);
    }
    receiptLeft--;
    return receipts.next(options.heavy);
  };
  try {
    await Promise.all(
      Array.from({ length: options.concurrency ?? 4 }, async () => {
        for (;;) {
          options.check?.();
          const c = await nextCase();
          if (!c) return;
          await runCase(options.base, c, report, options.requestTimeoutMs);
        }
      }),
    );
  } finally {
    await receipts.close();
  }
  return report;
}

/** Per-kind answer counts as short lines ("kind  202:3 422:17"). */
export function reportLines(report: FuzzReport): string[] {
  return Object.entries(report.byKind)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(
      ([kind, counts]) =>
        `  ${kind.padEnd(36)} ${Object.entries(counts)
          .map(([s, n]) => `${s}:${n}`)
          .join(' ')
          .padEnd(20)} slowest ${report.slowestMs[kind] ?? '-'} ms`,
    );
}
