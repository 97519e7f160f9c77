import type { Collection } from 'mongodb';
import type { DeclarationView, NewDeclaration } from './contracts';
import { findByValues, insertIgnoringDuplicates } from './bulk-writes';
import { eventIdOf, feedEntry, idempotencyKey, newDeclarationDoc, sealedOrderDoc, toView } from './declaration-doc';
import type { DeclarationFeed } from './declaration-feed';
import type { DeclarationDoc, DeclarationOrderDoc } from './models';
import type { PiiVault } from './pii';

/**
 * New declarations: each one document, inserted whole (accepted, due now, its first history entry) in one
 * insertMany for the whole request, after its sealed order and its feed entry. A declaration whose key
 * (platform, order number, message type) exists already is not inserted again: the stored one is returned
 * (a retried submission is idempotent, never duplicated). The ids derive from the key
 * (src/domain/declaration-id.ts), so a retry after a cut-off attempt names the very same declarations.
 */
export class DeclarationSubmissions {
  constructor(
    private readonly declarations: Collection<DeclarationDoc>,
    private readonly orders: Collection<DeclarationOrderDoc>,
    private readonly feed: DeclarationFeed,
    private readonly vault: PiiVault,
  ) {}

  async insertMany(input: NewDeclaration[]): Promise<{ inserted: DeclarationView[]; existing: DeclarationView[] }> {
    if (input.length === 0) return { inserted: [], existing: [] };
    const now = new Date();
    const docs = input.map((d) => newDeclarationDoc(d, this.vault, now));
    // The order and the feed entry strictly before the declaration: a declaration never lacks its order,
    // and its first step is in the feed. What a refused duplicate leaves of them is removed below.
    await Promise.all([
      insertIgnoringDuplicates(
        this.orders,
        input.map((d) => sealedOrderDoc(d, this.vault)),
      ),
      this.feed.append(docs.map((d) => feedEntry(d, { eventId: eventIdOf(d._id, d.history[0]!), status: 'accepted' }))),
    ]);
    const { inserted, duplicates } = await insertIgnoringDuplicates(this.declarations, docs);
    if (duplicates.length === 0) return { inserted: inserted.map(toView), existing: [] };

    await this.feed.withdraw(duplicates.map((d) => eventIdOf(d._id, d.history[0]!)));
    const existing = await this.existingFor(duplicates);
    // A duplicate refused under another id than the stored one (callers that make their own ids) leaves
    // an order under an id no declaration has.
    const stored = new Set(existing.map((d) => d._id));
    const orphans = duplicates.map((d) => d._id).filter((id) => !stored.has(id));
    if (orphans.length) await this.orders.deleteMany({ _id: { $in: orphans } });
    return { inserted: inserted.map(toView), existing: existing.map(toView) };
  }

  /** The stored declarations that refused these as duplicates: by id first, then by the key. */
  private async existingFor(wanted: DeclarationDoc[]): Promise<DeclarationDoc[]> {
    const byKey = new Map<string, DeclarationDoc>();
    for (const d of await findByValues(
      this.declarations,
      '_id',
      wanted.map((w) => w._id),
    ))
      byKey.set(idempotencyKey(d), d);
    const missing = wanted.filter((w) => !byKey.has(idempotencyKey(w)));
    if (missing.length) {
      const found = await this.declarations
        .find({
          $or: missing.map((d) => ({ platformCode: d.platformCode, orderNo: d.orderNo, messageType: d.messageType })),
        })
        .toArray();
      for (const d of found) byKey.set(idempotencyKey(d), d);
    }
    const out: DeclarationDoc[] = [];
    for (const w of wanted) {
      const existing = byKey.get(idempotencyKey(w));
      if (!existing)
        throw new Error(
          `declaration id ${w._id} is already used by another declaration (not ${w.platformCode}/${w.orderNo}/${w.messageType})`,
        );
      if (!out.includes(existing)) out.push(existing);
    }
    return out;
  }
}
