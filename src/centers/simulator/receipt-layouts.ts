import type { MessageType } from '../../domain/message-types';
import type { ReceiptType } from '../../xml/receipts/receipt-types';
import type { ManifestView } from './manifest';

/**
 * Which receipt answers each declaration, and the element sequence of each receipt's return element before
 * returnStatus/returnTime/returnInfo — as the official schemas order them (ceb-import-2022.xsd,
 * ceb-export-2022.xsd). Values echo the declaration's head (the keys the gateway matches by) or come from
 * the return being built (numbers customs assigns: preNo, invtNo, rkdNo, sumNo).
 */

export const RECEIPT_FOR: Readonly<Record<MessageType, ReceiptType>> = {
  CEB311: 'CEB312',
  CEB411: 'CEB412',
  CEB511: 'CEB512',
  CEB513: 'CEB514',
  CEB621: 'CEB622',
  CEB623: 'CEB624',
  CEB625: 'CEB626',
  CEB711: 'CEB712',
  CEB303: 'CEB304',
  CEB403: 'CEB404',
  CEB505: 'CEB506',
  CEB507: 'CEB508',
  CEB509: 'CEB510',
  CEB603: 'CEB604',
  CEB605: 'CEB606',
  CEB607: 'CEB608',
  CEB701: 'CEB702',
  CEB213: 'CEB214',
  CEB215: 'CEB216',
};

/** What the values of a return come from besides the declaration's head. */
export interface ReturnValues {
  invtNo?: string;
  preNo?: string;
  rkdNo?: string;
  sumNo?: string;
}

export type FieldSource = (m: ManifestView, r: ReturnValues) => string | undefined;

export interface Field {
  name: string;
  /** minOccurs 0: left out without a value. */
  optional?: boolean;
  /** Required but may be empty in the schema (no minLength): written empty without a value. */
  emptyWhenMissing?: boolean;
  from?: FieldSource;
}

export interface ReturnLayout {
  element: string;
  fields: Field[];
}

/** The layouts, given how the builder derives the numbers customs assigns (receipt-builder.ts). */
export function returnLayouts(
  preNoFor: (m: ManifestView) => string,
  invtNoFor: (m: ManifestView) => string,
): Readonly<Record<ReceiptType, ReturnLayout | undefined>> {
  const preNo: Field = { name: 'preNo', from: (m, r) => r.preNo ?? preNoFor(m) };
  const optionalPreNo: Field = { ...preNo, optional: true };
  /** CEB624 and CEB626 answer a cancel and a refund of an import inventory with the same fields. */
  const importWithdrawal = (element: string): ReturnLayout => ({
    element,
    fields: [
      { name: 'customsCode', optional: true },
      { name: 'agentCode', optional: true },
      { name: 'ebpCode', optional: true },
      { name: 'ebcCode', optional: true },
      { name: 'copNo' },
      preNo,
      { name: 'invtNo', optional: true, from: (m, r) => r.invtNo ?? m.head.invtNo },
    ],
  });
  return {
    CEB312: { element: 'OrderReturn', fields: [{ name: 'ebpCode' }, { name: 'ebcCode' }, { name: 'orderNo' }] },
    CEB304: { element: 'OrderReturn', fields: [{ name: 'ebpCode' }, { name: 'ebcCode' }, { name: 'orderNo' }] },
    CEB412: { element: 'PaymentReturn', fields: [{ name: 'payCode' }, { name: 'payTransactionId' }] },
    CEB404: {
      element: 'ReceiptsReturn',
      fields: [{ name: 'ebcCode' }, { name: 'orderNo' }, { name: 'payNo', optional: true }],
    },
    CEB512: { element: 'LogisticsReturn', fields: [{ name: 'logisticsCode' }, { name: 'logisticsNo' }] },
    CEB506: { element: 'LogisticsReturn', fields: [{ name: 'logisticsCode' }, { name: 'logisticsNo' }] },
    CEB514: {
      element: 'LogisticsStatusReturn',
      fields: [{ name: 'logisticsCode' }, { name: 'logisticsNo' }, { name: 'logisticsStatus' }],
    },
    CEB508: {
      element: 'ArrivalReturn',
      fields: [
        { name: 'operatorCode' },
        { name: 'logisticsCode' },
        preNo,
        { name: 'copNo' },
        { name: 'billNo', emptyWhenMissing: true },
        { name: 'msgSeqNo' },
      ],
    },
    CEB510: {
      element: 'DepartureReturn',
      fields: [{ name: 'logisticsCode' }, { name: 'copNo' }, preNo, { name: 'msgSeqNo' }],
    },
    CEB622: {
      element: 'InventoryReturn',
      fields: [
        { name: 'customsCode', optional: true },
        { name: 'ebpCode', optional: true },
        { name: 'ebcCode', optional: true },
        { name: 'agentCode', optional: true },
        { name: 'copNo' },
        preNo,
        { name: 'invtNo', optional: true, from: (_m, r) => r.invtNo },
      ],
    },
    CEB624: importWithdrawal('InvtCancelReturn'),
    CEB626: importWithdrawal('InvtRefundReturn'),
    CEB604: {
      element: 'InventoryReturn',
      fields: [
        { name: 'agentCode' },
        { name: 'copNo' },
        preNo,
        { name: 'invtNo', from: (m, r) => r.invtNo ?? invtNoFor(m) },
        { name: 'ebcCode' },
        { name: 'ebpCode' },
        { name: 'orderNo' },
        { name: 'statisticsFlag' },
      ],
    },
    CEB606: {
      element: 'InvtCancelReturn',
      fields: [
        { name: 'agentCode' },
        { name: 'copNo' },
        preNo,
        { name: 'invtNo', from: (m, r) => r.invtNo ?? m.head.invtNo },
      ],
    },
    CEB608: {
      element: 'WayBillReturn',
      fields: [
        { name: 'agentCode' },
        { name: 'logisticsCode' },
        { name: 'copNo' },
        preNo,
        { name: 'billNo' },
        { name: 'msgSeqNo' },
      ],
    },
    CEB702: {
      element: 'SummaryReturn',
      fields: [
        { name: 'agentCode' },
        { name: 'ebcCode' },
        { name: 'copNo' },
        preNo,
        { name: 'sumNo', optional: true, from: (_m, r) => r.sumNo },
        { name: 'msgSeqNo' },
      ],
    },
    CEB712: {
      element: 'DeliveryReturn',
      fields: [
        { name: 'customsCode', optional: true },
        { name: 'operatorCode', optional: true },
        { name: 'copNo', optional: true },
        optionalPreNo,
        { name: 'rkdNo', optional: true, from: (_m, r) => r.rkdNo },
      ],
    },
    CEB214: {
      element: 'RefundReturn',
      fields: [
        { name: 'ebpCode', optional: true },
        { name: 'ebcCode', optional: true },
        { name: 'agentCode' },
        { name: 'coElNo' },
        optionalPreNo,
        { name: 'invtNo' },
      ],
    },
    CEB216: {
      element: 'InvtRefundDetailReturn',
      fields: [
        { name: 'operatorCode' },
        { name: 'logisticsCode' },
        { name: 'logisticsNo' },
        { name: 'coElNo' },
        optionalPreNo,
      ],
    },
    // Not built from a declaration's return: results (CEB792 has its own builder) and customs' own messages.
    CEB792: undefined,
    CEB816: undefined,
    CEB818: undefined,
    CEB900: undefined,
  };
}
