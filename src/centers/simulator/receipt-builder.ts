import { createHash, randomUUID } from 'node:crypto';
import type { MessageType } from '../../domain/message-types';
import { CanonicalXmlWriter } from '../../xml/canonical-writer';
import { CEB_NS } from '../../xml/ceb-namespaces';
import type { ReceiptType } from '../../xml/receipts/receipt-types';
import type { ManifestView } from './manifest';

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

export const RECEIPT_FOR: Readonly<Record<MessageType, ReceiptType>> = {
  CEB311: 'CEB312',
  CEB411: 'CEB412',
  CEB511: 'CEB512',
  CEB621: 'CEB622',
  CEB623: 'CEB624',
  CEB625: 'CEB626',
  CEB303: 'CEB304',
  CEB505: 'CEB506',
  CEB603: 'CEB604',
};

type FieldSource = (m: ManifestView, r: ReceiptReturnInput) => string | undefined;

interface Field {
  name: string;
  optional?: boolean;
  from?: FieldSource;
}

const head =
  (name: string): FieldSource =>
  (m) =>
    m.head[name];

/** Element sequences of each receipt's return element (before returnStatus/returnTime/returnInfo). */
const LAYOUT: Readonly<Record<ReceiptType, { element: string; fields: Field[] } | undefined>> = {
  CEB312: { element: 'OrderReturn', fields: [{ name: 'ebpCode' }, { name: 'ebcCode' }, { name: 'orderNo' }] },
  CEB304: { element: 'OrderReturn', fields: [{ name: 'ebpCode' }, { name: 'ebcCode' }, { name: 'orderNo' }] },
  CEB412: { element: 'PaymentReturn', fields: [{ name: 'payCode' }, { name: 'payTransactionId' }] },
  CEB512: { element: 'LogisticsReturn', fields: [{ name: 'logisticsCode' }, { name: 'logisticsNo' }] },
  CEB506: { element: 'LogisticsReturn', fields: [{ name: 'logisticsCode' }, { name: 'logisticsNo' }] },
  CEB622: {
    element: 'InventoryReturn',
    fields: [
      { name: 'customsCode', optional: true },
      { name: 'ebpCode', optional: true },
      { name: 'ebcCode', optional: true },
      { name: 'agentCode', optional: true },
      { name: 'copNo' },
      { name: 'preNo', from: (m, r) => r.preNo ?? preNoFor(m) },
      { name: 'invtNo', optional: true, from: (_m, r) => r.invtNo },
    ],
  },
  CEB624: {
    element: 'InvtCancelReturn',
    fields: [
      { name: 'customsCode', optional: true },
      { name: 'agentCode', optional: true },
      { name: 'ebpCode', optional: true },
      { name: 'ebcCode', optional: true },
      { name: 'copNo' },
      { name: 'preNo', from: (m, r) => r.preNo ?? preNoFor(m) },
      { name: 'invtNo', optional: true, from: (m, r) => r.invtNo ?? m.head.invtNo },
    ],
  },
  CEB626: {
    element: 'InvtRefundReturn',
    fields: [
      { name: 'customsCode', optional: true },
      { name: 'agentCode', optional: true },
      { name: 'ebpCode', optional: true },
      { name: 'ebcCode', optional: true },
      { name: 'copNo' },
      { name: 'preNo', from: (m, r) => r.preNo ?? preNoFor(m) },
      { name: 'invtNo', optional: true, from: (m, r) => r.invtNo ?? m.head.invtNo },
    ],
  },
  CEB604: {
    element: 'InventoryReturn',
    fields: [
      { name: 'agentCode' },
      { name: 'copNo' },
      { name: 'preNo', from: (m, r) => r.preNo ?? preNoFor(m) },
      { name: 'invtNo', from: (m, r) => r.invtNo ?? invtNoFor(m) },
      { name: 'ebcCode' },
      { name: 'ebpCode' },
      { name: 'orderNo' },
      { name: 'statisticsFlag' },
    ],
  },
  CEB514: undefined,
  CEB712: undefined,
  CEB816: undefined,
  CEB818: undefined,
  CEB900: undefined,
};

export interface ReceiptReturnInput {
  /** returnStatus: "2", "120", "399", "800", "899", "100", "-621005" … */
  status: string;
  /** returnInfo (1–1000 characters). */
  info: string;
  at: Date;
  /** Inventory number customs assigned (from 120 on for inventories). */
  invtNo?: string;
  preNo?: string;
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
  const flag = m.type === 'CEB603' ? '0' : '1';
  return `${district}${year}${flag}${digits('invt:' + m.headGuid, 9)}`;
}

export function buildReceipt(
  manifest: ManifestView,
  returns: readonly ReceiptReturnInput[],
  options: BuildReceiptOptions = {},
): BuiltReceipt {
  const type = RECEIPT_FOR[manifest.type];
  const layout = LAYOUT[type];
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
      const value = (f.from ?? head(f.name))(manifest, r);
      if (value === undefined || value === '') {
        if (f.optional) continue;
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
