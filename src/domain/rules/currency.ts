import type { BaygateOrder } from '../order';
import { violation, type RuleViolation } from './types';

export const CNY = '142';

/** Import messages fix currency to "142" (CNY); an export order uses one currency for all lines. */
export function checkCurrency(order: BaygateOrder): RuleViolation[] {
  const out: RuleViolation[] = [];
  if (order.direction === 'import') {
    if (order.currency !== CNY) {
      out.push(
        violation(
          'currency',
          'CURRENCY_NOT_CNY',
          `进口订单币制必须为人民币 142，收到 ${order.currency}`,
          `import orders must be in CNY (142), got ${order.currency}`,
        ),
      );
    }
    order.items.forEach((item, i) => {
      if (item.currency !== CNY) {
        out.push(
          violation(
            `items[${i}].currency`,
            'CURRENCY_NOT_CNY',
            `进口商品币制必须为人民币 142，收到 ${item.currency}`,
            `import item currency must be CNY (142), got ${item.currency}`,
          ),
        );
      }
    });
  } else {
    order.items.forEach((item, i) => {
      if (item.currency !== order.currency) {
        out.push(
          violation(
            `items[${i}].currency`,
            'CURRENCY_INCONSISTENT',
            `商品币制 ${item.currency} 与订单币制 ${order.currency} 不一致`,
            `item currency ${item.currency} differs from the order currency ${order.currency}`,
          ),
        );
      }
    });
  }
  return out;
}
