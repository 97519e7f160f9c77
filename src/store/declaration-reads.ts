import type { Collection } from 'mongodb';
import type { BaygateOrder } from '../domain/order';
import type { DeclarationFilter, DeclarationView } from './contracts';
import { findByValues } from './bulk-writes';
import {
  afterCursor,
  declarationQuery,
  decodeCursor,
  encodeCursor,
  orderContext,
  toView,
  type SealedOrderPayload,
} from './declaration-doc';
import type { ManifestArchive } from './manifests';
import type { DeclarationDoc, DeclarationOrderDoc } from './models';
import type { PiiVault } from './pii';

/** Reads of declarations for the APIs: each one query on the declarations' own documents. */
export class DeclarationReads {
  constructor(
    private readonly declarations: Collection<DeclarationDoc>,
    private readonly orders: Collection<DeclarationOrderDoc>,
    private readonly manifests: ManifestArchive,
    private readonly vault: PiiVault,
  ) {}

  async findById(id: string): Promise<DeclarationView | null> {
    const doc = await this.declarations.findOne({ _id: id });
    return doc ? toView(doc) : null;
  }

  /** The declarations of these order numbers (of these sellers only, when given), oldest first. */
  async findByOrderNos(orderNos: readonly string[], sellerIds?: string[]): Promise<DeclarationView[]> {
    const docs = await findByValues(this.declarations, 'orderNo', orderNos, {
      ...(sellerIds ? { and: { sellerId: { $in: sellerIds } } } : {}),
    });
    docs.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a._id < b._id ? -1 : a._id > b._id ? 1 : 0));
    return docs.map(toView);
  }

  /** The decrypted signed manifest: the one the declaration was signed with (none: nothing was sent). */
  async manifestXml(id: string): Promise<string | null> {
    const doc = await this.declarations.findOne({ _id: id }, { projection: { messageGuid: 1 } });
    if (!doc?.messageGuid) return null;
    const manifest = (await this.manifests.xmlByGuid([doc.messageGuid])).get(doc.messageGuid);
    return manifest && manifest.declarationId === id ? manifest.xml : null;
  }

  /** The decrypted order (for the cancel/return messages built from it). */
  async orderOf(id: string): Promise<{ order: BaygateOrder; extra?: Record<string, unknown> } | null> {
    const sealed = await this.orders.findOne({ _id: id });
    return sealed ? this.vault.openJson<SealedOrderPayload>(sealed.orderSealed, orderContext(id)) : null;
  }

  /** Newest first, a page at a time; the cursor is opaque. */
  async list(
    filter: DeclarationFilter,
    page: { limit: number; cursor?: string },
  ): Promise<{ items: DeclarationView[]; nextCursor?: string }> {
    const limit = Math.max(1, Math.min(page.limit, 1000));
    const query = declarationQuery(filter);
    const after = page.cursor ? afterCursor(decodeCursor(page.cursor)) : undefined;
    const docs = await this.declarations
      .find(after ? { $and: [query, after] } : query)
      .sort({ createdAt: -1, _id: -1 })
      .limit(limit + 1)
      .toArray();
    const items = docs.slice(0, limit).map(toView);
    return docs.length > limit ? { items, nextCursor: encodeCursor(items[items.length - 1]!) } : { items };
  }

  async countByStatus(filter: DeclarationFilter): Promise<Record<string, number>> {
    const rows = await this.declarations
      .aggregate<{ _id: string; n: number }>([
        { $match: declarationQuery(filter) },
        { $group: { _id: '$status', n: { $sum: 1 } } },
      ])
      .toArray();
    return Object.fromEntries(rows.map((r) => [r._id, r.n]));
  }

  /** Declarations not final whose last change is older than `olderThan`, oldest first. */
  async stuck(olderThan: Date, filter: DeclarationFilter = {}): Promise<DeclarationView[]> {
    const docs = await this.declarations
      .find({ ...declarationQuery(filter), terminal: false, updatedAt: { $lt: olderThan } })
      .sort({ createdAt: 1, _id: 1 })
      .toArray();
    return docs.map(toView);
  }
}
