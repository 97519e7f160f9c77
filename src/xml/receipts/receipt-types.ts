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
  | 'CEB404'
  | 'CEB506'
  | 'CEB508'
  | 'CEB510'
  | 'CEB604'
  | 'CEB606'
  | 'CEB608'
  | 'CEB702'
  | 'CEB792'
  | 'CEB214'
  | 'CEB216'
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
  | 'payNo'
  | 'billNo'
  | 'msgSeqNo'
  | 'sumNo'
  | 'coElNo'
  | 'declSeqNo'
  | 'decTmpNo'
  | 'decPreNo'
  | 'entryId'
  | 'decState'
  | 'oriCopMsgId'
  | 'oriMessageType';

export interface ReceiptDescriptor {
  type: ReceiptType;
  side: 'import' | 'export';
  /** Element (child of the root) holding one return; for tax bills the `Tax` wrapper. */
  returnElement: string;
  /** For tax bills: the head element inside `Tax` that holds guid/returnTime/status. */
  headElement?: string;
  /**
   * Element carrying the status: returnStatus, or `status` for tax bills. A result message that carries
   * no status of its own (CEB792) names the status it stands for in `fixedStatus` instead.
   */
  statusElement?: 'returnStatus' | 'status';
  fixedStatus?: string;
  /** Element with the time (YYYYMMDDhhmmssSSS): returnTime, or opDate for CEB792. */
  timeElement?: 'returnTime' | 'opDate';
  /** Element with customs' text: returnInfo, or note for CEB792 (optional there). */
  infoElement?: 'returnInfo' | 'note';
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
  CEB404: d({
    type: 'CEB404',
    side: 'export',
    returnElement: 'ReceiptsReturn',
    statusElement: 'returnStatus',
    answers: 'CEB403',
    keys: ['ebcCode', 'orderNo', 'payNo'],
  }),
  CEB508: d({
    type: 'CEB508',
    side: 'export',
    returnElement: 'ArrivalReturn',
    statusElement: 'returnStatus',
    answers: 'CEB507',
    keys: ['operatorCode', 'logisticsCode', 'preNo', 'copNo', 'billNo', 'msgSeqNo'],
  }),
  CEB510: d({
    type: 'CEB510',
    side: 'export',
    returnElement: 'DepartureReturn',
    statusElement: 'returnStatus',
    answers: 'CEB509',
    keys: ['logisticsCode', 'copNo', 'preNo', 'msgSeqNo'],
  }),
  CEB606: d({
    type: 'CEB606',
    side: 'export',
    returnElement: 'InvtCancelReturn',
    statusElement: 'returnStatus',
    answers: 'CEB605',
    keys: ['agentCode', 'copNo', 'preNo', 'invtNo'],
  }),
  CEB608: d({
    type: 'CEB608',
    side: 'export',
    returnElement: 'WayBillReturn',
    statusElement: 'returnStatus',
    answers: 'CEB607',
    keys: ['agentCode', 'logisticsCode', 'copNo', 'preNo', 'billNo', 'msgSeqNo'],
  }),
  CEB702: d({
    type: 'CEB702',
    side: 'export',
    returnElement: 'SummaryReturn',
    statusElement: 'returnStatus',
    answers: 'CEB701',
    keys: ['agentCode', 'ebcCode', 'copNo', 'preNo', 'sumNo', 'msgSeqNo'],
  }),
  CEB792: d({
    type: 'CEB792',
    side: 'export',
    returnElement: 'SummaryResult',
    headElement: 'SummaryResultHead',
    fixedStatus: 'summarized',
    timeElement: 'opDate',
    infoElement: 'note',
    answers: 'CEB701',
    keys: [
      'customsCode',
      'sumNo',
      'declSeqNo',
      'decTmpNo',
      'decPreNo',
      'entryId',
      'decState',
      'agentCode',
      'ebcCode',
      'msgSeqNo',
    ],
  }),
  CEB214: d({
    type: 'CEB214',
    side: 'export',
    returnElement: 'RefundReturn',
    statusElement: 'returnStatus',
    answers: 'CEB213',
    keys: ['ebpCode', 'ebcCode', 'agentCode', 'coElNo', 'preNo', 'invtNo'],
  }),
  CEB216: d({
    type: 'CEB216',
    side: 'export',
    returnElement: 'InvtRefundDetailReturn',
    statusElement: 'returnStatus',
    answers: 'CEB215',
    keys: ['operatorCode', 'logisticsCode', 'logisticsNo', 'coElNo', 'preNo'],
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
 * Meaning of positive receipt statuses (schema documentation and specification text, receipt tables of
 * §2 and §3). Inventory-family receipts use the full list; order/payment/waybill and the export transport
 * receipts (CEB404/508/510/606/608/702/216: 1/2/3/4/100/120/399) a subset; the export return receipt CEB214
 * adds 505 移交 and 600 挂起 and ends at 800 放行.
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
  '505': '移交',
  '599': '其它扣留',
  '600': '挂起',
  '700': '退运',
  '800': '放行',
  '899': '结关',
};

/** Tax-bill status (CEB816/818 `status`). */
export const TAX_STATUS_TEXT: Readonly<Record<string, string>> = { '1': '已生成', '2': '已汇总', '3': '作废' };
