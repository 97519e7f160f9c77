import type { MessageType } from '../domain/message-types';
import type { DeclarationView } from '../store/contracts';

/**
 * The submission use case, as the HTTP API and the CLI see it. Implementation: src/pipeline/submission.ts.
 * Order of work for each order: parse (Baygate format or a mapped source format) → business rules →
 * annual-limit reservation → route to a clearance center → persist one declaration per message type.
 * Nothing is published here: the dispatch workers publish from the stored state.
 */
export interface SubmitOptions {
  sellerId: string;
  /**
   * The e-commerce companies (ebcCode) this seller declares for, given explicitly: an order for any other
   * company is rejected (EBC_NOT_YOURS); an empty list declares for none.
   */
  ebcCodes: readonly string[];
  /** Source format name (a file in mappings/sources/), or undefined for the Baygate format. */
  source?: string;
  /** All or nothing: when any order is invalid, none is stored. */
  atomic?: boolean;
  requestId: string;
}

/** A business-rule violation, or a submission-level one (unknown source format, no center, not your company). */
export interface SubmissionViolation {
  path: string;
  code: string;
  message: { zh: string; en: string };
}

export type OrderOutcome =
  | {
      index: number;
      orderNo?: string;
      outcome: 'accepted' | 'duplicate';
      declarations: { id: string; messageType: MessageType; center: string; status: string }[];
    }
  | { index: number; orderNo?: string; outcome: 'rejected'; violations: SubmissionViolation[] };

export interface SubmitResult {
  accepted: number;
  duplicates: number;
  rejected: number;
  orders: OrderOutcome[];
}

export interface FollowUpOptions {
  /** Whether the caller may act on this inventory (the access policy's); one it may not is "not found". */
  mayActOn: (inventory: DeclarationView) => boolean;
  requestId: string;
}

export interface SubmissionService {
  submit(orders: unknown[], options: SubmitOptions): Promise<SubmitResult>;
  /** CEB623: cancels an inventory (the declaration must be a CEB621 the caller may act on that customs accepted). */
  cancel(
    inventoryDeclarationId: string,
    input: { reason: string; invtNo?: string },
    options: FollowUpOptions,
  ): Promise<DeclarationView>;
  /** CEB625: return (refund) of an inventory. */
  refund(
    inventoryDeclarationId: string,
    input: { reason: string; invtNo?: string },
    options: FollowUpOptions,
  ): Promise<DeclarationView>;
}
