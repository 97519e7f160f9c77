import { CEB_NS } from '../ceb-namespaces';
import { ReceiptParseError } from './receipt-errors';
import {
  MAX_RETURNS_PER_RECEIPT,
  RECEIPT_STATUS_TEXT,
  RECEIPT_TYPES,
  TAX_STATUS_TEXT,
  type ReceiptDescriptor,
  type ReceiptKeyName,
  type ReceiptType,
} from './receipt-types';
import { describeReturnCode, isErrorStatus, type ReturnCodeInfo } from './return-codes';
import { DEFAULT_XML_LIMITS, parseUntrustedXml, type UntrustedXmlLimits, type XmlElement } from './untrusted-xml';

/**
 * Reads a customs receipt (CEB312 … CEB900). Input is the raw message (string or the bytes a signature
 * verifier hands back); elements are matched by namespace URI, so `ceb:`-prefixed, otherwise-prefixed and
 * default-namespace receipts read the same.
 */

export interface TaxLine {
  gnum: string;
  gcode: string;
  taxPrice: string;
  customsTax: string;
  valueAddedTax: string;
  consumptionTax: string;
}

export interface TaxAmounts {
  customsTax: string;
  valueAddedTax: string;
  consumptionTax: string;
  lines: TaxLine[];
}

/**
 * One inventory line a CEB792 summary result lists. Only the inventory number is required to read it: the
 * official sample leaves out gseqno, which the schema requires, and these lines are information, not keys.
 */
export interface SummaryResultLine {
  invtNo: string;
  logisticsNo: string;
  gseqno: string;
  gnum: string;
  gcode: string;
}

export interface ReceiptReturn {
  guid: string;
  /**
   * returnStatus as sent (a string: "2", "399", "-621005"); `status` for tax bills; for a result message
   * without a status of its own (CEB792) the status it stands for (`summarized`).
   */
  status: string;
  /** YYYYMMDDhhmmssSSS (opDate for CEB792). */
  returnTime: string;
  /** Free text from customs ('' for tax bills, which have none). */
  returnInfo: string;
  /** The document keys this receipt type carries (orderNo, copNo, invtNo, logisticsNo, preNo, …). */
  keys: Partial<Record<ReceiptKeyName, string>>;
  /** Meaning of a non-negative status, when the specification defines it. */
  statusText?: string;
  /** Present when the status is negative: customs refused the document. */
  error?: ReturnCodeInfo;
  /** CEB816 only: the taxes levied. */
  tax?: TaxAmounts;
  /** CEB900 only: the original message customs could not read, as it was echoed back. */
  originalMessage?: string;
  /** CEB792 only: the inventory lines the summary covered. */
  summaryLines?: SummaryResultLine[];
}

export interface ParsedReceipt {
  type: ReceiptType;
  side: 'import' | 'export';
  /** Root `guid` attribute of the receipt message. */
  guid: string;
  version: string;
  returns: ReceiptReturn[];
}

export interface ParseReceiptOptions {
  limits?: UntrustedXmlLimits;
  /** Accept only these receipt types (e.g. what a given queue may carry). */
  expect?: readonly ReceiptType[];
}

function cebChildren(el: XmlElement, local: string): XmlElement[] {
  return el.children.filter((c) => c.ns === CEB_NS && c.local === local);
}

/**
 * Leaf values are trimmed: the schemas' codes and numbers never carry surrounding blanks, while real
 * receipts do (the official CEB624 sample has a tab after copNo) and would then never match our keys.
 */
function leaf(el: XmlElement, local: string): string | undefined {
  const hit = cebChildren(el, local);
  if (hit.length === 0) return undefined;
  return (hit[0] as XmlElement).text.trim();
}

function required(el: XmlElement, local: string, where: string): string {
  const v = leaf(el, local);
  if (v === undefined || v === '')
    throw new ReceiptParseError('RECEIPT_INVALID', `${where}: <${local}> is missing or empty`);
  return v;
}

function readReturn(desc: ReceiptDescriptor, wrapper: XmlElement, where: string): ReceiptReturn {
  let head = wrapper;
  if (desc.headElement) {
    const heads = cebChildren(wrapper, desc.headElement);
    if (heads.length !== 1)
      throw new ReceiptParseError(
        'RECEIPT_INVALID',
        `${where}: expected one <${desc.headElement}>, found ${heads.length}`,
      );
    head = heads[0] as XmlElement;
    where += `/${desc.headElement}`;
  }
  const guid = required(head, 'guid', where);
  const status = desc.fixedStatus ?? required(head, desc.statusElement ?? 'returnStatus', where);
  const timeElement = desc.timeElement ?? 'returnTime';
  const returnTime = required(head, timeElement, where);
  if (!/^\d{17}$/.test(returnTime)) {
    throw new ReceiptParseError('RECEIPT_INVALID', `${where}: ${timeElement} "${returnTime}" is not YYYYMMDDhhmmssSSS`);
  }
  const keys: Partial<Record<ReceiptKeyName, string>> = {};
  for (const key of desc.keys) {
    const v = leaf(head, key);
    if (v !== undefined && v !== '') keys[key] = v;
  }
  const out: ReceiptReturn = {
    guid,
    status,
    returnTime,
    returnInfo: leaf(head, desc.infoElement ?? 'returnInfo') ?? '',
    keys,
  };
  // A result message (CEB792) has no status of its own to explain: its state (decState) is among the keys.
  if (desc.fixedStatus === undefined) {
    if (isErrorStatus(status)) out.error = describeReturnCode(status);
    else {
      const text = (desc.statusElement === 'status' ? TAX_STATUS_TEXT : RECEIPT_STATUS_TEXT)[status];
      if (text) out.statusText = text;
    }
  }
  if (desc.type === 'CEB816') {
    out.tax = {
      customsTax: required(head, 'customsTax', where),
      valueAddedTax: required(head, 'valueAddedTax', where),
      consumptionTax: required(head, 'consumptionTax', where),
      lines: cebChildren(wrapper, 'TaxListRd').map((line, i) => {
        const at = `${where.replace(/\/TaxHeadRd$/, '')}/TaxListRd[${i + 1}]`;
        return {
          gnum: required(line, 'gnum', at),
          gcode: required(line, 'gcode', at),
          taxPrice: required(line, 'taxPrice', at),
          customsTax: required(line, 'customsTax', at),
          valueAddedTax: required(line, 'valueAddedTax', at),
          consumptionTax: required(line, 'consumptionTax', at),
        };
      }),
    };
  }
  if (desc.type === 'CEB900') out.originalMessage = cebChildren(head, 'oriBizMessage')[0]?.text ?? '';
  if (desc.type === 'CEB792') {
    out.summaryLines = cebChildren(wrapper, 'SummaryResultList').map((line, i) => {
      const at = `${where.replace(/\/SummaryResultHead$/, '')}/SummaryResultList[${i + 1}]`;
      return {
        invtNo: required(line, 'invtNo', at),
        logisticsNo: leaf(line, 'logisticsNo') ?? '',
        gseqno: leaf(line, 'gseqno') ?? '',
        gnum: leaf(line, 'gnum') ?? '',
        gcode: leaf(line, 'gcode') ?? '',
      };
    });
  }
  return out;
}

export function parseReceipt(input: string | Buffer, options: ParseReceiptOptions = {}): ParsedReceipt {
  const root = parseUntrustedXml(input, options.limits ?? DEFAULT_XML_LIMITS);
  const m = /^(CEB\d{3})Message$/.exec(root.local);
  const desc = m && root.ns === CEB_NS ? RECEIPT_TYPES[m[1] as ReceiptType] : undefined;
  if (!desc) {
    const name = root.ns ? `{${root.ns}}${root.local}` : root.local;
    throw new ReceiptParseError('RECEIPT_UNKNOWN_TYPE', `root element ${name} is not a receipt Baygate reads`);
  }
  if (options.expect && !options.expect.includes(desc.type)) {
    throw new ReceiptParseError(
      'RECEIPT_UNKNOWN_TYPE',
      `${desc.type} is not expected here (expected ${options.expect.join(', ')})`,
    );
  }
  const guid = root.attributes.guid?.trim();
  if (!guid) throw new ReceiptParseError('RECEIPT_INVALID', `${root.local}: the guid attribute is missing`);
  const wrappers = cebChildren(root, desc.returnElement);
  if (wrappers.length > MAX_RETURNS_PER_RECEIPT) {
    throw new ReceiptParseError(
      'RECEIPT_TOO_MANY_RETURNS',
      `${desc.type} carries ${wrappers.length} <${desc.returnElement}>; at most ${MAX_RETURNS_PER_RECEIPT} are allowed`,
    );
  }
  if (wrappers.length === 0)
    throw new ReceiptParseError('RECEIPT_INVALID', `${desc.type} carries no <${desc.returnElement}>`);
  const returns = wrappers.map((w, i) => readReturn(desc, w, `${root.local}/${desc.returnElement}[${i + 1}]`));
  return { type: desc.type, side: desc.side, guid, version: root.attributes.version?.trim() ?? '', returns };
}
