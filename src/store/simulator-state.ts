import { collectionOf, isDuplicateKey, type StoreConnection } from './collections';

/**
 * What a simulated clearance center remembers across restarts (`baygate center simulate
 * --persistent-state`): the manifests it has taken, and each buyer's yearly usage of the retail-import
 * quota. The simulator also runs without them, in memory (src/centers/simulator).
 *
 * `simulator_manifests`: one document per (center, manifest guid), `_id` "<center>:<guid>". Taking a
 * manifest is its insert: a unique `_id` has exactly one inserter, so a redelivered manifest is
 * recognised by every simulator copy.
 *
 * `simulator_buyer_quotas`: one document per (center, buyer, year), `_id` "<center>:<buyer>:<year>",
 * holding the total in fen and the amount booked per inventory (`entries`, keyed by the inventory).
 * Booking is ONE conditional upsert, `updateOne({_id, 'entries.<k>': {$exists: false}}, {$set:
 * {'entries.<k>': fen}, $inc: {totalFen: fen}}, {upsert: true})`: an inventory is counted once however
 * often it is redelivered, and concurrent bookings of different inventories all count. Releasing (a
 * cancelled inventory) is conditional on the booked amount still being there, so it is given back once.
 * Amounts are whole fen: sums of yuan amounts with cents stay exact.
 */
export const SIMULATOR_MANIFESTS_COLLECTION = 'simulator_manifests';
export const SIMULATOR_QUOTAS_COLLECTION = 'simulator_buyer_quotas';

export interface ManifestDedup {
  /** true the first time a guid is claimed, false for every later delivery of it. */
  claim(guid: string): Promise<boolean>;
}

/** Per-buyer yearly usage the center keeps; idempotent per inventory key. */
export interface BuyerUsageLedger {
  /** Yuan booked for the buyer in the year. */
  used(buyerId: string, year: number): Promise<number>;
  /** Adds `amount` (yuan) under `entryKey` once (a redelivered inventory does not count twice). */
  add(buyerId: string, year: number, entryKey: string, amount: number): Promise<void>;
  /** Gives an entry's amount back (the inventory was cancelled); unknown keys are ignored. */
  release(buyerId: string, year: number, entryKey: string): Promise<void>;
}

export class MongoManifestDedup implements ManifestDedup {
  constructor(
    private readonly connection: StoreConnection,
    private readonly center: string,
    private readonly collectionName = SIMULATOR_MANIFESTS_COLLECTION,
  ) {}

  async claim(guid: string): Promise<boolean> {
    try {
      await collectionOf<{ _id: string; at: Date }>(this.connection, this.collectionName).insertOne({
        _id: `${this.center}:${guid}`,
        at: new Date(),
      });
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }
}

interface QuotaDoc {
  _id: string;
  center: string;
  buyer: string;
  year: number;
  totalFen: number;
  entries: Record<string, number>;
}

export class MongoUsageLedger implements BuyerUsageLedger {
  constructor(
    private readonly connection: StoreConnection,
    private readonly center: string,
    private readonly collectionName = SIMULATOR_QUOTAS_COLLECTION,
  ) {}

  private collection() {
    return collectionOf<QuotaDoc>(this.connection, this.collectionName);
  }

  private idOf(buyerId: string, year: number): string {
    return `${this.center}:${buyerId}:${year}`;
  }

  async used(buyerId: string, year: number): Promise<number> {
    const doc = await this.collection().findOne({ _id: this.idOf(buyerId, year) });
    return (doc?.totalFen ?? 0) / 100;
  }

  async add(buyerId: string, year: number, entryKey: string, amount: number): Promise<void> {
    const fen = Math.round(amount * 100);
    const path = `entries.${fieldOf(entryKey)}`;
    // The first booking of a buyer's year inserts the document; when several race to, the losers'
    // E11000 is retried once, and a second E11000 can only mean "this inventory is booked already".
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await this.collection().updateOne(
          { _id: this.idOf(buyerId, year), [path]: { $exists: false } },
          {
            $set: { [path]: fen },
            $inc: { totalFen: fen },
            $setOnInsert: { center: this.center, buyer: buyerId, year },
          },
          { upsert: true },
        );
        return;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
    }
  }

  async release(buyerId: string, year: number, entryKey: string): Promise<void> {
    const _id = this.idOf(buyerId, year);
    const field = fieldOf(entryKey);
    const fen = (await this.collection().findOne({ _id }))?.entries?.[field];
    if (fen === undefined) return;
    await this.collection().updateOne(
      { _id, [`entries.${field}`]: fen },
      { $unset: { [`entries.${field}`]: '' }, $inc: { totalFen: -fen } },
    );
  }
}

/** A field name for any entry key: no '.', no leading '$', never empty. */
function fieldOf(entryKey: string): string {
  return `k${encodeURIComponent(entryKey).replace(/\./g, '%2E')}`;
}
