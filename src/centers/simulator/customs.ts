import type { ManifestView } from './manifest';
import type { BuyerUsageLedger } from '../../store/simulator-state';
import { ERROR_CODES } from './timeline';

export type { BuyerUsageLedger } from '../../store/simulator-state';

/**
 * The customs checks the simulated center runs on an inventory (CEB621) once its signature and schema
 * passed: the "three documents" (order, payment, waybill with the same orderNo / logisticsNo must have
 * arrived) and the retail-import limits (5,000 CNY per transaction, 26,000 CNY per buyer per year).
 * The center keeps its own records: the limit ledger is the center's, not Baygate's.
 */

/** The usage ledger in memory (the default; src/store/simulator-state.ts keeps it in MongoDB). */
export class MemoryUsageLedger implements BuyerUsageLedger {
  private readonly totals = new Map<string, number>();
  private readonly entries = new Map<string, number>();

  async used(buyerId: string, year: number): Promise<number> {
    return this.totals.get(`${buyerId}:${year}`) ?? 0;
  }

  async add(buyerId: string, year: number, entryKey: string, amount: number): Promise<void> {
    const key = `${buyerId}:${year}`;
    if (this.entries.has(`${key}:${entryKey}`)) return;
    this.entries.set(`${key}:${entryKey}`, amount);
    this.totals.set(key, Math.round(((this.totals.get(key) ?? 0) + amount) * 100) / 100);
  }

  async release(buyerId: string, year: number, entryKey: string): Promise<void> {
    const key = `${buyerId}:${year}`;
    const amount = this.entries.get(`${key}:${entryKey}`);
    if (amount === undefined) return;
    this.entries.delete(`${key}:${entryKey}`);
    this.totals.set(key, Math.round(((this.totals.get(key) ?? 0) - amount) * 100) / 100);
  }
}

/** Documents accepted so far, by the keys an inventory refers to them with. */
export class ThreeDocumentIndex {
  private readonly orders = new Map<string, { acturalPaid?: number }>();
  private readonly payments = new Set<string>();
  private readonly waybills = new Set<string>();

  /** Records an accepted CEB311 / CEB411 / CEB511. */
  record(m: ManifestView): void {
    if (m.type === 'CEB311' && m.head.orderNo) {
      const paid = Number(m.head.acturalPaid);
      this.orders.set(m.head.orderNo, Number.isFinite(paid) ? { acturalPaid: paid } : {});
    } else if (m.type === 'CEB411' && m.head.orderNo) this.payments.add(m.head.orderNo);
    else if (m.type === 'CEB511' && m.head.logisticsNo) this.waybills.add(m.head.logisticsNo);
  }

  /** Which companion documents of this inventory have not arrived (empty = all three are here). */
  missingFor(inventory: ManifestView): string[] {
    const { orderNo = '', logisticsNo = '' } = inventory.head;
    const missing: string[] = [];
    if (!this.orders.has(orderNo)) missing.push(`订单(CEB311) orderNo=${orderNo}`);
    if (!this.payments.has(orderNo)) missing.push(`支付单(CEB411) orderNo=${orderNo}`);
    if (!this.waybills.has(logisticsNo)) missing.push(`运单(CEB511) logisticsNo=${logisticsNo}`);
    return missing;
  }

  orderPaid(orderNo: string): number | undefined {
    return this.orders.get(orderNo)?.acturalPaid;
  }
}

/**
 * The amount the limits apply to: the order's acturalPaid when the order is known, otherwise the
 * inventory's own goods value + freight + insurance.
 */
export function inventoryAmount(inventory: ManifestView, index: ThreeDocumentIndex): number {
  const paid = index.orderPaid(inventory.head.orderNo ?? '');
  if (paid !== undefined) return paid;
  const goods = inventory.lines.reduce((sum, l) => sum + (Number(l.totalPrice) || 0), 0);
  return goods + (Number(inventory.head.freight) || 0) + (Number(inventory.head.insuredFee) || 0);
}

/**
 * One piece of goods (one line of quantity 1) whose own value is over the single limit: admitted through
 * the retail channel, taxed in full, counted toward the annual total (财关税〔2018〕49号; the gateway's
 * rule is isSingleIndivisibleItem in src/domain/rules/limits.ts).
 */
function singleIndivisibleItem(inventory: ManifestView, singleCny: number): boolean {
  const [line, ...more] = inventory.lines;
  if (!line || more.length > 0 || Number(line.qty) !== 1) return false;
  const value =
    (Number(line.totalPrice) || 0) + (Number(inventory.head.freight) || 0) + (Number(inventory.head.insuredFee) || 0);
  return value > singleCny;
}

export type LimitDecision =
  | { ok: true; amount: number; buyer: string; year: number }
  | { ok: false; status: string; info: string; amount: number };

/** Single and annual limits; on success the amount is booked for the buyer (idempotent per inventory). */
export async function checkAndBookLimits(
  inventory: ManifestView,
  index: ThreeDocumentIndex,
  ledger: BuyerUsageLedger,
  limits: { singleCny: number; annualCny: number },
  at: Date,
): Promise<LimitDecision> {
  const amount = Math.round(inventoryAmount(inventory, index) * 100) / 100;
  const copNo = inventory.head.copNo ?? inventory.guid;
  if (amount > limits.singleCny && !singleIndivisibleItem(inventory, limits.singleCny)) {
    return {
      ok: false,
      status: ERROR_CODES.singleLimit,
      amount,
      info: `清单[${copNo}]的购买金额超过单笔限额[${limits.singleCny}]`,
    };
  }
  const buyer = inventory.head.buyerIdNumber ?? '';
  const year = Number(inventory.head.declTime?.slice(0, 4)) || new Date(at.getTime() + 8 * 3600_000).getUTCFullYear();
  const used = await ledger.used(buyer, year);
  if (used + amount > limits.annualCny) {
    const masked = buyer.length > 8 ? `${buyer.slice(0, 4)}${'*'.repeat(buyer.length - 8)}${buyer.slice(-4)}` : '****';
    return {
      ok: false,
      status: ERROR_CODES.annualLimit,
      amount,
      info: `清单[${copNo}]中购买人[${masked}]已用购买额度为[${used}]，本次购买将超过年度限额[${limits.annualCny}]`,
    };
  }
  await ledger.add(buyer, year, inventory.guid, amount);
  return { ok: true, amount, buyer, year };
}
