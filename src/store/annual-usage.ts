import type { Collection } from 'mongodb';
import type { AnnualUsageStore } from './contracts';
import { isDuplicateKey, raw, type StoreModels, type UsageEntryDoc } from './models';
import type { PiiVault } from './pii';

/**
 * Per-buyer, per-calendar-year usage of the 26,000 CNY annual limit, keyed by the HMAC of the buyer's ID
 * number (the number itself is never stored here).
 *
 * A ledger, not a counter: each reservation or release is an entry "<bucket>#<seq>" whose _id is unique.
 * A writer reads the bucket's entries, decides (already reserved? within the limit?) and appends entry
 * <last seq + 1>. Two gateways deciding on the same state both try the same slot; the unique index lets
 * exactly one in and the other re-reads and decides again — compare-and-set without transactions, and
 * correct on FerretDB v1, whose conditional `$inc` is not atomic (measured: 200 racing increments → 4).
 */
export class MongoAnnualUsageStore implements AnnualUsageStore {
  private readonly entries: Collection<UsageEntryDoc>;

  constructor(models: StoreModels, private readonly vault: PiiVault, private readonly maxRetries = 50) {
    this.entries = raw(models.Usage);
  }

  private bucket(buyerIdNumber: string, year: number): string {
    if (!Number.isInteger(year) || year < 2000 || year > 9999) throw new RangeError(`year must be a calendar year, got ${year}`);
    return `${this.vault.blindIndex('idNumber', buyerIdNumber)}:${year}`;
  }

  /**
   * The bucket's entries, read slot by slot ("<bucket>#1", "#2", … until one is missing). A lookup by _id
   * alone is the one query FerretDB v1 pushes down to SQLite (measured ~20× cheaper than a filter on
   * `bucket` at 10,000 entries), and a buyer has only a few entries a year. Slots are filled in order
   * (entry n+1 is only written by someone who read entry n), so the first gap is the end.
   */
  private async state(bucket: string): Promise<{ used: number; lastSeq: number; reserved: Map<string, number> }> {
    const list: UsageEntryDoc[] = [];
    for (let seq = 1; ; seq++) {
      const entry = await this.entries.findOne({ _id: `${bucket}#${seq}` });
      if (!entry) break;
      list.push(entry);
    }
    const reserved = new Map<string, number>();
    for (const e of list) {
      if (e.op === 'reserve') reserved.set(e.orderKey, e.amount);
      else reserved.delete(e.orderKey);
    }
    return { used: sumCents([...reserved.values()]), lastSeq: list.length ? list[list.length - 1]!.seq : 0, reserved };
  }

  async usedThisYear(buyerIdNumber: string, year: number): Promise<number> {
    return (await this.state(this.bucket(buyerIdNumber, year))).used;
  }

  async reserve(buyerIdNumber: string, year: number, orderKey: string, amountCny: number, limit: number): Promise<{ ok: boolean; used: number }> {
    if (!(Number.isFinite(amountCny) && amountCny >= 0)) throw new RangeError(`amount must be a non-negative number, got ${amountCny}`);
    const bucket = this.bucket(buyerIdNumber, year);
    for (let attempt = 0; attempt < this.maxRetries; attempt++) {
      const s = await this.state(bucket);
      if (s.reserved.has(orderKey)) return { ok: true, used: s.used }; // idempotent per order
      const after = sumCents([s.used, amountCny]);
      if (after > limit) return { ok: false, used: s.used };
      if (await this.append({ bucket, seq: s.lastSeq + 1, op: 'reserve', orderKey, amount: amountCny })) return { ok: true, used: after };
      await backoff(attempt);
    }
    throw new Error(`annual usage: could not reserve for ${orderKey} after ${this.maxRetries} attempts (heavy contention on one buyer)`);
  }

  async release(buyerIdNumber: string, year: number, orderKey: string): Promise<void> {
    const bucket = this.bucket(buyerIdNumber, year);
    for (let attempt = 0; attempt < this.maxRetries; attempt++) {
      const s = await this.state(bucket);
      const amount = s.reserved.get(orderKey);
      if (amount === undefined) return; // never reserved, or released already
      if (await this.append({ bucket, seq: s.lastSeq + 1, op: 'release', orderKey, amount })) return;
      await backoff(attempt);
    }
    throw new Error(`annual usage: could not release ${orderKey} after ${this.maxRetries} attempts`);
  }

  /** Appends the entry in its slot; false when another writer took the slot first. */
  private async append(entry: Omit<UsageEntryDoc, '_id' | 'at'>): Promise<boolean> {
    try {
      await this.entries.insertOne({ _id: `${entry.bucket}#${entry.seq}`, ...entry, at: new Date() });
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }
}

/** Sums money in integer cents so 0.1 + 0.2 style drift never decides a limit. */
function sumCents(amounts: number[]): number {
  return amounts.reduce((s, a) => s + Math.round(a * 100), 0) / 100;
}

function backoff(attempt: number): Promise<void> {
  const ms = Math.min(50, 1 + attempt * 2) * (0.5 + Math.random());
  return new Promise((r) => setTimeout(r, ms));
}
