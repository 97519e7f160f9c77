import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Connection } from 'mongoose';
import type { Logger } from 'pino';
import type { DeclarationStore, DeclarationView, HistoryEntry } from '../store/contracts';
import { checkWebhookTarget, postToTarget, type WebhookTargetPolicy } from './webhook-targets';

/**
 * Webhooks: a seller registers URLs and receives every status change of its declarations as a signed JSON
 * POST.
 *
 * Pipeline (all state in MongoDB, single-document atomic updates only, so several workers can run it):
 *  1. fan-out: `DeclarationStore.eventsSince(cursor)` → one delivery document per (webhook, event), `_id`
 *     "<webhookId>:<eventId>" so re-running a fan-out never duplicates; the cursor lives in `cursors`.
 *     Event ids are ObjectIds made by the writers' clocks, so an event can be committed slightly AFTER a
 *     later id was read; the cursor therefore only advances past events older than `settleMs`, and the
 *     newest events are read again next time (harmless: the delivery insert is idempotent).
 *  2. delivery: due deliveries are claimed with a unique-insert lease (see claimDue), POSTed with
 *     `Baygate-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, and on failure retried with
 *     exponential backoff (plus jitter) until `maxAttempts`, then marked failed. Every attempt is logged on
 *     the delivery (GET /v1/webhooks/{id}/deliveries).
 *
 * The signing secret must be readable to sign, so it is stored as given (it is a shared secret of this
 * integration only, not a credential to Baygate); it is shown to the seller once, at registration.
 */
export const WEBHOOKS_COLLECTION = 'webhooks';
export const DELIVERIES_COLLECTION = 'webhook_deliveries';
export const CURSORS_COLLECTION = 'cursors';
export const LEASES_COLLECTION = 'webhook_leases';
const CURSOR_ID = 'webhooks';

export interface Webhook {
  id: string;
  sellerId: string;
  url: string;
  secret: string;
  createdAt: Date;
}

export interface DeliveryAttempt {
  at: Date;
  status?: number;
  error?: string;
  ms: number;
}

export interface WebhookDelivery {
  id: string;
  webhookId: string;
  sellerId: string;
  eventId: string;
  declarationId: string;
  status: 'pending' | 'delivered' | 'failed' | 'cancelled';
  attempts: number;
  nextAttemptAt: Date;
  lastStatus?: number;
  lastError?: string;
  log: DeliveryAttempt[];
  body: string;
  createdAt: Date;
  deliveredAt?: Date;
}

type WebhookDoc = Omit<Webhook, 'id'> & { _id: string };
type DeliveryDoc = Omit<WebhookDelivery, 'id'> & { _id: string };
interface LeaseDoc {
  _id: string;
  deliveryId: string;
  owner: string;
  createdAt: Date;
  expiresAt: Date;
}
interface CursorDoc {
  _id: string;
  eventId: string;
  updatedAt: Date;
}

/** The JSON body of one webhook call. */
export interface WebhookEvent {
  id: string;
  type: 'declaration.status_changed';
  createdAt: string;
  data: {
    declarationId: string;
    orderNo: string;
    platformCode: string;
    messageType: string;
    center: string;
    status: string;
    terminal: boolean;
    at: string;
    source: HistoryEntry['source'];
    info?: string;
  };
}

export function webhookSignature(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** What a receiver does: recompute and compare (constant time), and refuse old timestamps (replays). */
export function verifyWebhookSignature(
  secret: string,
  header: string,
  body: string,
  options: { toleranceSeconds?: number; now?: number } = {},
): boolean {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=', 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || typeof parts.v1 !== 'string') return false;
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  if (Math.abs(now - t) > (options.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(webhookSignature(secret, t, body).split('v1=')[1]!, 'hex');
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function eventPayload(declaration: DeclarationView, event: HistoryEntry): WebhookEvent {
  return {
    id: event.eventId,
    type: 'declaration.status_changed',
    createdAt: new Date().toISOString(),
    data: {
      declarationId: declaration.id,
      orderNo: declaration.orderNo,
      platformCode: declaration.platformCode,
      messageType: declaration.messageType,
      center: declaration.center,
      status: event.status,
      terminal: declaration.terminal && declaration.status === event.status,
      at: new Date(event.at).toISOString(),
      source: event.source,
      ...(event.info ? { info: event.info } : {}),
    },
  };
}

/** Seconds encoded in an ObjectId hex string (its first 4 bytes). */
function objectIdSeconds(id: string): number {
  return parseInt(id.slice(0, 8), 16);
}

/** The smallest ObjectId hex of a given second: a cursor "at" that time. */
function objectIdAt(ms: number): string {
  return (
    Math.floor(ms / 1000)
      .toString(16)
      .padStart(8, '0') + '0000000000000000'
  );
}

export class WebhookStore {
  private indexed?: Promise<void>;

  constructor(private readonly connection: Connection) {}

  private db() {
    const db = this.connection.db;
    if (!db) throw new Error('mongodb not connected');
    return db;
  }

  webhooks() {
    return this.db().collection<WebhookDoc>(WEBHOOKS_COLLECTION);
  }

  deliveries() {
    return this.db().collection<DeliveryDoc>(DELIVERIES_COLLECTION);
  }

  cursors() {
    return this.db().collection<CursorDoc>(CURSORS_COLLECTION);
  }

  ensureIndexes(): Promise<void> {
    this.indexed ??= (async () => {
      await this.webhooks().createIndex({ sellerId: 1 });
      await this.deliveries().createIndex({ status: 1, nextAttemptAt: 1 });
      await this.deliveries().createIndex({ webhookId: 1, createdAt: -1 });
    })();
    return this.indexed;
  }

  async create(sellerId: string, url: string, secret?: string, now = new Date()): Promise<Webhook> {
    await this.ensureIndexes();
    const webhook: Webhook = {
      id: randomUUID(),
      sellerId,
      url,
      secret: secret ?? `whsec_${randomBytes(32).toString('base64url')}`,
      createdAt: now,
    };
    const { id, ...rest } = webhook;
    await this.webhooks().insertOne({ _id: id, ...rest });
    return webhook;
  }

  async list(sellerId: string): Promise<Webhook[]> {
    return (await this.webhooks().find({ sellerId }).sort({ createdAt: 1 }).toArray()).map(toWebhook);
  }

  async find(id: string): Promise<Webhook | null> {
    const doc = await this.webhooks().findOne({ _id: id });
    return doc ? toWebhook(doc) : null;
  }

  async activeForSellers(): Promise<Webhook[]> {
    return (await this.webhooks().find({}).toArray()).map(toWebhook);
  }

  /** Deletes a webhook of this seller; its pending deliveries are cancelled. */
  async remove(sellerId: string, id: string): Promise<boolean> {
    const result = await this.webhooks().deleteOne({ _id: id, sellerId });
    if (result.deletedCount === 0) return false;
    await this.deliveries().updateMany({ webhookId: id, status: 'pending' }, { $set: { status: 'cancelled' } });
    return true;
  }

  async deliveriesOf(webhookId: string, limit: number): Promise<WebhookDelivery[]> {
    const docs = await this.deliveries().find({ webhookId }).sort({ createdAt: -1, _id: -1 }).limit(limit).toArray();
    return docs.map(toDelivery);
  }

  async readCursor(): Promise<string | undefined> {
    return (await this.cursors().findOne({ _id: CURSOR_ID }))?.eventId;
  }

  /** Moves the cursor forward only (concurrent fan-outs never move it back). */
  async advanceCursor(to: string, now = new Date()): Promise<void> {
    const moved = await this.cursors().updateOne(
      { _id: CURSOR_ID, eventId: { $lt: to } },
      { $set: { eventId: to, updatedAt: now } },
    );
    if (moved.matchedCount === 0) {
      await this.cursors()
        .insertOne({ _id: CURSOR_ID, eventId: to, updatedAt: now })
        .catch((err: unknown) => {
          if ((err as { code?: number }).code !== 11000) throw err; // exists and is already further
        });
    }
  }

  /** Inserts deliveries; existing (webhook, event) pairs are skipped. Returns how many were new. */
  async insertDeliveries(deliveries: DeliveryDoc[]): Promise<number> {
    if (deliveries.length === 0) return 0;
    try {
      const result = await this.deliveries().insertMany(deliveries, { ordered: false });
      return result.insertedCount;
    } catch (err) {
      const e = err as {
        code?: number;
        insertedCount?: number;
        result?: { insertedCount?: number };
        writeErrors?: { code?: number }[] | { code?: number };
      };
      const writeErrors = Array.isArray(e.writeErrors) ? e.writeErrors : e.writeErrors ? [e.writeErrors] : [];
      const onlyDuplicates = e.code === 11000 || (writeErrors.length > 0 && writeErrors.every((w) => w.code === 11000));
      if (!onlyDuplicates) throw err;
      return e.insertedCount ?? e.result?.insertedCount ?? 0;
    }
  }

  leases() {
    return this.db().collection<LeaseDoc>(LEASES_COLLECTION);
  }

  /**
   * Claims one due delivery for `owner`. FerretDB v1 does not make findOneAndUpdate atomic between
   * concurrent clients (two workers both "won" the same document in our tests), so a claim is the INSERT
   * of a lease document whose `_id` names the delivery, its attempt number and the lease time slot
   * (floor(now / leaseMs)): a primary-key insert has exactly one winner. A lease of the previous slot that
   * is younger than leaseMs still counts (a claim made just before a slot boundary), and after winning the
   * delivery is re-read, so a worker acting on a stale read never repeats an attempt already recorded.
   * A crashed holder's claim lapses with its slot.
   */
  async claimDue(owner: string, leaseMs: number, now = new Date()): Promise<WebhookDelivery | null> {
    const candidates = await this.deliveries()
      .find({ status: 'pending', nextAttemptAt: { $lte: now } })
      .sort({ nextAttemptAt: 1 })
      .limit(20)
      .toArray();
    const slot = Math.floor(now.getTime() / leaseMs);
    // Start at a random candidate so concurrent workers spread over the due deliveries.
    const offset = Math.floor(Math.random() * Math.max(1, candidates.length));
    for (let k = 0; k < candidates.length; k++) {
      const candidate = candidates[(k + offset) % candidates.length]!;
      const leaseId = `${candidate._id}#${candidate.attempts}#${slot}`;
      try {
        await this.leases().insertOne({
          _id: leaseId,
          deliveryId: candidate._id,
          owner,
          createdAt: now,
          expiresAt: new Date(now.getTime() + 2 * leaseMs),
        });
      } catch (err) {
        if ((err as { code?: number }).code === 11000) continue;
        throw err;
      }
      const previous = await this.leases().findOne({ _id: `${candidate._id}#${candidate.attempts}#${slot - 1}` });
      const fresh = await this.deliveries().findOne({ _id: candidate._id });
      const stillDue =
        fresh &&
        fresh.status === 'pending' &&
        fresh.attempts === candidate.attempts &&
        fresh.nextAttemptAt.getTime() <= now.getTime();
      if ((previous && now.getTime() - previous.createdAt.getTime() < leaseMs) || !stillDue) continue;
      return toDelivery(fresh);
    }
    return null;
  }

  /** Records an attempt, only if the delivery is still at the attempt number that was claimed. */
  async recordAttempt(
    id: string,
    claimedAttempts: number,
    attempt: DeliveryAttempt,
    outcome: { delivered: true } | { retryAt: Date } | { failed: true } | { cancelled: true },
  ): Promise<void> {
    const status =
      'delivered' in outcome
        ? 'delivered'
        : 'failed' in outcome
          ? 'failed'
          : 'cancelled' in outcome
            ? 'cancelled'
            : 'pending';
    await this.deliveries().updateOne(
      { _id: id, attempts: claimedAttempts, status: 'pending' },
      {
        $set: {
          status,
          ...(attempt.status !== undefined ? { lastStatus: attempt.status } : {}),
          ...(attempt.error !== undefined ? { lastError: attempt.error } : {}),
          ...('retryAt' in outcome ? { nextAttemptAt: outcome.retryAt } : {}),
          ...('delivered' in outcome ? { deliveredAt: attempt.at } : {}),
        },
        $inc: { attempts: 'cancelled' in outcome ? 0 : 1 },
        $push: { log: attempt },
      },
    );
  }

  /** Deletes lapsed leases (FerretDB v1 has no TTL indexes). */
  async sweepLeases(now = new Date()): Promise<number> {
    return (await this.leases().deleteMany({ expiresAt: { $lt: now } })).deletedCount;
  }
}

function toWebhook(doc: WebhookDoc): Webhook {
  const { _id, ...rest } = doc;
  return { id: _id, ...rest };
}

function toDelivery(doc: DeliveryDoc): WebhookDelivery {
  const { _id, ...rest } = doc;
  return { id: _id, ...rest, log: rest.log ?? [] };
}

export interface WebhookDispatcherDeps {
  connection: Connection;
  declarations: Pick<DeclarationStore, 'eventsSince'>;
  logger: Logger;
  owner?: string;
  pollMs?: number;
  /** Events read per fan-out poll. */
  batchSize?: number;
  /** Deliveries in flight at once per process. */
  concurrency?: number;
  leaseMs?: number;
  timeoutMs?: number;
  maxAttempts?: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** How long an event id must be old before the cursor moves past it (see the header comment). */
  settleMs?: number;
  /** Where deliveries may go (src/pipeline/webhook-targets.ts); checked at every attempt. */
  targets: WebhookTargetPolicy;
  onDelivered?: (ok: boolean) => void;
}

export interface WebhookDispatcher {
  readonly owner: string;
  /** One fan-out pass: returns how many deliveries were created. */
  fanOut(now?: Date): Promise<number>;
  /** Delivers due deliveries until none is due; returns how many attempts were made. */
  deliverDue(now?: () => Date): Promise<number>;
  stop(): Promise<void>;
}

export function backoffMs(attempts: number, base: number, max: number, random = Math.random): number {
  const exp = Math.min(max, base * 2 ** Math.max(0, attempts - 1));
  return Math.round(exp * (0.8 + 0.4 * random()));
}

/** Builds the dispatcher without starting its loop (tests drive `fanOut`/`deliverDue` directly). */
export function createWebhookDispatcher(deps: WebhookDispatcherDeps): WebhookDispatcher & { start(): void } {
  const store = new WebhookStore(deps.connection);
  const owner = deps.owner ?? `webhooks-${process.pid}-${randomUUID().slice(0, 8)}`;
  const o = {
    pollMs: deps.pollMs ?? 1000,
    batchSize: deps.batchSize ?? 500,
    concurrency: deps.concurrency ?? 8,
    leaseMs: deps.leaseMs ?? 30_000,
    timeoutMs: deps.timeoutMs ?? 10_000,
    // 5 s, 10 s, 20 s … capped at 1 h: 30 attempts span about 21 hours.
    maxAttempts: deps.maxAttempts ?? 30,
    baseBackoffMs: deps.baseBackoffMs ?? 5_000,
    maxBackoffMs: deps.maxBackoffMs ?? 3_600_000,
    settleMs: deps.settleMs ?? 5_000,
  };
  const log = deps.logger.child({ component: 'webhooks', owner });
  let running = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;

  async function fanOut(now = new Date()): Promise<number> {
    await store.ensureIndexes();
    const webhooks = await store.activeForSellers();
    const cursor = await store.readCursor();
    if (webhooks.length === 0) {
      // Nobody listens: skip the events instead of scanning them.
      await store.advanceCursor(objectIdAt(now.getTime() - o.settleMs), now);
      return 0;
    }
    const bySeller = new Map<string, Webhook[]>();
    for (const w of webhooks) bySeller.set(w.sellerId, [...(bySeller.get(w.sellerId) ?? []), w]);
    const from = cursor ?? objectIdAt(Math.min(...webhooks.map((w) => w.createdAt.getTime())));
    const events = await deps.declarations.eventsSince(from, o.batchSize, { sellerIds: [...bySeller.keys()] });
    const deliveries: DeliveryDoc[] = [];
    const settledBefore = Math.floor((now.getTime() - o.settleMs) / 1000);
    let advanceTo: string | undefined;
    for (const { declaration, event } of events) {
      const seconds = objectIdSeconds(event.eventId);
      if (seconds < settledBefore) advanceTo = event.eventId;
      const body = JSON.stringify(eventPayload(declaration, event));
      for (const webhook of bySeller.get(declaration.sellerId) ?? []) {
        // A webhook hears about changes from the second it was registered on.
        if (seconds < Math.floor(webhook.createdAt.getTime() / 1000)) continue;
        deliveries.push({
          _id: `${webhook.id}:${event.eventId}`,
          webhookId: webhook.id,
          sellerId: webhook.sellerId,
          eventId: event.eventId,
          declarationId: declaration.id,
          status: 'pending',
          attempts: 0,
          nextAttemptAt: now,
          log: [],
          body,
          createdAt: now,
        });
      }
    }
    const created = await store.insertDeliveries(deliveries);
    if (advanceTo) await store.advanceCursor(advanceTo, now);
    else if (events.length === 0 && !cursor) await store.advanceCursor(objectIdAt(now.getTime() - o.settleMs), now);
    if (created > 0) log.debug({ created }, 'webhook deliveries created');
    return created;
  }

  async function attempt(delivery: WebhookDelivery, now: () => Date): Promise<void> {
    const webhook = await store.find(delivery.webhookId);
    const started = now();
    if (!webhook) {
      await store.recordAttempt(
        delivery.id,
        delivery.attempts,
        { at: started, error: 'webhook deleted', ms: 0 },
        { cancelled: true },
      );
      return;
    }
    const t = Math.floor(started.getTime() / 1000);
    let status: number | undefined;
    let error: string | undefined;
    // Checked at every delivery, on what the name resolves to now, and sent to the address checked.
    const verdict = await checkWebhookTarget(new URL(webhook.url), deps.targets);
    if (!verdict.ok) {
      error = `target refused: ${verdict.reason}`;
      log.warn({ webhookId: webhook.id, deliveryId: delivery.id, reason: verdict.reason }, 'webhook target refused');
    } else {
      try {
        status = await postToTarget(
          verdict.target,
          {
            'Content-Type': 'application/json',
            'User-Agent': 'Baygate-Webhooks/1',
            'Baygate-Signature': webhookSignature(webhook.secret, t, delivery.body),
            'Baygate-Event-Id': delivery.eventId,
            'Baygate-Delivery-Id': delivery.id,
          },
          delivery.body,
          o.timeoutMs,
        );
        if (status < 200 || status >= 300) error = `HTTP ${status}`;
      } catch (err) {
        error = (err as Error).message;
      }
    }
    const ms = Date.now() - started.getTime();
    const record: DeliveryAttempt = {
      at: started,
      ms,
      ...(status !== undefined ? { status } : {}),
      ...(error ? { error } : {}),
    };
    const attempts = delivery.attempts + 1;
    if (!error) {
      await store.recordAttempt(delivery.id, delivery.attempts, record, { delivered: true });
      deps.onDelivered?.(true);
    } else if (attempts >= o.maxAttempts) {
      await store.recordAttempt(delivery.id, delivery.attempts, record, { failed: true });
      log.warn({ deliveryId: delivery.id, attempts, error }, 'webhook delivery given up');
      deps.onDelivered?.(false);
    } else {
      await store.recordAttempt(delivery.id, delivery.attempts, record, {
        retryAt: new Date(now().getTime() + backoffMs(attempts, o.baseBackoffMs, o.maxBackoffMs)),
      });
      deps.onDelivered?.(false);
    }
  }

  async function deliverDue(now: () => Date = () => new Date()): Promise<number> {
    let made = 0;
    const worker = async () => {
      for (;;) {
        const delivery = await store.claimDue(owner, o.leaseMs, now());
        if (!delivery) return;
        await attempt(delivery, now);
        made++;
      }
    };
    await Promise.all(Array.from({ length: o.concurrency }, worker));
    return made;
  }

  let lastSweep = 0;
  async function run(): Promise<void> {
    while (running) {
      try {
        await fanOut();
        await deliverDue();
        if (Date.now() - lastSweep > 10 * o.leaseMs) {
          lastSweep = Date.now();
          await store.sweepLeases();
        }
      } catch (err) {
        log.error({ err }, 'webhook dispatcher pass failed');
      }
      if (!running) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, o.pollMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  }

  return {
    owner,
    fanOut,
    deliverDue,
    start() {
      if (running) return;
      running = true;
      loop = run();
    },
    async stop() {
      running = false;
      wake?.();
      await loop;
    },
  };
}

/** For the worker process: builds and starts the dispatcher; `stop()` finishes the current pass. */
export function startWebhookDispatcher(deps: WebhookDispatcherDeps): WebhookDispatcher {
  const dispatcher = createWebhookDispatcher(deps);
  dispatcher.start();
  return dispatcher;
}
