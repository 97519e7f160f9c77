import type { BaygateOrder } from '../domain/order';
import type {
  ClaimedDeclaration,
  DeclarationFilter,
  DeclarationStore,
  DeclarationSubject,
  DeclarationView,
  HistoryEntry,
  NewDeclaration,
  StatusOutcome,
} from './contracts';
import { DeclarationFeed } from './declaration-feed';
import { DeclarationReads } from './declaration-reads';
import { DeclarationStatus } from './declaration-status';
import { DeclarationSubmissions } from './declaration-submissions';
import { DispatchLeases, type SignRequest } from './dispatch-leases';
import { ManifestArchive } from './manifests';
import { raw, type StoreModels } from './models';
import type { PiiVault } from './pii';
import { reencryptAll } from './pii-rotation';

export { InvalidCursorError, StoreInterruptedError } from './errors';
export { manifestContext, orderContext } from './declaration-doc';

/**
 * The DeclarationStore on MongoDB: one document per declaration (src/store/models.ts), each job in its own
 * module — submissions, dispatch leases, status changes, reads, the feed of changes, the manifest archive.
 * This class only wires them to the contract (src/store/contracts.ts).
 */
export class MongoDeclarationStore implements DeclarationStore {
  private readonly submissions: DeclarationSubmissions;
  private readonly dispatch: DispatchLeases;
  private readonly status: DeclarationStatus;
  private readonly reads: DeclarationReads;
  private readonly feed: DeclarationFeed;

  constructor(
    private readonly models: StoreModels,
    private readonly vault: PiiVault,
  ) {
    const declarations = raw(models.Declaration);
    const orders = raw(models.DeclarationOrder);
    const manifests = new ManifestArchive(raw(models.Manifest), vault);
    this.feed = new DeclarationFeed(raw(models.Feed), declarations);
    this.submissions = new DeclarationSubmissions(declarations, orders, this.feed, vault);
    this.dispatch = new DispatchLeases(declarations, orders, manifests, this.feed, vault);
    this.status = new DeclarationStatus(declarations, this.feed);
    this.reads = new DeclarationReads(declarations, orders, manifests, vault);
  }

  insertMany(declarations: NewDeclaration[]): Promise<{ inserted: DeclarationView[]; existing: DeclarationView[] }> {
    return this.submissions.insertMany(declarations);
  }

  claimDue(owner: string, leaseMs: number, limit: number, now?: Date): Promise<ClaimedDeclaration[]> {
    return this.dispatch.claimDue(owner, leaseMs, limit, now);
  }

  markSigned(id: string, leaseToken: string, manifest: SignRequest['manifest']): Promise<boolean> {
    return this.dispatch.markSigned(id, leaseToken, manifest);
  }

  /** markSigned for a batch (additive to the contract): one result per item, in order. */
  markSignedMany(items: SignRequest[]): Promise<boolean[]> {
    return this.dispatch.markSignedMany(items);
  }

  markQueued(items: { id: string; leaseToken: string }[], at?: Date): Promise<number> {
    return this.dispatch.markQueued(items, at);
  }

  recordFailure(
    id: string,
    leaseToken: string,
    error: string,
    outcome: { retryAt: Date } | { permanent: true },
  ): Promise<void> {
    return this.dispatch.recordFailure(id, leaseToken, error, outcome);
  }

  applyStatus(
    match: { id: string } | { messageGuid: string },
    status: string,
    entry: Omit<HistoryEntry, 'eventId' | 'status'>,
  ): Promise<StatusOutcome> {
    return this.status.applyStatus(match, status, entry);
  }

  subjectsByGuids(messageGuids: readonly string[]): Promise<Map<string, DeclarationSubject>> {
    return this.status.subjectsByGuids(messageGuids);
  }

  findById(id: string): Promise<DeclarationView | null> {
    return this.reads.findById(id);
  }

  findByOrderNo(orderNo: string, sellerIds?: string[]): Promise<DeclarationView[]> {
    return this.reads.findByOrderNos([orderNo], sellerIds);
  }

  findByOrderNos(orderNos: readonly string[], sellerIds?: string[]): Promise<DeclarationView[]> {
    return this.reads.findByOrderNos(orderNos, sellerIds);
  }

  manifestXml(id: string): Promise<string | null> {
    return this.reads.manifestXml(id);
  }

  orderOf(id: string): Promise<{ order: BaygateOrder; extra?: Record<string, unknown> } | null> {
    return this.reads.orderOf(id);
  }

  list(
    filter: DeclarationFilter,
    page: { limit: number; cursor?: string },
  ): Promise<{ items: DeclarationView[]; nextCursor?: string }> {
    return this.reads.list(filter, page);
  }

  countByStatus(filter: DeclarationFilter): Promise<Record<string, number>> {
    return this.reads.countByStatus(filter);
  }

  stuck(olderThan: Date, filter?: DeclarationFilter): Promise<DeclarationView[]> {
    return this.reads.stuck(olderThan, filter);
  }

  eventsSince(
    afterEventId: string | undefined,
    limit: number,
    filter?: DeclarationFilter,
  ): Promise<{ declaration: DeclarationView; event: HistoryEntry }[]> {
    return this.feed.eventsSince(afterEventId, limit, filter);
  }

  /** Key rotation (maintenance): re-seals every value sealed with an older key; returns how many. */
  reencryptAll(): Promise<number> {
    return reencryptAll(this.vault, raw(this.models.DeclarationOrder), raw(this.models.Manifest));
  }
}
