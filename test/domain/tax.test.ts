import { expect } from 'chai';
import { computeTax, effectiveTaxRate, taxRateFor } from '../../src/domain/tax';
import { defaultTaxRates, taxRateTableSchema } from '../../src/domain/reference-data';

describe('cross-border comprehensive tax', () => {
  it('is 9.1 % for 13 % VAT and no consumption tax', () => {
    expect(effectiveTaxRate(0.13, 0)).to.be.closeTo(0.091, 1e-12);
    const tax = computeTax({ freight: 0, insuredFee: 0, items: [{ gnum: 1, gcode: '3304990099', totalPrice: 100 }] });
    expect(tax.taxTotal).to.equal(9.1);
  });

  it('grosses consumption tax up: (c + v) / (1 − c) × 0.7', () => {
    // wine: 10 % consumption tax, 13 % VAT → 0.23 / 0.9 × 0.7 = 17.888… %
    const tax = computeTax({ freight: 0, insuredFee: 0, items: [{ gnum: 1, gcode: '2204210000', totalPrice: 900 }] });
    expect(tax.exactTax).to.be.closeTo(161, 1e-9);
    expect(tax.taxTotal).to.equal(161);
  });

  it('taxes freight and insurance but not coupons (the dutiable price)', () => {
    const tax = computeTax({ freight: 20, insuredFee: 5, items: [{ gnum: 1, gcode: '3304990099', totalPrice: 175 }] });
    expect(tax.dutiablePrice).to.equal(200);
    expect(tax.taxTotal).to.equal(18.2);
  });

  it('apportions freight to lines by value when their rates differ', () => {
    const tax = computeTax({
      freight: 30,
      insuredFee: 0,
      items: [
        { gnum: 1, gcode: '3304990099', totalPrice: 200 },
        { gnum: 2, gcode: '2204210000', totalPrice: 100 },
      ],
    });
    expect(tax.items[0]!.dutiablePrice).to.equal(220);
    expect(tax.items[1]!.dutiablePrice).to.equal(110);
    expect(tax.exactTax).to.be.closeTo(220 * 0.091 + (110 * 0.23 * 0.7) / 0.9, 1e-9);
  });

  it('uses the longest matching HS prefix and falls back to 13 % VAT', () => {
    const rates = taxRateTableSchema.parse({
      default: { vat: 0.13, consumption: 0 },
      rates: [
        { prefix: '19', vat: 0.09, consumption: 0 },
        { prefix: '1901101000', vat: 0.13, consumption: 0 },
      ],
    });
    expect(taxRateFor('1901101000', rates).prefix).to.equal('1901101000');
    expect(taxRateFor('1905310000', rates)).to.deep.equal({ vat: 0.09, consumption: 0, prefix: '19' });
    expect(taxRateFor('8518300000', rates)).to.deep.equal({ vat: 0.13, consumption: 0, prefix: null });
  });

  it('ships a valid rate table whose default is 13 % VAT without consumption tax', () => {
    expect(defaultTaxRates.default).to.deep.equal({ vat: 0.13, consumption: 0 });
    expect(taxRateFor('3303000000').consumption).to.equal(0.15);
  });

  it('refuses a rate table that lists a prefix twice', () => {
    const result = taxRateTableSchema.safeParse({
      default: { vat: 0.13, consumption: 0 },
      rates: [
        { prefix: '2204', vat: 0.13, consumption: 0.1 },
        { prefix: '2204', vat: 0.13, consumption: 0.2 },
      ],
    });
    expect(result.success).to.equal(false);
  });
});
