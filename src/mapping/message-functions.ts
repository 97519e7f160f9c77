import type { BaygateOrder } from '../domain/order';
import { newCebGuid } from '../xml/ceb-formats';
import type { BuildContext } from './message-builder';
import type { MAPPING_FUNCTIONS } from './message-mapping-schema';

/**
 * Computed values a mapping file can ask for with { "fn": name }. Each gets the current scope and returns
 * a raw value (formatted afterwards by the leaf's format), or undefined for "no value".
 */
export interface MappingScope {
  order: BaygateOrder;
  /** Current entry of the enclosing forEach group (undefined outside one). */
  item: unknown;
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

function refundLines(scope: MappingScope): RefundLine[] | undefined {
  const refund = scope.ctx.refund;
  if (!refund) return undefined;
  const items = scope.order.items;
  const wanted =
    refund.items && refund.items.length > 0
      ? refund.items
      : items.map((i) => ({ gnum: i.gnum, qty: i.qty, note: undefined as string | undefined }));
  return wanted.map((line) => {
    const item = items.find((i) => i.gnum === line.gnum);
    if (!item) throw new RangeError(`refund line gnum ${line.gnum} is not a line of order ${scope.order.orderNo}`);
    if (line.qty > item.qty)
      throw new RangeError(`refund line gnum ${line.gnum}: qty ${line.qty} exceeds the ordered ${item.qty}`);
    const out: RefundLine = { gnum: item.gnum, gcode: item.gcode, gname: item.gname, qty: line.qty, unit: item.unit };
    if (line.note !== undefined) out.note = line.note;
    return out;
  });
}

/** "name×qty; name×qty…" cut to the 200 characters goodsInfo allows, for waybills that give none. */
function goodsSummary(scope: MappingScope): string {
  const text = scope.order.items.map((i) => `${i.itemName}*${i.qty}`).join(';');
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
  goodsSummary,
  refundLines,
};

export function freshGuid(): string {
  return newCebGuid();
}
