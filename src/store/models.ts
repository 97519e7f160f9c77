import { Schema, type Connection, type Model } from 'mongoose';
import type { Collection, Document, Filter, OptionalUnlessRequiredId } from 'mongodb';
import type { MessageType } from '../domain/message-types';
import type { Direction, HistoryEntry } from './contracts';
import { StoreInterruptedError } from './errors';
import type { SealedValue } from './pii';

/**
 * Collections of the store, as mongoose models on a given connection (never the global default).
 *
 * Layout, and why it is not "one mutable document per declaration": on the MongoDB-compatible server we
 * run (FerretDB v1.24 with SQLite) a conditional update is a read followed by an unconditional write —
 * two racing `updateOne({_id, status: 'accepted'}, …)` BOTH report a modification, and 200 racing capped
 * `$inc` end at 4 — and no query, UPDATE or DELETE uses an index (every one scans its whole table;
 * `->'$._id'` in the query vs `->"_id"` in the index). What IS atomic there: inserting into a unique
 * index, and deleting (only one deleter counts a row). So:
 *  - `declarations` are written once (insert) with the sealed order and the clear, non-personal fields;
 *  - their status lives in `declaration_events`, an append-only log whose _id is the slot
 *    "<declarationId>:<rank>": a step of a given rank can be taken once, atomically, and the current
 *    status is the event with the highest rank (so it can only move forward);
 *  - the dispatch work queue (`dispatch_queue`) holds only the declarations not yet handed to the broker
 *    (small; updating it is cheap), and leases are unique inserts "<declarationId>#<seq>" (`dispatch_leases`);
 *  - the signature's fence is `dispatch_signed` (one per declaration in dispatch): the first manifest
 *    whose marker is inserted is the one sent, every time; manifests are archived under their guid;
 *  - a declaration sent and not yet final is tracked in `declaration_tracking` under its message guid
 *    (what receipts carry): who it is and its current status, so a receipt is decided on that alone.
 * Live and archive. FerretDB v1 (SQLite) answers NO query from an index: even `{_id}` scans the table
 * (its index expression is `->"_id"`, its queries `->'$._id'`), ~5 µs per document in SQLite and ~60 µs
 * per document for any other filter (decoded in Go); inserts are cheap (the unique check is indexed).
 * So the hot paths read only the live collections — dispatch_queue, dispatch_leases, dispatch_signed,
 * declaration_tracking — which hold work in flight and are emptied as it completes, and only insert into
 * the archive (declarations, declaration_orders, declaration_events, declaration_manifests), which
 * broker reads and start-up repair scan.
 *  - annual usage is an append-only ledger per (buyer hash, year) with unique sequence slots (`annual_usage`).
 * The same code is correct on MongoDB, where the indexes below also make the reads fast.
 */

export const sealedSchema = new Schema<SealedValue>(
  {
    k: { type: String, required: true },
    iv: { type: Buffer, required: true },
    tag: { type: Buffer, required: true },
    ct: { type: Buffer, required: true },
    z: String,
  },
  { _id: false },
);

const signerSchema = new Schema({ subject: String, serialHex: String, trustList: String }, { _id: false });

// ---------------------------------------------------------------------------------------------------
// Declarations (write-once)
// ---------------------------------------------------------------------------------------------------

export interface DeclarationDoc {
  _id: string;
  sellerId: string;
  platformCode: string;
  orderNo: string;
  messageType: MessageType;
  direction: Direction;
  tradeMode: '9610' | '1210';
  customsCode: string;
  center: string;
  amountCny: number;
  requestId: string;
  sellerRegion?: string;
  /** HMAC of the buyer's normalised ID number (import only): find a buyer's declarations without the number. */
  buyerIdHash?: string;
  buyerIdMasked?: string;
  createdAt: Date;
}

const declarationSchema = new Schema<DeclarationDoc>(
  {
    _id: { type: String, required: true },
    sellerId: { type: String, required: true },
    platformCode: { type: String, required: true },
    orderNo: { type: String, required: true },
    messageType: { type: String, required: true },
    direction: { type: String, required: true },
    tradeMode: { type: String, required: true },
    customsCode: { type: String, required: true },
    center: { type: String, required: true },
    amountCny: { type: Number, required: true },
    requestId: { type: String, required: true },
    sellerRegion: String,
    buyerIdHash: String,
    buyerIdMasked: String,
    createdAt: { type: Date, required: true },
  },
  { versionKey: false, collection: 'declarations', autoCreate: true, autoIndex: false },
);
// The idempotency key: a retried submission finds its declarations instead of duplicating them.
declarationSchema.index({ platformCode: 1, orderNo: 1, messageType: 1 }, { unique: true, name: 'idempotency_key' });
declarationSchema.index({ sellerId: 1, createdAt: -1 });
declarationSchema.index({ center: 1, createdAt: -1 });
declarationSchema.index({ orderNo: 1 });
declarationSchema.index({ buyerIdHash: 1 }, { sparse: true });

/**
 * The sealed order of a declaration, apart from the declaration itself so that the scans of declarations
 * (lists, counts) do not drag kilobytes of ciphertext along. Write-once; read by id.
 */
export interface DeclarationOrderDoc {
  _id: string;
  /** The whole BaygateOrder (+ extra), AAD "declarations/<id>/order". */
  orderSealed: SealedValue;
}

const declarationOrderSchema = new Schema<DeclarationOrderDoc>(
  { _id: { type: String, required: true }, orderSealed: { type: sealedSchema, required: true } },
  { versionKey: false, collection: 'declaration_orders', autoCreate: true, autoIndex: false },
);

// ---------------------------------------------------------------------------------------------------
// Declaration events (append-only; the status is the highest-ranked event)
// ---------------------------------------------------------------------------------------------------

export interface EventDoc {
  /** "<declarationId>:<rank>": each rank is reached at most once, atomically, and found by _id. */
  _id: string;
  /** Time-ordered ObjectId hex: the SSE / webhook event id. */
  eventId: string;
  declarationId: string;
  status: string;
  rank: number;
  terminal: boolean;
  at: Date;
  source: HistoryEntry['source'];
  receiptId?: string;
  signer?: { subject: string; serialHex: string };
  info?: string;
  /** Document numbers the receipt carried (invtNo, preNo, copNo…). */
  documentKeys?: Record<string, string>;
  /** Dispatch bookkeeping at the time of the step (failed attempts so far, last error). */
  attempts?: number;
  lastError?: string;
  /** For the `signed` step: the manifest this declaration was sent with. */
  messageGuid?: string;
  digest?: string;
  // Denormalised from the declaration so event streams can be filtered without a join.
  sellerId: string;
  center: string;
  messageType: string;
  orderNo: string;
  declaredAt: Date;
}

const eventSchema = new Schema<EventDoc>(
  {
    _id: { type: String, required: true },
    eventId: { type: String, required: true },
    declarationId: { type: String, required: true },
    status: { type: String, required: true },
    rank: { type: Number, required: true },
    terminal: { type: Boolean, required: true },
    at: { type: Date, required: true },
    source: { type: String, required: true },
    receiptId: String,
    signer: signerSchema,
    info: String,
    documentKeys: { type: Schema.Types.Mixed },
    attempts: Number,
    lastError: String,
    messageGuid: String,
    digest: String,
    sellerId: { type: String, required: true },
    center: { type: String, required: true },
    messageType: { type: String, required: true },
    orderNo: { type: String, required: true },
    declaredAt: { type: Date, required: true },
  },
  { versionKey: false, collection: 'declaration_events', autoCreate: true, autoIndex: false },
);
eventSchema.index({ eventId: 1 });
eventSchema.index({ declarationId: 1 });
eventSchema.index({ sellerId: 1, eventId: 1 });

// ---------------------------------------------------------------------------------------------------
// Dispatch queue (declarations not yet handed to the broker) and leases
// ---------------------------------------------------------------------------------------------------

export interface QueueDoc {
  /** The declaration id. */
  _id: string;
  /** Not before this instant (nextAttemptAt). */
  dueAt: Date;
  /** Failed attempts recorded so far. */
  attempts: number;
  lastError?: string;
  messageType: MessageType;
  center: string;
  requestId: string;
  sellerId: string;
  platformCode: string;
  orderNo: string;
  declaredAt: Date;
  /** Same sealed value as the declaration's (AAD names the declaration): claims need no archive read. */
  orderSealed: SealedValue;
  /** Put back by a repair (start-up or a resubmission), not by the submission that created the declaration. */
  recreated?: boolean;
}

const queueSchema = new Schema<QueueDoc>(
  {
    _id: { type: String, required: true },
    dueAt: { type: Date, required: true },
    attempts: { type: Number, required: true },
    lastError: String,
    messageType: { type: String, required: true },
    center: { type: String, required: true },
    requestId: { type: String, required: true },
    sellerId: { type: String, required: true },
    platformCode: { type: String, required: true },
    orderNo: { type: String, required: true },
    declaredAt: { type: Date, required: true },
    orderSealed: { type: sealedSchema, required: true },
    recreated: Boolean,
  },
  { versionKey: false, collection: 'dispatch_queue', autoCreate: true, autoIndex: false },
);
queueSchema.index({ dueAt: 1 });

export interface LeaseDoc {
  /** "<declarationId>#<seq>": unique, so exactly one worker wins claim number <seq>. */
  _id: string;
  declarationId: string;
  seq: number;
  owner: string;
  token: string;
  until: Date;
  released?: boolean;
  // Copied from the work item at claim time, so the holder's next steps need not read it again.
  sellerId: string;
  platformCode: string;
  center: string;
  messageType: MessageType;
  orderNo: string;
  declaredAt: Date;
  attempts: number;
  lastError?: string;
}

const leaseSchema = new Schema<LeaseDoc>(
  {
    _id: { type: String, required: true },
    declarationId: { type: String, required: true },
    seq: { type: Number, required: true },
    owner: { type: String, required: true },
    token: { type: String, required: true },
    until: { type: Date, required: true },
    released: Boolean,
    sellerId: { type: String, required: true },
    platformCode: { type: String, required: true },
    center: { type: String, required: true },
    messageType: { type: String, required: true },
    orderNo: { type: String, required: true },
    declaredAt: { type: Date, required: true },
    attempts: { type: Number, required: true },
    lastError: String,
  },
  { versionKey: false, collection: 'dispatch_leases', autoCreate: true, autoIndex: false },
);
leaseSchema.index({ declarationId: 1 });

// ---------------------------------------------------------------------------------------------------
// Signed manifests and the messageGuid → declaration map (write-once)
// ---------------------------------------------------------------------------------------------------

export interface ManifestDoc {
  /** The message guid (upper case, as sent): receipts echo it, so it finds the declaration. */
  _id: string;
  declarationId: string;
  messageGuid: string;
  digest: string;
  signer: { subject: string; serialHex: string };
  xmlSealed: SealedValue;
  createdAt: Date;
}

const manifestSchema = new Schema<ManifestDoc>(
  {
    _id: { type: String, required: true },
    declarationId: { type: String, required: true },
    messageGuid: { type: String, required: true },
    digest: { type: String, required: true },
    signer: signerSchema,
    xmlSealed: { type: sealedSchema, required: true },
    createdAt: { type: Date, required: true },
  },
  { versionKey: false, collection: 'declaration_manifests', autoCreate: true, autoIndex: false },
);
manifestSchema.index({ declarationId: 1 });

/**
 * "This work item is signed, with that manifest": one per declaration still in dispatch (unique _id = the
 * declaration id), so exactly one signature wins and every later attempt re-sends the same bytes, read
 * from here (live) rather than from the manifest archive.
 */
export interface SignedWorkDoc {
  _id: string;
  messageGuid: string;
  digest: string;
  xmlSealed: SealedValue;
}

const signedWorkSchema = new Schema<SignedWorkDoc>(
  {
    _id: { type: String, required: true },
    messageGuid: { type: String, required: true },
    digest: { type: String, required: true },
    xmlSealed: { type: sealedSchema, required: true },
  },
  { versionKey: false, collection: 'dispatch_signed', autoCreate: true, autoIndex: false },
);

/**
 * A declaration in flight (signed, not yet final), under the guid it was sent with: written before its
 * signature is fixed, updated by each status change, removed when it is final. A hint, not the truth:
 * the step log decides (a step of each rank is inserted once), this only spares receipts an archive read.
 */
export interface TrackingDoc {
  /** The message guid (upper case, as sent). */
  _id: string;
  declarationId: string;
  status: string;
  rank: number;
  sellerId: string;
  platformCode: string;
  orderNo: string;
  messageType: MessageType;
  center: string;
  declaredAt: Date;
}

const trackingSchema = new Schema<TrackingDoc>(
  {
    _id: { type: String, required: true },
    declarationId: { type: String, required: true },
    status: { type: String, required: true },
    rank: { type: Number, required: true },
    sellerId: { type: String, required: true },
    platformCode: { type: String, required: true },
    orderNo: { type: String, required: true },
    messageType: { type: String, required: true },
    center: { type: String, required: true },
    declaredAt: { type: Date, required: true },
  },
  { versionKey: false, collection: 'declaration_tracking', autoCreate: true, autoIndex: false },
);

// ---------------------------------------------------------------------------------------------------
// Receipts
// ---------------------------------------------------------------------------------------------------

export interface ReceiptDoc {
  _id: string;
  messageType: string;
  digest: string;
  raw: string;
  center?: string;
  signer?: { subject: string; serialHex: string; trustList?: string };
  returns: unknown[];
  receivedAt: Date;
  via: 'amqp' | 'http';
}

const receiptSchema = new Schema<ReceiptDoc>(
  {
    _id: { type: String, required: true },
    messageType: { type: String, required: true },
    digest: { type: String, required: true },
    raw: { type: String, required: true },
    center: String,
    signer: signerSchema,
    returns: { type: [Schema.Types.Mixed], default: [] },
    receivedAt: { type: Date, required: true },
    via: { type: String, required: true },
  },
  { versionKey: false, collection: 'receipts', autoCreate: true, autoIndex: false },
);
receiptSchema.index({ digest: 1 }, { unique: true, name: 'one_receipt_per_digest' });

export interface ReceiptMatchDoc {
  /** The receipt id. */
  _id: string;
  matched: (string | null)[];
  unknown: boolean;
  at: Date;
}

const receiptMatchSchema = new Schema<ReceiptMatchDoc>(
  {
    _id: { type: String, required: true },
    matched: { type: [Schema.Types.Mixed], default: [] },
    unknown: { type: Boolean, required: true },
    at: { type: Date, required: true },
  },
  { versionKey: false, collection: 'receipt_matches', autoCreate: true, autoIndex: false },
);
receiptMatchSchema.index({ unknown: 1 });

// ---------------------------------------------------------------------------------------------------
// Annual usage ledger
// ---------------------------------------------------------------------------------------------------

export interface UsageEntryDoc {
  /** "<bucket>#<seq>": unique, so two gateways cannot both append entry <seq> on what they read. */
  _id: string;
  /** "<buyerIdHash>:<year>". */
  bucket: string;
  seq: number;
  op: 'reserve' | 'release';
  orderKey: string;
  amount: number;
  at: Date;
}

const usageSchema = new Schema<UsageEntryDoc>(
  {
    _id: { type: String, required: true },
    bucket: { type: String, required: true },
    seq: { type: Number, required: true },
    op: { type: String, required: true },
    orderKey: { type: String, required: true },
    amount: { type: Number, required: true },
    at: { type: Date, required: true },
  },
  { versionKey: false, collection: 'annual_usage', autoCreate: true, autoIndex: false },
);
usageSchema.index({ bucket: 1, seq: 1 });

// ---------------------------------------------------------------------------------------------------

export interface StoreModels {
  Declaration: Model<DeclarationDoc>;
  DeclarationOrder: Model<DeclarationOrderDoc>;
  Event: Model<EventDoc>;
  Queue: Model<QueueDoc>;
  Lease: Model<LeaseDoc>;
  Manifest: Model<ManifestDoc>;
  SignedWork: Model<SignedWorkDoc>;
  Tracking: Model<TrackingDoc>;
  Receipt: Model<ReceiptDoc>;
  ReceiptMatch: Model<ReceiptMatchDoc>;
  Usage: Model<UsageEntryDoc>;
}

/** Registers (or reuses) the models on this connection. */
export function storeModels(connection: Connection): StoreModels {
  const model = <T>(name: string, schema: Schema<T>): Model<T> =>
    (connection.models[name] as Model<T> | undefined) ?? connection.model<T>(name, schema);
  return {
    Declaration: model('Declaration', declarationSchema),
    DeclarationOrder: model('DeclarationOrder', declarationOrderSchema),
    Event: model('DeclarationEvent', eventSchema),
    Queue: model('DispatchQueueEntry', queueSchema),
    Lease: model('DispatchLease', leaseSchema),
    Manifest: model('DeclarationManifest', manifestSchema),
    SignedWork: model('DispatchSignedWork', signedWorkSchema),
    Tracking: model('DeclarationTracking', trackingSchema),
    Receipt: model('Receipt', receiptSchema),
    ReceiptMatch: model('ReceiptMatch', receiptMatchSchema),
    Usage: model('AnnualUsageEntry', usageSchema),
  };
}

/**
 * Creates the collections and indexes (idempotent). On FerretDB v1 only the UNIQUE indexes are created:
 * they are what makes the inserts atomic, while its queries never use an index (each one costs only
 * write time there). On MongoDB every index is created. No partial or TTL indexes (FerretDB v1 has neither).
 */
export async function ensureIndexes(models: StoreModels): Promise<void> {
  const first = Object.values(models)[0] as Model<unknown>;
  const ferret = await isFerretDbV1(first);
  for (const m of Object.values(models) as Model<unknown>[]) {
    await m.createCollection().catch((err: unknown) => {
      if ((err as { codeName?: string }).codeName !== 'NamespaceExists' && (err as { code?: number }).code !== 48)
        throw err;
    });
    const collection = raw(m as Model<Document>);
    for (const [keys, options] of m.schema.indexes()) {
      if (ferret && !options.unique) continue;
      await collection.createIndex(keys as Record<string, 1 | -1>, options as Record<string, unknown>);
    }
  }
}

/** FerretDB 1.x (see the layout notes at the top of this file). */
export async function isFerretDbV1(model: Model<unknown>): Promise<boolean> {
  const db = model.db.db;
  if (!db) throw new Error('the store needs a connected mongoose connection');
  const info = (await db.admin().command({ buildInfo: 1 })) as { ferretdbVersion?: unknown };
  return typeof info.ferretdbVersion === 'string' && /^v?1\./.test(info.ferretdbVersion);
}

/** The native driver collection behind a model (the store's hot paths bypass mongoose casting). */
export function raw<T extends Document>(model: Model<T>): Collection<T> {
  const db = model.db.db;
  if (!db) throw new Error('the store needs a connected mongoose connection');
  return db.collection<T>(model.collection.collectionName);
}

/** MongoDB duplicate-key error (11000), as thrown for inserts by MongoDB and FerretDB alike. */
export function isDuplicateKey(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 11000;
}

/**
 * Indexes of the documents an unordered insertMany of `total` documents rejected as duplicates; throws on
 * anything else. An error is "some duplicates" only when every document it did not insert has its own
 * duplicate-key write error: when the connection drops mid-command, driver 7.8 raises MongoBulkWriteError
 * with an EMPTY writeErrors (and fewer documents inserted), which is a failure, never "no duplicates".
 */
export function duplicateIndexes(err: unknown, total: number): Set<number> {
  const e = err as { writeErrors?: unknown; result?: { insertedCount?: unknown }; insertedCount?: unknown } | null;
  const writeErrors = e && typeof e === 'object' ? e.writeErrors : undefined;
  const list = (Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : []) as {
    index?: number;
    code?: number;
    err?: { index?: number; code?: number };
  }[];
  if (list.length === 0) {
    if (isDuplicateKey(err)) throw new Error('duplicate key without per-document details', { cause: err });
    throw incomplete(err, total, 0);
  }
  const out = new Set<number>();
  for (const w of list) {
    const code = w.code ?? w.err?.code;
    const index = w.index ?? w.err?.index;
    if (code !== 11000 || typeof index !== 'number') throw err;
    out.add(index);
  }
  const inserted = e?.result?.insertedCount ?? e?.insertedCount;
  if (typeof inserted !== 'number' || inserted + out.size !== total)
    throw incomplete(err, total, typeof inserted === 'number' ? inserted + out.size : out.size);
  return out;
}

/** An insert the server did not answer for every document: some may be stored, some not (retry it). */
function incomplete(err: unknown, total: number, accounted: number): Error {
  const reason = (err as Error)?.message ?? String(err);
  return new StoreInterruptedError(
    `the database answered for ${accounted} of ${total} documents of an insert (${reason}); retry the request`,
    { cause: err },
  );
}

/**
 * Documents by _id: a few as point lookups in parallel, more in one `$in` query. On FerretDB v1 each
 * `{_id}` lookup is a scan of the table in SQLite (cheap per document) and `{_id: {$in}}` one scan
 * decoded in Go (~12× dearer per document), so past a handful one `$in` is cheaper; on MongoDB both are
 * index lookups.
 */
export async function findByIds<T extends Document & { _id: string }>(
  collection: Collection<T>,
  ids: readonly string[],
  options: { projection?: Document; scanAbove?: number } = {},
): Promise<Map<string, T>> {
  const unique = [...new Set(ids)];
  const out = new Map<string, T>();
  if (unique.length === 0) return out;
  const findOptions = options.projection ? { projection: options.projection } : {};
  if (unique.length > (options.scanAbove ?? 8)) {
    for (const d of await collection.find({ _id: { $in: unique } } as Filter<T>, findOptions).toArray())
      out.set(d._id, d as unknown as T);
    return out;
  }
  const found = await Promise.all(unique.map((id) => collection.findOne({ _id: id } as Filter<T>, findOptions)));
  for (const d of found) if (d) out.set(d._id, d as unknown as T);
  return out;
}

/** deleteMany by _id, as point deletes for a few (see findByIds); returns how many went. */
export async function deleteByIds<T extends Document & { _id: string }>(
  collection: Collection<T>,
  ids: readonly string[],
): Promise<number> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return 0;
  if (unique.length > 8) return (await collection.deleteMany({ _id: { $in: unique } } as Filter<T>)).deletedCount;
  const results = await Promise.all(unique.map((id) => collection.deleteOne({ _id: id } as Filter<T>)));
  return results.reduce((n, r) => n + r.deletedCount, 0);
}

/** insertMany(ordered: false) that tolerates duplicates: returns the indexes that were duplicates. */
export async function insertManyIgnoringDuplicates<T extends Document>(
  collection: Collection<T>,
  docs: T[],
): Promise<Set<number>> {
  if (docs.length === 0) return new Set();
  try {
    await collection.insertMany(docs as unknown as OptionalUnlessRequiredId<T>[], { ordered: false });
    return new Set();
  } catch (err) {
    return duplicateIndexes(err, docs.length);
  }
}
