import { expect } from 'chai';
import { parseBaygateOrder, type BaygateOrder } from '../../src/domain/order';
import { validateOrderStatic } from '../../src/domain/rules/index';
import { computeTax } from '../../src/domain/tax';
import { limitValue, SINGLE_TRANSACTION_LIMIT } from '../../src/domain/rules/index';
import { generateValidOrder } from '../support/order-generator';

const SEEDS = 600;

describe('property: generated valid orders', () => {
  const orders: BaygateOrder[] = Array.from({ length: SEEDS }, (_, seed) => generateValidOrder(seed));

  it(`${SEEDS} generated orders pass every static rule`, () => {
    for (const order of orders) expect(validateOrderStatic(order), order.orderNo).to.deep.equal([]);
  });

  it('cover import and export, both trade modes, all seller regions, gifts and 1–5 lines', () => {
    const kinds = new Set(orders.map((o) => `${o.direction}/${o.tradeMode}`));
    expect([...kinds].sort()).to.deep.equal(['export/1210', 'export/9610', 'import/1210', 'import/9610']);
    expect(new Set(orders.map((o) => o.sellerRegion))).to.deep.equal(new Set(['GD', 'HK', 'MO']));
    expect(orders.some((o) => o.items.some((i) => i.price === 0))).to.equal(true);
    expect(new Set(orders.map((o) => o.items.length))).to.deep.equal(new Set([1, 2, 3, 4, 5]));
  });

  it('are reproducible from their seed', () => {
    expect(generateValidOrder(42)).to.deep.equal(generateValidOrder(42));
    expect(generateValidOrder(42)).to.not.deep.equal(generateValidOrder(43));
  });

  it('survive a JSON round trip through the parser unchanged', () => {
    for (const order of orders.slice(0, 200)) {
      const again = parseBaygateOrder(JSON.parse(JSON.stringify(order)));
      expect(again).to.deep.equal({ ok: true, order });
    }
  });

  it('stay valid at maximum field lengths and 99 lines', () => {
    for (let seed = 0; seed < 10; seed++) {
      const order = generateValidOrder(seed, { maxLengths: true, itemCount: 99 });
      expect(order.items).to.have.length(99);
      expect(validateOrderStatic(order)).to.deep.equal([]);
    }
  });

  it('import orders respect the single limit and declare the computed tax', () => {
    for (const order of orders) {
      if (order.direction !== 'import') continue;
      expect(limitValue(order)).to.be.at.most(SINGLE_TRANSACTION_LIMIT);
      expect(Math.abs(order.taxTotal - computeTax(order).exactTax)).to.be.at.most(0.01);
    }
  });

  it('any one-fen change to a line total is caught', () => {
    for (const [index, source] of orders.slice(0, 200).entries()) {
      const order = structuredClone(source);
      const line = order.items[index % order.items.length]!;
      line.totalPrice = Number((line.totalPrice + 0.01).toFixed(2));
      const codes = validateOrderStatic(order).map((v) => v.code);
      expect(codes, order.orderNo).to.include('TOTAL_PRICE_MISMATCH');
      expect(codes, order.orderNo).to.include('GOODS_VALUE_MISMATCH');
    }
  });

  it('any change to the payment amount of an import order is caught', () => {
    for (const source of orders.slice(0, 200)) {
      if (source.direction !== 'import') continue;
      const order = structuredClone(source);
      order.payment.amountPaid = Number((order.payment.amountPaid + 0.01).toFixed(2));
      expect(validateOrderStatic(order).map((v) => v.code)).to.deep.equal(['PAYMENT_AMOUNT_MISMATCH']);
    }
  });
});
