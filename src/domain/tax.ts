/**
 * Import taxes of a retail import order, as customs levies them (domain notes §2):
 *
 * `cross-border` regime (跨境电商综合税, within the limits): duty 0 %, import VAT and consumption tax at
 * 70 % of the amount the ordinary rules give:
 *     consumption = ((D + S) / (1 − c) × c + S) × 0.7        VAT = (D + S) / (1 − c) × v × 0.7
 *   which for S = 0 is the familiar D × (c + v) / (1 − c) × 0.7 (13 % VAT, no consumption tax → 9.1 %).
 *
 * `single-item` regime (财关税〔2018〕49号): an order over the 5,000 CNY single limit that holds ONE piece of
 * goods pays duty, VAT and consumption tax in full at the ordinary goods rates:
 *     duty = D × d    consumption = (D + duty + S) / (1 − c) × c + S    VAT = (D + duty + S) / (1 − c) × v
 *
 * D is the line's dutiable price (goods + freight + insurance apportioned by value; coupons are not
 * deducted), c and v the consumption and VAT rates, d the MFN duty rate, S the specific consumption tax
 * (spirits, per litre). Rates are data (mappings/tax-rates.json, with the source of each entry); a
 * consumption tax with a threshold (high-end cosmetics per g/ml or piece, high-end watches per piece)
 * applies only from that price. Customs' e-tax bill rounds each tax of each line to the fen; platforms may
 * round the total instead: both figures are computed (taxTotal, taxTotalPerLine).
 */
import { defaultTaxRates, type TaxRateTable } from './reference-data';
import { roundTo, sumExact } from './money';
import { isSingleIndivisibleItem } from './rules/limits';

export const CROSS_BORDER_TAX_FACTOR = 0.7;

export type TaxRegime = 'cross-border' | 'single-item';

export interface TaxRate {
  vat: number;
  consumption: number;
  /** CNY per litre added to the ad-valorem consumption tax, or 0. */
  consumptionPerLitre: number;
  consumptionFrom?: { pricePerGramOrMl?: number; pricePerPiece?: number };
  /** MFN duty rate, when the table has one for this code. */
  duty?: number;
  /** The prefix that matched, or null for the default rate. */
  prefix: string | null;
}

export interface TaxInputItem {
  gnum: number;
  gcode: string;
  totalPrice: number;
  /** Trade quantity: the single-item route needs one piece; per-piece thresholds divide by it. */
  qty?: number;
  /** Legal quantities: thresholds per g/ml and the specific tax per litre read them. */
  unit1?: string;
  qty1?: number;
  unit2?: string;
  qty2?: number;
}

export interface TaxInput {
  freight: number;
  insuredFee: number;
  items: readonly TaxInputItem[];
}

export interface ItemTax {
  gnum: number;
  gcode: string;
  dutiablePrice: number;
  rate: TaxRate;
  /** Whether the consumption tax applies (false below a high-end threshold). */
  consumptionApplies: boolean;
  /** Unrounded amounts of this line. */
  duty: number;
  consumption: number;
  vat: number;
  /** duty + consumption + VAT, unrounded. */
  tax: number;
  /** tax / dutiable price (0.091 for 13 % VAT and no consumption tax in the cross-border regime). */
  effectiveRate: number;
}

/** A line whose tax cannot be computed from the data (the order is refused, never guessed). */
export interface TaxProblem {
  gnum: number;
  gcode: string;
  reason: string;
}

export interface TaxComputation {
  regime: TaxRegime;
  items: ItemTax[];
  /** goods + freight + insurance. */
  dutiablePrice: number;
  /** Σ line taxes, unrounded. */
  exactTax: number;
  /** exactTax rounded to the fen (2 decimals): the value to put in taxTotal. */
  taxTotal: number;
  /** Σ over lines of each tax rounded to the fen, as customs' e-tax bill (CEB816) states them. */
  taxTotalPerLine: number;
  /** How many amounts the e-tax bill rounds (non-zero taxes of all lines): bounds the rounding difference. */
  roundedAmounts: number;
  problems: TaxProblem[];
}

/** The rate for an HS code: longest matching prefix in the table, otherwise the table's default. */
export function taxRateFor(gcode: string, rates: TaxRateTable = defaultTaxRates): TaxRate {
  let best: TaxRateTable['rates'][number] | undefined;
  for (const candidate of rates.rates) {
    if (gcode.startsWith(candidate.prefix) && (!best || candidate.prefix.length > best.prefix.length)) best = candidate;
  }
  if (!best)
    return { vat: rates.default.vat, consumption: rates.default.consumption, consumptionPerLitre: 0, prefix: null };
  return {
    vat: best.vat,
    consumption: best.consumption,
    consumptionPerLitre: best.consumptionPerLitre ?? 0,
    ...(best.consumptionFrom ? { consumptionFrom: best.consumptionFrom } : {}),
    ...(best.duty !== undefined ? { duty: best.duty } : {}),
    prefix: best.prefix,
  };
}

/** The cross-border comprehensive-tax rate for given VAT and consumption rates (no specific tax). */
export function effectiveTaxRate(vat: number, consumption: number): number {
  return ((consumption + vat) / (1 - consumption)) * CROSS_BORDER_TAX_FACTOR;
}

/** Which regime the order's taxes follow (see the file comment). */
export function taxRegime(input: TaxInput): TaxRegime {
  return isSingleIndivisibleItem(input) ? 'single-item' : 'cross-border';
}

const GRAMS_OR_ML: Readonly<Record<string, number>> = { '035': 1000, '036': 1, '095': 1000, '096': 1 };
const LITRES: Readonly<Record<string, number>> = { '095': 1, '096': 0.001 };

/** The line's legal quantity converted with `factors` (first legal unit, then second), or undefined. */
function legalQuantity(item: TaxInputItem, factors: Readonly<Record<string, number>>): number | undefined {
  for (const [unit, qty] of [
    [item.unit1, item.qty1],
    [item.unit2, item.qty2],
  ] as const) {
    const factor = unit === undefined ? undefined : factors[unit];
    if (factor !== undefined && qty !== undefined && qty > 0) return qty * factor;
  }
  return undefined;
}

/**
 * Whether a thresholded consumption tax applies. A line whose quantity cannot show the price per g/ml
 * (or per piece) is taxed: the threshold is an exemption the declaration has to show it qualifies for.
 */
function consumptionApplies(item: TaxInputItem, rate: TaxRate, dutiablePrice: number): boolean {
  const from = rate.consumptionFrom;
  if (rate.consumption === 0 && rate.consumptionPerLitre === 0) return false;
  if (!from) return true;
  const grams = legalQuantity(item, GRAMS_OR_ML);
  if (from.pricePerGramOrMl !== undefined && grams !== undefined) return dutiablePrice / grams >= from.pricePerGramOrMl;
  if (from.pricePerPiece !== undefined && item.qty !== undefined && item.qty > 0)
    return dutiablePrice / item.qty >= from.pricePerPiece;
  return true;
}

/** Computes the import taxes of an import order (or any order-shaped input). */
export function computeTax(input: TaxInput, rates: TaxRateTable = defaultTaxRates): TaxComputation {
  const regime = taxRegime(input);
  const goodsValue = sumExact(input.items.map((i) => i.totalPrice));
  const extra = input.freight + input.insuredFee;
  const problems: TaxProblem[] = [];
  const items = input.items.map((item): ItemTax => {
    const share = goodsValue > 0 ? item.totalPrice / goodsValue : 1 / input.items.length;
    const dutiablePrice = item.totalPrice + extra * share;
    const rate = taxRateFor(item.gcode, rates);
    const applies = consumptionApplies(item, rate, dutiablePrice);
    const c = applies ? rate.consumption : 0;
    let specific = 0;
    if (applies && rate.consumptionPerLitre > 0) {
      const litres = legalQuantity(item, LITRES);
      if (litres === undefined)
        problems.push({
          gnum: item.gnum,
          gcode: item.gcode,
          reason: `the consumption tax of ${item.gcode} has a part per litre (${rate.consumptionPerLitre} CNY/L): the line needs its legal quantity in 升 (095) or 毫升 (096)`,
        });
      else specific = litres * rate.consumptionPerLitre;
    }
    let dutyRate = 0;
    if (regime === 'single-item') {
      if (rate.duty === undefined)
        problems.push({
          gnum: item.gnum,
          gcode: item.gcode,
          reason: `no MFN duty rate for ${item.gcode} in mappings/tax-rates.json: a single item over the single-transaction limit pays duty in full`,
        });
      else dutyRate = rate.duty;
    }
    const factor = regime === 'cross-border' ? CROSS_BORDER_TAX_FACTOR : 1;
    const duty = dutiablePrice * dutyRate;
    const base = (dutiablePrice + duty + specific) / (1 - c);
    const consumption = (base * c + specific) * factor;
    const vat = base * rate.vat * factor;
    const tax = duty + consumption + vat;
    return {
      gnum: item.gnum,
      gcode: item.gcode,
      dutiablePrice,
      rate,
      consumptionApplies: applies,
      duty,
      consumption,
      vat,
      tax,
      effectiveRate: dutiablePrice > 0 ? tax / dutiablePrice : 0,
    };
  });
  const exactTax = items.reduce((acc, i) => acc + i.tax, 0);
  const perLine = items.flatMap((i) => [i.duty, i.consumption, i.vat].map((a) => roundTo(a, 2)));
  return {
    regime,
    items,
    dutiablePrice: sumExact([goodsValue, input.freight, input.insuredFee]),
    exactTax,
    taxTotal: roundTo(exactTax, 2),
    taxTotalPerLine: sumExact(perLine),
    roundedAmounts: items.reduce((n, i) => n + [i.duty, i.consumption, i.vat].filter((a) => a > 0).length, 0),
    problems,
  };
}
