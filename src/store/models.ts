import { Schema, type Connection, type Model } from 'mongoose';
import type { Collection, Document } from 'mongodb';
import type { MessageType } from '../domain/message-types';
import type { Direction, HistoryEntry } from './contracts';
import type { SealedValue } from './pii';

/**
 * The store's collections, as mongoose models on a given connection (never the global default). The store
 * reads and writes them through the native driver (`raw`); the schemas declare the documents' shapes and
 * their indexes. Layout, as MongoDB would have it (docs/decisions/0002-declaration-store-layout.md):
 *  - `declarations`: ONE document per declaration — who, what and where in clear, and its whole life:
 *    status, rank, history, dispatch state (`dueAt`, `lease`) and the signed manifest's guid.
 *    Every change is one conditional single-document update (`{_id, rank: {$lt: r}, terminal: false}`,
 *    `{_id, 'lease.token': t}`, `{_id, dueAt: {$lte: now}}`), the history `$push`ed in that same update.
 *  - `declaration_orders`: the order of each declaration, sealed (write-once, kilobytes: kept out of the
 *    document every step rewrites, read by the claim and by follow-up declarations).
 *  - `declaration_manifests`: the signed XML, sealed, under its message guid (write-once, big, read by guid).
 *  - `declaration_feed`: one small entry per history entry, under its event id, for readers of "every change
 *    since" (server-sent events, webhooks, stats) — a time-ordered index over all declarations' histories.
 *  - `receipts`: as received, one per digest; `annual_usage`: one counter per buyer and year.
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
// Declarations: one document each
// ---------------------------------------------------------------------------------------------------

/** The clear, non-personal fields a declaration keeps from its submission. */
export interface DeclarationIdentityDoc {
  _id: string;
  sellerId: string;
  platformCode: string;
  orderNo: string;
  messageType: MessageType;
  center: string;
  createdAt: Date;
}

/**
 * A history entry as stored: a step that one update takes for a whole batch (the dispatcher's "queued")
 * carries no event id of its own; it is derived (src/store/declaration-doc.ts, batchStepEventId).
 */
export type StoredHistoryEntry = Omit<HistoryEntry, 'eventId'> & { eventId?: string };

export interface DeclarationDoc extends DeclarationIdentityDoc {
  direction: Direction;
  tradeMode: '9610' | '1210';
  customsCode: string;
  amountCny: number;
  requestId: string;
  sellerRegion?: string;
  /** HMAC of the buyer's normalised ID number (import only): find a buyer's declarations without the number. */
  buyerIdHash?: string;
  buyerIdMasked?: string;
  /** Current status and its rank (src/domain/status.ts): changed only by `rank: {$lt: r}, terminal: false`. */
  status: string;
  rank: number;
  terminal: boolean;
  /** Every step, in order, each pushed by the update that took it. */
  history: StoredHistoryEntry[];
  /** The latest `at` of the history (`$max`). */
  updatedAt: Date;

  /**
   * Present only while the declaration is still to be handed to the broker (accepted or signed): not
   * before this instant — the retry time after a failure, or the end of the lease of the worker holding it.
   * Claims read it through a sparse index, so their cost does not grow with the declarations already sent.
   */
  dueAt?: Date;
  /** The worker holding the declaration (until `dueAt`); its token fences every write of that worker. */
  lease?: { owner: string; token: string };
  /** Times claimed (the dispatcher gives up after N). */
  claims: number;
  /** Failed dispatch attempts recorded, and the last one's reason. */
  attempts: number;
  lastError?: string;
  /** The manifest sent (declaration_manifests/_id), fixed by the first signature; receipts find it here. */
  messageGuid?: string;
  digest?: string;
}

const historySchema = new Schema(
  {
    eventId: String,
    status: { type: String, required: true },
    at: { type: Date, required: true },
    source: { type: String, required: true },
    receiptId: String,
    signer: signerSchema,
    info: String,
    documentKeys: { type: Schema.Types.Mixed },
  },
  { _id: false },
);

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
    status: { type: String, required: true },
    rank: { type: Number, required: true },
    terminal: { type: Boolean, required: true },
    history: { type: [historySchema], default: [] },
    updatedAt: { type: Date, required: true },
    dueAt: Date,
    lease: new Schema({ owner: String, token: String }, { _id: false }),
    claims: { type: Number, required: true },
    attempts: { type: Number, required: true },
    lastError: String,
    messageGuid: String,
    digest: String,
  },
  { versionKey: false, collection: 'declarations', autoCreate: true, autoIndex: false },
);
// The idempotency key: a retried submission finds its declarations instead of duplicating them. The order
// number leads, so the same index serves look-ups by order number (receipts, GET /v1/orders/{orderNo}).
// (Named apart from the first layout's `idempotency_key` on {platformCode, orderNo, messageType}, which a
// development database may still hold: both refuse the same duplicates.)
declarationSchema.index({ orderNo: 1, platformCode: 1, messageType: 1 }, { unique: true, name: 'declaration_key' });
// The work claim: `{dueAt: {$lte: now}}` sorted by dueAt (only declarations still to dispatch carry it).
declarationSchema.index({ dueAt: 1 }, { sparse: true, name: 'due' });
// Receipts name the manifest they answer by its guid.
declarationSchema.index({ messageGuid: 1 }, { sparse: true, name: 'message_guid' });
// A seller's list, newest first.
declarationSchema.index({ sellerId: 1, createdAt: -1 }, { name: 'seller_created' });
// No other index: each one is work on every insert, and on the test server on every update too.

/** The sealed order of a declaration (write-once; read by id). */
export interface DeclarationOrderDoc {
  _id: string;
  /** The whole BaygateOrder (+ extra inputs of CEB623/625), AAD "declarations/<id>/order". */
  orderSealed: SealedValue;
}

const declarationOrderSchema = new Schema<DeclarationOrderDoc>(
  { _id: { type: String, required: true }, orderSealed: { type: sealedSchema, required: true } },
  { versionKey: false, collection: 'declaration_orders', autoCreate: true, autoIndex: false },
);

// ---------------------------------------------------------------------------------------------------
// Signed manifests (write-once)
// ---------------------------------------------------------------------------------------------------

export interface ManifestDoc {
  /** The message guid (upper case, as sent): receipts echo it. */
  _id: string;
  declarationId: string;
  digest: string;
  signer: { subject: string; serialHex: string };
  /** AAD "declarations/<declarationId>/manifest". */
  xmlSealed: SealedValue;
  createdAt: Date;
}

const manifestSchema = new Schema<ManifestDoc>(
  {
    _id: { type: String, required: true },
    declarationId: { type: String, required: true },
    digest: { type: String, required: true },
    signer: signerSchema,
    xmlSealed: { type: sealedSchema, required: true },
    createdAt: { type: Date, required: true },
  },
  { versionKey: false, collection: 'declaration_manifests', autoCreate: true, autoIndex: false },
);

// ---------------------------------------------------------------------------------------------------
// The feed: every history entry of every declaration, in event-id (time) order
// ---------------------------------------------------------------------------------------------------

export interface FeedDoc {
  /** The history entry's eventId (time-ordered: src/store/declaration-doc.ts, newEventId). */
  _id: string;
  /** The second of the eventId (its timestamp), as a date: what pages of the feed are read by. */
  t: Date;
  declarationId: string;
  status: string;
  // Copied from the declaration so that readers filter without a join.
  sellerId: string;
  center: string;
  messageType: string;
  orderNo: string;
  declaredAt: Date;
}

const feedSchema = new Schema<FeedDoc>(
  {
    _id: { type: String, required: true },
    t: { type: Date, required: true },
    declarationId: { type: String, required: true },
    status: { type: String, required: true },
    sellerId: { type: String, required: true },
    center: { type: String, required: true },
    messageType: { type: String, required: true },
    orderNo: { type: String, required: true },
    declaredAt: { type: Date, required: true },
  },
  { versionKey: false, collection: 'declaration_feed', autoCreate: true, autoIndex: false },
);
feedSchema.index({ t: 1 }, { name: 'events' });
feedSchema.index({ sellerId: 1, t: 1 }, { name: 'seller_events' });

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
  /** The declaration each return matched (id), or null, once matched. */
  matched?: (string | null)[];
  /** Present while none of the returns matched a declaration: when that was found (reported to brokers). */
  unknownAt?: Date;
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
    matched: { type: [Schema.Types.Mixed], default: undefined },
    unknownAt: Date,
  },
  { versionKey: false, collection: 'receipts', autoCreate: true, autoIndex: false },
);
receiptSchema.index({ digest: 1 }, { unique: true, name: 'one_receipt_per_digest' });
receiptSchema.index({ unknownAt: -1 }, { sparse: true, name: 'unknown' });

// ---------------------------------------------------------------------------------------------------
// Annual usage: one counter per buyer and calendar year
// ---------------------------------------------------------------------------------------------------

export interface UsageDoc {
  /** "<buyerIdHash>:<year>". */
  _id: string;
  /** CNY used, in cents (integers: no 0.1 + 0.2 drift decides a limit). */
  usedCents: number;
  /** What each order reserved, in cents, under a hash of its order key (field names free of '.' and '$'). */
  orders: Record<string, number>;
  updatedAt: Date;
}

const usageSchema = new Schema<UsageDoc>(
  {
    _id: { type: String, required: true },
    usedCents: { type: Number, required: true },
    orders: { type: Schema.Types.Mixed, required: true },
    updatedAt: { type: Date, required: true },
  },
  { versionKey: false, collection: 'annual_usage', autoCreate: true, autoIndex: false, minimize: false },
);

// ---------------------------------------------------------------------------------------------------

export interface StoreModels {
  Declaration: Model<DeclarationDoc>;
  DeclarationOrder: Model<DeclarationOrderDoc>;
  Manifest: Model<ManifestDoc>;
  Feed: Model<FeedDoc>;
  Receipt: Model<ReceiptDoc>;
  Usage: Model<UsageDoc>;
}

/** Registers (or reuses) the models on this connection. */
export function storeModels(connection: Connection): StoreModels {
  const model = <T>(name: string, schema: Schema<T>): Model<T> =>
    (connection.models[name] as Model<T> | undefined) ?? connection.model<T>(name, schema);
  return {
    Declaration: model('Declaration', declarationSchema),
    DeclarationOrder: model('DeclarationOrder', declarationOrderSchema),
    Manifest: model('DeclarationManifest', manifestSchema),
    Feed: model('DeclarationFeedEntry', feedSchema),
    Receipt: model('Receipt', receiptSchema),
    Usage: model('AnnualUsage', usageSchema),
  };
}

/** Creates the collections and every index the schemas declare (idempotent). No partial or TTL indexes. */
export async function ensureIndexes(models: StoreModels): Promise<void> {
  for (const m of Object.values(models) as Model<unknown>[]) {
    await m.createCollection().catch((err: unknown) => {
      if ((err as { codeName?: string }).codeName !== 'NamespaceExists' && (err as { code?: number }).code !== 48)
        throw err;
    });
    const collection = raw(m as Model<Document>);
    for (const [keys, options] of m.schema.indexes())
      await collection.createIndex(keys as Record<string, 1 | -1>, options as Record<string, unknown>);
  }
}

/** The native driver collection behind a model (the store bypasses mongoose casting). */
export function raw<T extends Document>(model: Model<T>): Collection<T> {
  const db = model.db.db;
  if (!db) throw new Error('the store needs a connected mongoose connection');
  return db.collection<T>(model.collection.collectionName);
}
