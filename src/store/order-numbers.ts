import { createHash } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import type { OrderNumberClaim, OrderNumberClash, OrderNumberStore, ClashResolution } from './contracts';
import { duplicateIndexes, findByValues, isDuplicateKey } from './bulk-writes';

/**
 * Who owns each platform order number, and the clashes between sellers over one
 * (docs/decisions/order-number-clashes.md).
 *
 * `order_numbers`: one document per (platform, order number), `_id` "<platformCode>:<orderNo>" — the
 * unique primary key makes the first claim win, whichever gateway makes it, on FerretDB v1 as on MongoDB;
 * a claim is never updated, only deleted when the operator releases it.
 * `order_number_clashes`: one document per (platform, order number, refused seller), `_id` a hash of the
 * three, so the same refused submission repeated is one clash with a count.
 */
export const ORDER_NUMBERS_COLLECTION = 'order_numbers';
export const ORDER_NUMBER_CLASHES_COLLECTION = 'order_number_clashes';

interface ClaimDoc {
  _id: string;
  platformCode: string;
  orderNo: string;
  sellerId: string;
  at: Date;
}

type ClashDoc = Omit<OrderNumberClash, 'id'> & { _id: string };

const claimId = (platformCode: string, orderNo: string) => `${platformCode}:${orderNo}`;

export class MongoOrderNumberStore implements OrderNumberStore {
  private indexed?: Promise<void>;

  constructor(private readonly db: () => Db) {}

  private claims(): Collection<ClaimDoc> {
    return this.db().collection<ClaimDoc>(ORDER_NUMBERS_COLLECTION);
  }

  private clashes(): Collection<ClashDoc> {
    return this.db().collection<ClashDoc>(ORDER_NUMBER_CLASHES_COLLECTION);
  }

  ensureIndexes(): Promise<void> {
    this.indexed ??= (async () => {
      await this.clashes().createIndex({ lastAt: -1 });
    })();
    return this.indexed;
  }

  async claim(
    claims: readonly OrderNumberClaim[],
    at = new Date(),
    retries = 3,
  ): Promise<{ owner: string; claimed: boolean }[]> {
    if (claims.length === 0) return [];
    const docs = claims.map((c) => ({
      _id: claimId(c.platformCode, c.orderNo),
      platformCode: c.platformCode,
      orderNo: c.orderNo,
      sellerId: c.sellerId,
      at,
    }));
    // The same number twice in one batch: the first one claims, the second finds it claimed.
    const seen = new Set<string>();
    const first = docs.filter((d) => !seen.has(d._id) && seen.add(d._id));
    let refused = new Set<number>();
    try {
      await this.claims().insertMany(first, { ordered: false });
    } catch (err) {
      refused = duplicateIndexes(err, first.length);
    }
    const claimedNow = new Set(first.filter((_, i) => !refused.has(i)).map((d) => d._id));
    const taken = new Map(
      (
        await findByValues(
          this.claims(),
          '_id',
          first.filter((_, i) => refused.has(i)).map((d) => d._id),
        )
      ).map((d) => [d._id, d]),
    );
    // A claim refused as a duplicate and gone when read back was released in between: claim it again.
    const vanished = first.filter((d, i) => refused.has(i) && !taken.has(d._id));
    if (vanished.length > 0 && retries > 0) {
      const again = await this.claim(vanished, at, retries - 1);
      vanished.forEach((d, i) => {
        if (again[i]!.claimed) claimedNow.add(d._id);
        else taken.set(d._id, { ...d, sellerId: again[i]!.owner });
      });
    }
    const answered = new Set<string>();
    return docs.map((d) => {
      if (claimedNow.has(d._id) && !answered.has(d._id)) {
        answered.add(d._id);
        return { owner: d.sellerId, claimed: true };
      }
      const owner = claimedNow.has(d._id) ? d.sellerId : taken.get(d._id)?.sellerId;
      if (owner === undefined) throw new Error(`order number ${d._id} could not be claimed nor read`);
      return { owner, claimed: false };
    });
  }

  async release(platformCode: string, orderNo: string, sellerId: string): Promise<boolean> {
    const result = await this.claims().deleteOne({ _id: claimId(platformCode, orderNo), sellerId });
    return result.deletedCount === 1;
  }

  async recordClash(
    clash: Pick<OrderNumberClash, 'platformCode' | 'orderNo' | 'holderSellerId' | 'claimantSellerId' | 'requestId'>,
    at = new Date(),
  ): Promise<OrderNumberClash> {
    await this.ensureIndexes();
    const _id = createHash('sha256')
      .update(`${clash.platformCode}\u0000${clash.orderNo}\u0000${clash.claimantSellerId}`)
      .digest('hex')
      .slice(0, 32);
    try {
      await this.clashes().insertOne({ _id, ...clash, firstAt: at, lastAt: at, attempts: 1 });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      // Informational count: an increment lost to a concurrent one (FerretDB v1) changes no decision.
      await this.clashes().updateOne(
        { _id },
        { $inc: { attempts: 1 }, $set: { lastAt: at, requestId: clash.requestId } },
      );
    }
    const stored = await this.clashes().findOne({ _id });
    if (!stored) throw new Error(`clash ${_id} vanished after it was recorded`);
    return toClash(stored);
  }

  async listClashes(
    filter: { claimantSellerIds?: readonly string[]; open?: boolean },
    limit: number,
  ): Promise<OrderNumberClash[]> {
    const query: Record<string, unknown> = {};
    if (filter.claimantSellerIds) query.claimantSellerId = { $in: [...filter.claimantSellerIds] };
    if (filter.open) query.resolution = { $exists: false };
    const docs = await this.clashes().find(query).sort({ lastAt: -1, _id: 1 }).limit(Math.max(1, limit)).toArray();
    return docs.map(toClash);
  }

  async findClash(id: string): Promise<OrderNumberClash | null> {
    const doc = await this.clashes().findOne({ _id: id });
    return doc ? toClash(doc) : null;
  }

  async resolveClash(id: string, resolution: ClashResolution): Promise<OrderNumberClash | null> {
    // First resolution wins: a second one (another operator, a retry) leaves the first in place.
    await this.clashes().updateOne({ _id: id, resolution: { $exists: false } }, { $set: { resolution } });
    return this.findClash(id);
  }
}

function toClash(doc: ClashDoc): OrderNumberClash {
  const { _id, ...rest } = doc;
  return { id: _id, ...rest };
}
