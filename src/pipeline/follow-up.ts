import { declarationIdFor } from '../domain/declaration-id';
import { DomainError, type ErrorCategory } from '../domain/errors';
import type { DeclarationStore, DeclarationView, NewDeclaration } from '../store/contracts';
import type { FollowUpOptions } from './contracts';

/**
 * Cancel (CEB623) and return (CEB625): new declarations referring to an inventory customs has accepted,
 * built from the same stored order. Only the caller's own inventories (the access policy decides, through
 * `mayActOn`); anyone else's is "not found", like one that does not exist.
 */
export type FollowUpRefusal =
  | 'DECLARATION_NOT_FOUND'
  | 'NOT_AN_INVENTORY'
  | 'INVENTORY_NOT_ACCEPTED'
  | 'INVENTORY_ALREADY_CLEARED'
  | 'ORDER_NOT_STORED';

const FOLLOW_UP_CATEGORY: Record<FollowUpRefusal, ErrorCategory> = {
  DECLARATION_NOT_FOUND: 'not-found',
  NOT_AN_INVENTORY: 'unprocessable',
  INVENTORY_NOT_ACCEPTED: 'conflict',
  INVENTORY_ALREADY_CLEARED: 'conflict',
  ORDER_NOT_STORED: 'not-found',
};

export class FollowUpError extends DomainError {
  readonly category: ErrorCategory;
  constructor(code: FollowUpRefusal, message: string) {
    super(code, message);
    this.category = FOLLOW_UP_CATEGORY[code];
  }
}

/** Inventory statuses from which customs has the inventory: 120 (stored) and later, not refused. */
const ACCEPTED = ['120', '300', '399', '500', '501', '502', '503', '599', '800', '899'];

export async function declareFollowUp(
  declarations: Pick<DeclarationStore, 'findById' | 'orderOf' | 'insertMany'>,
  type: 'CEB623' | 'CEB625',
  inventoryId: string,
  input: { reason: string; invtNo?: string },
  options: FollowUpOptions,
): Promise<{ view: DeclarationView; inserted: boolean }> {
  const inventory = await declarations.findById(inventoryId);
  if (!inventory || !options.mayActOn(inventory))
    throw new FollowUpError('DECLARATION_NOT_FOUND', `No declaration ${inventoryId}.`);
  if (inventory.messageType !== 'CEB621')
    throw new FollowUpError(
      'NOT_AN_INVENTORY',
      `${type} applies to a CEB621 inventory; ${inventoryId} is a ${inventory.messageType}`,
    );
  if (!ACCEPTED.includes(inventory.status)) {
    throw new FollowUpError(
      'INVENTORY_NOT_ACCEPTED',
      `inventory ${inventoryId} is "${inventory.status}"; ${type === 'CEB623' ? 'cancellation' : 'a return'} needs an inventory customs has accepted (120 or later)`,
    );
  }
  if (type === 'CEB623' && inventory.status === '899')
    throw new FollowUpError(
      'INVENTORY_ALREADY_CLEARED',
      `inventory ${inventoryId} is already cleared (899); declare a return (CEB625) instead`,
    );
  const stored = await declarations.orderOf(inventoryId);
  if (!stored) throw new FollowUpError('ORDER_NOT_STORED', `No order stored for ${inventoryId}.`);
  const invtNo = input.invtNo ?? latestInvtNo(inventory) ?? inventory.orderNo;
  const declaration: NewDeclaration = {
    id: declarationIdFor(inventory.platformCode, inventory.orderNo, type),
    sellerId: inventory.sellerId,
    platformCode: inventory.platformCode,
    orderNo: inventory.orderNo,
    messageType: type,
    direction: 'import',
    tradeMode: inventory.tradeMode,
    customsCode: inventory.customsCode,
    center: inventory.center,
    order: stored.order,
    extra: { invtNo, reason: input.reason, inventoryDeclarationId: inventoryId },
    amountCny: inventory.amountCny,
    requestId: options.requestId,
  };
  const { inserted, existing } = await declarations.insertMany([declaration]);
  const view = inserted[0] ?? existing[0];
  if (!view) throw new Error('declaration store returned nothing');
  return { view, inserted: inserted.length > 0 };
}

function latestInvtNo(view: DeclarationView): string | undefined {
  for (const entry of [...view.history].reverse()) {
    if (entry.documentKeys?.invtNo) return entry.documentKeys.invtNo;
  }
  return undefined;
}
