import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBaygateOrderOrThrow, type BaygateOrder } from '../../../src/domain/order';
import type { BuildContext } from '../../../src/mapping/message-builder';
import type { MessageType } from '../../../src/domain/message-types';

/** Fixed inputs for reproducible messages (golden files, canonical-form and schema tests). */

export const GOLDEN_DIR = join(process.cwd(), 'test', 'fixtures', 'golden');

export function goldenOrder(name: 'import-9610' | 'import-1210' | 'export-9610'): BaygateOrder {
  return parseBaygateOrderOrThrow(JSON.parse(readFileSync(join(GOLDEN_DIR, 'orders', `${name}.json`), 'utf8')));
}

export const TEST_SENDER = { copCode: '4403960001', copName: '湾区通关服务有限公司', dxpId: 'DXPENT0000460001' };

export const FIXED_GUID = '6F9619FF-8B86-D011-B42D-00C04FC964FF';
export const FIXED_HEAD_GUID = '0B2C1D3E-4F50-4617-A8B9-CADBECFD0E1F';
export const FIXED_NOW = new Date('2026-11-29T02:30:00Z');

/** Context with fixed guids/time plus cancel and refund requests, usable for every message type. */
export function fixedContext(overrides: Partial<BuildContext> = {}): BuildContext {
  return {
    sender: TEST_SENDER,
    guid: FIXED_GUID,
    headGuid: FIXED_HEAD_GUID,
    now: FIXED_NOW,
    cancel: { invtNo: '514120261000000101', reason: '买家取消订单 <未发货>' },
    refund: { invtNo: '514120261000000101', reason: '商品破损退货', items: [{ gnum: 1, qty: 1, note: '外包装破损' }] },
    ...overrides,
  };
}

/** Which golden order each message type is built from. */
export const GOLDEN_CASES: ReadonlyArray<{
  file: string;
  type: MessageType;
  order: 'import-9610' | 'import-1210' | 'export-9610';
}> = [
  { file: 'CEB311.xml', type: 'CEB311', order: 'import-9610' },
  { file: 'CEB411.xml', type: 'CEB411', order: 'import-9610' },
  { file: 'CEB511.xml', type: 'CEB511', order: 'import-9610' },
  { file: 'CEB621-9610.xml', type: 'CEB621', order: 'import-9610' },
  { file: 'CEB621-1210.xml', type: 'CEB621', order: 'import-1210' },
  { file: 'CEB623.xml', type: 'CEB623', order: 'import-9610' },
  { file: 'CEB625.xml', type: 'CEB625', order: 'import-1210' },
  { file: 'CEB303.xml', type: 'CEB303', order: 'export-9610' },
  { file: 'CEB505.xml', type: 'CEB505', order: 'export-9610' },
  { file: 'CEB603.xml', type: 'CEB603', order: 'export-9610' },
];
