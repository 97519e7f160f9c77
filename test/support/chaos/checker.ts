import { MongoClient } from 'mongodb';
import type { OrderRecord } from './load';

/**
 * Reads the run's database directly (not through the API under test) and compares it with what the load
 * generator was told:
 *  - every order that got a 202 must have exactly one declaration per message type, stored under the
 *    ids the 202 listed (lost: one missing; duplicated: more than one for platform+orderNo+messageType);
 *  - each of them must reach a terminal status through a receipt of the simulated center (final);
 *  - a declaration answered by the centers under two different message guids was sent to customs twice,
 *    signed twice (resigned).
 */
export interface CheckCounts {
  /** Orders answered 202 (accepted, or duplicate on a retry). */
  accepted: number;
  /** Accepted orders with every declaration stored exactly once under the ids the 202 gave. */
  declared: number;
  /** Accepted orders whose every declaration reached a terminal status from a receipt. */
  final: number;
  /** Accepted orders with a declaration missing (or stored under another id than the 202 said). */
  lost: number;
  /** Groups platform+orderNo+messageType with more than one declaration (whole database). */
  duplicated: number;
  /** Declarations with more than one signed message guid. */
  resigned: number;
  /** Accepted orders whose declarations are all stored but not all final (yet). */
  notFinal: number;
  /** Declarations given up by the dispatcher (status failed). */
  failed: number;
  /** Orders stored although the client never got a 202 for them (request cut, client gave up). */
  storedWithout202: number;
  declarations: number;
  receipts: number;
}

export interface CheckResult {
  counts: CheckCounts;
  /** Up to 10 examples of each kind of problem, for the report. */
  examples: string[];
  /** Terminal statuses by message type, e.g. { CEB621: { '899': 120 } }. */
  finalStatuses: Record<string, Record<string, number>>;
}

interface DeclDoc {
  _id: string;
  platformCode: string;
  orderNo: string;
  messageType: string;
}

interface EventDoc {
  declarationId: string;
  status: string;
  terminal: boolean;
  source: string;
  rank: number;
}

/**
 * `progress`: a cheaper look while the pipeline drains (no receipts read: reading every receipt each few
 * seconds slowed the very drain it watched); the final check reads everything.
 */
export async function checkRun(
  mongoUrl: string,
  orders: Iterable<OrderRecord>,
  options: { progress?: boolean } = {},
): Promise<CheckResult> {
  const client = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 10000 });
  await client.connect();
  try {
    const db = client.db();
    const docs = await db
      .collection<DeclDoc & { status: string; rank: number; terminal: boolean; history?: { source: string }[] }>(
        'declarations',
      )
      .find(
        {},
        {
          projection: {
            _id: 1,
            platformCode: 1,
            orderNo: 1,
            messageType: 1,
            status: 1,
            rank: 1,
            terminal: 1,
            'history.source': 1,
          },
        },
      )
      .toArray();
    const decls: DeclDoc[] = docs.map((d) => ({
      _id: d._id,
      platformCode: d.platformCode,
      orderNo: d.orderNo,
      messageType: d.messageType,
    }));
    // The final step of each final declaration: its status, and where it came from (the last history entry).
    const terminalEvents: EventDoc[] = docs
      .filter((d) => d.terminal)
      .map((d) => ({
        declarationId: d._id,
        status: d.status,
        terminal: true,
        rank: d.rank,
        source: d.history?.at(-1)?.source ?? '',
      }));
    const guids = options.progress ? [] : await sentGuids(db);
    const receipts = options.progress ? 0 : await db.collection('receipts').countDocuments({});
    return evaluate([...orders], decls, terminalEvents, guids, receipts);
  } finally {
    await client.close();
  }
}

/** The (guid, declaration) pairs the centers answered: what was actually sent, read from the receipts. */
async function sentGuids(db: ReturnType<MongoClient['db']>): Promise<{ _id: string; declarationId: string }[]> {
  const receipts = await db
    .collection<{ _id: string; returns: { guid?: string }[]; matched?: (string | null)[] }>('receipts')
    .find({}, { projection: { returns: 1, matched: 1 } })
    .toArray();
  const pairs = new Map<string, { _id: string; declarationId: string }>();
  for (const r of receipts) {
    const matched = r.matched ?? [];
    r.returns.forEach((ret, i) => {
      const declarationId = matched[i];
      if (ret.guid && declarationId)
        pairs.set(`${ret.guid.toUpperCase()} ${declarationId}`, { _id: ret.guid.toUpperCase(), declarationId });
    });
  }
  return [...pairs.values()];
}

/** Pure part of the check (unit-testable without a database). */
export function evaluate(
  orders: OrderRecord[],
  decls: DeclDoc[],
  terminalEvents: EventDoc[],
  guids: { _id: string; declarationId: string }[],
  receipts: number,
): CheckResult {
  const examples: string[] = [];
  const perKind = new Map<string, number>();
  // Up to 10 examples of each kind of problem, so plenty of one kind cannot hide another.
  const note = (s: string) => {
    const kind = s.slice(0, s.indexOf(':'));
    if ((perKind.get(kind) ?? 0) >= 10) return;
    perKind.set(kind, (perKind.get(kind) ?? 0) + 1);
    examples.push(s);
  };
  const groups = new Map<string, DeclDoc[]>();
  const byOrder = new Map<string, DeclDoc[]>();
  for (const d of decls) {
    const key = `${d.platformCode}|${d.orderNo}|${d.messageType}`;
    groups.set(key, [...(groups.get(key) ?? []), d]);
    const ok = `${d.platformCode}|${d.orderNo}`;
    byOrder.set(ok, [...(byOrder.get(ok) ?? []), d]);
  }
  let duplicated = 0;
  for (const [key, list] of groups) {
    if (list.length > 1) {
      duplicated++;
      note(`duplicated: ${key} has ${list.length} declarations (${list.map((d) => d._id).join(', ')})`);
    }
  }
  const terminal = new Map<string, EventDoc>();
  for (const e of terminalEvents) {
    const prev = terminal.get(e.declarationId);
    if (!prev || e.rank > prev.rank) terminal.set(e.declarationId, e);
  }
  const guidCount = new Map<string, number>();
  for (const g of guids) guidCount.set(g.declarationId, (guidCount.get(g.declarationId) ?? 0) + 1);
  const resigned = [...guidCount.values()].filter((n) => n > 1).length;
  if (resigned > 0)
    note(
      `resigned: ${[...guidCount.entries()]
        .filter(([, n]) => n > 1)
        .slice(0, 3)
        .map(([id, n]) => `${id}×${n}`)
        .join(', ')}`,
    );

  const finalStatuses: Record<string, Record<string, number>> = {};
  let accepted = 0;
  let declared = 0;
  let final = 0;
  let lost = 0;
  let notFinal = 0;
  let failed = 0;
  const acceptedKeys = new Set<string>();
  for (const o of orders) {
    if (o.result !== 'accepted' && o.result !== 'duplicate') continue;
    accepted++;
    acceptedKeys.add(`${o.platformCode}|${o.orderNo}`);
    const stored = byOrder.get(`${o.platformCode}|${o.orderNo}`) ?? [];
    const storedIds = new Set(stored.map((d) => d._id));
    const missingTypes = o.expectedTypes.filter((t) => !stored.some((d) => d.messageType === t));
    const missingIds = o.declarations.filter((d) => !storedIds.has(d.id));
    if (missingTypes.length > 0 || missingIds.length > 0 || o.declarations.length !== o.expectedTypes.length) {
      lost++;
      note(
        `lost: ${o.orderNo} missing types [${missingTypes.join(',')}], 202 ids not stored [${missingIds.map((d) => `${d.messageType}:${d.id}`).join(',')}], 202 listed ${o.declarations.length}/${o.expectedTypes.length}; key ${o.idempotencyKey ? 'yes' : 'no'}; attempts ${o.attempts.map((a) => `${a.phase}:${a.outcome}`).join(' ')}`,
      );
      continue;
    }
    declared++;
    let allFinal = true;
    for (const d of o.declarations) {
      const t = terminal.get(d.id);
      if (t?.status === 'failed') failed++;
      if (!t || t.source !== 'receipt') {
        allFinal = false;
        continue;
      }
      finalStatuses[d.messageType] ??= {};
      const bucket = finalStatuses[d.messageType] as Record<string, number>;
      bucket[t.status] = (bucket[t.status] ?? 0) + 1;
    }
    if (allFinal) final++;
    else {
      notFinal++;
      note(
        `not final: ${o.orderNo} ${o.declarations.map((d) => `${d.messageType}=${terminal.get(d.id)?.status ?? 'open'}`).join(' ')}`,
      );
    }
  }
  const storedWithout202 = [...byOrder.keys()].filter((k) => !acceptedKeys.has(k)).length;
  return {
    counts: {
      accepted,
      declared,
      final,
      lost,
      duplicated,
      resigned,
      notFinal,
      failed,
      storedWithout202,
      declarations: decls.length,
      receipts,
    },
    examples,
    finalStatuses,
  };
}

/** One plain table line (and its header) for the logs and docs/CHAOS.md. */
export function countsTable(c: CheckCounts): string {
  const cols: [string, number][] = [
    ['accepted', c.accepted],
    ['declared', c.declared],
    ['final', c.final],
    ['lost', c.lost],
    ['duplicated', c.duplicated],
    ['resigned', c.resigned],
    ['not-final', c.notFinal],
    ['failed', c.failed],
    ['stored-w/o-202', c.storedWithout202],
    ['declarations', c.declarations],
    ['receipts', c.receipts],
  ];
  const width = (s: string, n: number) => (String(n).length > s.length ? String(n).length : s.length);
  return [
    cols.map(([k, v]) => k.padStart(width(k, v))).join(' | '),
    cols.map(([k, v]) => String(v).padStart(width(k, v))).join(' | '),
  ].join('\n');
}
