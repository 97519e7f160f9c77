import { z } from 'zod';

/**
 * The Baygate order: the one document a merchant (or a source-format mapping) hands us, from which the
 * gateway builds every customs message of the parcel:
 *   import (direction "import"): CEB311 order, CEB411 payment, CEB511 waybill, CEB621 inventory,
 *                                CEB623 cancel and CEB625 refund (with an InventoryCancelRequest /
 *                                InventoryRefundRequest below, because invtNo only exists after customs
 *                                accepted the inventory);
 *   export (direction "export"): CEB303 order, CEB505 waybill, CEB603 inventory.
 *
 * Field names are the CEB element names wherever one exists, so that a mapping is a copy. Where one
 * Baygate field feeds differently named CEB elements, its doc comment says so.
 *
 * What this schema checks: shape, types, lengths (the XSD maxima, so a parsed order never produces a
 * message the XSD rejects for length), money precision and time formats. What it does NOT check:
 * arithmetic, cross-document consistency, code tables, limits, tax, ID check digits and which fields a
 * trade mode requires: those are business rules (src/domain/rules) that report every violation at once.
 *
 * Normalisation done by parsing (the output type is what message builders get):
 *  - timestamps: "YYYYMMDDhhmmss" (Beijing time, the CEB format) or ISO 8601 with a zone
 *    ("2026-11-29T10:15:00+08:00", "…Z") → always "YYYYMMDDhhmmss" in Beijing time (UTC+8).
 *  - dates: "YYYYMMDD" or "YYYY-MM-DD" → always "YYYYMMDD".
 *  - items[].gname defaults to items[].itemName (CEB621 requires gname to equal the order's name).
 *  - export items[].barCode defaults to "无" (the CEB convention for "no bar code").
 * Parsing an already parsed order gives the same order (idempotent), so orders can be stored parsed.
 *
 * Money: plain JS numbers with at most 5 fraction digits (xs:decimal fractionDigits=5), so `String(x)`
 * is always a valid CEB decimal. Import amounts are CNY (currency "142"). Weights are kilograms.
 */

// ---------------------------------------------------------------------------------------------------
// Scalar building blocks
// ---------------------------------------------------------------------------------------------------

const MAX_DECIMAL = 1e14; // xs:decimal totalDigits=19 with 5 fraction digits leaves 14 integer digits

/** True when x has at most 5 fraction digits in its shortest decimal representation. */
export function hasAtMostFiveDecimals(x: number): boolean {
  return Number.isFinite(x) && Math.abs(x) < MAX_DECIMAL && Number(x.toFixed(5)) === x;
}

/** A CEB decimal: finite, ≥ 0, at most 5 fraction digits. */
export const decimal5 = z
  .number()
  .nonnegative()
  .refine(hasAtMostFiveDecimals, 'must have at most 5 fraction digits and fewer than 15 integer digits');

/** A strictly positive CEB decimal (quantities, weights). */
const positiveDecimal5 = decimal5.refine((x) => x > 0, 'must be greater than 0');

/** Required text: trimmed, non-empty, at most `max` characters (the XSD maxLength). */
const text = (max: number) =>
  z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);

/** Customs code-table code of fixed length (validated against the tables by the rules). */
const code = (length: number) =>
  z.string().regex(new RegExp(`^[0-9A-Za-z]{${length}}$`), `must be a ${length}-character code`);

const BEIJING_OFFSET_MS = 8 * 3600 * 1000;
const CEB_TIMESTAMP = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/;
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

function isRealCalendarTime(y: number, mo: number, d: number, h = 0, mi = 0, s = 0): boolean {
  const t = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return (
    t.getUTCFullYear() === y &&
    t.getUTCMonth() === mo - 1 &&
    t.getUTCDate() === d &&
    t.getUTCHours() === h &&
    t.getUTCMinutes() === mi &&
    t.getUTCSeconds() === s
  );
}

/** Formats an instant as the CEB "YYYYMMDDhhmmss" in Beijing time. */
export function toCebTimestamp(instant: Date): string {
  return new Date(instant.getTime() + BEIJING_OFFSET_MS).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** Reads a CEB "YYYYMMDDhhmmss" (Beijing time) back into an instant. */
export function fromCebTimestamp(value: string): Date {
  const m = CEB_TIMESTAMP.exec(value);
  if (!m) throw new Error(`not a CEB timestamp: ${value}`);
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  return new Date(Date.UTC(y, mo - 1, d, h, mi, s) - BEIJING_OFFSET_MS);
}

/** A point in time: "YYYYMMDDhhmmss" (Beijing) or ISO 8601 with zone; output "YYYYMMDDhhmmss" (Beijing). */
export const cebTimestamp = z.string().transform((value, ctx) => {
  const ceb = CEB_TIMESTAMP.exec(value);
  if (ceb) {
    const [y, mo, d, h, mi, s] = ceb.slice(1).map(Number) as [number, number, number, number, number, number];
    if (isRealCalendarTime(y, mo, d, h, mi, s)) return value;
  } else if (ISO_WITH_ZONE.test(value)) {
    const t = new Date(value);
    if (!Number.isNaN(t.getTime())) return toCebTimestamp(t);
  }
  ctx.addIssue({ code: 'custom', message: 'must be a time as YYYYMMDDhhmmss (Beijing) or ISO 8601 with a time zone' });
  return z.NEVER;
});

/** A calendar date: "YYYYMMDD" or "YYYY-MM-DD"; output "YYYYMMDD". */
export const cebDate = z.string().transform((value, ctx) => {
  const m = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(value);
  if (m) {
    const [y, mo, d] = m.slice(1).map(Number) as [number, number, number];
    if (isRealCalendarTime(y, mo, d)) return `${m[1]}${m[2]}${m[3]}`;
  }
  ctx.addIssue({ code: 'custom', message: 'must be a date as YYYYMMDD or YYYY-MM-DD' });
  return z.NEVER;
});

// ---------------------------------------------------------------------------------------------------
// Enumerations
// ---------------------------------------------------------------------------------------------------

/** 9610 = direct purchase (直购, parcel crosses the border per order); 1210 = bonded (保税, ships from a bonded warehouse). */
export const tradeModeSchema = z.enum(['9610', '1210']);
/** Where the seller (e-commerce company) is established: Guangdong (mainland), Hong Kong or Macao. */
export const sellerRegionSchema = z.enum(['GD', 'HK', 'MO']);
/** ID type of buyer / payer: 1 = resident identity card (required by customs for retail import), 2 = other. */
export const idTypeSchema = z.enum(['1', '2']);
/** Customs transport-mode code (JGS-20 运输方式代码), one character, e.g. 2 water, 4 road, 5 air, 6 post. */
const trafModeSchema = z.string().regex(/^[0-9A-Z]$/, 'must be a one-character transport-mode code');
/** Customs package-type code (包装种类代码), one character, e.g. 2 carton, 6 bag, 7 other. */
const wrapTypeSchema = z.string().regex(/^[0-9A-Z]$/, 'must be a one-character package-type code');

// ---------------------------------------------------------------------------------------------------
// Items
// ---------------------------------------------------------------------------------------------------

const itemBase = {
  /** Line number from 1, consecutive (CEB gnum); links order lines to inventory lines. */
  gnum: z.number().int().min(1).max(99999),
  /** Platform product name in Chinese (CEB itemName); shown to the buyer. */
  itemName: text(250),
  /** Customs goods name (CEB621/603/625 gname). Optional: defaults to itemName, which CEB621 requires it to equal. */
  gname: text(250).optional(),
  /** HS code, exactly 10 digits (8-digit tariff line + 2 supplementary digits); checked by the rules. */
  gcode: z.string(),
  /** Product description for the platform listing (CEB itemDescribe), optional. */
  itemDescribe: z.string().max(1000).optional(),
  /** Trade unit code (JGS-20 计量单位, 3 digits, e.g. "011" 件, "142" 双, "007" 个). */
  unit: code(3),
  /** Quantity in the trade unit (CEB qty), > 0. */
  qty: positiveDecimal5,
  /** First legal unit code for this HS code (CEB621/603 unit1). */
  unit1: code(3),
  /** Quantity in the first legal unit (CEB qty1), e.g. kilograms when unit1 is "035" 千克. */
  qty1: positiveDecimal5,
  /** Second legal unit code, only when the HS code has one (CEB unit2); must come with qty2. */
  unit2: code(3).optional(),
  /** Quantity in the second legal unit (CEB qty2); must come with unit2. */
  qty2: positiveDecimal5.optional(),
  /** Unit price in `currency` (CEB price). 0 for a gift (赠品). */
  price: decimal5,
  /** Line total = price × qty (to the cent) (CEB totalPrice). */
  totalPrice: decimal5,
  /** Currency code of price/totalPrice (JGS-20 货币代码): "142" CNY; always "142" for import. */
  currency: code(3),
  /**
   * Country code (JGS-20 国家(地区)代码, 3 digits). Import: country of ORIGIN (CEB621 InventoryList/country,
   * CEB311 OrderList/country). Export: final DESTINATION country (CEB603 InventoryList/country).
   */
  country: code(3),
  /** Trading country (CEB621 tradeCountry), optional, import only. */
  tradeCountry: code(3).optional(),
  /** Bonded account-book item number (账册备案料号, CEB621/603 itemRecordNo): required per item for 1210. */
  itemRecordNo: z.string().trim().max(30).optional(),
  /** Line remark (CEB note), e.g. why a price deviates from the market price or "赠品" for a gift. */
  note: z.string().max(1000).optional(),
};

const importItemObject = z.object({
  ...itemBase,
  /** Seller's SKU (CEB itemNo), optional for import. Max 20 (CEB621 limit; CEB311 allows 30). */
  itemNo: z.string().trim().max(20).optional(),
  /** Specification (品名、牌名、规格、型号、成份、含量) (CEB gmodel). */
  gmodel: text(510),
  /** Bar code (CEB barCode), optional for import. */
  barCode: z.string().trim().max(50).optional(),
});
const importItemSchema = importItemObject.transform((item) => ({ ...item, gname: item.gname ?? item.itemName }));

const exportItemObject = z.object({
  ...itemBase,
  /** Seller's SKU (CEB303/603 itemNo), required for export. */
  itemNo: text(20),
  /** Specification (CEB603 gmodel, max 250 for export). */
  gmodel: text(250),
  /** Bar code (CEB603 barCode, required there): defaults to "无" (none). */
  barCode: text(50).default('无'),
});
const exportItemSchema = exportItemObject.transform((item) => ({ ...item, gname: item.gname ?? item.itemName }));

// ---------------------------------------------------------------------------------------------------
// Payment and logistics
// ---------------------------------------------------------------------------------------------------

/** The payment document (CEB411 PaymentHead). Import only. */
const paymentSchema = z.object({
  /** Payment company customs registration code (CEB411 payCode; also CEB311 payCode). */
  payCode: text(18),
  /** Payment company registered name (CEB411 payName; also CEB311 payName). */
  payName: text(100),
  /** Payment company's unique transaction number (CEB411/CEB311 payTransactionId). */
  payTransactionId: text(60),
  /** Payer ID type (CEB411 payerIdType): "1" identity card. */
  payerIdType: idTypeSchema,
  /** Payer ID number (CEB411 payerIdNumber); must be the buyer's. */
  payerIdNumber: text(60),
  /** Payer real name (CEB411 payerName); must be the buyer's. */
  payerName: text(60),
  /** Payer telephone (CEB411 telephone), optional. */
  payerTelephone: z.string().trim().max(60).optional(),
  /** Amount paid in CNY (CEB411 amountPaid); must equal the order's acturalPaid. */
  amountPaid: decimal5,
  /** Time of payment (CEB411 payTime). Its Beijing-time year is the year for the annual limit. */
  payTime: cebTimestamp,
  /** Remark (CEB411 note). */
  note: z.string().max(1000).optional(),
  /**
   * Order number as the payment company recorded it, optional. Only for the three-documents check when
   * the payment data comes from another system: when present it must equal the head orderNo.
   * Message builders always use the head orderNo.
   */
  orderNo: z.string().trim().max(60).optional(),
});

const logisticsBase = {
  /** Logistics company customs registration code (CEB511/505/621/603 logisticsCode). */
  logisticsCode: text(18),
  /** Logistics company registered name (logisticsName). */
  logisticsName: text(100),
  /** Gross weight in kg (CEB511 weight; CEB621/603/505 grossWeight). */
  weight: positiveDecimal5,
  /** Net weight in kg, ≤ weight (CEB621/603 netWeight). */
  netWeight: positiveDecimal5,
  /** Number of parcels under this waybill (packNo); customs requires 1 for retail import. */
  packNo: z.number().int().min(1).max(999999999),
  /** Remark (CEB511/505 note). */
  note: z.string().max(1000).optional(),
};

/** The waybill for import (CEB511 LogisticsHead). Consignee fields come from the order head. */
const importLogisticsSchema = z.object({
  ...logisticsBase,
  /**
   * Order number, consignee name, telephone and address as the logistics company recorded them,
   * all optional. Only for the three-documents check when the waybill data comes from the carrier's
   * system: when present each must be identical to the order head. Builders use the head values.
   */
  orderNo: z.string().trim().max(60).optional(),
  consignee: z.string().trim().max(100).optional(),
  consigneeTelephone: z.string().trim().max(50).optional(),
  consigneeAddress: z.string().trim().max(200).optional(),
  /** Waybill (parcel label) number (logisticsNo), unique per logistics company for 6 months. */
  logisticsNo: text(60),
  /** Goods summary shown on the waybill (CEB511 goodsInfo), optional. */
  goodsInfo: z.string().trim().max(200).optional(),
});

/**
 * The payment the buyer made for an export order, as the payment company reports it (CEB403 收款单).
 * Optional: only the receipt-of-payment message needs it.
 */
const exportPaymentSchema = z.object({
  /** Payment company customs code (CEB403 payCode), required for mainland payment companies. */
  payCode: z.string().trim().max(18).optional(),
  /** Payment company name (CEB403 payName); "现金支付" for cash. */
  payName: text(100),
  /** Payment transaction number (CEB403 payNo). */
  payTransactionId: z.string().trim().max(60).optional(),
  /** Amount received (CEB403 charge), in `currency` (default: the order currency). */
  amountPaid: decimal5,
  currency: code(3).optional(),
  /** When the money arrived (CEB403 accountingDate). */
  payTime: cebTimestamp,
  /** Remark (CEB403 note). */
  note: z.string().max(1000).optional(),
});

/** The waybill for export (CEB505 Logistics). */
const exportLogisticsSchema = z.object({
  ...logisticsBase,
  /** Waybill number (CEB505/603 logisticsNo, max 32 for export). */
  logisticsNo: text(32),
  /** Goods the carrier can see (CEB505 goodsInfo, required for export). */
  goodsInfo: text(200),
});

// ---------------------------------------------------------------------------------------------------
// Order head
// ---------------------------------------------------------------------------------------------------

const headBase = {
  /** Trade mode: "9610" direct purchase or "1210" bonded (CEB621/603 tradeMode). */
  tradeMode: tradeModeSchema,
  /** Where the seller is established: "GD", "HK", "MO". Informational (routing, reporting); not sent. */
  sellerRegion: sellerRegionSchema,
  /** Platform order number, unique per platform (orderNo, every message). */
  orderNo: text(60),
  /** Time to stamp as appTime; optional: message builders use the sending time when absent. */
  appTime: cebTimestamp.optional(),
  /** Platform customs registration code (ebpCode). */
  ebpCode: text(18),
  /** Platform registered name (ebpName). */
  ebpName: text(100),
  /** E-commerce company (seller) customs registration code (ebcCode); 10-char customs code or 18-char USCC. */
  ebcCode: text(18),
  /** E-commerce company (seller) registered name (ebcName). */
  ebcName: text(100),
  /** Goods value = Σ items[].totalPrice, including the part paid by coupons (goodsValue). */
  goodsValue: decimal5,
  /** Freight not included in the item prices, 0 if none (freight on order, waybill, inventory). */
  freight: decimal5,
  /** Insurance fee, 0 if none (insuredFee on waybill and inventory). Part of the dutiable price. */
  insuredFee: decimal5,
  /** Order currency code (JGS-20): "142" CNY for import; export may use another listed currency. */
  currency: code(3),
  /** Receiving customs district 关区 (customsCode, 4 digits), e.g. 5141 广州机场, 5345 深圳湾, 5349 前海湾, 5795 横琴. */
  customsCode: code(4),
  /** Customs district of the actual port of entry/exit (portCode, 4 digits). */
  portCode: code(4),
  /** Declaring agent customs registration code (agentCode, CEB621/623/625/603). */
  agentCode: text(18),
  /** Declaring agent registered name (agentName). */
  agentName: text(100),
  /** Transport mode code (trafMode, CEB621/603). 9610: the cross-border leg; 1210 import: the leg out of the bonded area. */
  trafMode: trafModeSchema,
  /** Means of transport name or number (CEB621 trafNo; export CEB603 trafName). Required for 9610 import. */
  trafNo: z.string().trim().max(100).optional(),
  /** Voyage / flight number (voyageNo). Required for 9610 import. */
  voyageNo: z.string().trim().max(32).optional(),
  /** Master bill of lading / air waybill / road manifest number (billNo on CEB511, CEB621, CEB603). Required for 9610 import. */
  billNo: z.string().trim().max(37).optional(),
  /** Bonded account book number (账册编号, emsNo on CEB621/603). Required for 1210. */
  emsNo: z.string().trim().max(30).optional(),
  /** Bonded-area warehouse company code (CEB621 areaCode; export CEB603 iacCode). Required for 1210. */
  areaCode: z.string().trim().max(18).optional(),
  /** Bonded-area warehouse company name (CEB621 areaName; export CEB603 iacName). Required for 1210. */
  areaName: z.string().trim().max(100).optional(),
  /** Supervised site code when a district has several (loctNo), optional. */
  loctNo: z.string().trim().max(10).optional(),
  /** Licence number (licenseNo), optional. */
  licenseNo: z.string().trim().max(19).optional(),
  /** Package type code (wrapType): optional for import, required for export (CEB603). */
  wrapType: wrapTypeSchema.optional(),
  /** Order remark (CEB311/303 OrderHead note). */
  note: z.string().max(1000).optional(),
  /** Inventory remark (CEB621/603 InventoryHead note). */
  inventoryNote: z.string().max(1000).optional(),
};

const importOrderSchema = z.object({
  /** "import": retail import into the mainland (CEB311/411/511/621/623/625). */
  direction: z.literal('import'),
  ...headBase,
  /**
   * Inventory head country (CEB621 InventoryHead/country): 9610 = country the parcel is shipped FROM
   * (起运国, e.g. "110" Hong Kong, "121" Macao); 1210 = "142" (China) by rule.
   */
  country: code(3),
  /** Non-cash payment (points, coupons), 0 if none (CEB311 discount). Not deducted from the dutiable price. */
  discount: decimal5,
  /** Tax withheld by the company (CEB311 taxTotal): the cross-border comprehensive tax, see computeTax. */
  taxTotal: decimal5,
  /** Amount actually paid = goodsValue + freight + taxTotal − discount (CEB311 acturalPaid, official spelling). */
  acturalPaid: decimal5,
  /** Buyer's account on the platform (CEB311 buyerRegNo). */
  buyerRegNo: text(60),
  /** Buyer's real name (buyerName on CEB311/621/623/625). */
  buyerName: text(60),
  /** Buyer's ID type (buyerIdType): "1" identity card, required for retail import. */
  buyerIdType: idTypeSchema,
  /** Buyer's ID number (buyerIdNumber): 18 characters with GB 11643 check digit when type "1". */
  buyerIdNumber: text(60),
  /** Buyer's telephone (buyerTelephone, max 30). */
  buyerTelephone: text(30),
  /** Consignee name (consignee on CEB311 and CEB511; must be identical on both). */
  consignee: text(100),
  /** Consignee telephone (consigneeTelephone on CEB311 and CEB511, max 50). */
  consigneeTelephone: text(50),
  /** Consignee address (consigneeAddress on CEB311, CEB511 and CEB621). */
  consigneeAddress: text(200),
  /** 6-digit administrative division code of the address (CEB311 consigneeDistrict), optional. */
  consigneeDistrict: z
    .string()
    .regex(/^\d{6}$/, 'must be a 6-digit administrative division code')
    .optional(),
  /** Goods batch numbers (CEB311 batchNumbers), optional. */
  batchNumbers: z.string().trim().max(100).optional(),
  /** Company guaranteeing the tax (CEB621 assureCode): the declaring agent, the seller or the logistics company. */
  assureCode: text(30),
  /** Company-internal inventory number (CEB621 copNo), optional. */
  copNo: z.string().trim().max(20).optional(),
  /** Declaration date (CEB621 declTime), optional: builders use the Beijing date of appTime when absent. */
  declTime: cebDate.optional(),
  /** Date the carrying vehicle entered (CEB621 ieDate), optional for import. */
  ieDate: cebDate.optional(),
  /** Order lines (1..99). */
  items: z.array(importItemSchema).min(1, 'must contain at least one item').max(99, 'must contain at most 99 items'),
  /** The payment (CEB411). */
  payment: paymentSchema,
  /** The waybill (CEB511). */
  logistics: importLogisticsSchema,
});

const exportOrderSchema = z.object({
  /** "export": retail export out of the mainland (CEB303/505/603). */
  direction: z.literal('export'),
  ...headBase,
  /** Inventory head country (CEB603 country): country of arrival (运抵国), e.g. "110" Hong Kong. */
  country: code(3),
  /** Destination port code (CEB603 POD, 指运港代码, 3–4 characters), e.g. "HKG". */
  pod: z.string().regex(/^[0-9A-Za-z]{3,4}$/, 'must be a 3–4 character port code'),
  /** Declaration type (CEB603 statisticsFlag): "A" simplified, "B" summary declaration. */
  statisticsFlag: z.enum(['A', 'B']),
  /** Producer / selling company code (CEB603 ownerCode), the actual shipper. */
  ownerCode: text(18),
  /** Producer / selling company name (CEB603 ownerName). */
  ownerName: text(100),
  /** Seller telephone (CEB505 ebcTelephone), optional. */
  ebcTelephone: z.string().trim().max(50).optional(),
  /** Company-unique inventory number (CEB603 copNo, required for export). */
  copNo: text(30),
  /** Export date (CEB603 ieDate, required). */
  ieDate: cebDate,
  /** Total package / pallet number under the bill (CEB603 totalPackageNo), optional. */
  totalPackageNo: z.string().trim().max(37).optional(),
  /** Order lines (1..99; the export schema allows 100, import 99: we keep one limit). */
  items: z.array(exportItemSchema).min(1, 'must contain at least one item').max(99, 'must contain at most 99 items'),
  /** The payment received (CEB403), optional. */
  payment: exportPaymentSchema.optional(),
  /** The waybill (CEB505). */
  logistics: exportLogisticsSchema,
});

/** The Baygate order schema (input: what clients send; output: the normalised order). */
export const baygateOrderSchema = z.discriminatedUnion('direction', [importOrderSchema, exportOrderSchema]);

/** A parsed, normalised Baygate order. Narrow with `order.direction === 'import'`. */
export type BaygateOrder = z.output<typeof baygateOrderSchema>;
/** What a client may send before normalisation (ISO times, dates with dashes, missing gname…). */
export type BaygateOrderInput = z.input<typeof baygateOrderSchema>;
export type ImportOrder = Extract<BaygateOrder, { direction: 'import' }>;
export type ExportOrder = Extract<BaygateOrder, { direction: 'export' }>;
export type ImportItem = ImportOrder['items'][number];
export type ExportItem = ExportOrder['items'][number];
export type OrderItem = ImportItem | ExportItem;
export type Payment = ImportOrder['payment'];
export type ImportLogistics = ImportOrder['logistics'];
export type ExportLogistics = ExportOrder['logistics'];
export type TradeMode = z.output<typeof tradeModeSchema>;
export type SellerRegion = z.output<typeof sellerRegionSchema>;
export type Direction = BaygateOrder['direction'];

/**
 * Every field path an order of a direction can have: head fields, "payment.x", "logistics.x", and
 * the item fields separately. Source mappings are checked against this list at load time.
 */
export function orderFieldPaths(direction: Direction): { order: string[]; item: string[] } {
  const head = direction === 'import' ? importOrderSchema.shape : exportOrderSchema.shape;
  const nested: Record<string, Record<string, unknown>> = direction === 'import'
    ? { payment: paymentSchema.shape, logistics: importLogisticsSchema.shape }
    : { payment: exportPaymentSchema.shape, logistics: exportLogisticsSchema.shape };
  const order: string[] = [];
  for (const key of Object.keys(head)) {
    if (key === 'items') continue;
    const inner = nested[key];
    if (inner) order.push(...Object.keys(inner).map((k) => `${key}.${k}`));
    else order.push(key);
  }
  const item = Object.keys(direction === 'import' ? importItemObject.shape : exportItemObject.shape);
  return { order, item };
}

// ---------------------------------------------------------------------------------------------------
// Cancel (CEB623) and refund (CEB625) requests: the data an order does not have yet
// ---------------------------------------------------------------------------------------------------

/**
 * Asks customs to withdraw an accepted inventory: import CEB623, export CEB605. Customer data comes from
 * the order. Lengths are the export maxima (invtNo 20, copNo 30); CEB623 reports a longer one when built.
 */
export const inventoryCancelRequestSchema = z.object({
  /** Inventory number customs assigned (CEB622/604 receipt invtNo). */
  invtNo: text(20),
  /** Reason for the withdrawal (CEB623 reason). */
  reason: text(1000),
  /** Optional e-port pre-entry number (preNo) and company number (copNo). */
  preNo: z.string().trim().max(18).optional(),
  copNo: z.string().trim().max(30).optional(),
  /** Remark (CEB623 note). */
  note: z.string().max(1000).optional(),
  /** Time to stamp as appTime; optional (sending time when absent). */
  appTime: cebTimestamp.optional(),
});
export type InventoryCancelRequest = z.output<typeof inventoryCancelRequestSchema>;

/** Asks customs to accept a return of (part of) a released import inventory (CEB625). */
export const inventoryRefundRequestSchema = z.object({
  /** Inventory number customs assigned (CEB622 receipt invtNo). */
  invtNo: text(18),
  /** Reason for the return (CEB625 reason). */
  reason: text(1000),
  preNo: z.string().trim().max(18).optional(),
  copNo: z.string().trim().max(20).optional(),
  note: z.string().max(1000).optional(),
  appTime: cebTimestamp.optional(),
  /**
   * Returned lines: gnum of the order line and the returned quantity (≤ the line's qty, trade unit).
   * gcode, gname and unit come from the order line. Empty/absent = every line, full quantity.
   */
  items: z
    .array(z.object({ gnum: z.number().int().min(1), qty: positiveDecimal5, note: z.string().max(1000).optional() }))
    .max(99)
    .optional(),
});
export type InventoryRefundRequest = z.output<typeof inventoryRefundRequestSchema>;

// ---------------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------------

/** One problem found while parsing: where (e.g. "items[0].gcode"), a stable code, and an English message. */
export interface OrderIssue {
  path: string;
  code: string;
  message: string;
}

export type ParseOrderResult = { ok: true; order: BaygateOrder } | { ok: false; issues: OrderIssue[] };

/** Renders a zod path as "items[0].gcode" (the same notation the business rules use). */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(order)' : out;
}

/** Converts zod issues to OrderIssues (all of them, not just the first). */
export function toOrderIssues(error: z.ZodError): OrderIssue[] {
  return error.issues.map((issue) => ({
    path: formatPath(issue.path),
    code: issue.code === 'custom' ? 'invalid_value' : issue.code,
    message: issue.message,
  }));
}

/** Parses untrusted input into a normalised BaygateOrder, or lists every shape problem. */
export function parseBaygateOrder(input: unknown): ParseOrderResult {
  const parsed = baygateOrderSchema.safeParse(input);
  if (parsed.success) return { ok: true, order: parsed.data };
  return { ok: false, issues: toOrderIssues(parsed.error) };
}

/** Parses or throws an Error listing the issues (for fixtures, scripts and tests). */
export function parseBaygateOrderOrThrow(input: unknown): BaygateOrder {
  const result = parseBaygateOrder(input);
  if (result.ok) return result.order;
  throw new Error('Invalid Baygate order:\n' + result.issues.map((i) => `  ${i.path}: ${i.message}`).join('\n'));
}
