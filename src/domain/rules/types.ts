import type { BaygateOrder } from '../order';
import type { CodeTables, TaxRateTable } from '../reference-data';

/**
 * One broken business rule. `path` uses the order notation ("items[0].totalPrice", "payment.amountPaid"),
 * `code` is stable (clients switch on it), `message` is bilingual because operators read Chinese and
 * the seller side (Hong Kong, Macao, overseas) often reads English.
 */
export interface RuleViolation {
  path: string;
  code: RuleCode;
  message: { zh: string; en: string };
}

export type RuleCode =
  | 'SCHEMA'
  | 'XML_CHAR_INVALID'
  | 'TOTAL_PRICE_MISMATCH'
  | 'GOODS_VALUE_MISMATCH'
  | 'ACTURAL_PAID_MISMATCH'
  | 'PAYMENT_AMOUNT_MISMATCH'
  | 'CURRENCY_NOT_CNY'
  | 'CURRENCY_INCONSISTENT'
  | 'THREE_DOCUMENTS_MISMATCH'
  | 'PAYER_NOT_BUYER'
  | 'SINGLE_LIMIT_EXCEEDED'
  | 'ANNUAL_LIMIT_EXCEEDED'
  | 'TAX_MISMATCH'
  | 'TAX_RATE_UNKNOWN'
  | 'BUYER_ID_TYPE_NOT_ID_CARD'
  | 'ID_NUMBER_INVALID'
  | 'HS_CODE_INVALID'
  | 'TRADE_MODE_FIELD_MISSING'
  | 'BONDED_COUNTRY_NOT_CHINA'
  | 'EXPORT_FIELD_MISSING'
  | 'UNKNOWN_COUNTRY'
  | 'UNKNOWN_CURRENCY'
  | 'UNKNOWN_UNIT'
  | 'UNKNOWN_CUSTOMS_DISTRICT'
  | 'GNUM_NOT_SEQUENTIAL'
  | 'PACK_NO_NOT_ONE'
  | 'NET_WEIGHT_EXCEEDS_GROSS'
  | 'SECOND_UNIT_INCOMPLETE';

/** Data the synchronous rules read; all have shipped defaults. */
export interface StaticRuleDeps {
  codeTables: CodeTables;
  taxRates: TaxRateTable;
  /** The check time (a birth date must not be after it); default: the clock. */
  now: Date;
}

/** A synchronous rule: looks at one order, returns every violation it finds (never throws for bad data). */
export type StaticRule = (order: BaygateOrder, deps: StaticRuleDeps) => RuleViolation[];

export function violation(path: string, code: RuleCode, zh: string, en: string): RuleViolation {
  return { path, code, message: { zh, en } };
}
