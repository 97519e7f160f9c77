import { collectionOf, IndexSet, isDuplicateKey, type StoreConnection } from './collections';

/**
 * Declarations given to each clearance center per China calendar day (collection `center_capacity`): one
 * counter document per center and day, `_id` "<center>:<YYYY-MM-DD>".
 * Adding is ONE atomic upsert, `findOneAndUpdate({_id}, {$inc: {used: n}}, {upsert: true, returnDocument:
 * 'after'})`: every gateway copy counts into the same document and each caller gets the total its own
 * increment produced, so N concurrent additions of 1 return exactly the totals 1…N. Reading a day is one
 * `_id $in` query. Old days stay for reporting and are deleted by an indexed sweep on `dayStart` (the
 * day's first instant in China time, a date so that every server answers the range from the index), not
 * by a TTL index.
 */
export const CAPACITY_COLLECTION = 'center_capacity';

export interface CapacityCounterRepository {
  /** Declarations given to each of `centers` on `day` (YYYY-MM-DD); a center without any is missing. */
  usedOn(day: string, centers: readonly string[]): Promise<Record<string, number>>;
  /** Atomically adds `count` to a center's counter of `day`; returns the counter after this addition. */
  add(center: string, day: string, count: number): Promise<number>;
  /** Deletes the counters of days before `day`; returns how many. */
  sweepBefore(day: string): Promise<number>;
}

interface CounterDoc {
  _id: string;
  center: string;
  day: string;
  /** 00:00 of `day` in China Standard Time (UTC+8), where the centers' quotas reset. */
  dayStart: Date;
  used: number;
}

export class MongoCapacityCounters implements CapacityCounterRepository {
  private readonly indexes = new IndexSet(() => this.collection(), [{ key: { dayStart: 1 }, name: 'dayStart_sweep' }]);

  constructor(
    private readonly connection: StoreConnection,
    private readonly collectionName = CAPACITY_COLLECTION,
  ) {}

  private collection() {
    return collectionOf<CounterDoc>(this.connection, this.collectionName);
  }

  ensureIndexes(): Promise<void> {
    return this.indexes.ready();
  }

  async usedOn(day: string, centers: readonly string[]): Promise<Record<string, number>> {
    const docs = await this.collection()
      .find({ _id: { $in: centers.map((c) => idOf(c, day)) } })
      .toArray();
    return Object.fromEntries(docs.map((d) => [d.center, d.used]));
  }

  async add(center: string, day: string, count: number): Promise<number> {
    await this.indexes.ready();
    const increment = () =>
      this.collection().findOneAndUpdate(
        { _id: idOf(center, day) },
        { $inc: { used: count }, $setOnInsert: { center, day, dayStart: dayStartOf(day) } },
        { upsert: true, returnDocument: 'after' },
      );
    let doc: CounterDoc | null;
    try {
      doc = await increment();
    } catch (err) {
      // Two first-of-the-day upserts can both try the insert; the loser's retry finds the document. MongoDB
      // retries such an upsert itself (its filter is the _id alone); a server that does not says E11000.
      if (!isDuplicateKey(err)) throw err;
      doc = await increment();
    }
    if (!doc) throw new Error(`capacity counter ${idOf(center, day)} was not returned by its update`);
    return doc.used;
  }

  async sweepBefore(day: string): Promise<number> {
    await this.indexes.ready();
    return (await this.collection().deleteMany({ dayStart: { $lt: dayStartOf(day) } })).deletedCount;
  }
}

function dayStartOf(day: string): Date {
  const start = new Date(`${day}T00:00:00+08:00`);
  if (Number.isNaN(start.getTime())) throw new Error(`capacity day "${day}" is not YYYY-MM-DD`);
  return start;
}

function idOf(center: string, day: string): string {
  return `${center}:${day}`;
}
