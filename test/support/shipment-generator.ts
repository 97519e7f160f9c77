/**
 * Deterministic generator of VALID shipments (consolidations, import arrivals), summary applications and
 * export return requests built around generated orders, for bulk message/XSD checks: optional fields
 * present or not, XML-special characters, and every text field at its maximum length when asked.
 */
import type { BaygateOrder, ExportOrder } from '../../src/domain/order';
import { exportReturnRequestSchema, type ExportReturnRequest } from '../../src/domain/requests';
import {
  shipmentSchema,
  summaryApplicationSchema,
  type Shipment,
  type SummaryApplication,
} from '../../src/domain/shipment';
import { seededRandom } from './order-generator';

const OPERATORS = [
  { code: '4403980S01', name: '深圳湾跨境电商监管中心运营有限公司' },
  { code: '4401980S02', name: '广州白云机场跨境电商监管中心有限公司 & <A区>' },
];
const AGENT = { code: '4403988A02', name: '深圳湾关供应链报关有限公司' };
const CARRIER = { code: '4401980L01', name: '湾区速运（广州）有限公司' };

const pad = (n: number, w: number) => String(n).padStart(w, '0');
/** `value` padded with CJK filler to exactly `max` characters when `on`. */
const fill = (value: string, max: number, on: boolean) => (on ? (value + '货'.repeat(max)).slice(0, max) : value);

export interface ShipmentOptions {
  direction: 'import' | 'export';
  maxLengths?: boolean;
}

/** A shipment carrying the parcels of `orders` (their waybills), with random optional fields. */
export function generateShipment(seed: number, orders: readonly BaygateOrder[], opts: ShipmentOptions): Shipment {
  const rnd = seededRandom(seed * 7919 + 17);
  const long = opts.maxLengths ?? false;
  const maybe = <T>(value: T): T | undefined => (long || rnd() < 0.5 ? value : undefined);
  const exportSide = opts.direction === 'export';
  const input = {
    direction: opts.direction,
    shipmentNo: fill(`${exportSide ? 'SX' : 'SI'}${pad(seed, 8)}`, exportSide ? 30 : 20, long),
    customsCode: exportSide ? '5345' : '5141',
    loctNo: maybe(fill(`L${pad(seed % 1000, 3)}`, 10, long)),
    operator: OPERATORS[seed % 2],
    agent: AGENT,
    logistics: CARRIER,
    transport: {
      trafMode: exportSide ? '4' : '5',
      trafName: fill(exportSide ? `粤Z·${pad(seed % 10000, 4)}港` : `CZ${100 + (seed % 900)}`, 100, long),
      voyageNo: fill(`V${pad(seed, 6)}-1`, 32, long),
      billNo: fill(`${exportSide ? 'SZB' : '784-'}${pad(seed, 8)}`, 37, long),
      domesticTrafNo: exportSide
        ? fill(`粤A·${pad(seed % 10000, 4)}`, 100, long)
        : maybe(`粤A·${pad(seed % 10000, 4)}`),
    },
    grossWeight: Math.round(orders.reduce((sum, o) => sum + o.logistics.weight, 0) * 1000) / 1000,
    leaveTime: `202611${pad(1 + (seed % 28), 2)}183000`,
    unloadLocation: maybe(fill('监管中心 A区 "3号库"', 100, long)),
    note: maybe(fill(`第${seed}车 <封签> & 交接`, 1000, long)),
    ...(rnd() < 0.2 ? { split: { msgCount: 3, msgSeqNo: 1 + (seed % 3) } } : {}),
    parcels: orders.map((o, i) => ({
      logisticsNo: exportSide ? o.logistics.logisticsNo.slice(0, 32) : o.logistics.logisticsNo,
      invtNo: maybe(`5345${2026}0${pad(seed * 100 + i, 9)}`),
      totalPackageNo: maybe(fill(`P${pad(i % 3, 2)}`, 37, long)),
      orderNo: o.orderNo,
      note: maybe(fill('包裹 & <备注>', 1000, long)),
    })),
  };
  return shipmentSchema.parse(input);
}

/** A summary application for the inventories of `count` generated parcels, or for a period. */
export function generateSummary(seed: number, count: number, maxLengths = false): SummaryApplication {
  const rnd = seededRandom(seed * 104729 + 3);
  const long = maxLengths;
  const byPeriod = !long && rnd() < 0.3;
  return summaryApplicationSchema.parse({
    copNo: fill(`SUM${pad(seed, 8)}`, 30, long),
    customsCode: '5345',
    agent: AGENT,
    ebc: { code: '4401960E01', name: fill('广州湾购国际贸易有限公司 & <出口>', 100, long) },
    declAgent: { code: AGENT.code, name: fill(AGENT.name, 100, long) },
    ...(byPeriod ? { period: { start: '20261101000000', end: '20261130235959' } } : {}),
    ...(long || rnd() < 0.5 ? { loctNo: fill('L01', 10, long) } : {}),
    summaryFlag: rnd() < 0.5 ? '1' : '2',
    itemNameFlag: rnd() < 0.5 ? '1' : '0',
    ...(long || rnd() < 0.5 ? { note: fill('月度汇总 <11月>', 1000, long) } : {}),
    inventories: Array.from({ length: count }, (_, i) => ({
      invtNo: fill(`534520260${pad(seed * 100 + i, 9)}`, 20, long),
    })),
  });
}

/** An export return of (part of) `order`: every line or some, with or without a new waybill. */
export function generateExportReturn(seed: number, order: ExportOrder, maxLengths = false): ExportReturnRequest {
  const rnd = seededRandom(seed * 31337 + 11);
  const long = maxLengths;
  const some = rnd() < 0.5;
  return exportReturnRequestSchema.parse({
    invtNo: `534520260${pad(seed, 9)}`,
    reason: fill(`退货 #${seed} & <破损>`, 500, long),
    copNo: fill(`R${pad(seed, 10)}`, 20, long),
    ...(long || rnd() < 0.5
      ? {
          logistics: {
            logisticsCode: CARRIER.code,
            logisticsName: CARRIER.name,
            logisticsNo: fill(`BQR${pad(seed, 10)}`, 37, long),
          },
        }
      : {}),
    ...(rnd() < 0.5 ? { billNo: fill(`RB${pad(seed, 8)}`, 37, long) } : {}),
    trafMode: '4',
    trafName: fill('粤Z·C789港', 100, long),
    voyageNo: fill(`R${pad(seed, 6)}`, 32, long),
    operator: OPERATORS[seed % 2],
    ...(long || rnd() < 0.5 ? { location: fill('退货暂存仓 "3-12"', 250, long) } : {}),
    ...(some
      ? {
          items: order.items
            .filter((_, i) => i % 2 === 0)
            .map((i) => ({ gnum: i.gnum, qty: i.qty, ...(rnd() < 0.3 ? { note: fill('部分退回', 500, long) } : {}) })),
        }
      : {}),
    ...(long || rnd() < 0.5 ? { note: fill('退货备注', 250, long) } : {}),
  });
}
