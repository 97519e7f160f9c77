import { z } from 'zod';
import { cebTimestamp, decimal5, formatPath, type OrderIssue } from './order';

/**
 * The inputs of the messages that are not about one order:
 *
 * - a **shipment**: parcels travelling together — an export consolidation (the truck or flight crossing to
 *   Hong Kong or Macao under one master bill) or an import arrival at a supervised site. It feeds CEB507
 *   运抵单 (arrival at the export site), CEB607 清单总分单 (the consolidation: master bill + parcels and
 *   their inventories), CEB509 离境单 (departure) and CEB711 入库明细单 (import parcels entering the site).
 * - a **summary application** (汇总申请单, CEB701): the released export inventories of one e-commerce
 *   company, summarised into a customs declaration once a month.
 *
 * Baygate produces both from stored state (the consolidation an operator builds, the inventories customs
 * released); here they are typed, zod-validated inputs so that message mappings can read them like orders.
 * Field names are the CEB element names where one exists. Lengths are the widest the messages allow; a
 * message with a narrower limit reports the field when it is built.
 */

const text = (max: number) =>
  z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);
const optionalText = (max: number) => z.string().trim().max(max, `must be at most ${max} characters`).optional();
const code = (length: number) =>
  z.string().regex(new RegExp(`^[0-9A-Za-z]{${length}}$`), `must be a ${length}-character code`);
const party = z.object({
  /** Customs registration code (10 characters) or unified social credit code (18). */
  code: text(18),
  /** Registered name. */
  name: text(100),
});

/**
 * When one document is split into several messages: msgCount messages numbered msgSeqNo 1…msgCount. A
 * document in one message (the usual case) leaves it out and is written as 1 of 1.
 */
const split = z
  .object({ msgCount: z.number().int().min(1).max(999999999), msgSeqNo: z.number().int().min(1).max(999999999) })
  .refine((s) => s.msgSeqNo <= s.msgCount, { message: 'msgSeqNo must not exceed msgCount', path: ['msgSeqNo'] });

const parcelSchema = z.object({
  /** Waybill number of the parcel (logisticsNo; ≤ 32 in the export messages, ≤ 60 for import). */
  logisticsNo: text(60),
  /** Inventory number customs assigned to the parcel's inventory (CEB607 invtNo), once known. */
  invtNo: optionalText(20),
  /** Pallet / bag the parcel travels in (totalPackageNo). */
  totalPackageNo: optionalText(37),
  /** The order the parcel carries (not written: for tracing the chain). */
  orderNo: optionalText(60),
  /** Line remark (note). */
  note: optionalText(1000),
});

export const shipmentSchema = z
  .object({
    /** "export": a consolidation leaving through an export site; "import": parcels arriving at an import site. */
    direction: z.enum(['import', 'export']),
    /** Company number of the documents built from this shipment (copNo; ≤ 20 for CEB711, ≤ 30 otherwise). */
    shipmentNo: text(30),
    /** Customs district handling the documents (customsCode). */
    customsCode: code(4),
    /** Supervised site code when a district has several (loctNo). */
    loctNo: optionalText(10),
    /** Operator of the supervised site (CEB507/711 operatorCode/operatorName). */
    operator: party.optional(),
    /** Declaring agent of the consolidation (CEB607 agentCode/agentName). */
    agent: party.optional(),
    /** Carrier (logisticsCode/logisticsName). */
    logistics: party,
    /** The crossing: transport mode, vehicle or flight, voyage, master bill, domestic vehicle. */
    transport: z.object({
      /** Transport mode code (trafMode): "4" road, "5" air, "2" water. */
      trafMode: z.string().regex(/^[0-9A-Z]$/, 'must be a one-character transport-mode code'),
      /** Vehicle / flight name or number (trafName; CEB711 trafNo). */
      trafName: optionalText(100),
      /** Voyage or flight number (voyageNo). */
      voyageNo: optionalText(32),
      /** Master bill, air waybill or road manifest (billNo). */
      billNo: optionalText(37),
      /** Vehicle bringing the parcels to the site, e.g. a licence plate (domesticTrafNo). */
      domesticTrafNo: optionalText(100),
    }),
    /** Gross weight of the consolidation in kg (CEB607 grossWeight). */
    grossWeight: decimal5.optional(),
    /** When the consolidation left (CEB509 leaveTime): YYYYMMDDhhmmss (Beijing) or ISO 8601 with zone. */
    leaveTime: cebTimestamp.optional(),
    /** Where the parcels were unloaded (CEB711 unloadLocation). */
    unloadLocation: optionalText(100),
    /** Time to stamp as appTime; the sending time when absent. */
    appTime: cebTimestamp.optional(),
    /** Head remark (note). */
    note: optionalText(1000),
    split: split.optional(),
    /** The parcels, in the order they are listed (gnum 1, 2, 3…). */
    parcels: z.array(parcelSchema).min(1, 'must contain at least one parcel'),
  })
  .superRefine((s, ctx) => {
    const seen = new Map<string, number>();
    s.parcels.forEach((p, i) => {
      const first = seen.get(p.logisticsNo);
      if (first !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['parcels', i, 'logisticsNo'],
          message: `waybill ${p.logisticsNo} is already parcels[${first}]`,
        });
      else seen.set(p.logisticsNo, i);
    });
  });

export type Shipment = z.output<typeof shipmentSchema>;
export type ShipmentInput = z.input<typeof shipmentSchema>;
export type ShipmentParcel = Shipment['parcels'][number];

export const summaryApplicationSchema = z
  .object({
    /** Company number of the application (copNo). */
    copNo: text(30),
    /** Customs district (customsCode). */
    customsCode: code(4),
    /** Declaring agent of the inventories (agentCode/agentName). */
    agent: party,
    /** The e-commerce company whose inventories are summarised (ebcCode/ebcName). */
    ebc: party,
    /** The company that will declare the resulting customs declaration (declAgentCode/declAgentName). */
    declAgent: party,
    /** Summarise the inventories of a time range instead of a list (startTime/endTime, both or neither). */
    period: z.object({ start: cebTimestamp, end: cebTimestamp }).optional(),
    /** Supervised site code (loctNo). */
    loctNo: optionalText(10),
    /** summaryFlag: "1" by consignor/consignee only, "2" by consignor/consignee and producer. */
    summaryFlag: z.enum(['1', '2']),
    /** itemNameFlag: "1" by the inventories' own goods names, "0" by customs' composite classification names. */
    itemNameFlag: z.enum(['0', '1']),
    appTime: cebTimestamp.optional(),
    note: optionalText(1000),
    split: split.optional(),
    /** The inventories to summarise (SummaryApplyList); ignored by customs when a period is given. */
    inventories: z.array(z.object({ invtNo: text(20) })).default([]),
  })
  .superRefine((s, ctx) => {
    if (s.period && s.period.end < s.period.start)
      ctx.addIssue({ code: 'custom', path: ['period', 'end'], message: 'must not be before period.start' });
    if (!s.period && s.inventories.length === 0)
      ctx.addIssue({ code: 'custom', path: ['inventories'], message: 'needs at least one inventory, or a period' });
  });

export type SummaryApplication = z.output<typeof summaryApplicationSchema>;
export type SummaryApplicationInput = z.input<typeof summaryApplicationSchema>;

export type ParseResult<T> = { ok: true; value: T } | { ok: false; issues: OrderIssue[] };

function parseWith<T>(schema: z.ZodType<T>, input: unknown): ParseResult<T> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return { ok: true, value: parsed.data };
  return {
    ok: false,
    issues: parsed.error.issues.map((i) => ({
      path: formatPath(i.path),
      code: i.code === 'custom' ? 'invalid_value' : i.code,
      message: i.message,
    })),
  };
}

/** Parses untrusted input into a Shipment, or lists every problem with its path. */
export function parseShipment(input: unknown): ParseResult<Shipment> {
  return parseWith(shipmentSchema, input);
}

/** Parses untrusted input into a SummaryApplication, or lists every problem with its path. */
export function parseSummaryApplication(input: unknown): ParseResult<SummaryApplication> {
  return parseWith(summaryApplicationSchema, input);
}
