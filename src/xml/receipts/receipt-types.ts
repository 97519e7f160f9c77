/**
 * The receipts Baygate reads, each described by the element that carries one return and the fields that
 * identify the document it answers. Field names are the CEB element names (namespace
 * http://www.chinaport.gov.cn/ceb), from the official 2022-05 schemas.
 */

export type ReceiptType =
  | 'CEB312'
  | 'CEB412'
  | 'CEB512'
  | 'CEB514'
  | 'CEB622'
  | 'CEB624'
  | 'CEB626'
  | 'CEB712'
  | 'CEB816'
  | 'CEB818'
  | 'CEB304'
  | 'CEB506'
  | 'CEB604'
  | 'CEB900';

/** Document keys a return can carry; which ones depends on the receipt type. */
export type ReceiptKeyName =
  | 'orderNo'
  | 'ebpCode'
  | 'ebcCode'
  | 'payCode'
  | 'payTransactionId'
  | 'logisticsCode'
  | 'logisticsNo'
  | 'logisticsStatus'
  | 'customsCode'
  | 'agentCode'
  | 'copNo'
  | 'preNo'
  | 'invtNo'
  | 'operatorCode'
  | 'rkdNo'
  | 'taxNo'
  | 'entDutyNo'
  | 'assureCode'
  | 'statisticsFlag'
  | 'oriCopMsgId'
  | 'oriMessageType';

export interface ReceiptDescriptor {
  type: ReceiptType;
  side: 'import' | 'export';
  /** Element (child of the root) holding one return; for tax bills the `Tax` wrapper. */
  returnElement: string;
  /** For tax bills: the head element inside `Tax` that holds guid/returnTime/status. */
  headElement?: string;
  /** Element carrying the status: returnStatus, or `status` for tax bills. */
  statusElement: 'returnStatus' | 'status';
  keys: readonly ReceiptKeyName[];
  /** The declaration this receipt answers, when there is one. */
  answers?: string;
}

const d = (x: ReceiptDescriptor) => x;

export const RECEIPT_TYPES: Readonly<Record<ReceiptType, ReceiptDescriptor>> = {
  CEB312: d({
    type: 'CEB312',
    side: 'import',
    returnElement: 'OrderReturn',
    statusElement: 'returnStatus',
    answers: 'CEB311',
    keys: ['ebpCode', 'ebcCode', 'orderNo'],
  }),
  CEB412: d({
    type: 'CEB412',
    side: 'import',
    returnElement: 'PaymentReturn',
    statusElement: 'returnStatus',
    answers: 'CEB411',
    keys: ['payCode', 'payTransactionId'],
  }),
  CEB512: d({
    type: 'CEB512',
    side: 'import',
    returnElement: 'LogisticsReturn',
    statusElement: 'returnStatus',
    answers: 'CEB511',
    keys: ['logisticsCode', 'logisticsNo'],
  }),
  CEB514: d({
    type: 'CEB514',
    side: 'import',
    returnElement: 'LogisticsStatusReturn',
    statusElement: 'returnStatus',
    answers: 'CEB513',
    keys: ['logisticsCode', 'logisticsNo', 'logisticsStatus'],
  }),
  CEB622: d({
    type: 'CEB622',
    side: 'import',
    returnElement: 'InventoryReturn',
    statusElement: 'returnStatus',
    answers: 'CEB621',
    keys: ['customsCode', 'ebpCode', 'ebcCode', 'agentCode', 'copNo', 'preNo', 'invtNo'],
  }),
  CEB624: d({
    type: 'CEB624',
    side: 'import',
    returnElement: 'InvtCancelReturn',
    statusElement: 'returnStatus',
    answers: 'CEB623',
    keys: ['customsCode', 'agentCode', 'ebpCode', 'ebcCode', 'copNo', 'preNo', 'invtNo'],
  }),
  CEB626: d({
    type: 'CEB626',
    side: 'import',
    returnElement: 'InvtRefundReturn',
    statusElement: 'returnStatus',
    answers: 'CEB625',
    keys: ['customsCode', 'agentCode', 'ebpCode', 'ebcCode', 'copNo', 'preNo', 'invtNo'],
  }),
  CEB712: d({
    type: 'CEB712',
    side: 'import',
    returnElement: 'DeliveryReturn',
    statusElement: 'returnStatus',
    answers: 'CEB711',
    keys: ['customsCode', 'operatorCode', 'copNo', 'preNo', 'rkdNo'],
  }),
  CEB816: d({
    type: 'CEB816',
    side: 'import',
    returnElement: 'Tax',
    headElement: 'TaxHeadRd',
    statusElement: 'status',
    keys: ['invtNo', 'taxNo', 'entDutyNo', 'assureCode', 'ebcCode', 'logisticsCode', 'agentCode', 'customsCode'],
  }),
  CEB818: d({
    type: 'CEB818',
    side: 'import',
    returnElement: 'Tax',
    headElement: 'TaxHeadStatus',
    statusElement: 'status',
    keys: ['invtNo', 'taxNo', 'entDutyNo', 'assureCode'],
  }),
  CEB304: d({
    type: 'CEB304',
    side: 'export',
    returnElement: 'OrderReturn',
    statusElement: 'returnStatus',
    answers: 'CEB303',
    keys: ['ebpCode', 'ebcCode', 'orderNo'],
  }),
  CEB506: d({
    type: 'CEB506',
    side: 'export',
    returnElement: 'LogisticsReturn',
    statusElement: 'returnStatus',
    answers: 'CEB505',
    keys: ['logisticsCode', 'logisticsNo'],
  }),
  CEB604: d({
    type: 'CEB604',
    side: 'export',
    returnElement: 'InventoryReturn',
    statusElement: 'returnStatus',
    answers: 'CEB603',
    keys: ['agentCode', 'copNo', 'preNo', 'invtNo', 'ebcCode', 'ebpCode', 'orderNo', 'statisticsFlag'],
  }),
  CEB900: d({
    type: 'CEB900',
    side: 'import',
    returnElement: 'MessageReturn',
    statusElement: 'returnStatus',
    keys: ['oriCopMsgId', 'oriMessageType'],
  }),
};

/** Upper bound of returns per receipt message (schema maxOccurs="100"). */
export const MAX_RETURNS_PER_RECEIPT = 100;

/**
 * Meaning of positive receipt statuses (schema documentation and specification §3). Inventory-family
 * receipts use the full list; order/payment/waybill receipts use a subset of the same codes.
 */
export const RECEIPT_STATUS_TEXT: Readonly<Record<string, string>> = {
  '1': '电子口岸已暂存',
  '2': '电子口岸申报中',
  '3': '发送海关成功',
  '4': '发送海关失败',
  '100': '海关退单',
  '120': '海关入库',
  '300': '人工审核',
  '399': '海关审结',
  '500': '查验',
  '501': '扣留移送通关',
  '502': '扣留移送缉私',
  '503': '扣留移送法规',
  '599': '其它扣留',
  '700': '退运',
  '800': '放行',
  '899': '结关',
};

/** Tax-bill status (CEB816/818 `status`). */
export const TAX_STATUS_TEXT: Readonly<Record<string, string>> = { '1': '已生成', '2': '已汇总', '3': '作废' };
