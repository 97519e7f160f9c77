import type { BaygateOrder } from '../order';
import { formatAmount, fromUnits, productUnits10, sumExact, toUnits } from '../money';
import { violation, type RuleViolation } from './types';

/**
 * totalPrice may round price × qty to the fen: |totalPrice − price × qty| ≤ 0.005 (half a fen).
 * Every other sum must match exactly (all amounts have ≤ 5 decimals, so exact sums are possible).
 */
const HALF_FEN_UNITS10 = 5n * 10n ** 7n; // 0.005 in units of 10^-10

export function checkArithmetic(order: BaygateOrder): RuleViolation[] {
  const out: RuleViolation[] = [];
  order.items.forEach((item, i) => {
    const exact = productUnits10(item.price, item.qty);
    const declared = toUnits(item.totalPrice) * 100_000n;
    const diff = exact > declared ? exact - declared : declared - exact;
    if (diff > HALF_FEN_UNITS10) {
      const expected = Number(exact) / 1e10;
      out.push(
        violation(
          `items[${i}].totalPrice`,
          'TOTAL_PRICE_MISMATCH',
          `商品总价 ${formatAmount(item.totalPrice)} 不等于单价 × 数量 = ${formatAmount(expected)}`,
          `totalPrice ${formatAmount(item.totalPrice)} is not price × qty = ${formatAmount(expected)}`,
        ),
      );
    }
  });

  const itemsSum = sumExact(order.items.map((i) => i.totalPrice));
  if (toUnits(itemsSum) !== toUnits(order.goodsValue)) {
    out.push(
      violation(
        'goodsValue',
        'GOODS_VALUE_MISMATCH',
        `商品价格 ${formatAmount(order.goodsValue)} 不等于各商品总价之和 ${formatAmount(itemsSum)}`,
        `goodsValue ${formatAmount(order.goodsValue)} is not the sum of the items' totalPrice ${formatAmount(itemsSum)}`,
      ),
    );
  }

  if (order.direction === 'import') {
    const expectedUnits =
      toUnits(order.goodsValue) + toUnits(order.freight) + toUnits(order.taxTotal) - toUnits(order.discount);
    if (expectedUnits !== toUnits(order.acturalPaid)) {
      const expected = formatAmount(fromUnits(expectedUnits));
      out.push(
        violation(
          'acturalPaid',
          'ACTURAL_PAID_MISMATCH',
          `实际支付金额 ${formatAmount(order.acturalPaid)} 不等于 商品价格 + 运杂费 + 代扣税款 − 非现金抵扣 = ${expected}`,
          `acturalPaid ${formatAmount(order.acturalPaid)} is not goodsValue + freight + taxTotal − discount = ${expected}`,
        ),
      );
    }
    if (toUnits(order.payment.amountPaid) !== toUnits(order.acturalPaid)) {
      out.push(
        violation(
          'payment.amountPaid',
          'PAYMENT_AMOUNT_MISMATCH',
          `支付金额 ${formatAmount(order.payment.amountPaid)} 与订单实际支付金额 ${formatAmount(order.acturalPaid)} 不一致`,
          `payment amountPaid ${formatAmount(order.payment.amountPaid)} differs from the order's acturalPaid ${formatAmount(order.acturalPaid)}`,
        ),
      );
    }
  }
  return out;
}
