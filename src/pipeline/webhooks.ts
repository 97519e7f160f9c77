import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import type { DeclarationStore, DeclarationView, HistoryEntry } from '../store/contracts';
import type { CursorRepository } from '../store/cursors';
import type { DeliveryAttempt, WebhookDelivery, WebhookDeliveryRepository } from '../store/webhook-deliveries';
import type { Webhook, WebhookSubscriptionRepository } from '../store/webhook-subscriptions';

export type { DeliveryAttempt, WebhookDelivery } from '../store/webhook-deliveries';
export type { Webhook } from '../store/webhook-subscriptions';
import { checkWebhookTarget, postToTarget, type WebhookTargetPolicy } from './webhook-targets';

/**
 * Webhooks: a seller registers URLs and receives every status change of its declarations as a signed JSON
 * POST.
 *
 * Pipeline (all state in MongoDB, single-document atomic updates only, so several workers can run it):
 *  1. fan-out: `DeclarationStore.eventsSince(cursor)` → one delivery per (webhook, event), stored once
 *     whoever re-runs the fan-out (src/store/webhook-deliveries.ts); the cursor is a named cursor
 *     (src/store/cursors.ts).
 *     Event ids are ObjectIds made by the writers' clocks, so an event can be committed slightly AFTER a
 *     later id was read; the cursor therefore only advances past events older than `settleMs`, and the
 *     newest events are read again next time (harmless: the delivery insert is idempotent).
 *  2. delivery: due deliveries are claimed with a lease on the delivery itself (one conditional update,
 *     see WebhookDeliveryRepository.claimDue), POSTed with
 *     `Baygate-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, and on failure retried with
 *     exponential backoff (plus jitter) until `maxAttempts`, then marked failed. Every attempt is logged on
 *     the delivery (GET /v1/webhooks/{id}/deliveries).
 *
 * The signing secret must be readable to sign, so it is stored as given (it is a shared secret of this
 * integration only, not a credential to Baygate); it is shown to the seller once, at registration.
 */
const CURSOR_ID = 'webhooks';

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

/** The webhook repositories the pipeline and the routes work with. */
export interface WebhookRepositories {
  subscriptions: WebhookSubscriptionRepository;
  deliveries: WebhookDeliveryRepository;
  cursors: CursorRepository;
}

/** A seller's webhooks, as the routes manage them. */
export class WebhookRegistry {
  constructor(private readonly repositories: Pick<WebhookRepositories, 'subscriptions' | 'deliveries'>) {}

  async create(sellerId: string, url: string, secret?: string, now = new Date()): Promise<Webhook> {
    const webhook: Webhook = {
      id: randomUUID(),
      sellerId,
      url,
      secret: secret ?? `whsec_${randomBytes(32).toString('base64url')}`,
      createdAt: now,
    };
    await this.repositories.subscriptions.insert(webhook);
    return webhook;
  }

  list(sellerId: string): Promise<Webhook[]> {
    return this.repositories.subscriptions.listBySeller(sellerId);
  }

  find(id: string): Promise<Webhook | null> {
    return this.repositories.subscriptions.find(id);
  }

  /**
   * Deletes a webhook of this seller, then cancels its pending deliveries (should the second step not
   * happen, the dispatcher cancels each such delivery when it finds the webhook gone).
   */
  async remove(sellerId: string, id: string): Promise<boolean> {
    if (!(await this.repositories.subscriptions.remove(sellerId, id))) return false;
    await this.repositories.deliveries.cancelPending(id);
    return true;
  }

  deliveriesOf(webhookId: string, limit: number): Promise<WebhookDelivery[]> {
    return this.repositories.deliveries.listByWebhook(webhookId, limit);
  }
}

export interface WebhookDispatcherDeps {
  repositories: WebhookRepositories;
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
  const { subscriptions, deliveries: outbox, cursors } = deps.repositories;
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
    const webhooks = await subscriptions.listAll();
    const cursor = await cursors.read(CURSOR_ID);
    if (webhooks.length === 0) {
      // Nobody listens: skip the events instead of scanning them.
      await cursors.advance(CURSOR_ID, objectIdAt(now.getTime() - o.settleMs), now);
      return 0;
    }
    const bySeller = new Map<string, Webhook[]>();
    for (const w of webhooks) bySeller.set(w.sellerId, [...(bySeller.get(w.sellerId) ?? []), w]);
    const from = cursor ?? objectIdAt(Math.min(...webhooks.map((w) => w.createdAt.getTime())));
    const events = await deps.declarations.eventsSince(from, o.batchSize, { sellerIds: [...bySeller.keys()] });
    const deliveries: WebhookDelivery[] = [];
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
          id: `${webhook.id}:${event.eventId}`,
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
    const created = await outbox.insertNew(deliveries);
    if (advanceTo) await cursors.advance(CURSOR_ID, advanceTo, now);
    else if (events.length === 0 && !cursor)
      await cursors.advance(CURSOR_ID, objectIdAt(now.getTime() - o.settleMs), now);
    if (created > 0) log.debug({ created }, 'webhook deliveries created');
    return created;
  }

  async function attempt(delivery: WebhookDelivery, now: () => Date): Promise<void> {
    const webhook = await subscriptions.find(delivery.webhookId);
    const started = now();
    if (!webhook) {
      await outbox.recordAttempt(
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
      await outbox.recordAttempt(delivery.id, delivery.attempts, record, { delivered: true });
      deps.onDelivered?.(true);
    } else if (attempts >= o.maxAttempts) {
      await outbox.recordAttempt(delivery.id, delivery.attempts, record, { failed: true });
      log.warn({ deliveryId: delivery.id, attempts, error }, 'webhook delivery given up');
      deps.onDelivered?.(false);
    } else {
      await outbox.recordAttempt(delivery.id, delivery.attempts, record, {
        retryAt: new Date(now().getTime() + backoffMs(attempts, o.baseBackoffMs, o.maxBackoffMs)),
      });
      deps.onDelivered?.(false);
    }
  }

  async function deliverDue(now: () => Date = () => new Date()): Promise<number> {
    let made = 0;
    const worker = async () => {
      for (;;) {
        const delivery = await outbox.claimDue(owner, o.leaseMs, now());
        if (!delivery) return;
        await attempt(delivery, now);
        made++;
      }
    };
    await Promise.all(Array.from({ length: o.concurrency }, worker));
    return made;
  }

  async function run(): Promise<void> {
    while (running) {
      try {
        await fanOut();
        await deliverDue();
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
