import { expect } from 'chai';
import { computeTax, effectiveTaxRate, taxRateFor, type TaxInputItem } from '../../src/domain/tax';
import { defaultTaxRates, taxRateTableSchema } from '../../src/domain/reference-data';

/** A line with its legal quantity (kg unless given), as an order line carries it. */
const line = (gnum: number, gcode: string, totalPrice: number, more: Partial<TaxInputItem> = {}): TaxInputItem => ({
  gnum,
  gcode,
  totalPrice,
  qty: 1,
  unit1: '035',
  qty1: 0.5,
  ...more,
});

describe('cross-border comprehensive tax', () => {
  it('is 9.1 % for 13 % VAT and no consumption tax', () => {
    expect(effectiveTaxRate(0.13, 0)).to.be.closeTo(0.091, 1e-12);
    const tax = computeTax({ freight: 0, insuredFee: 0, items: [line(1, '3401300000', 100)] });
    expect(tax.regime).to.equal('cross-border');
    expect(tax.taxTotal).to.equal(9.1);
    expect(tax.items[0]).to.deep.include({ duty: 0 });
    expect(tax.items[0]!.vat).to.be.closeTo(9.1, 1e-12);
  });

  it('grosses consumption tax up: (c + v) / (1 − c) × 0.7, split into consumption and VAT', () => {
    // wine: 10 % consumption tax, 13 % VAT → 0.23 / 0.9 × 0.7 = 17.888… %
    const tax = computeTax({
      freight: 0,
      insuredFee: 0,
      items: [line(1, '2204210000', 900, { unit1: '095', qty1: 0.75 })],
    });
    expect(tax.exactTax).to.be.closeTo(161, 1e-9);
    expect(tax.taxTotal).to.equal(161);
    expect(tax.items[0]!.consumption).to.be.closeTo(70, 1e-9); // 900 / 0.9 × 0.1 × 0.7
    expect(tax.items[0]!.vat).to.be.closeTo(91, 1e-9); // 900 / 0.9 × 0.13 × 0.7
  });

  it('taxes freight and insurance but not coupons (the dutiable price)', () => {
    const tax = computeTax({ freight: 20, insuredFee: 5, items: [line(1, '3401300000', 175)] });
    expect(tax.dutiablePrice).to.equal(200);
    expect(tax.taxTotal).to.equal(18.2);
  });

  it('apportions freight to lines by value when their rates differ', () => {
    const tax = computeTax({
      freight: 30,
      insuredFee: 0,
      items: [line(1, '3401300000', 200), line(2, '2204210000', 100, { unit1: '095', qty1: 0.75 })],
    });
    expect(tax.items[0]!.dutiablePrice).to.equal(220);
    expect(tax.items[1]!.dutiablePrice).to.equal(110);
    expect(tax.exactTax).to.be.closeTo(220 * 0.091 + (110 * 0.23 * 0.7) / 0.9, 1e-9);
  });

  it('uses the longest matching HS prefix and falls back to 13 % VAT', () => {
    const rates = taxRateTableSchema.parse({
      default: { vat: 0.13, consumption: 0 },
      rates: [
        { prefix: '19', vat: 0.09, consumption: 0, source: 'test' },
        { prefix: '1901101000', vat: 0.13, consumption: 0, source: 'test' },
      ],
    });
    expect(taxRateFor('1901101000', rates).prefix).to.equal('1901101000');
    expect(taxRateFor('1905310000', rates)).to.deep.equal({
      vat: 0.09,
      consumption: 0,
      consumptionPerLitre: 0,
      prefix: '19',
    });
    expect(taxRateFor('8518300000', rates)).to.deep.equal({
      vat: 0.13,
      consumption: 0,
      consumptionPerLitre: 0,
      prefix: null,
    });
  });

  it('refuses a rate table that lists a prefix twice or an entry without its source', () => {
    const twice = taxRateTableSchema.safeParse({
      default: { vat: 0.13, consumption: 0 },
      rates: [
        { prefix: '2204', vat: 0.13, consumption: 0.1, source: 'a' },
        { prefix: '2204', vat: 0.13, consumption: 0.2, source: 'b' },
      ],
    });
    expect(twice.success).to.equal(false);
    const unsourced = taxRateTableSchema.safeParse({
      default: { vat: 0.13, consumption: 0 },
      rates: [{ prefix: '2204', vat: 0.13, consumption: 0.1 }],
    });
    expect(unsourced.success).to.equal(false);
  });

  it('rounds both ways: the total once (taxTotal) and each tax of each line (taxTotalPerLine)', () => {
    const prices = [30.06, 35, 36.1, 37.2, 31.49];
    const tax = computeTax({
      freight: 0,
      insuredFee: 0,
      items: prices.map((p, i) => line(i + 1, '3401300000', p)),
    });
    expect(tax.exactTax).to.be.closeTo(15.45635, 1e-9);
    expect(tax.taxTotal).to.equal(15.46);
    expect(tax.taxTotalPerLine).to.equal(15.48); // 2.74 + 3.19 + 3.29 + 3.39 + 2.87
    expect(tax.roundedAmounts).to.equal(5);
  });
});

describe('consumption-tax entries of the rate table (mappings/tax-rates.json)', () => {
  it('every entry states where its rates come from', () => {
    for (const entry of defaultTaxRates.rates) expect(entry.source, entry.prefix).to.match(/\S{10}/);
    expect(defaultTaxRates.default).to.deep.equal({ vat: 0.13, consumption: 0 });
  });

  it('gold, silver and platinum jewellery (7113) pay no consumption tax at import: it is levied at retail', () => {
    for (const gcode of ['7113191100', '7113191990', '7113110000', '7113192100', '7113192900']) {
      expect(taxRateFor(gcode).consumption, gcode).to.equal(0);
      const tax = computeTax({ freight: 0, insuredFee: 0, items: [line(1, gcode, 1000, { unit1: '036', qty1: 3 })] });
      expect(tax.taxTotal, gcode).to.equal(91);
    }
    // Other precious-metal and clad jewellery, pearls and precious stones: 10 % at import.
    expect(taxRateFor('7113200000').consumption).to.equal(0.1);
    expect(taxRateFor('7116100000').consumption).to.equal(0.1);
  });

  it('perfumes (3303) pay the 15 % consumption tax only from 10 CNY per ml or g (high-end cosmetics)', () => {
    const perfume = (price: number) =>
      computeTax({ freight: 0, insuredFee: 0, items: [line(1, '3303000000', price, { unit1: '035', qty1: 0.05 })] });
    const cheap = perfume(499.99); // 9.9998 CNY per g of 50 g
    expect(cheap.items[0]!.consumptionApplies).to.equal(false);
    expect(cheap.exactTax).to.be.closeTo(499.99 * 0.091, 1e-9);
    const highEnd = perfume(500); // 10 CNY per g
    expect(highEnd.items[0]!.consumptionApplies).to.equal(true);
    expect(highEnd.exactTax).to.be.closeTo(((500 * 0.28) / 0.85) * 0.7, 1e-9);
    // Millilitres as the legal unit count the same way; a sheet mask by the piece from 15 CNY.
    const ml = computeTax({
      freight: 0,
      insuredFee: 0,
      items: [line(1, '3303000000', 600, { unit1: '096', qty1: 50 })],
    });
    expect(ml.items[0]!.consumptionApplies).to.equal(true);
    const masks = computeTax({
      freight: 0,
      insuredFee: 0,
      items: [line(1, '3304990099', 140, { qty: 10, unit1: '020', qty1: 10 })],
    });
    expect(masks.items[0]!.consumptionApplies).to.equal(false); // 14 CNY a piece
  });

  it('spirits (2208) pay the compound rate: 20 % plus 0.912 CNY per litre, at 70 % within the limits', () => {
    const tax = computeTax({
      freight: 0,
      insuredFee: 0,
      items: [line(1, '2208300000', 500, { unit1: '095', qty1: 0.7 })],
    });
    const specific = 0.7 * 0.912;
    const base = (500 + specific) / 0.8;
    expect(tax.items[0]!.consumption).to.be.closeTo((base * 0.2 + specific) * 0.7, 1e-9);
    expect(tax.items[0]!.vat).to.be.closeTo(base * 0.13 * 0.7, 1e-9);
    const noLitres = computeTax({ freight: 0, insuredFee: 0, items: [line(1, '2208300000', 500)] });
    expect(noLitres.problems.map((p) => p.gnum)).to.deep.equal([1]);
  });
});

describe('single indivisible item over 5,000 CNY (财关税〔2018〕49号): duty, VAT and consumption tax in full', () => {
  it('a 12,800 CNY automatic watch: 11 % duty, 20 % high-end watch consumption tax, 13 % VAT, no 70 %', () => {
    const tax = computeTax({ freight: 50, insuredFee: 0, items: [line(1, '9102210090', 12800)] });
    expect(tax.regime).to.equal('single-item');
    const item = tax.items[0]!;
    expect(item.dutiablePrice).to.equal(12850);
    expect(item.duty).to.be.closeTo(1413.5, 1e-9);
    expect(item.consumption).to.be.closeTo(3565.875, 1e-9); // (12850 + 1413.5) / 0.8 × 0.2
    expect(item.vat).to.be.closeTo(2317.81875, 1e-9); // (12850 + 1413.5) / 0.8 × 0.13
    expect(tax.taxTotal).to.equal(7297.19);
    expect(tax.taxTotalPerLine).to.equal(7297.2); // 1413.50 + 3565.88 + 2317.82
    expect(tax.problems).to.deep.equal([]);
  });

  it('below 10,000 CNY a watch pays no consumption tax, still duty and VAT in full', () => {
    const tax = computeTax({ freight: 0, insuredFee: 0, items: [line(1, '9102210090', 9000)] });
    expect(tax.regime).to.equal('single-item');
    expect(tax.items[0]!.consumption).to.equal(0);
    expect(tax.exactTax).to.be.closeTo(9000 * 0.11 + 9990 * 0.13, 1e-9);
  });

  it('the duty rate is data: an item whose HS code has no duty rate is a problem, not a guess', () => {
    const tax = computeTax({ freight: 0, insuredFee: 0, items: [line(1, '8525890000', 6000)] });
    expect(tax.regime).to.equal('single-item');
    expect(tax.problems).to.have.length(1);
    expect(tax.problems[0]!.reason).to.contain('no MFN duty rate for 8525890000');
  });

  it('two pieces, or two lines, are not a single indivisible item: the cross-border regime applies', () => {
    expect(
      computeTax({ freight: 0, insuredFee: 0, items: [line(1, '9102210090', 12800, { qty: 2 })] }).regime,
    ).to.equal('cross-border');
    expect(
      computeTax({ freight: 0, insuredFee: 0, items: [line(1, '9102210090', 12800), line(2, '3401300000', 10)] })
        .regime,
    ).to.equal('cross-border');
    // Exactly 5,000 is within the limit.
    expect(computeTax({ freight: 0, insuredFee: 0, items: [line(1, '9102210090', 5000)] }).regime).to.equal(
      'cross-border',
    );
  });
});
