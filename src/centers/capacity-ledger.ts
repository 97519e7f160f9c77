import type { CapacityCounterRepository } from '../store/capacity';
import { capacityDay, type CapacityLedger } from './routing';

/**
 * The routing's CapacityLedger over the capacity counters (src/store/capacity.ts: one counter per center
 * per day, an atomic upserting `$inc`, so every gateway copy counts exactly into the same document).
 *
 * Increments to one counter from this process are coalesced: while one `$inc` is in flight, the
 * increments that arrive are summed into the next single `$inc`, and each caller gets its own running
 * total back (as if applied one by one, in arrival order: a batch's range of totals is its own, because
 * the `$inc` that produced it is atomic). This saves round trips, not correctness: under load a counter
 * costs one update per round trip instead of one per order.
 *
 * Counters of days older than `retainDays` are swept at most once an hour.
 */
interface PendingIncrement {
  center: string;
  day: string;
  waiters: { count: number; resolve: (usedAfter: number) => void; reject: (err: unknown) => void }[];
}

export class CoalescingCapacityLedger implements CapacityLedger {
  /** Per-counter chain of in-flight increments (see the class comment). */
  private readonly chains = new Map<string, Promise<unknown>>();
  /** Per-counter increments waiting for the one in flight: summed into the next single `$inc`. */
  private readonly pending = new Map<string, PendingIncrement>();
  private lastSweep = 0;

  constructor(
    private readonly counters: CapacityCounterRepository,
    private readonly options: { retainDays?: number; now?: () => number } = {},
  ) {}

  usedOn(day: string, centers: readonly string[]): Promise<Record<string, number>> {
    return this.counters.usedOn(day, centers);
  }

  async consume(center: string, day: string, count = 1): Promise<number> {
    this.maybeSweep();
    const key = `${center}:${day}`;
    let pending = this.pending.get(key);
    if (!pending) {
      pending = { center, day, waiters: [] };
      this.pending.set(key, pending);
      const batch = pending;
      // Runs after the counter's previous increment (if any) settled; takes everything queued meanwhile.
      const previous = this.chains.get(key) ?? Promise.resolve();
      const next = previous.catch(() => undefined).then(() => this.flush(key, batch));
      this.chains.set(key, next);
      void next.finally(() => {
        if (this.chains.get(key) === next) this.chains.delete(key);
      });
    }
    return new Promise<number>((resolve, reject) => pending.waiters.push({ count, resolve, reject }));
  }

  private async flush(key: string, batch: PendingIncrement): Promise<void> {
    if (this.pending.get(key) === batch) this.pending.delete(key);
    const total = batch.waiters.reduce((s, w) => s + w.count, 0);
    try {
      const after = await this.counters.add(batch.center, batch.day, total);
      let running = after - total;
      for (const w of batch.waiters) {
        running += w.count;
        w.resolve(running);
      }
    } catch (err) {
      for (const w of batch.waiters) w.reject(err);
    }
  }

  private maybeSweep(): void {
    const now = (this.options.now ?? Date.now)();
    if (now - this.lastSweep < 3_600_000) return;
    this.lastSweep = now;
    const oldest = capacityDay(new Date(now - (this.options.retainDays ?? 35) * 86_400_000));
    void this.counters.sweepBefore(oldest).catch(() => undefined);
  }
}
