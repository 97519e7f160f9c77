import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBaygateOrderOrThrow, type BaygateOrder } from '../../../src/domain/order';
import {
  shipmentSchema,
  summaryApplicationSchema,
  type Shipment,
  type SummaryApplication,
} from '../../../src/domain/shipment';
import {
  buildFromInput,
  type BuildContext,
  type BuiltMessage,
  type MessageInput,
} from '../../../src/mapping/message-builder';
import type { MessageType } from '../../../src/domain/message-types';

/** Fixed inputs for reproducible messages (golden files, canonical-form and schema tests). */

export const GOLDEN_DIR = join(process.cwd(), 'test', 'fixtures', 'golden');

export type GoldenOrderName = 'import-9610' | 'import-1210' | 'export-9610';
export type GoldenShipmentName = 'export-consolidation' | 'import-arrival';

export function goldenOrder(name: GoldenOrderName): BaygateOrder {
  return parseBaygateOrderOrThrow(JSON.parse(readFileSync(join(GOLDEN_DIR, 'orders', `${name}.json`), 'utf8')));
}

export function goldenShipment(name: GoldenShipmentName): Shipment {
  return shipmentSchema.parse(JSON.parse(readFileSync(join(GOLDEN_DIR, 'inputs', `${name}.json`), 'utf8')));
}

export function goldenSummary(): SummaryApplication {
  return summaryApplicationSchema.parse(JSON.parse(readFileSync(join(GOLDEN_DIR, 'inputs', 'summary.json'), 'utf8')));
}

export const TEST_SENDER = { copCode: '4403960001', copName: '湾区通关服务有限公司', dxpId: 'DXPENT0000460001' };

export const FIXED_GUID = '6F9619FF-8B86-D011-B42D-00C04FC964FF';
export const FIXED_HEAD_GUID = '0B2C1D3E-4F50-4617-A8B9-CADBECFD0E1F';
export const FIXED_NOW = new Date('2026-11-29T02:30:00Z');

/** Context with fixed guids/time plus every request (cancel, refund, export return, logistics status). */
export function fixedContext(overrides: Partial<BuildContext> = {}): BuildContext {
  return {
    sender: TEST_SENDER,
    guid: FIXED_GUID,
    headGuid: FIXED_HEAD_GUID,
    now: FIXED_NOW,
    cancel: { invtNo: '514120261000000101', reason: '买家取消订单 <未发货>' },
    refund: { invtNo: '514120261000000101', reason: '商品破损退货', items: [{ gnum: 1, qty: 1, note: '外包装破损' }] },
    exportReturn: {
      invtNo: '534520260000000606',
      reason: '买家拒收 <包装破损> & 退回',
      copNo: 'RTX20261205000606',
      logistics: {
        logisticsCode: '4401980L01',
        logisticsName: '湾区速运（广州）有限公司',
        logisticsNo: 'BQR5345000000606',
      },
      trafMode: '4',
      trafName: '粤Z·C789港',
      voyageNo: '20261205-I1',
      operator: { code: '4403980S01', name: '深圳湾跨境电商监管中心运营有限公司' },
      location: 'A区退货暂存仓 3-12',
      items: [
        { gnum: 1, qty: 2 },
        { gnum: 2, qty: 2, note: '整件退回' },
      ],
      note: '退货',
    },
    logisticsStatus: { logisticsTime: '20261130153000', note: '本人签收' },
    ...overrides,
  };
}

export type GoldenInput =
  { kind: 'order'; name: GoldenOrderName } | { kind: 'shipment'; name: GoldenShipmentName } | { kind: 'summary' };

export function goldenInput(input: GoldenInput): MessageInput {
  if (input.kind === 'order') return { kind: 'order', order: goldenOrder(input.name) };
  if (input.kind === 'shipment') return { kind: 'shipment', shipment: goldenShipment(input.name) };
  return { kind: 'summary', summary: goldenSummary() };
}

export interface GoldenCase {
  file: string;
  type: MessageType;
  input: GoldenInput;
}

const order = (name: GoldenOrderName): GoldenInput => ({ kind: 'order', name });
const shipment = (name: GoldenShipmentName): GoldenInput => ({ kind: 'shipment', name });

/** Which golden input each message type is built from: one case per type (two for CEB621). */
export const GOLDEN_CASES: readonly GoldenCase[] = [
  { file: 'CEB311.xml', type: 'CEB311', input: order('import-9610') },
  { file: 'CEB411.xml', type: 'CEB411', input: order('import-9610') },
  { file: 'CEB511.xml', type: 'CEB511', input: order('import-9610') },
  { file: 'CEB513.xml', type: 'CEB513', input: order('import-9610') },
  { file: 'CEB621-9610.xml', type: 'CEB621', input: order('import-9610') },
  { file: 'CEB621-1210.xml', type: 'CEB621', input: order('import-1210') },
  { file: 'CEB623.xml', type: 'CEB623', input: order('import-9610') },
  { file: 'CEB625.xml', type: 'CEB625', input: order('import-1210') },
  { file: 'CEB711.xml', type: 'CEB711', input: shipment('import-arrival') },
  { file: 'CEB303.xml', type: 'CEB303', input: order('export-9610') },
  { file: 'CEB403.xml', type: 'CEB403', input: order('export-9610') },
  { file: 'CEB505.xml', type: 'CEB505', input: order('export-9610') },
  { file: 'CEB507.xml', type: 'CEB507', input: shipment('export-consolidation') },
  { file: 'CEB509.xml', type: 'CEB509', input: shipment('export-consolidation') },
  { file: 'CEB603.xml', type: 'CEB603', input: order('export-9610') },
  { file: 'CEB605.xml', type: 'CEB605', input: order('export-9610') },
  { file: 'CEB607.xml', type: 'CEB607', input: shipment('export-consolidation') },
  { file: 'CEB701.xml', type: 'CEB701', input: { kind: 'summary' } },
  { file: 'CEB213.xml', type: 'CEB213', input: order('export-9610') },
  { file: 'CEB215.xml', type: 'CEB215', input: order('export-9610') },
];

/** Builds a golden case with the fixed context. */
export function buildGolden(c: GoldenCase, overrides: Partial<BuildContext> = {}): BuiltMessage {
  return buildFromInput(c.type, goldenInput(c.input), fixedContext(overrides));
}
