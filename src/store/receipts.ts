import { randomUUID } from 'node:crypto';
import type { Collection } from 'mongodb';
import type { ReceiptStore, StoredReceipt } from './contracts';
import { isDuplicateKey, raw, type ReceiptDoc, type ReceiptMatchDoc, type StoreModels } from './models';

/**
 * Receipts exactly as received (customs receipts carry no personal data), one document per SHA-256 digest
 * (unique index): the same receipt delivered twice — AMQP redelivery, a re-sent HTTP post — is stored once.
 * What each return matched is written separately (receipt_matches), so the receipt itself is never updated.
 */
export class MongoReceiptStore implements ReceiptStore {
  private readonly receipts: Collection<ReceiptDoc>;
  private readonly matches: Collection<ReceiptMatchDoc>;

  constructor(models: StoreModels) {
    this.receipts = raw(models.Receipt);
    this.matches = raw(models.ReceiptMatch);
  }

  async insert(
    receipt: Omit<StoredReceipt, 'id' | 'matched' | 'unknown'>,
  ): Promise<{ receipt: StoredReceipt; duplicate: boolean }> {
    const doc: ReceiptDoc = {
      _id: randomUUID(),
      messageType: receipt.messageType,
      digest: receipt.digest,
      raw: receipt.raw,
      returns: receipt.returns,
      receivedAt: receipt.receivedAt,
      via: receipt.via,
    };
    if (receipt.center !== undefined) doc.center = receipt.center;
    if (receipt.signer !== undefined) doc.signer = receipt.signer;
    try {
      await this.receipts.insertOne(doc);
      return { receipt: toStored(doc), duplicate: false };
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      const stored = await this.receipts.findOne({ digest: receipt.digest });
      if (!stored) throw err; // the duplicate was on something else than the digest
      return {
        receipt: toStored(stored, (await this.matches.findOne({ _id: stored._id })) ?? undefined),
        duplicate: true,
      };
    }
  }

  async markMatched(id: string, matched: (string | null)[]): Promise<void> {
    const doc: ReceiptMatchDoc = {
      _id: id,
      matched,
      unknown: matched.length > 0 && matched.every((m) => m === null),
      at: new Date(),
    };
    try {
      await this.matches.insertOne(doc);
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      await this.matches.replaceOne({ _id: id }, doc); // matched again (e.g. after a late declaration)
    }
  }

  async findById(id: string): Promise<StoredReceipt | null> {
    const doc = await this.receipts.findOne({ _id: id });
    if (!doc) return null;
    return toStored(doc, (await this.matches.findOne({ _id: id })) ?? undefined);
  }

  async listUnknown(limit: number): Promise<StoredReceipt[]> {
    const unknown = await this.matches.find({ unknown: true }).sort({ at: -1 }).limit(Math.max(1, limit)).toArray();
    if (unknown.length === 0) return [];
    const docs = await this.receipts.find({ _id: { $in: unknown.map((u) => u._id) } }).toArray();
    const byId = new Map(docs.map((d) => [d._id, d]));
    return unknown.flatMap((m) => {
      const d = byId.get(m._id);
      return d ? [toStored(d, m)] : [];
    });
  }
}

function toStored(doc: ReceiptDoc, match?: ReceiptMatchDoc): StoredReceipt {
  const r: StoredReceipt = {
    id: doc._id,
    messageType: doc.messageType,
    digest: doc.digest,
    raw: doc.raw,
    returns: doc.returns ?? [],
    matched: match?.matched ?? [],
    unknown: match?.unknown ?? false,
    receivedAt: doc.receivedAt,
    via: doc.via,
  };
  if (doc.center !== undefined && doc.center !== null) r.center = doc.center;
  if (doc.signer) r.signer = doc.signer;
  return r;
}
