import type { BaygateOrder } from '../domain/order';
import type { MessageType } from '../domain/message-types';

/**
 * What the pipeline needs from the store. The MongoDB implementation lives next to this file; the domain
 * and the pipeline code depend on these types only. Every change is a single-document atomic update (a
 * conditional updateOne, or a bulkWrite of them): no multi-document transactions, no change streams, no
 * $lookup (docs/decisions/0002-declaration-store-layout.md says why).
 */

export type Direction = 'import' | 'export';

/** One step in a declaration's life, appended to its history in the same update that changes its status. */
export interface HistoryEntry {
  /**
   * Unique, time-ordered id (24 hex digits shaped like an ObjectId: the second, then the millisecond):
   * the Server-Sent Events id and webhook event id.
   */
  eventId: string;
  status: string;
  at: Date;
  source: 'api' | 'worker' | 'receipt' | 'connector' | 'sweeper';
  /** The stored receipt this step came from (receipts collection _id), when it came from one. */
  receiptId?: string;
  /** Verified signer of that receipt: subject and serial (hex). */
  signer?: { subject: string; serialHex: string };
  /** Customs text (returnInfo) or our reason. */
  info?: string;
  /** Document numbers the receipt carried (invtNo, preNo, copNo…): CEB623/625 need the invtNo customs assigned. */
  documentKeys?: Record<string, string>;
}

/** What the API hands to the store for each message type of an accepted order. */
export interface NewDeclaration {
  /** Our id (UUID v4), chosen by the caller so a retry can reuse it. */
  id: string;
  sellerId: string;
  /** ebpCode of the order (platform), part of the idempotency key. */
  platformCode: string;
  orderNo: string;
  messageType: MessageType;
  direction: Direction;
  tradeMode: '9610' | '1210';
  customsCode: string;
  /** Clearance center code chosen by routing (centers registry). */
  center: string;
  /** The validated order: stored encrypted (it carries personal data). */
  order: BaygateOrder;
  /** Extra inputs for CEB623 (cancel) / CEB625 (refund): { invtNo, reason, … }; stored encrypted with the order. */
  extra?: Record<string, unknown>;
  /** acturalPaid in CNY (import) or goodsValue (export), for stats and the annual usage. */
  amountCny: number;
  requestId: string;
  /** Seller region of the order (GD/HK/MO), for broker filters. */
  sellerRegion?: string;
}

/** The fields a declaration keeps in clear from its submission (the order itself stays sealed). */
type DeclarationIdentity = Pick<
  NewDeclaration,
  | 'id'
  | 'sellerId'
  | 'platformCode'
  | 'orderNo'
  | 'messageType'
  | 'direction'
  | 'tradeMode'
  | 'customsCode'
  | 'center'
  | 'amountCny'
  | 'requestId'
>;

/** A declaration as the APIs show it: no personal data except masked forms. */
export interface DeclarationView extends DeclarationIdentity {
  status: string;
  terminal: boolean;
  messageGuid?: string;
  digest?: string;
  attempts: number;
  lastError?: string;
  /** Masked buyer ID number, e.g. 4405**********0014. */
  buyerIdMasked?: string;
  history: HistoryEntry[];
  createdAt: Date;
  updatedAt: Date;
}

/** A declaration claimed by a dispatch worker: everything needed to build, sign and publish it. */
export interface ClaimedDeclaration {
  id: string;
  messageType: MessageType;
  center: string;
  status: 'accepted' | 'signed';
  /** Attempts made before this claim (0 on the first). */
  attempts: number;
  requestId: string;
  order: BaygateOrder;
  extra?: Record<string, unknown>;
  /** Present once signed: publishing again re-sends the very same bytes (and guid). */
  manifest?: { xml: string; messageGuid: string; digest: string };
  leaseToken: string;
}

export interface DeclarationFilter {
  sellerIds?: string[];
  status?: string[];
  center?: string[];
  messageType?: MessageType[];
  orderNo?: string;
  from?: Date;
  to?: Date;
}

/** What a receipt needs to know about the declaration it answers. */
export type DeclarationSubject = Pick<
  DeclarationView,
  'id' | 'sellerId' | 'platformCode' | 'orderNo' | 'messageType' | 'center' | 'status' | 'createdAt'
>;

/** The outcome of a status change: the declaration (and its subject) as it is after it, whenever it is known. */
export interface StatusOutcome {
  applied: boolean;
  reason?: string;
  subject?: DeclarationSubject;
  declaration?: DeclarationView;
}

export interface DeclarationStore {
  /**
   * Inserts the declarations; those whose (platformCode, orderNo, messageType) already exist are returned in
   * `existing` unchanged (a retried submission is idempotent, never duplicated).
   */
  insertMany(declarations: NewDeclaration[]): Promise<{ inserted: DeclarationView[]; existing: DeclarationView[] }>;

  /**
   * Claims up to `limit` declarations that are due (accepted or signed, not handed over, due ≤ now: never
   * tried, retry time reached, or the last holder's lease ended) for `owner` until now + leaseMs. A crashed
   * worker's claims are taken over once its lease ends.
   */
  claimDue(owner: string, leaseMs: number, limit: number, now?: Date): Promise<ClaimedDeclaration[]>;

  /** accepted → signed with the signed manifest (stored encrypted), only while `owner` holds the lease. */
  markSigned(
    id: string,
    leaseToken: string,
    manifest: { xml: string; messageGuid: string; digest: string; signer: { subject: string; serialHex: string } },
  ): Promise<boolean>;

  /** signed → queued after the broker's confirm; releases the lease. Returns how many moved. */
  markQueued(items: { id: string; leaseToken: string }[], at?: Date): Promise<number>;

  /** Records a failed attempt: retry at `retryAt`, or give up into `failed` with the reason. Releases the lease. */
  recordFailure(
    id: string,
    leaseToken: string,
    error: string,
    outcome: { retryAt: Date } | { permanent: true },
  ): Promise<void>;

  /**
   * Moves a declaration forward if `status` ranks above its current one and it is not terminal (one
   * conditional update; see src/domain/status.ts). Duplicates and late/out-of-order changes are no-ops.
   */
  applyStatus(
    match: { id: string } | { messageGuid: string },
    status: string,
    entry: Omit<HistoryEntry, 'eventId' | 'status'>,
  ): Promise<StatusOutcome>;

  findById(id: string): Promise<DeclarationView | null>;
  /**
   * What a receipt's returns name, in one indexed read however many returns it has (a receipt may answer a
   * hundred manifests): each guid's declaration with its status; absent if unknown.
   */
  subjectsByGuids(messageGuids: readonly string[]): Promise<Map<string, DeclarationSubject>>;
  /** The declarations of an order number (of these sellers only, when given), oldest first. */
  findByOrderNo(orderNo: string, sellerIds?: string[]): Promise<DeclarationView[]>;
  /** The same for several order numbers at once, in one read. */
  findByOrderNos(orderNos: readonly string[], sellerIds?: string[]): Promise<DeclarationView[]>;
  /** The decrypted signed manifest (for the timeline, re-delivery, connectors). */
  manifestXml(id: string): Promise<string | null>;
  /** The decrypted order (for cancel/return messages built from it). */
  orderOf(id: string): Promise<{ order: BaygateOrder; extra?: Record<string, unknown> } | null>;

  /** Cursor-paginated list, newest first; cursor is opaque. */
  list(
    filter: DeclarationFilter,
    page: { limit: number; cursor?: string },
  ): Promise<{ items: DeclarationView[]; nextCursor?: string }>;
  countByStatus(filter: DeclarationFilter): Promise<Record<string, number>>;
  /** Non-terminal declarations whose last change is older than `olderThan`, per status. */
  stuck(olderThan: Date, filter?: DeclarationFilter): Promise<DeclarationView[]>;
  /** History entries changed after `afterEventId` (exclusive), oldest first: SSE replay and live polling. */
  eventsSince(
    afterEventId: string | undefined,
    limit: number,
    filter?: DeclarationFilter,
  ): Promise<{ declaration: DeclarationView; event: HistoryEntry }[]>;
}

export interface StoredReceipt {
  id: string;
  messageType: string;
  /** SHA-256 of the raw bytes: the same receipt stored twice is one document. */
  digest: string;
  raw: string;
  center?: string;
  signer?: { subject: string; serialHex: string; trustList?: string };
  returns: unknown[];
  /** Declarations each return was matched to (id) or `null` for unknown ones. */
  matched: (string | null)[];
  unknown: boolean;
  receivedAt: Date;
  via: 'amqp' | 'http';
}

export interface ReceiptStore {
  /** Stores a receipt once; a duplicate (same digest) returns the stored one with `duplicate: true`. */
  insert(
    receipt: Omit<StoredReceipt, 'id' | 'matched' | 'unknown'>,
  ): Promise<{ receipt: StoredReceipt; duplicate: boolean }>;
  markMatched(id: string, matched: (string | null)[]): Promise<void>;
  findById(id: string): Promise<StoredReceipt | null>;
  /** Receipts none of whose returns matched a declaration (reported to brokers). */
  listUnknown(limit: number): Promise<StoredReceipt[]>;
}

export interface AnnualUsageStore {
  /** CNY used by this buyer in this calendar year (keyed hash of the ID number, never the number itself). */
  usedThisYear(buyerIdNumber: string, year: number): Promise<number>;
  /**
   * Adds an order's amount once (idempotent per orderKey), refusing when it would exceed `limit`. Atomic,
   * so two gateways cannot both spend the same headroom. `added` says whether THIS call added it (false
   * when refused, or when the orderKey was reserved already): only a caller that added may release.
   */
  reserve(
    buyerIdNumber: string,
    year: number,
    orderKey: string,
    amountCny: number,
    limit: number,
  ): Promise<{ ok: boolean; used: number; added: boolean }>;
  /** Gives an amount back (order rejected/cancelled), idempotent per orderKey. */
  release(buyerIdNumber: string, year: number, orderKey: string): Promise<void>;
}

/** A seller taking a platform's order number: customs knows an order by platform and number. */
export interface OrderNumberClaim {
  platformCode: string;
  orderNo: string;
  sellerId: string;
}

/** How an operator settled a clash. */
export interface ClashResolution {
  /** dismissed: the number stays with its holder; released: the holder's claim was given up. */
  action: 'dismissed' | 'released';
  note: string;
  by: string;
  at: Date;
}

/** A seller refused an order number another seller on the same platform holds. */
export interface OrderNumberClash {
  id: string;
  platformCode: string;
  orderNo: string;
  /** The seller that holds the number (claimed it first). */
  holderSellerId: string;
  /** The seller whose order was refused. */
  claimantSellerId: string;
  /** The request of the latest refused attempt. */
  requestId: string;
  firstAt: Date;
  lastAt: Date;
  attempts: number;
  resolution?: ClashResolution;
}

export interface OrderNumberStore {
  /**
   * Claims each (platform, order number) for its seller unless someone holds it already; per claim, in
   * order: who owns the number now and whether this call claimed it. One unique insert per number, so of
   * two gateways claiming the same number exactly one wins.
   */
  claim(claims: readonly OrderNumberClaim[], at?: Date): Promise<{ owner: string; claimed: boolean }[]>;
  /** Gives a number up (only if `sellerId` holds it); true when a claim was removed. */
  release(platformCode: string, orderNo: string, sellerId: string): Promise<boolean>;
  /** Records a refused claim; the same seller refused the same number again is the same clash, counted. */
  recordClash(
    clash: Pick<OrderNumberClash, 'platformCode' | 'orderNo' | 'holderSellerId' | 'claimantSellerId' | 'requestId'>,
    at?: Date,
  ): Promise<OrderNumberClash>;
  /** Newest first; `claimantSellerIds` limits to clashes refusing these sellers, `open` to unresolved ones. */
  listClashes(
    filter: { claimantSellerIds?: readonly string[]; open?: boolean },
    limit: number,
  ): Promise<OrderNumberClash[]>;
  findClash(id: string): Promise<OrderNumberClash | null>;
  /** Settles a clash once (a second resolution leaves the first); returns the clash as it is now. */
  resolveClash(id: string, resolution: ClashResolution): Promise<OrderNumberClash | null>;
}
