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
 * atomically. It is an upsert, so a buyer's first order of the year inserts the document in the same round
 * trip; when the document exists but the condition fails, the upsert's insert collides with its `_id`
 * (11000) and the document read then says why (counted already, or over the limit). A release is the
 * conditional update back (`{orders.<order>: amount}` → `$unset`, `$inc −amount`).
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
  ): Promise<{ ok: boolean; used: number; added: boolean }> {
    if (!(Number.isFinite(amountCny) && amountCny >= 0))
      throw new RangeError(`amount must be a non-negative number, got ${amountCny}`);
    const _id = this.bucket(buyerIdNumber, year);
    const field = orderField(orderKey);
    const cents = toCents(amountCny);
    const limitCents = toCents(limit);
    if (cents > limitCents) return { ok: false, used: fromCents((await this.read(_id))?.usedCents ?? 0), added: false };
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      try {
        // Taken if this order is not counted yet and fits; inserted whole for the buyer's first order of the
        // year (the upsert). Otherwise the upsert's insert collides with the existing _id: decided below.
        const after = await this.usage.findOneAndUpdate(
          { _id, [`orders.${field}`]: { $exists: false }, usedCents: { $lte: limitCents - cents } },
          { $inc: { usedCents: cents }, $set: { [`orders.${field}`]: cents, updatedAt: new Date() } },
          { upsert: true, returnDocument: 'after' },
        );
        if (after) return { ok: true, used: fromCents(after.usedCents), added: true };
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
      const doc = await this.read(_id);
      if (doc?.orders?.[field] !== undefined) return { ok: true, used: fromCents(doc.usedCents), added: false }; // counted once
      if (doc && doc.usedCents + cents > limitCents) return { ok: false, used: fromCents(doc.usedCents), added: false };
      // changed between the update and the read: decide again
    }
    throw new Error(`annual usage: could not reserve for ${orderKey} after ${this.maxAttempts} attempts`);
  }

  private read(_id: string): Promise<UsageDoc | null> {
    return this.usage.findOne({ _id });
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
