import { z } from 'zod';
import { cebTimestamp, decimal5 } from './order';

/**
 * Requests: the data some messages need besides the order, because it exists only later (an inventory
 * number customs assigned, a delivery, a return). CEB623/605 take an InventoryCancelRequest and CEB625 an
 * InventoryRefundRequest (src/domain/order.ts); the ones below complete the family.
 */

const text = (max: number) =>
  z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);
const optionalText = (max: number) => z.string().trim().max(max, `must be at most ${max} characters`).optional();
const positive = decimal5.refine((x) => x > 0, 'must be greater than 0');
const party = z.object({ code: text(18), name: text(100) });

/** The carrier's proof of delivery of an import parcel (CEB513 物流运单状态, status "S" signed for). */
export const logisticsStatusRequestSchema = z.object({
  /** When the consignee signed for the parcel (logisticsTime). */
  logisticsTime: cebTimestamp,
  /** Remark (note). */
  note: optionalText(1000),
  /** Time to stamp as appTime; the sending time when absent. */
  appTime: cebTimestamp.optional(),
});
export type LogisticsStatusRequest = z.output<typeof logisticsStatusRequestSchema>;

/**
 * A retail export coming back (退货): CEB213 退货申请单 asks customs to take back (part of) a released export
 * inventory, CEB215 理货明细单 is the supervised site's tally when the returned parcel arrives. Both come
 * with the original export order; what is new is here.
 */
export const exportReturnRequestSchema = z.object({
  /** The original export inventory number (invtNo). */
  invtNo: text(20),
  /** Why the goods come back (CEB213 reason). */
  reason: text(500),
  /** Company number of the return (coElNo: ≤ 30 for CEB213, ≤ 20 for CEB215). */
  copNo: text(30),
  /** E-port pre-entry number (preNo), once known. */
  preNo: optionalText(18),
  /** The waybill the parcel comes back under; the original export waybill when absent. */
  logistics: z.object({ logisticsCode: text(18), logisticsName: text(100), logisticsNo: text(80) }).optional(),
  /** Master bill of the inbound transport; the return waybill number when there is none (billNo). */
  billNo: optionalText(37),
  /** Inbound transport: mode, vehicle or flight, voyage (trafMode, trafName, voyageNo). */
  trafMode: z.string().regex(/^[0-9A-Z]$/, 'must be a one-character transport-mode code'),
  trafName: text(100),
  voyageNo: text(32),
  /** Port of re-entry (portCode); the order's portCode when absent. */
  portCode: code4().optional(),
  /** Country the goods come back from (country, never China); the order's country of arrival when absent. */
  country: z
    .string()
    .regex(/^[0-9A-Za-z]{3}$/, 'must be a 3-character code')
    .optional(),
  /** Declaring agent of the return (agentCode/agentName); the order's agent when absent. */
  agent: party.optional(),
  /** Operator of the supervised site that tallies the return (CEB215 operatorCode/operatorName). */
  operator: party.optional(),
  /** Where the parcel is stored (CEB215 location). */
  location: optionalText(250),
  /**
   * Returned lines: gnum of the order line, the quantity returned (≤ the line's qty), and the legal
   * quantities when only part of a line comes back (default: in proportion to qty, to 5 decimals).
   * Absent = every line in full.
   */
  items: z
    .array(
      z.object({
        gnum: z.number().int().min(1),
        qty: positive,
        qty1: positive.optional(),
        qty2: positive.optional(),
        note: optionalText(500),
      }),
    )
    .max(99)
    .optional(),
  note: optionalText(500),
  appTime: cebTimestamp.optional(),
});
export type ExportReturnRequest = z.output<typeof exportReturnRequestSchema>;

function code4() {
  return z.string().regex(/^[0-9A-Za-z]{4}$/, 'must be a 4-character code');
}
