import type { Connection } from 'mongoose';
import type { CapacityLedger } from './routing';

/**
 * CapacityLedger in MongoDB: one counter document per center per day (`_id` "<center>:<YYYY-MM-DD>"),
 * incremented with an atomic upserting `$inc`, so every gateway copy counts into the same document and
 * no increment is lost. Old days are left for reporting; a TTL index removes them after `retainDays`.
 */
export const CAPACITY_COLLECTION = 'center_capacity';

interface CapacityDoc {
  _id: string;
  center: string;
  day: string;
  used: number;
  expiresAt: Date;
}

export class MongoCapacityLedger implements CapacityLedger {
  private indexed = false;

  constructor(
    private readonly connection: Connection,
    private readonly options: { collection?: string; retainDays?: number } = {},
  ) {}

  private collection() {
    const db = this.connection.db;
    if (!db) throw new Error('mongodb not connected');
    return db.collection<CapacityDoc>(this.options.collection ?? CAPACITY_COLLECTION);
  }

  private async ensureIndex(): Promise<void> {
    if (this.indexed) return;
    await this.collection().createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 }).catch(() => undefined);
    this.indexed = true;
  }

  async usedOn(day: string, centers: readonly string[]): Promise<Record<string, number>> {
    const docs = await this.collection()
      .find({ _id: { $in: centers.map((c) => `${c}:${day}`) } })
      .toArray();
    const out: Record<string, number> = {};
    for (const d of docs) out[d.center] = d.used;
    return out;
  }

  async consume(center: string, day: string, count = 1): Promise<number> {
    await this.ensureIndex();
    const retainMs = (this.options.retainDays ?? 35) * 86_400_000;
    const doc = await this.collection().findOneAndUpdate(
      { _id: `${center}:${day}` },
      { $inc: { used: count }, $setOnInsert: { center, day, expiresAt: new Date(Date.parse(`${day}T00:00:00Z`) + retainMs) } },
      { upsert: true, returnDocument: 'after' },
    );
    if (!doc) throw new Error(`capacity counter ${center}:${day} was not returned after $inc`);
    return doc.used;
  }
}
