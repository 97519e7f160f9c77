import { collectionOf, IndexSet, isDuplicateKey, type StoreConnection } from './collections';

/**
 * Clearance-center health as the monitors last saw it (collection `center_states`): one document per
 * center, `_id` its code, so every gateway and worker copy routes with the same view and brokers can
 * list it.
 * A state is written by ONE conditional upsert that only moves time forward: `updateOne({_id,
 * checkedAt: {$lte: at}}, {$set: state}, {upsert: true})`. When two monitors (two workers) check at once,
 * an older observation arriving late collides on `_id` (E11000) and is dropped instead of overwriting a
 * newer one. Hot query: the interrupted centers (`{status}`), read by routing about once a second.
 */
export const CENTER_STATES_COLLECTION = 'center_states';

export type CenterAvailability = 'available' | 'interrupted';

export interface CenterState {
  center: string;
  status: CenterAvailability;
  /** Why it is interrupted (or last was), in words for brokers. */
  reason?: string;
  consumerCount: number;
  messageCount: number;
  /** Consecutive checks without a consumer / with a growing backlog above the threshold. */
  noConsumerStreak: number;
  backlogStreak: number;
  /** When the status last changed. */
  since: Date;
  checkedAt: Date;
}

export interface CenterStateRepository {
  get(center: string): Promise<CenterState | undefined>;
  /** Stores a state unless a newer one (later `checkedAt`) is stored already; true when it was stored. */
  put(state: CenterState): Promise<boolean>;
  /** Every stored state, by center code. */
  list(): Promise<CenterState[]>;
  /** The codes of the centers whose stored state is interrupted. */
  interruptedCenters(): Promise<ReadonlySet<string>>;
}

type StateDoc = Omit<CenterState, 'center'> & { _id: string };

export class MongoCenterStates implements CenterStateRepository {
  private readonly indexes = new IndexSet(() => this.collection(), [{ key: { status: 1 }, name: 'status' }]);

  constructor(
    private readonly connection: StoreConnection,
    private readonly collectionName = CENTER_STATES_COLLECTION,
  ) {}

  private collection() {
    return collectionOf<StateDoc>(this.connection, this.collectionName);
  }

  ensureIndexes(): Promise<void> {
    return this.indexes.ready();
  }

  async get(center: string): Promise<CenterState | undefined> {
    const doc = await this.collection().findOne({ _id: center });
    return doc ? toState(doc) : undefined;
  }

  async put(state: CenterState): Promise<boolean> {
    await this.indexes.ready();
    const { center, ...rest } = state;
    const unset = state.reason === undefined ? { $unset: { reason: '' as const } } : {};
    try {
      await this.collection().updateOne(
        { _id: center, checkedAt: { $lte: state.checkedAt } },
        { $set: rest, ...unset },
        { upsert: true },
      );
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false; // a newer state is stored already
      throw err;
    }
  }

  async list(): Promise<CenterState[]> {
    return (await this.collection().find({}).sort({ _id: 1 }).toArray()).map(toState);
  }

  async interruptedCenters(): Promise<ReadonlySet<string>> {
    const docs = await this.collection()
      .find({ status: 'interrupted' }, { projection: { _id: 1 } })
      .toArray();
    return new Set(docs.map((d) => d._id));
  }
}

function toState(doc: StateDoc): CenterState {
  const { _id, ...rest } = doc;
  return { center: _id, ...rest };
}
