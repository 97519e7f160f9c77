import { expect } from 'chai';
import type { ImportOrder } from '../../src/domain/order';
import { limitValue, validateOrder, validateOrderStatic } from '../../src/domain/rules/index';
import { clone, importExample } from './example-orders';

/**
 * The tax rule against customs' own arithmetic (issue 13 §3): both ways of rounding are accepted, and a
 * single indivisible item over 5,000 CNY comes through the retail channel paying duty, VAT and consumption
 * tax in full at the ordinary rates, counted toward the annual total.
 */
const usage = (used: number) => ({ annualUsage: { usedThisYear: async () => used } });

/** The gz example with five 13 %-VAT lines whose per-line rounding adds up two fen more than the total's. */
function fiveLines(taxTotal: number): ImportOrder {
  const order = clone(importExample('gz-9610-direct-purchase'));
  const template = order.items[1]!;
  const prices = [30.06, 35, 36.1, 37.2, 31.49];
  order.items = prices.map((price, i) => ({ ...template, gnum: i + 1, qty: 1, qty1: 0.1, price, totalPrice: price }));
  order.goodsValue = 169.85;
  order.freight = 0;
  order.insuredFee = 0;
  order.discount = 0;
  order.taxTotal = taxTotal;
  order.acturalPaid = Math.round((169.85 + taxTotal) * 100) / 100;
  order.payment.amountPaid = order.acturalPaid;
  return order;
}

describe('tax rule: both roundings', () => {
  it('accepts taxTotal rounded per line (15.48: what the e-tax bill states) and rounded once (15.46)', () => {
    expect(validateOrderStatic(fiveLines(15.48))).to.deep.equal([]);
    expect(validateOrderStatic(fiveLines(15.46))).to.deep.equal([]);
  });

  it('still refuses a tax beyond what rounding can explain, naming both figures', () => {
    const violations = validateOrderStatic(fiveLines(15.51));
    expect(violations.map((v) => v.code)).to.deep.equal(['TAX_MISMATCH']);
    expect(violations[0]!.message.en).to.equal(
      'taxTotal 15.51 differs from the import tax 15.46 (rounded per line: 15.48) (dutiable price 169.85)',
    );
  });
});

describe('single indivisible item over the 5,000 CNY single limit', () => {
  const watch = (): ImportOrder => clone(importExample('single-item-watch'));

  it('the 12,850 CNY watch passes every rule, taxed in full (7,297.19)', async () => {
    const order = watch();
    expect(order.taxTotal).to.equal(7297.19);
    expect(await validateOrder(order, usage(0))).to.deep.equal([]);
  });

  it('accepts the e-tax bill rounding too (7,297.20) and refuses the cross-border 70 % figure', () => {
    const perLine = watch();
    perLine.taxTotal = 7297.2;
    perLine.acturalPaid = 20147.2;
    perLine.payment.amountPaid = 20147.2;
    expect(validateOrderStatic(perLine)).to.deep.equal([]);
    const seventyPercent = watch();
    seventyPercent.taxTotal = 3602.12; // 12850 × 0.33 / 0.8 × 0.7: the retail rate does not apply
    seventyPercent.acturalPaid = 16452.12;
    seventyPercent.payment.amountPaid = 16452.12;
    const violations = validateOrderStatic(seventyPercent);
    expect(violations.map((v) => v.code)).to.deep.equal(['TAX_MISMATCH']);
    expect(violations[0]!.message.en).to.contain('single indivisible item');
  });

  it('counts its full value toward the annual total: refused when the allowance left is smaller', async () => {
    expect(limitValue(watch())).to.equal(12850);
    expect(await validateOrder(watch(), usage(13150))).to.deep.equal([]);
    expect((await validateOrder(watch(), usage(13150.01))).map((v) => v.code)).to.deep.equal(['ANNUAL_LIMIT_EXCEEDED']);
  });

  it('two pieces are not one indivisible item: the single limit applies', () => {
    const order = watch();
    const item = order.items[0]!;
    item.qty = 2;
    item.qty1 = 2;
    item.price = 6400;
    const codes = validateOrderStatic(order).map((v) => v.code);
    expect(codes).to.include('SINGLE_LIMIT_EXCEEDED');
  });

  it('an HS code without a duty rate in the table is refused with the line named (TAX_RATE_UNKNOWN)', () => {
    const order = watch();
    order.items[0]!.gcode = '8525890000';
    const violations = validateOrderStatic(order);
    expect(violations.map((v) => [v.path, v.code])).to.deep.equal([['items[0].gcode', 'TAX_RATE_UNKNOWN']]);
    expect(violations[0]!.message.en).to.contain('no MFN duty rate for 8525890000');
  });
});
