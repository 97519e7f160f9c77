/**
 * Cross-border e-commerce comprehensive tax (跨境电商综合税) for retail imports within the limits:
 * duty 0 %, VAT and consumption tax at 70 % of the normal amount:
 *
 *   tax = dutiable price × (consumption rate + VAT rate) / (1 − consumption rate) × 0.7
 *   dutiable price = goods + freight + insurance (coupons/discounts are NOT deducted)
 *
 * Order-level freight and insurance are apportioned to the lines in proportion to their totalPrice
 * (equally when every line is a gift), because lines can have different rates.
 */
import { defaultTaxRates, type TaxRateTable } from './reference-data';
import { roundTo, sumExact } from './money';

export const CROSS_BORDER_TAX_FACTOR = 0.7;

export interface TaxRate {
  vat: number;
  consumption: number;
  /** The prefix that matched, or null for the default rate. */
  prefix: string | null;
}

export interface TaxInput {
  freight: number;
  insuredFee: number;
  items: readonly { gnum: number; gcode: string; totalPrice: number }[];
}

export interface ItemTax {
  gnum: number;
  gcode: string;
  dutiablePrice: number;
  rate: TaxRate;
  /** (c + v) / (1 − c) × 0.7, e.g. 0.091 for 13 % VAT and no consumption tax. */
  effectiveRate: number;
  /** Unrounded tax of this line. */
  tax: number;
}

export interface TaxComputation {
  items: ItemTax[];
  /** goods + freight + insurance. */
  dutiablePrice: number;
  /** Σ line taxes, unrounded. */
  exactTax: number;
  /** exactTax rounded to the fen (2 decimals): the value to put in taxTotal. */
  taxTotal: number;
}

/** The rate for an HS code: longest matching prefix in the table, otherwise the table's default. */
export function taxRateFor(gcode: string, rates: TaxRateTable = defaultTaxRates): TaxRate {
  let best: TaxRateTable['rates'][number] | undefined;
  for (const candidate of rates.rates) {
    if (gcode.startsWith(candidate.prefix) && (!best || candidate.prefix.length > best.prefix.length)) best = candidate;
  }
  return best
    ? { vat: best.vat, consumption: best.consumption, prefix: best.prefix }
    : { vat: rates.default.vat, consumption: rates.default.consumption, prefix: null };
}

/** The comprehensive-tax rate for given VAT and consumption rates. */
export function effectiveTaxRate(vat: number, consumption: number): number {
  return ((consumption + vat) / (1 - consumption)) * CROSS_BORDER_TAX_FACTOR;
}

/** Computes the comprehensive tax of an import order (or any order-shaped input). */
export function computeTax(input: TaxInput, rates: TaxRateTable = defaultTaxRates): TaxComputation {
  const goodsValue = sumExact(input.items.map((i) => i.totalPrice));
  const extra = input.freight + input.insuredFee;
  const items = input.items.map((item): ItemTax => {
    const share = goodsValue > 0 ? item.totalPrice / goodsValue : 1 / input.items.length;
    const dutiablePrice = item.totalPrice + extra * share;
    const rate = taxRateFor(item.gcode, rates);
    const effectiveRate = effectiveTaxRate(rate.vat, rate.consumption);
    return {
      gnum: item.gnum,
      gcode: item.gcode,
      dutiablePrice,
      rate,
      effectiveRate,
      tax: dutiablePrice * effectiveRate,
    };
  });
  const exactTax = items.reduce((acc, i) => acc + i.tax, 0);
  return {
    items,
    dutiablePrice: sumExact([goodsValue, input.freight, input.insuredFee]),
    exactTax,
    taxTotal: roundTo(exactTax, 2),
  };
}
