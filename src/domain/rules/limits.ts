import type { BaygateOrder, ImportOrder } from '../order';
import { formatAmount, sumExact, toUnits } from '../money';
import { violation, type RuleViolation } from './types';

/** Retail-import limits (CNY): per transaction and per person per calendar year (customs −621005 / −621018). */
export const SINGLE_TRANSACTION_LIMIT = 5000;
export const ANNUAL_LIMIT = 26000;

/**
 * How much of a buyer's annual allowance is already used: the sum of limitValue() of the buyer's other
 * import orders in that calendar year (Beijing time) that count against it (declared and not cancelled
 * or returned). Must NOT include the order being checked. The store implements this.
 */
export interface AnnualUsageLookup {
  usedThisYear(buyerIdNumber: string, year: number): Promise<number>;
}

/** The value compared with the limits: the transaction price = goods + freight + insurance. */
export function limitValue(order: ImportOrder): number {
  return sumExact([order.goodsValue, order.freight, order.insuredFee]);
}

/** The calendar year the order counts towards: the Beijing-time year of the payment. */
export function limitYear(order: ImportOrder): number {
  return Number(order.payment.payTime.slice(0, 4));
}

/**
 * The single indivisible item route (财关税〔2018〕49号, domain notes §2): an order whose value is over the
 * single-transaction limit but that holds only one piece of goods — one line of quantity 1 — may still come
 * through the retail channel. It then pays duty, VAT and consumption tax in full at the ordinary rates
 * (tax.ts, regime `single-item`) and counts toward the annual total like any order (the annual limit
 * still applies; above it the goods go through general trade).
 */
export function isSingleIndivisibleItem(order: {
  freight: number;
  insuredFee: number;
  items: readonly { totalPrice: number; qty?: number }[];
}): boolean {
  const value = sumExact([...order.items.map((i) => i.totalPrice), order.freight, order.insuredFee]);
  return toUnits(value) > toUnits(SINGLE_TRANSACTION_LIMIT) && order.items.length === 1 && order.items[0]?.qty === 1;
}

export function checkSingleLimit(order: BaygateOrder): RuleViolation[] {
  if (order.direction !== 'import') return [];
  const value = limitValue(order);
  if (toUnits(value) <= toUnits(SINGLE_TRANSACTION_LIMIT)) return [];
  if (isSingleIndivisibleItem(order)) return [];
  return [
    violation(
      'goodsValue',
      'SINGLE_LIMIT_EXCEEDED',
      `单次交易金额 ${formatAmount(value)} 元（商品 + 运费 + 保费）超过跨境电商零售进口单次限值 ${SINGLE_TRANSACTION_LIMIT} 元（仅含一件不可分割商品的订单除外）`,
      `transaction value ${formatAmount(value)} CNY (goods + freight + insurance) exceeds the ${SINGLE_TRANSACTION_LIMIT} CNY single-transaction limit (only an order of one single indivisible item may exceed it)`,
    ),
  ];
}

export async function checkAnnualLimit(order: BaygateOrder, lookup: AnnualUsageLookup): Promise<RuleViolation[]> {
  if (order.direction !== 'import') return [];
  const year = limitYear(order);
  const used = await lookup.usedThisYear(order.buyerIdNumber, year);
  const value = limitValue(order);
  const total = sumExact([used, value].map((x) => Number(x.toFixed(5))));
  if (toUnits(total) <= toUnits(ANNUAL_LIMIT)) return [];
  return [
    violation(
      'buyerIdNumber',
      'ANNUAL_LIMIT_EXCEEDED',
      `订购人 ${year} 年度已用 ${formatAmount(used)} 元，加上本单 ${formatAmount(value)} 元超过年度限值 ${ANNUAL_LIMIT} 元`,
      `the buyer has used ${formatAmount(used)} CNY in ${year}; with this order's ${formatAmount(value)} CNY that exceeds the ${ANNUAL_LIMIT} CNY annual limit`,
    ),
  ];
}
