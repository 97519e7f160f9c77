import type { Collection, Filter } from 'mongodb';
import { decideTransition, statusRank } from '../domain/status';
import type { DeclarationSubject, HistoryEntry, StatusOutcome } from './contracts';
import { findByValues } from './bulk-writes';
import { feedEntry, historyEntry, IDENTITY, one, subjectOf, toView } from './declaration-doc';
import type { DeclarationFeed } from './declaration-feed';
import type { DeclarationDoc } from './models';

const QUEUED_RANK = statusRank('queued');

/**
 * Status changes from receipts and connectors: one conditional update of the declaration's document,
 * `{_id, rank: {$lt: r}, terminal: false}`, that sets the status and pushes the history entry (with its
 * receipt and signer) — so a status only moves forward, each rank is reached once, and nothing follows a
 * final status, whatever order receipts arrive in and however many processes apply them at once.
 */
export class DeclarationStatus {
  constructor(
    private readonly declarations: Collection<DeclarationDoc>,
    private readonly feed: DeclarationFeed,
  ) {}

  async applyStatus(
    match: { id: string } | { messageGuid: string },
    status: string,
    entry: Omit<HistoryEntry, 'eventId' | 'status'>,
  ): Promise<StatusOutcome> {
    const where: Filter<DeclarationDoc> = 'id' in match ? { _id: match.id } : { messageGuid: match.messageGuid };
    const current = await this.declarations.findOne(where);
    if (!current) return { applied: false, reason: 'unknown-declaration' };
    const decision = decideTransition(current.status, status, current.messageType);
    if (!decision.apply)
      return { applied: false, reason: decision.reason, subject: subjectOf(current), declaration: toView(current) };

    const step = historyEntry(status, entry);
    await this.feed.append([feedEntry(current, step)]); // before the step (src/store/declaration-feed.ts)
    const after = await this.declarations.findOneAndUpdate(
      { ...one(current), rank: { $lt: decision.rank }, terminal: false },
      {
        $set: { status, rank: decision.rank, terminal: decision.terminal },
        $push: { history: step },
        $max: { updatedAt: step.at },
        // Customs (or the center) has it: nothing left to dispatch, whatever a worker still holds.
        ...(decision.rank >= QUEUED_RANK ? { $unset: { dueAt: '', lease: '' } } : {}),
      },
      { returnDocument: 'after' },
    );
    if (after) return { applied: true, subject: subjectOf(after), declaration: toView(after) };

    // Another change reached this rank (or a final one) first: decided again on what it wrote.
    await this.feed.withdraw([step.eventId]);
    const now = (await this.declarations.findOne({ _id: current._id }))!;
    const again = decideTransition(now.status, status, now.messageType);
    return {
      applied: false,
      reason: again.apply ? 'out-of-order' : again.reason,
      subject: subjectOf(now),
      declaration: toView(now),
    };
  }

  /**
   * What a receipt's returns name: each guid's declaration (its status included), absent if unknown — one
   * indexed read however many returns the receipt has (a receipt may answer a hundred manifests).
   */
  async subjectsByGuids(messageGuids: readonly string[]): Promise<Map<string, DeclarationSubject>> {
    const out = new Map<string, DeclarationSubject>();
    const found = await findByValues(this.declarations, 'messageGuid', messageGuids, {
      projection: { ...IDENTITY, status: 1, messageGuid: 1 },
    });
    for (const d of found) if (d.messageGuid) out.set(d.messageGuid, subjectOf(d));
    return out;
  }
}
