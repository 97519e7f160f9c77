import type { Collection } from 'mongodb';
import type { AnnualUsageStore } from './contracts';
import { isDuplicateKey, raw, type StoreModels, type UsageEntryDoc } from './models';
import type { PiiVault } from './pii';

/**
 * Per-buyer, per-calendar-year usage of the 26,000 CNY annual limit, keyed by the HMAC of the buyer's ID
 * number (the number itself is never stored here).
 *
 * A ledger, not a counter: each reservation or release is an entry "<bucket>#<seq>" whose _id is unique.
 * A writer decides (already reserved? within the limit?) on the bucket's entries and appends entry
 * <last seq + 1>. Two gateways deciding on the same state both try the same slot; the unique index lets
 * exactly one in and the other reads on and decides again — compare-and-set without transactions, and
 * correct on FerretDB v1, whose conditional `$inc` is not atomic (measured: 200 racing increments → 4).
 *
 * Reads are what cost on FerretDB v1 (every lookup scans the ledger, which grows with every order), so a
 * writer appends optimistically on what it already knows: entries are immutable and slots are filled in
 * order, so if its append at <known + 1> succeeds, nobody had written there, its knowledge was complete
 * and its decision right. A bucket it has never seen is taken as empty (most buyers are new); a lost
 * append means someone wrote first — then it reads on from what it knew and decides again. The common
 * case costs one insert and no read.
 */
export class MongoAnnualUsageStore implements AnnualUsageStore {
  private readonly entries: Collection<UsageEntryDoc>;
  /** What this process knows of each bucket: its first entries, in slot order (bounded, least recent dropped). */
  private readonly known = new Map<string, UsageEntryDoc[]>();

  constructor(
    models: StoreModels,
    private readonly vault: PiiVault,
    private readonly maxRetries = 50,
    private readonly maxKnown = 50_000,
  ) {
    this.entries = raw(models.Usage);
  }

  private bucket(buyerIdNumber: string, year: number): string {
    if (!Number.isInteger(year) || year < 2000 || year > 9999)
      throw new RangeError(`year must be a calendar year, got ${year}`);
    return `${this.vault.blindIndex('idNumber', buyerIdNumber)}:${year}`;
  }

  /**
   * Reads the bucket's entries after those already known, slot by slot ("<bucket>#n", "#n+1", … until one
   * is missing): a lookup by _id alone is the cheapest query FerretDB v1 has, and a buyer has only a few
   * entries a year. Slots are filled in order (entry n+1 is only written by someone who read entry n), so
   * the first gap is the end.
   */
  private async readOn(bucket: string): Promise<UsageEntryDoc[]> {
    const list = [...(this.known.get(bucket) ?? [])];
    for (let seq = list.length + 1; ; seq++) {
      const entry = await this.entries.findOne({ _id: `${bucket}#${seq}` });
      if (!entry) break;
      list.push(entry);
    }
    this.learn(bucket, list);
    return list;
  }

  private learn(bucket: string, list: UsageEntryDoc[]): void {
    this.known.delete(bucket); // re-inserted last: the map's order is least recently used first
    if (this.known.size >= this.maxKnown) this.known.delete(this.known.keys().next().value!);
    this.known.set(bucket, list);
  }

  async usedThisYear(buyerIdNumber: string, year: number): Promise<number> {
    return summarise(await this.readOn(this.bucket(buyerIdNumber, year))).used;
  }

  async reserve(
    buyerIdNumber: string,
    year: number,
    orderKey: string,
    amountCny: number,
    limit: number,
  ): Promise<{ ok: boolean; used: number; added: boolean }> {
    if (!(Number.isFinite(amountCny) && amountCny >= 0))
      throw new RangeError(`amount must be a non-negative number, got ${amountCny}`);
    return this.appendDeciding<{ ok: boolean; used: number; added: boolean }>(
      this.bucket(buyerIdNumber, year),
      `reserve for ${orderKey}`,
      (s) => {
        if (s.reserved.has(orderKey)) return { result: { ok: true, used: s.used, added: false } }; // idempotent
        const after = sumCents([s.used, amountCny]);
        if (after > limit) return { result: { ok: false, used: s.used, added: false } };
        return {
          entry: { op: 'reserve', orderKey, amount: amountCny },
          result: { ok: true, used: after, added: true },
        };
      },
    );
  }

  async release(buyerIdNumber: string, year: number, orderKey: string): Promise<void> {
    await this.appendDeciding(this.bucket(buyerIdNumber, year), `release ${orderKey}`, (s) => {
      const amount = s.reserved.get(orderKey);
      if (amount === undefined) return { result: undefined }; // never reserved, or released already
      return { entry: { op: 'release', orderKey, amount }, result: undefined };
    });
  }

  /** Decides on what is known and appends; on a lost slot, reads on and decides again. */
  private async appendDeciding<R>(
    bucket: string,
    what: string,
    decide: (s: UsageState) => { entry?: Pick<UsageEntryDoc, 'op' | 'orderKey' | 'amount'>; result: R },
  ): Promise<R> {
    let list = this.known.get(bucket) ?? [];
    for (let attempt = 0; attempt < this.maxRetries; attempt++) {
      const s = summarise(list);
      const { entry, result } = decide(s);
      if (!entry) return result;
      const seq = s.lastSeq + 1;
      const doc: UsageEntryDoc = { _id: `${bucket}#${seq}`, bucket, seq, ...entry, at: new Date() };
      try {
        await this.entries.insertOne(doc);
        this.learn(bucket, [...list, doc]);
        return result;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
      if (attempt > 0) await backoff(attempt);
      list = await this.readOn(bucket);
    }
    throw new Error(
      `annual usage: could not ${what} after ${this.maxRetries} attempts (heavy contention on one buyer)`,
    );
  }
}

interface UsageState {
  used: number;
  lastSeq: number;
  reserved: Map<string, number>;
}

function summarise(list: UsageEntryDoc[]): UsageState {
  const reserved = new Map<string, number>();
  for (const e of list) {
    if (e.op === 'reserve') reserved.set(e.orderKey, e.amount);
    else reserved.delete(e.orderKey);
  }
  return { used: sumCents([...reserved.values()]), lastSeq: list.length ? list[list.length - 1]!.seq : 0, reserved };
}

/** Sums money in integer cents so 0.1 + 0.2 style drift never decides a limit. */
function sumCents(amounts: number[]): number {
  return amounts.reduce((s, a) => s + Math.round(a * 100), 0) / 100;
}

function backoff(attempt: number): Promise<void> {
  const ms = Math.min(50, 1 + attempt * 2) * (0.5 + Math.random());
  return new Promise((r) => setTimeout(r, ms));
}
