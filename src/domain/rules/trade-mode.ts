import type { BaygateOrder } from '../order';
import { violation, type RuleViolation } from './types';

const FIELD_ZH: Record<string, string> = {
  trafNo: '运输工具编号',
  voyageNo: '航班航次号',
  billNo: '提运单号',
  emsNo: '账册编号',
  areaCode: '区内企业代码',
  areaName: '区内企业名称',
  itemRecordNo: '账册备案料号',
  wrapType: '包装种类代码',
};

function blank(value: string | undefined): boolean {
  return value === undefined || value.trim() === '';
}

/**
 * Fields a trade mode requires. 9610 import: trafNo, voyageNo, billNo (the crossing). 1210 (import or
 * export): emsNo, areaCode, areaName, every item's itemRecordNo (bonded account book), and for import the
 * inventory country "142". Export always needs wrapType (CEB603 requires it).
 */
export function checkTradeModeFields(order: BaygateOrder): RuleViolation[] {
  const out: RuleViolation[] = [];
  const missing = (
    path: string,
    field: string,
    why: { zh: string; en: string },
    code: 'TRADE_MODE_FIELD_MISSING' | 'EXPORT_FIELD_MISSING' = 'TRADE_MODE_FIELD_MISSING',
  ) =>
    out.push(
      violation(
        path,
        code,
        `${why.zh}必须填写${FIELD_ZH[field] ?? field}（${field}）`,
        `${field} is required ${why.en}`,
      ),
    );

  if (order.tradeMode === '9610' && order.direction === 'import') {
    const why = { zh: '直购进口（9610）', en: 'for direct-purchase import (9610)' };
    for (const field of ['trafNo', 'voyageNo', 'billNo'] as const) if (blank(order[field])) missing(field, field, why);
  }
  if (order.tradeMode === '1210') {
    const why = { zh: '保税模式（1210）', en: 'for bonded trade (1210)' };
    for (const field of ['emsNo', 'areaCode', 'areaName'] as const) if (blank(order[field])) missing(field, field, why);
    order.items.forEach((item, i) => {
      if (blank(item.itemRecordNo)) missing(`items[${i}].itemRecordNo`, 'itemRecordNo', why);
    });
    if (order.direction === 'import' && order.country !== '142') {
      out.push(
        violation(
          'country',
          'BONDED_COUNTRY_NOT_CHINA',
          `保税进口清单起运国填写 142，收到 ${order.country}`,
          `bonded import inventories use country "142", got ${order.country}`,
        ),
      );
    }
  }
  if (order.direction === 'export' && blank(order.wrapType)) {
    missing('wrapType', 'wrapType', { zh: '出口清单', en: 'for export inventories (CEB603)' }, 'EXPORT_FIELD_MISSING');
  }
  return out;
}
