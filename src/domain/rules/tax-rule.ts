import type { BaygateOrder } from '../order';
import { formatAmount } from '../money';
import { computeTax } from '../tax';
import { violation, type RuleViolation, type StaticRuleDeps } from './types';

/** Tolerance between declared taxTotal and the exact computed tax when the total is rounded: one fen. */
export const TAX_TOLERANCE = 0.01;
/** What rounding one amount to the fen can change it by. */
export const HALF_FEN = 0.005;

/**
 * taxTotal must be the import tax customs will levy (../tax.ts), rounded either way customs and platforms
 * round it (domain notes §2): the total rounded once (within TAX_TOLERANCE of the exact tax), or each tax
 * of each line rounded to the fen as the e-tax bill does — which can differ from the exact tax by half a
 * fen per rounded amount. An order is never refused over that difference.
 */
export function checkTax(order: BaygateOrder, { taxRates }: StaticRuleDeps): RuleViolation[] {
  if (order.direction !== 'import') return [];
  const computed = computeTax(order, taxRates);
  if (computed.problems.length > 0) {
    return computed.problems.map((p) =>
      violation(
        `items[${order.items.findIndex((i) => i.gnum === p.gnum)}].gcode`,
        'TAX_RATE_UNKNOWN',
        `无法计算第 ${p.gnum} 项商品（${p.gcode}）的税款：${p.reason}`,
        `the tax of line ${p.gnum} (${p.gcode}) cannot be computed: ${p.reason}`,
      ),
    );
  }
  const tolerance = Math.max(TAX_TOLERANCE, HALF_FEN * computed.roundedAmounts);
  if (Math.abs(order.taxTotal - computed.exactTax) <= tolerance + 1e-9) return [];
  const regime = computed.regime === 'single-item' ? '（单件不可分割商品，按货物税率全额征收）' : '';
  const regimeEn =
    computed.regime === 'single-item' ? ' (single indivisible item: duty, VAT and consumption tax in full)' : '';
  const perLine =
    computed.taxTotalPerLine !== computed.taxTotal
      ? ` (rounded per line: ${formatAmount(computed.taxTotalPerLine)})`
      : '';
  const perLineZh =
    computed.taxTotalPerLine !== computed.taxTotal ? `（逐项取整：${formatAmount(computed.taxTotalPerLine)}）` : '';
  return [
    violation(
      'taxTotal',
      'TAX_MISMATCH',
      `代扣税款 ${formatAmount(order.taxTotal)} 与应征税款 ${formatAmount(computed.taxTotal)}${perLineZh} 不符${regime}（完税价格 ${formatAmount(computed.dutiablePrice)}）`,
      `taxTotal ${formatAmount(order.taxTotal)} differs from the import tax ${formatAmount(computed.taxTotal)}${perLine}${regimeEn} (dutiable price ${formatAmount(computed.dutiablePrice)})`,
    ),
  ];
}
