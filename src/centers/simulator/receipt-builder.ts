import { createHash, randomUUID } from 'node:crypto';
import { CanonicalXmlWriter } from '../../xml/canonical-writer';
import { CEB_NS } from '../../xml/ceb-namespaces';
import { formatCebDecimal } from '../../xml/ceb-formats';
import type { ReceiptType } from '../../xml/receipts/receipt-types';
import type { ManifestView } from './manifest';
import { RECEIPT_FOR, returnLayouts, type ReturnLayout } from './receipt-layouts';

export { RECEIPT_FOR } from './receipt-layouts';

/**
 * Builds customs receipts the way the E-port writes them: default namespace
 * `http://www.chinaport.gov.cn/ceb`, root `CEBxxxMessage` with the receipt's OWN guid and version 1.0,
 * one `…Return` per status, fields in the XSD sequence order (ceb-import-2022.xsd / ceb-export-2022.xsd),
 * `returnTime` YYYYMMDDhhmmssSSS (China Standard Time). Each return echoes the keys of the declaration it
 * answers (guid, orderNo, copNo, logisticsNo, payTransactionId …) so the gateway can match it.
 *
 * Output is canonical XML (no declaration, no whitespace), ready for the signers; the unsigned form
 * validates against the official schema (test/centers/receipt-builder.test.ts). The schemas have no
 * ds:Signature in receipt messages; the centers sign anyway (Baygate verifies every receipt) and the
 * signature goes last, as in declarations.
 */

export interface ReceiptReturnInput {
  /** returnStatus: "2", "120", "399", "800", "899", "100", "-621005" … */
  status: string;
  /** returnInfo (1–1000 characters). */
  info: string;
  at: Date;
  /** Inventory number customs assigned (from 120 on for inventories). */
  invtNo?: string;
  preNo?: string;
  /** Warehouse entry number customs assigned (CEB712 rkdNo). */
  rkdNo?: string;
  /** Summary application number customs assigned (CEB702 sumNo, 18 characters). */
  sumNo?: string;
}

export interface BuildReceiptOptions {
  /** The receipt message's own guid; fresh when absent. */
  guid?: string;
  /**
   * Which declaration guid the return's `guid` echoes: the message (root) guid Baygate tracks
   * (default), or the head guid as some E-port versions do.
   */
  echoGuid?: 'message' | 'head';
}

export interface BuiltReceipt {
  type: ReceiptType;
  guid: string;
  /** Canonical unsigned XML. */
  xml: string;
}

export class ReceiptBuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReceiptBuildError';
  }
}

/** YYYYMMDDhhmmssSSS in China Standard Time (UTC+8). */
export function returnTimeOf(at: Date): string {
  return new Date(at.getTime() + 8 * 3600_000).toISOString().replace(/\D/g, '').slice(0, 17);
}

function digits(seed: string, count: number): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return BigInt('0x' + hex.slice(0, 24))
    .toString()
    .padStart(count, '0')
    .slice(-count);
}

/** E-port pre-entry number (18): "B" + YYYYMMDD + 9 digits, stable per declaration. */
export function preNoFor(m: ManifestView): string {
  const date = (m.head.appTime ?? returnTimeOf(new Date())).slice(0, 8);
  return `B${date}${digits(m.headGuid, 9)}`;
}

/** Inventory number (18): customs district (4) + year (4) + I/E flag (1: import, 0: export) + 9 digits. */
export function invtNoFor(m: ManifestView): string {
  const district = (m.head.customsCode ?? m.head.portCode ?? '0000').padEnd(4, '0').slice(0, 4);
  const year = (m.head.appTime ?? returnTimeOf(new Date())).slice(0, 4);
  const flag = m.type === 'CEB603' ? '0' : '1'; // the export inventory's own number
  return `${district}${year}${flag}${digits('invt:' + m.headGuid, 9)}`;
}

let layouts: Readonly<Record<ReceiptType, ReturnLayout | undefined>> | undefined;

export function buildReceipt(
  manifest: ManifestView,
  returns: readonly ReceiptReturnInput[],
  options: BuildReceiptOptions = {},
): BuiltReceipt {
  const type = RECEIPT_FOR[manifest.type];
  layouts ??= returnLayouts(preNoFor, invtNoFor);
  const layout = layouts[type];
  if (!layout) throw new ReceiptBuildError(`no receipt layout for ${type}`);
  if (returns.length < 1 || returns.length > 100)
    throw new ReceiptBuildError(`a receipt carries 1–100 returns, got ${returns.length}`);
  const guid = options.guid ?? randomUUID().toUpperCase();
  const echoed = options.echoGuid === 'head' ? manifest.headGuid : manifest.guid;
  const w = new CanonicalXmlWriter();
  w.open(`${type}Message`, { '': CEB_NS }, { guid, version: '1.0' });
  for (const r of returns) {
    if (!r.info) throw new ReceiptBuildError(`returnInfo must not be empty (status ${r.status})`);
    w.open(layout.element);
    w.leaf('guid', echoed);
    for (const f of layout.fields) {
      const value = f.from ? f.from(manifest, r) : manifest.head[f.name];
      if (value === undefined || value === '') {
        if (f.optional) continue;
        if (f.emptyWhenMissing) {
          w.leaf(f.name, '');
          continue;
        }
        throw new ReceiptBuildError(`${type}: the declaration ${manifest.guid} carries no ${f.name} to echo`);
      }
      w.leaf(f.name, value);
    }
    w.leaf('returnStatus', r.status).leaf('returnTime', returnTimeOf(r.at)).leaf('returnInfo', r.info.slice(0, 1000));
    w.close(layout.element);
  }
  w.close(`${type}Message`);
  return { type, guid, xml: w.toString() };
}

/** One result of a summary application (CEB792 汇总结果单): the customs declaration it became. */
export interface SummaryResultInput {
  at: Date;
  /** Summary application number (18); derived from the application when absent. */
  sumNo?: string;
  /** Unified number of the resulting customs declaration (18); derived when absent. */
  declSeqNo?: string;
  /** Temporary, pre-entry and final customs declaration numbers, returned by later results. */
  decTmpNo?: string;
  decPreNo?: string;
  entryId?: string;
  /** State of the customs declaration (1–3 characters, customs' own codes). */
  decState: string;
  /** Gross and net weight of the summarised goods, kg. */
  grossWeight: number | string;
  netWeight: number | string;
  note?: string;
  /** The inventory lines summarised (gseqno numbered from 1 in this order). */
  lines?: readonly { invtNo: string; logisticsNo: string; gnum: number | string; gcode: string }[];
}

/** Summary application number (18): customs district (4) + year (4) + "S" + 9 digits, stable per application. */
export function sumNoFor(m: ManifestView): string {
  const district = (m.head.customsCode ?? '0000').padEnd(4, '0').slice(0, 4);
  const year = (m.head.appTime ?? returnTimeOf(new Date())).slice(0, 4);
  return `${district}${year}S${digits('sum:' + m.headGuid, 9)}`;
}

/**
 * CEB792 for a summary application (CEB701): the result customs sends when the summary became a customs
 * declaration — its head echoes the application (guid, agent, e-commerce company, declaring company) and
 * carries customs' numbers; the list names the inventory lines it covered.
 */
export function buildSummaryResult(
  manifest: ManifestView,
  results: readonly SummaryResultInput[],
  options: BuildReceiptOptions = {},
): BuiltReceipt {
  if (manifest.type !== 'CEB701')
    throw new ReceiptBuildError(`a summary result answers a CEB701 summary application, not ${manifest.type}`);
  if (results.length < 1 || results.length > 100)
    throw new ReceiptBuildError(`a summary result carries 1–100 results, got ${results.length}`);
  const h = manifest.head;
  const need = (name: string): string => {
    const v = h[name];
    if (!v) throw new ReceiptBuildError(`CEB792: the application ${manifest.guid} carries no ${name} to echo`);
    return v;
  };
  const guid = options.guid ?? randomUUID().toUpperCase();
  const echoed = options.echoGuid === 'head' ? manifest.headGuid : manifest.guid;
  const w = new CanonicalXmlWriter();
  w.open('CEB792Message', { '': CEB_NS }, { guid, version: '1.0' });
  for (const r of results) {
    if (!/^.{1,3}$/.test(r.decState))
      throw new ReceiptBuildError(`decState must be 1–3 characters, got "${r.decState}"`);
    w.open('SummaryResult').open('SummaryResultHead');
    w.leaf('guid', echoed)
      .leaf('customsCode', need('customsCode'))
      .leaf('sumNo', r.sumNo ?? sumNoFor(manifest))
      .leaf('opDate', returnTimeOf(r.at))
      .leaf('declSeqNo', r.declSeqNo ?? `${need('customsCode')}${digits('decl:' + manifest.headGuid, 14)}`);
    for (const name of ['decTmpNo', 'decPreNo', 'entryId'] as const) if (r[name]) w.leaf(name, r[name] as string);
    w.leaf('decState', r.decState);
    for (const name of ['agentCode', 'agentName', 'ebcCode', 'ebcName', 'declAgentCode', 'declAgentName'])
      w.leaf(name, need(name));
    w.leaf('grossWeight', formatCebDecimal(r.grossWeight))
      .leaf('netWeight', formatCebDecimal(r.netWeight))
      .leaf('msgCount', h.msgCount ?? '1')
      .leaf('msgSeqNo', h.msgSeqNo ?? '1');
    if (r.note) w.leaf('note', r.note.slice(0, 1000));
    w.close('SummaryResultHead');
    (r.lines ?? []).forEach((line, i) => {
      w.open('SummaryResultList')
        .leaf('invtNo', line.invtNo)
        .leaf('logisticsNo', line.logisticsNo)
        .leaf('gseqno', String(i + 1))
        .leaf('gnum', String(line.gnum))
        .leaf('gcode', line.gcode)
        .close('SummaryResultList');
    });
    w.close('SummaryResult');
  }
  w.close('CEB792Message');
  return { type: 'CEB792', guid, xml: w.toString() };
}
