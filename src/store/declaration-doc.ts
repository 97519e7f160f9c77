import { createHash, randomBytes, randomInt } from 'node:crypto';
import type { Filter } from 'mongodb';
import type { BaygateOrder } from '../domain/order';
import type { DeclarationFilter, DeclarationSubject, DeclarationView, HistoryEntry, NewDeclaration } from './contracts';
import { InvalidCursorError } from './errors';
import type {
  DeclarationDoc,
  DeclarationIdentityDoc,
  DeclarationOrderDoc,
  FeedDoc,
  StoredHistoryEntry,
} from './models';
import { maskIdNumber, type PiiVault } from './pii';

/** Pure helpers around the declaration document (src/store/models.ts): building it, and reading it as views. */

/** AAD of the sealed order and of the sealed manifest: bound to the declaration and the field. */
export const orderContext = (id: string) => `declarations/${id}/order`;
export const manifestContext = (id: string) => `declarations/${id}/manifest`;

export interface SealedOrderPayload {
  order: BaygateOrder;
  extra?: Record<string, unknown>;
}

/** What reads that show no history leave out. */
export const WITHOUT_HISTORY = { history: 0 } as const;

/** The fields a status change needs to write its feed entry, and a receipt to know its declaration. */
export const IDENTITY = {
  _id: 1,
  sellerId: 1,
  platformCode: 1,
  orderNo: 1,
  messageType: 1,
  center: 1,
  createdAt: 1,
} as const;

/**
 * The filter naming one declaration: its `_id`, and the fields of the shard key docs/SCALING.md gives
 * `declarations` ({orderNo, platformCode}), so that on a sharded cluster the update goes to one shard.
 */
export function one(d: Pick<DeclarationIdentityDoc, '_id' | 'platformCode' | 'orderNo'>) {
  return { _id: d._id, platformCode: d.platformCode, orderNo: d.orderNo };
}

/** A new history entry (its eventId is new, time-ordered). */
export function historyEntry(status: string, entry: Omit<HistoryEntry, 'eventId' | 'status'>): HistoryEntry {
  const h: HistoryEntry = { eventId: newEventId(), status, at: entry.at, source: entry.source };
  if (entry.receiptId !== undefined) h.receiptId = entry.receiptId;
  if (entry.signer !== undefined) h.signer = { subject: entry.signer.subject, serialHex: entry.signer.serialHex };
  if (entry.info !== undefined) h.info = entry.info;
  if (entry.documentKeys !== undefined) h.documentKeys = { ...entry.documentKeys };
  return h;
}

const PROCESS_ID = randomBytes(3).toString('hex');
let counter = randomInt(0x1000000);

/** The second (8 hex digits, as an ObjectId starts) and the millisecond (4) of an instant. */
function timePrefix(at: Date): string {
  const ms = at.getTime();
  return (
    Math.floor(ms / 1000)
      .toString(16)
      .padStart(8, '0') + (ms % 1000).toString(16).padStart(4, '0')
  );
}

/**
 * A new event id: 24 hex digits shaped like an ObjectId (readers take its first 8 as the second), made of
 * the second and the millisecond of `at`, this process and a counter — unique, and in time order to the
 * millisecond across processes (an ObjectId orders to the second only), and strictly within a process.
 */
export function newEventId(at = new Date()): string {
  counter = (counter + 1) % 0x1000000;
  return timePrefix(at) + PROCESS_ID + counter.toString(16).padStart(6, '0');
}

/**
 * The event id of a step that every declaration of a batch takes in one update (the dispatcher's "queued"):
 * the step's second and millisecond, then a hash of the declaration and the status. A declaration reaches
 * a status once, so the id is unique, and in time order to the millisecond like `newEventId`'s. One update
 * writes the same history entry to the whole batch, so such an entry is stored without its id, and views
 * derive it (`eventIdOf`).
 */
export function batchStepEventId(declarationId: string, status: string, at: Date): string {
  return (
    timePrefix(at) + createHash('sha256').update(`${declarationId}\u0000${status}`, 'utf8').digest('hex').slice(0, 12)
  );
}

/** The event id of a stored history entry: its own, or the one derived for a batch step. */
export function eventIdOf(
  declarationId: string,
  e: Pick<HistoryEntry, 'status' | 'at'> & { eventId?: string },
): string {
  return e.eventId ?? batchStepEventId(declarationId, e.status, e.at);
}

/** The feed entry of a history entry of this declaration. */
export function feedEntry(d: DeclarationIdentityDoc, h: Pick<HistoryEntry, 'eventId' | 'status'>): FeedDoc {
  return {
    _id: h.eventId,
    t: eventSecond(h.eventId),
    declarationId: d._id,
    status: h.status,
    sellerId: d.sellerId,
    center: d.center,
    messageType: d.messageType,
    orderNo: d.orderNo,
    declaredAt: d.createdAt,
  };
}

/** The second of an event id (its first 8 hex digits), as a date. */
export function eventSecond(eventId: string): Date {
  return new Date(parseInt(eventId.slice(0, 8), 16) * 1000);
}

/** The sealed order of a new declaration. */
export function sealedOrderDoc(d: NewDeclaration, vault: PiiVault): DeclarationOrderDoc {
  const payload: SealedOrderPayload = d.extra === undefined ? { order: d.order } : { order: d.order, extra: d.extra };
  return { _id: d.id, orderSealed: vault.sealJson(payload, orderContext(d.id)) };
}

/** The document of a new declaration: accepted, due now. */
export function newDeclarationDoc(d: NewDeclaration, vault: PiiVault, now: Date): DeclarationDoc {
  // Every clear field of the submission as it is; the order is sealed apart, the region only when known.
  const { id, order, extra: _extra, sellerRegion, ...clear } = d;
  const doc: DeclarationDoc = {
    _id: id,
    ...clear,
    createdAt: now,
    status: 'accepted',
    rank: 0,
    terminal: false,
    history: [historyEntry('accepted', { at: now, source: 'api', info: `request ${d.requestId}` })],
    updatedAt: now,
    dueAt: now,
    claims: 0,
    attempts: 0,
  };
  if (sellerRegion) doc.sellerRegion = sellerRegion;
  if (order.direction === 'import') {
    doc.buyerIdHash = vault.blindIndex('idNumber', order.buyerIdNumber);
    doc.buyerIdMasked = maskIdNumber(order.buyerIdNumber);
  }
  return doc;
}

/** A declaration as the APIs see it (any projection that keeps the view's fields). */
export function toView(d: DeclarationDoc): DeclarationView {
  const view: DeclarationView = {
    id: d._id,
    sellerId: d.sellerId,
    platformCode: d.platformCode,
    orderNo: d.orderNo,
    messageType: d.messageType,
    direction: d.direction,
    tradeMode: d.tradeMode,
    customsCode: d.customsCode,
    center: d.center,
    status: d.status,
    terminal: d.terminal,
    attempts: d.attempts ?? 0,
    amountCny: d.amountCny,
    requestId: d.requestId,
    history: (d.history ?? []).map((e) => cleanEntry(d._id, e)),
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
  if (d.lastError) view.lastError = d.lastError;
  if (d.messageGuid) view.messageGuid = d.messageGuid;
  if (d.digest) view.digest = d.digest;
  if (d.buyerIdMasked) view.buyerIdMasked = d.buyerIdMasked;
  return view;
}

/** A history entry as stored, without the nulls a server may hand back for absent fields. */
function cleanEntry(declarationId: string, e: StoredHistoryEntry): HistoryEntry {
  const h: HistoryEntry = { eventId: eventIdOf(declarationId, e), status: e.status, at: e.at, source: e.source };
  if (e.receiptId !== undefined && e.receiptId !== null) h.receiptId = e.receiptId;
  if (e.signer) h.signer = { subject: e.signer.subject, serialHex: e.signer.serialHex };
  if (e.info !== undefined && e.info !== null) h.info = e.info;
  if (e.documentKeys) h.documentKeys = { ...e.documentKeys };
  return h;
}

export function subjectOf(d: DeclarationIdentityDoc & { status: string }): DeclarationSubject {
  return {
    id: d._id,
    sellerId: d.sellerId,
    platformCode: d.platformCode,
    orderNo: d.orderNo,
    messageType: d.messageType,
    center: d.center,
    status: d.status,
    createdAt: d.createdAt,
  };
}

export function idempotencyKey(d: Pick<DeclarationDoc, 'platformCode' | 'orderNo' | 'messageType'>): string {
  return `${d.platformCode}\u0000${d.orderNo}\u0000${d.messageType}`;
}

/** The query of a declaration filter (status included: it is a field of the document). */
export function declarationQuery(filter: DeclarationFilter): Filter<DeclarationDoc> {
  const q: Filter<DeclarationDoc> = {};
  if (filter.sellerIds) q.sellerId = { $in: filter.sellerIds };
  if (filter.status?.length) q.status = { $in: filter.status };
  if (filter.center?.length) q.center = { $in: filter.center };
  if (filter.messageType?.length) q.messageType = { $in: filter.messageType };
  if (filter.orderNo) q.orderNo = filter.orderNo;
  if (filter.from || filter.to)
    q.createdAt = { ...(filter.from ? { $gte: filter.from } : {}), ...(filter.to ? { $lt: filter.to } : {}) };
  return q;
}

interface Cursor {
  t: number;
  id: string;
}

export function encodeCursor(v: Pick<DeclarationView, 'createdAt' | 'id'>): string {
  return Buffer.from(JSON.stringify({ t: v.createdAt.getTime(), id: v.id })).toString('base64url');
}

/** Opaque cursor → the page's position; a malformed cursor is a caller error with a clear message. */
export function decodeCursor(cursor: string): Cursor {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (
      parsed &&
      typeof parsed === 'object' &&
      typeof (parsed as Cursor).t === 'number' &&
      typeof (parsed as Cursor).id === 'string'
    )
      return parsed as Cursor;
  } catch {
    // fall through
  }
  throw new InvalidCursorError();
}

/** Declarations after the cursor, newest first (createdAt, then _id, descending). */
export function afterCursor(c: Cursor): Filter<DeclarationDoc> {
  const t = new Date(c.t);
  return { $or: [{ createdAt: { $lt: t } }, { createdAt: t, _id: { $lt: c.id } }] };
}
