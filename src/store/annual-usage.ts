import { createHash } from 'node:crypto';
import type { Collection } from 'mongodb';
import type { AnnualUsageStore } from './contracts';
import { isDuplicateKey } from './bulk-writes';
import { raw, type StoreModels, type UsageDoc } from './models';
import type { PiiVault } from './pii';

/**
 * Per-buyer, per-calendar-year usage of the annual limit: ONE document per buyer and year, keyed by the
 * HMAC of the buyer's ID number (the number itself is never stored here), holding the CNY used (in cents)
 * and what each order reserved.
 *
 * A reservation is one conditional update: `{_id, orders.<order>: {$exists: false}, usedCents: {$lte:
 * limit − amount}}` → `$inc usedCents, $set orders.<order>`. Two gateways cannot both spend the same
 * headroom, and the same order is counted once, because MongoDB applies each update to one document
 * atomically. A release is the conditional update back (`{orders.<order>: amount}` → `$unset`, `$inc −amount`).
 * The first order of a buyer in a year inserts the document (unique `_id`: of two first orders one inserts,
 * the other updates).
 */
export class MongoAnnualUsageStore implements AnnualUsageStore {
  private readonly usage: Collection<UsageDoc>;

  constructor(
    models: StoreModels,
    private readonly vault: PiiVault,
    private readonly maxAttempts = 20,
  ) {
    this.usage = raw(models.Usage);
  }

  private bucket(buyerIdNumber: string, year: number): string {
    if (!Number.isInteger(year) || year < 2000 || year > 9999)
      throw new RangeError(`year must be a calendar year, got ${year}`);
    return `${this.vault.blindIndex('idNumber', buyerIdNumber)}:${year}`;
  }

  async usedThisYear(buyerIdNumber: string, year: number): Promise<number> {
    const doc = await this.usage.findOne({ _id: this.bucket(buyerIdNumber, year) }, { projection: { usedCents: 1 } });
    return fromCents(doc?.usedCents ?? 0);
  }

  async reserve(
    buyerIdNumber: string,
    year: number,
    orderKey: string,
    amountCny: number,
    limit: number,
  ): Promise<{ ok: boolean; used: number }> {
    if (!(Number.isFinite(amountCny) && amountCny >= 0))
      throw new RangeError(`amount must be a non-negative number, got ${amountCny}`);
    const _id = this.bucket(buyerIdNumber, year);
    const order = `orders.${orderField(orderKey)}`;
    const cents = toCents(amountCny);
    const limitCents = toCents(limit);
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const after = await this.usage.findOneAndUpdate(
        { _id, [order]: { $exists: false }, usedCents: { $lte: limitCents - cents } },
        { $inc: { usedCents: cents }, $set: { [order]: cents, updatedAt: new Date() } },
        { returnDocument: 'after' },
      );
      if (after) return { ok: true, used: fromCents(after.usedCents) };
      // Not taken: reserved already, over the limit, or the buyer's first order this year.
      const doc = await this.usage.findOne({ _id });
      if (doc) {
        if (doc.orders?.[orderField(orderKey)] !== undefined) return { ok: true, used: fromCents(doc.usedCents) };
        if (doc.usedCents + cents > limitCents) return { ok: false, used: fromCents(doc.usedCents) };
        continue; // changed between the update and the read: decide again
      }
      if (cents > limitCents) return { ok: false, used: 0 };
      try {
        await this.usage.insertOne({
          _id,
          usedCents: cents,
          orders: { [orderField(orderKey)]: cents },
          updatedAt: new Date(),
        });
        return { ok: true, used: fromCents(cents) };
      } catch (err) {
        if (!isDuplicateKey(err)) throw err; // another first order inserted it: update it instead
      }
    }
    throw new Error(`annual usage: could not reserve for ${orderKey} after ${this.maxAttempts} attempts`);
  }

  async release(buyerIdNumber: string, year: number, orderKey: string): Promise<void> {
    const _id = this.bucket(buyerIdNumber, year);
    const field = orderField(orderKey);
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const doc = await this.usage.findOne({ _id }, { projection: { [`orders.${field}`]: 1 } });
      const cents = doc?.orders?.[field];
      if (cents === undefined) return; // never reserved, or released already
      const r = await this.usage.updateOne(
        { _id, [`orders.${field}`]: cents },
        { $unset: { [`orders.${field}`]: '' }, $inc: { usedCents: -cents }, $set: { updatedAt: new Date() } },
      );
      if (r.modifiedCount === 1) return;
    }
    throw new Error(`annual usage: could not release ${orderKey} after ${this.maxAttempts} attempts`);
  }
}

/** An order key as a field name (no '.', '$' or leading digit): a hash of it. */
function orderField(orderKey: string): string {
  return 'o' + createHash('sha256').update(orderKey, 'utf8').digest('hex').slice(0, 32);
}

/** Money in integer cents, so 0.1 + 0.2 style drift never decides a limit. */
function toCents(cny: number): number {
  return Math.round(cny * 100);
}

function fromCents(cents: number): number {
  return cents / 100;
}
