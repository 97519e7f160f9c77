import type { BaygateOrder } from '../domain/order';
import type { Shipment, SummaryApplication } from '../domain/shipment';
import { roundTo } from '../domain/money';
import { newCebGuid } from '../xml/ceb-formats';
import type { BuildContext } from './message-builder';
import type { MAPPING_FUNCTIONS } from './message-mapping-schema';

/**
 * Computed values a mapping file can ask for with { "fn": name }. Each gets the current scope and returns
 * a raw value (formatted afterwards by the leaf's format), or undefined for "no value".
 */
export interface MappingScope {
  /** The input the message is built from: exactly one of them is set. */
  order?: BaygateOrder;
  shipment?: Shipment;
  summary?: SummaryApplication;
  /** Current entry of the enclosing forEach group (undefined outside one). */
  item: unknown;
  /** 1-based position of that entry in its list (0 outside a forEach group). */
  position: number;
  /** How to name that entry in error messages, e.g. "order.items[1]". */
  itemLabel: string;
  ctx: BuildContext;
  /** Values fixed once per message (guids, time), so every element of one message agrees. */
  message: { guid: string; headGuid: string; now: Date };
}

export type MappingFunctionName = (typeof MAPPING_FUNCTIONS)[number];

/** One returned line of a CEB625 refund: the request line joined with its order line. */
export interface RefundLine {
  gnum: number;
  gcode: string;
  gname: string;
  qty: number;
  unit: string;
  note?: string;
}

/** One returned line of a CEB213 export return: the request line joined with its order line. */
export interface ExportReturnLine {
  gnum: number;
  gcode: string;
  gname: string;
  gmodel: string;
  qty: number;
  qty1: number;
  unit: string;
  unit1: string;
  qty2?: number;
  unit2?: string;
  note?: string;
}

function orderOf(scope: MappingScope): BaygateOrder {
  if (!scope.order) throw new RangeError('this function needs an order as the message input');
  return scope.order;
}

/**
 * Joins request lines (gnum, qty) with the order lines; absent or empty `wanted` = every line in full.
 * A line that is not in the order, or more than was ordered, is refused (never silently cut).
 */
function joinLines<T extends { gnum: number; qty: number }>(
  order: BaygateOrder,
  wanted: readonly T[] | undefined,
): { line: T | undefined; item: BaygateOrder['items'][number]; qty: number }[] {
  const list = wanted && wanted.length > 0 ? wanted : undefined;
  if (!list) return order.items.map((item) => ({ line: undefined, item, qty: item.qty }));
  return list.map((line) => {
    const item = order.items.find((i) => i.gnum === line.gnum);
    if (!item) throw new RangeError(`returned line gnum ${line.gnum} is not a line of order ${order.orderNo}`);
    if (line.qty > item.qty)
      throw new RangeError(`returned line gnum ${line.gnum}: qty ${line.qty} exceeds the ordered ${item.qty}`);
    return { line, item, qty: line.qty };
  });
}

function refundLines(scope: MappingScope): RefundLine[] | undefined {
  const refund = scope.ctx.refund;
  if (!refund) return undefined;
  return joinLines(orderOf(scope), refund.items).map(({ line, item, qty }) => {
    const out: RefundLine = { gnum: item.gnum, gcode: item.gcode, gname: item.gname, qty, unit: item.unit };
    if (line?.note !== undefined) out.note = line.note;
    return out;
  });
}

/** A legal quantity for `qty` of a line: as given, the line's own for the full quantity, else in proportion. */
function legalQty(given: number | undefined, lineQty: number, qty: number, full: number): number {
  if (given !== undefined) {
    if (given > full) throw new RangeError(`returned legal quantity ${given} exceeds the declared ${full}`);
    return given;
  }
  return qty === lineQty ? full : roundTo((full * qty) / lineQty, 5);
}

function exportReturnLines(scope: MappingScope): ExportReturnLine[] | undefined {
  const request = scope.ctx.exportReturn;
  if (!request) return undefined;
  return joinLines(orderOf(scope), request.items).map(({ line, item, qty }) => {
    const out: ExportReturnLine = {
      gnum: item.gnum,
      gcode: item.gcode,
      gname: item.gname,
      gmodel: item.gmodel,
      qty,
      qty1: legalQty(line?.qty1, item.qty, qty, item.qty1),
      unit: item.unit,
      unit1: item.unit1,
    };
    if (item.unit2 !== undefined && item.qty2 !== undefined) {
      out.unit2 = item.unit2;
      out.qty2 = legalQty(line?.qty2, item.qty, qty, item.qty2);
    }
    if (line?.note !== undefined) out.note = line.note;
    return out;
  });
}

/** "name×qty; name×qty…" cut to the 200 characters goodsInfo allows, for waybills that give none. */
function goodsSummary(scope: MappingScope): string {
  const text = orderOf(scope)
    .items.map((i) => `${i.itemName}*${i.qty}`)
    .join(';');
  const chars = [...text];
  return chars.length <= 200 ? text : chars.slice(0, 199).join('') + '…';
}

export const MAPPING_FUNCTION_IMPLS: Readonly<Record<MappingFunctionName, (scope: MappingScope) => unknown>> = {
  /** The message's own guid (root attribute). */
  messageGuid: (s) => s.message.guid,
  /** The guid of the head (OrderHead, PaymentHead…): ctx.headGuid or a fresh upper-case UUID. */
  headGuid: (s) => s.message.headGuid,
  /** The build time (ctx.now or the clock), formatted by the leaf as datetime or date. */
  now: (s) => s.message.now,
  /** The current forEach entry's 1-based position (gnum of list entries that number themselves). */
  position: (s) => (s.position > 0 ? s.position : undefined),
  goodsSummary,
  refundLines,
  exportReturnLines,
};

export function freshGuid(): string {
  return newCebGuid();
}
