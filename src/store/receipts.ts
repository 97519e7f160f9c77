import { randomUUID } from 'node:crypto';
import type { Collection } from 'mongodb';
import type { ReceiptStore, StoredReceipt } from './contracts';
import { isDuplicateKey } from './bulk-writes';
import { raw, type ReceiptDoc, type StoreModels } from './models';

/**
 * Receipts exactly as received (customs receipts carry no personal data), one document per SHA-256 digest
 * (unique index): the same receipt delivered twice — AMQP redelivery, a re-sent HTTP post — is stored once.
 * What its returns matched is set on the same document once they are applied; receipts none of whose
 * returns matched carry `unknownAt` (a sparse index: the brokers' list of unknown receipts).
 */
export class MongoReceiptStore implements ReceiptStore {
  private readonly receipts: Collection<ReceiptDoc>;

  constructor(models: StoreModels) {
    this.receipts = raw(models.Receipt);
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
      return { receipt: toStored(stored), duplicate: true };
    }
  }

  async markMatched(id: string, matched: (string | null)[]): Promise<void> {
    const unknown = matched.length > 0 && matched.every((m) => m === null);
    await this.receipts.updateOne(
      { _id: id },
      unknown ? { $set: { matched, unknownAt: new Date() } } : { $set: { matched }, $unset: { unknownAt: '' } },
    );
  }

  async findById(id: string): Promise<StoredReceipt | null> {
    const doc = await this.receipts.findOne({ _id: id });
    return doc ? toStored(doc) : null;
  }

  async listUnknown(limit: number): Promise<StoredReceipt[]> {
    const docs = await this.receipts
      .find({ unknownAt: { $gt: new Date(0) } })
      .sort({ unknownAt: -1 })
      .limit(Math.max(1, limit))
      .toArray();
    return docs.map(toStored);
  }
}

function toStored(doc: ReceiptDoc): StoredReceipt {
  const r: StoredReceipt = {
    id: doc._id,
    messageType: doc.messageType,
    digest: doc.digest,
    raw: doc.raw,
    returns: doc.returns ?? [],
    matched: doc.matched ?? [],
    unknown: doc.unknownAt !== undefined && doc.unknownAt !== null,
    receivedAt: doc.receivedAt,
    via: doc.via,
  };
  if (doc.center !== undefined && doc.center !== null) r.center = doc.center;
  if (doc.signer) r.signer = doc.signer;
  return r;
}
