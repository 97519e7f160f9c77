import type { BaygateOrder } from '../order';
import { formatAmount } from '../money';
import { computeTax } from '../tax';
import { violation, type RuleViolation, type StaticRuleDeps } from './types';

/** Tolerance between declared taxTotal and the exact computed tax: one fen (plus float noise). */
export const TAX_TOLERANCE = 0.01;

/** taxTotal must be the cross-border comprehensive tax of the order (see ../tax.ts) within 0.01 CNY. */
export function checkTax(order: BaygateOrder, { taxRates }: StaticRuleDeps): RuleViolation[] {
  if (order.direction !== 'import') return [];
  const computed = computeTax(order, taxRates);
  if (Math.abs(order.taxTotal - computed.exactTax) > TAX_TOLERANCE + 1e-9) {
    return [
      violation(
        'taxTotal',
        'TAX_MISMATCH',
        `代扣税款 ${formatAmount(order.taxTotal)} 与跨境电商综合税 ${formatAmount(computed.taxTotal)} 不符（完税价格 ${formatAmount(computed.dutiablePrice)}）`,
        `taxTotal ${formatAmount(order.taxTotal)} differs from the cross-border comprehensive tax ${formatAmount(computed.taxTotal)} (dutiable price ${formatAmount(computed.dutiablePrice)})`,
      ),
    ];
  }
  return [];
}
