import type { Logger } from 'pino';
import { statusLabel } from '../domain/status';
import type { DeclarationFilter, DeclarationStore, DeclarationView, HistoryEntry } from '../store/contracts';

/**
 * One poller per gateway process that turns new history entries into live status events and fans them out
 * to the connected Server-Sent Events clients (FerretDB v1 has no change streams, so we poll).
 *
 * Event ids are ObjectId hex strings: time-ordered to the second, but within one second ids written by
 * different processes (gateway, workers, receipt ingestion) are ordered by each process's random part,
 * not by time. A poller that only asked for "ids after the last one seen" could step over an entry another
 * process wrote a moment later with a smaller id. So each poll re-reads from `overlapMs` before the newest
 * id seen and drops the ids it has already delivered: every event is delivered at least once, in id order
 * within a poll. The poller only runs while someone is listening.
 */

export interface LiveEvent {
  /** History eventId: the SSE `id:` a client resumes from. */
  id: string;
  sellerId: string;
  declarationId: string;
  orderNo: string;
  messageType: string;
  center: string;
  status: string;
  label: { zh: string; en: string };
  at: string;
}

export interface LiveSubscriber {
  /** Sellers whose events this subscriber may receive; undefined = all. */
  sellerIds?: readonly string[];
  deliver(event: LiveEvent): void;
  /** Called when the hub shuts down. */
  close(): void;
}

export interface LiveEventsOptions {
  store: Pick<DeclarationStore, 'eventsSince'>;
  logger: Logger;
  pollMs?: number;
  /** Page size of one eventsSince call. */
  batchSize?: number;
  /** How far back each poll re-reads (see above). */
  overlapMs?: number;
  /** Most pages one poll reads before yielding (a burst is then caught up over the next polls). */
  maxPagesPerPoll?: number;
}

export function toLiveEvent(declaration: DeclarationView, event: HistoryEntry): LiveEvent {
  return {
    id: event.eventId,
    sellerId: declaration.sellerId,
    declarationId: declaration.id,
    orderNo: declaration.orderNo,
    messageType: declaration.messageType,
    center: declaration.center,
    status: event.status,
    label: statusLabel(event.status),
    at: new Date(event.at).toISOString(),
  };
}

const EVENT_ID = /^[0-9a-f]{24}$/;

export function isEventId(value: string): boolean {
  return EVENT_ID.test(value);
}

/** The seconds part of an ObjectId hex string. */
export function eventIdSeconds(id: string): number {
  return Number.parseInt(id.slice(0, 8), 16);
}

/** The smallest ObjectId hex string of a given second: "after this" means "from that second on". */
export function eventIdFloor(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000) - 1);
  return seconds.toString(16).padStart(8, '0') + 'f'.repeat(16);
}

export function visibleTo(sellerIds: readonly string[] | undefined, sellerId: string): boolean {
  return sellerIds === undefined || sellerIds.includes(sellerId);
}

/**
 * Replays the events after `afterId` (exclusive) the given sellers may see, oldest first, calling `onEvent`
 * for each; stops after `max` events. Returns the id of the last one and whether more may remain.
 */
export async function replayEvents(
  store: Pick<DeclarationStore, 'eventsSince'>,
  afterId: string,
  filter: DeclarationFilter,
  onEvent: (event: LiveEvent) => void,
  options: { pageSize?: number; max?: number } = {},
): Promise<{ lastId: string; count: number; more: boolean }> {
  const pageSize = options.pageSize ?? 500;
  const max = options.max ?? 10_000;
  let cursor = afterId;
  let count = 0;
  for (;;) {
    const page = await store.eventsSince(cursor, Math.min(pageSize, max - count), filter);
    for (const { declaration, event } of page) {
      if (!visibleTo(filter.sellerIds, declaration.sellerId)) continue; // the store filters; this is a second lock
      onEvent(toLiveEvent(declaration, event));
      cursor = event.eventId;
      count += 1;
    }
    const last = page.at(-1);
    if (last) cursor = last.event.eventId;
    if (page.length < pageSize) return { lastId: cursor, count, more: false };
    if (count >= max) return { lastId: cursor, count, more: true };
  }
}

export class LiveEvents {
  private readonly subscribers = new Set<LiveSubscriber>();
  private readonly o: Required<Omit<LiveEventsOptions, 'store' | 'logger'>> &
    Pick<LiveEventsOptions, 'store' | 'logger'>;
  /** Ids delivered recently (within the overlap window), with their second, to drop re-read entries. */
  private readonly delivered = new Map<string, number>();
  private newestId?: string;
  /** Entries at or below this id predate the poller: read for the overlap, never delivered. */
  private startId?: string;
  private timer?: NodeJS.Timeout;
  private polling?: Promise<void>;
  private closed = false;
  private failures = 0;

  constructor(options: LiveEventsOptions) {
    this.o = { pollMs: 250, batchSize: 500, overlapMs: 2000, maxPagesPerPoll: 20, ...options };
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** Adds a subscriber; returns the function that removes it. The poller starts with the first one. */
  subscribe(subscriber: LiveSubscriber): () => void {
    if (this.closed) {
      subscriber.close();
      return () => undefined;
    }
    this.subscribers.add(subscriber);
    if (!this.timer) this.startPolling();
    return () => {
      this.subscribers.delete(subscriber);
      if (this.subscribers.size === 0) this.stopPolling();
    };
  }

  /** Stops polling and closes every subscriber (call before closing the HTTP server: streams never end by themselves). */
  async close(): Promise<void> {
    this.closed = true;
    this.stopPolling();
    await this.polling;
    for (const s of [...this.subscribers]) {
      try {
        s.close();
      } catch {
        // a subscriber that fails to close is gone anyway
      }
    }
    this.subscribers.clear();
  }

  private startPolling(): void {
    // Live from now on: a client that wants the past sends Last-Event-ID and gets a replay.
    this.newestId = eventIdFloor(Date.now());
    this.startId = this.newestId;
    this.delivered.clear();
    const tick = () => {
      if (!this.timer) return;
      this.polling = this.pollOnce()
        .then(() => undefined)
        .catch((err: unknown) => {
          this.failures += 1;
          if (this.failures === 1 || this.failures % 40 === 0)
            this.o.logger.warn(
              { err: (err as Error).message, failures: this.failures },
              'live events poll failed; retrying',
            );
        })
        .finally(() => {
          if (this.timer) this.timer = setTimeout(tick, this.o.pollMs);
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  private stopPolling(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** One poll: reads the entries after (newest − overlap), delivers the ones not delivered yet. */
  async pollOnce(): Promise<number> {
    if (this.newestId === undefined) this.newestId = eventIdFloor(Date.now());
    let cursor = eventIdFloor(eventIdSeconds(this.newestId) * 1000 - this.o.overlapMs);
    let sent = 0;
    for (let page = 0; page < this.o.maxPagesPerPoll; page++) {
      const entries = await this.o.store.eventsSince(cursor, this.o.batchSize);
      for (const { declaration, event } of entries) {
        cursor = event.eventId;
        if (this.delivered.has(event.eventId)) continue;
        this.delivered.set(event.eventId, eventIdSeconds(event.eventId));
        if (this.newestId === undefined || event.eventId > this.newestId) this.newestId = event.eventId;
        if (this.startId !== undefined && event.eventId <= this.startId) continue;
        this.fanOut(toLiveEvent(declaration, event));
        sent += 1;
      }
      if (entries.length < this.o.batchSize) break;
    }
    this.failures = 0;
    // Forget ids older than the window we re-read: they can never come back.
    const oldest = eventIdSeconds(this.newestId) - Math.ceil(this.o.overlapMs / 1000) - 2;
    for (const [id, seconds] of this.delivered) if (seconds < oldest) this.delivered.delete(id);
    return sent;
  }

  private fanOut(event: LiveEvent): void {
    for (const s of this.subscribers) {
      if (!visibleTo(s.sellerIds, event.sellerId)) continue;
      try {
        s.deliver(event);
      } catch (err) {
        this.o.logger.warn({ err: (err as Error).message }, 'live event subscriber failed; dropped');
        this.subscribers.delete(s);
      }
    }
  }
}
