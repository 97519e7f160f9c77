import { collectionOf, isDuplicateKey, type StoreConnection } from './collections';

/**
 * Named read positions in an ordered stream (collection `cursors`, one document per name, `_id` the name):
 * the webhook fan-out keeps the last event id it has settled here.
 * A cursor only moves forward, in ONE conditional upsert: `updateOne({_id, position: {$lt: to}}, {$set},
 * {upsert: true})` moves it when it is behind, creates it when it is missing, and collides on `_id`
 * (E11000, ignored) when it is already at or past `to` — so concurrent writers never move it back.
 */
export const CURSORS_COLLECTION = 'cursors';

export interface CursorRepository {
  read(name: string): Promise<string | undefined>;
  /** Moves the cursor to `to` if it is behind (or missing); never moves it back. */
  advance(name: string, to: string, now?: Date): Promise<void>;
}

interface CursorDoc {
  _id: string;
  /** The position (for the webhook fan-out: an event id, 24 hex digits, so string order is id order). */
  eventId: string;
  updatedAt: Date;
}

export class MongoCursors implements CursorRepository {
  constructor(private readonly connection: StoreConnection) {}

  private collection() {
    return collectionOf<CursorDoc>(this.connection, CURSORS_COLLECTION);
  }

  async read(name: string): Promise<string | undefined> {
    return (await this.collection().findOne({ _id: name }))?.eventId;
  }

  async advance(name: string, to: string, now = new Date()): Promise<void> {
    try {
      await this.collection().updateOne(
        { _id: name, eventId: { $lt: to } },
        { $set: { eventId: to, updatedAt: now } },
        { upsert: true },
      );
    } catch (err) {
      if (!isDuplicateKey(err)) throw err; // already at or past `to`
    }
  }
}
