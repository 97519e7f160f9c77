import type { BaygateOrder } from '../order';
import { violation, type RuleViolation } from './types';

/**
 * Structural rules the schema cannot express: line numbers 1..n in order (they link order lines to
 * inventory lines), one parcel per retail-import waybill, net weight ≤ gross weight, and the second
 * legal unit given together with its quantity.
 */
export function checkStructure(order: BaygateOrder): RuleViolation[] {
  const out: RuleViolation[] = [];
  order.items.forEach((item, i) => {
    if (item.gnum !== i + 1) {
      out.push(
        violation(
          `items[${i}].gnum`,
          'GNUM_NOT_SEQUENTIAL',
          `商品序号应为 ${i + 1}（从 1 开始连续），收到 ${item.gnum}`,
          `gnum must be ${i + 1} (consecutive from 1), got ${item.gnum}`,
        ),
      );
    }
    if ((item.unit2 === undefined) !== (item.qty2 === undefined)) {
      out.push(
        violation(
          `items[${i}].${item.unit2 === undefined ? 'unit2' : 'qty2'}`,
          'SECOND_UNIT_INCOMPLETE',
          '第二计量单位与第二数量须同时填写',
          'unit2 and qty2 must be given together',
        ),
      );
    }
  });
  if (order.direction === 'import' && order.logistics.packNo !== 1) {
    out.push(
      violation(
        'logistics.packNo',
        'PACK_NO_NOT_ONE',
        `进口运单包裹数限定为 1，收到 ${order.logistics.packNo}`,
        `import waybills carry exactly one parcel (packNo 1), got ${order.logistics.packNo}`,
      ),
    );
  }
  if (order.logistics.netWeight > order.logistics.weight) {
    out.push(
      violation(
        'logistics.netWeight',
        'NET_WEIGHT_EXCEEDS_GROSS',
        `净重 ${order.logistics.netWeight} 千克大于毛重 ${order.logistics.weight} 千克`,
        `net weight ${order.logistics.netWeight} kg exceeds gross weight ${order.logistics.weight} kg`,
      ),
    );
  }
  return out;
}
