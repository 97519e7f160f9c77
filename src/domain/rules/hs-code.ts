import type { BaygateOrder } from '../order';
import { violation, type RuleViolation } from './types';

/** gcode is the 8-digit tariff line plus 2 supplementary digits: exactly 10 digits. */
export function checkHsCodes(order: BaygateOrder): RuleViolation[] {
  const out: RuleViolation[] = [];
  order.items.forEach((item, i) => {
    if (!/^\d{10}$/.test(item.gcode)) {
      out.push(
        violation(
          `items[${i}].gcode`,
          'HS_CODE_INVALID',
          `商品编码“${item.gcode}”必须为 10 位数字`,
          `HS code "${item.gcode}" must be exactly 10 digits`,
        ),
      );
    }
  });
  return out;
}
