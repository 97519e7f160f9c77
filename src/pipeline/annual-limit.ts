import type { BaygateOrder } from '../domain/order';
import { ANNUAL_LIMIT, limitValue, limitYear } from '../domain/rules';
import { isNegativeCode } from '../domain/status';
import type { AnnualUsageStore, DeclarationStore } from '../store/contracts';

/**
 * A buyer's 26,000 CNY annual allowance, as the gateway spends it: an import order takes its share when
 * it is really declared (stored as new, never for a duplicate or a refused order) and gives it back when
 * it will never be imported — customs refused its inventory (100 退单 or a negative business code) or
 * dispatch gave up on it (failed). Every release is idempotent per order (the ledger's orderKey), so a
 * receipt processed twice, or seen again after a crash, releases once.
 */
export class AnnualLimit {
  constructor(
    private readonly usage: AnnualUsageStore,
    private readonly declarations: Pick<DeclarationStore, 'orderOf'>,
  ) {}

  /** Takes the order's share; `added` is false when it was taken before (only the taker releases). */
  async reserve(order: BaygateOrder): Promise<{ ok: boolean; added: boolean; amount: number; year: number }> {
    if (order.direction !== 'import') return { ok: true, added: false, amount: 0, year: 0 };
    const amount = limitValue(order);
    const year = limitYear(order);
    const result = await this.usage.reserve(order.buyerIdNumber, year, orderKey(order), amount, ANNUAL_LIMIT);
    return { ok: result.ok, added: result.added, amount, year };
  }

  async release(order: BaygateOrder): Promise<void> {
    if (order.direction === 'import') await this.usage.release(order.buyerIdNumber, limitYear(order), orderKey(order));
  }

  /**
   * Called with every status an inventory reaches (or is seen at again): when it means the goods will
   * never be imported, the order's share goes back. Only the inventory (CEB621) counts: it is what customs
   * charges against the allowance, and a refused order, payment or waybill ends its inventory in 100.
   */
  async releaseIfRefused(
    declaration: { id: string; messageType: string; order?: BaygateOrder },
    status: string,
  ): Promise<boolean> {
    if (declaration.messageType !== 'CEB621' || !refusesImport(status)) return false;
    const order = declaration.order ?? (await this.declarations.orderOf(declaration.id))?.order;
    if (!order) return false;
    await this.release(order);
    return true;
  }
}

/** 100 (退单), a negative business code, or failed: the inventory will not be released by customs. */
export function refusesImport(status: string): boolean {
  return status === '100' || status === 'failed' || isNegativeCode(status);
}

/** One ledger entry per platform order: a resubmission of the same order is the same reservation. */
export function orderKey(order: Pick<BaygateOrder, 'ebpCode' | 'orderNo'>): string {
  return `${order.ebpCode}:${order.orderNo}`;
}
