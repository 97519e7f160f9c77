import type { BaygateOrder } from '../order';
import { violation, type RuleViolation } from './types';

/**
 * The "three documents" (三单) check: order, payment and waybill must agree. In a Baygate order the
 * payment and waybill inherit orderNo and consignee from the head, so this checks the optional copies
 * a payment or logistics system supplied, and that the payer is the buyer (payer rule: best public
 * evidence, not official text).
 */
export function checkThreeDocuments(order: BaygateOrder): RuleViolation[] {
  if (order.direction !== 'import') return [];
  const out: RuleViolation[] = [];
  const mustEqual = (path: string, actual: string | undefined, expected: string, zhField: string, enField: string) => {
    if (actual !== undefined && actual !== expected) {
      out.push(
        violation(
          path,
          'THREE_DOCUMENTS_MISMATCH',
          `${zhField}“${actual}”与订单“${expected}”不一致（三单比对）`,
          `${enField} "${actual}" differs from the order's "${expected}" (order/payment/waybill check)`,
        ),
      );
    }
  };
  mustEqual('payment.orderNo', order.payment.orderNo, order.orderNo, '支付单订单编号', 'payment orderNo');
  mustEqual('logistics.orderNo', order.logistics.orderNo, order.orderNo, '运单订单编号', 'waybill orderNo');
  mustEqual('logistics.consignee', order.logistics.consignee, order.consignee, '运单收货人', 'waybill consignee');
  mustEqual(
    'logistics.consigneeTelephone',
    order.logistics.consigneeTelephone,
    order.consigneeTelephone,
    '运单收货人电话',
    'waybill consigneeTelephone',
  );
  mustEqual(
    'logistics.consigneeAddress',
    order.logistics.consigneeAddress,
    order.consigneeAddress,
    '运单收货地址',
    'waybill consigneeAddress',
  );

  const payer = order.payment;
  const payerChecks: [string, string, string, string, string][] = [
    ['payment.payerIdType', payer.payerIdType, order.buyerIdType, '证件类型', 'ID type'],
    ['payment.payerIdNumber', payer.payerIdNumber, order.buyerIdNumber, '证件号码', 'ID number'],
    ['payment.payerName', payer.payerName, order.buyerName, '姓名', 'name'],
  ];
  for (const [path, actual, expected, zh, en] of payerChecks) {
    if (actual !== expected) {
      out.push(
        violation(path, 'PAYER_NOT_BUYER', `支付人${zh}与订购人不一致`, `the payer's ${en} differs from the buyer's`),
      );
    }
  }
  return out;
}
