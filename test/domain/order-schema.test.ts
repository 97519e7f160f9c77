import { expect } from 'chai';
import {
  fromCebTimestamp,
  parseBaygateOrder,
  hasAtMostFiveDecimals,
  toCebTimestamp,
  inventoryRefundRequestSchema,
} from '../../src/domain/order';
import { clone, exampleNames, readExample } from './example-orders';

function issuesOf(input: unknown) {
  const result = parseBaygateOrder(input);
  if (result.ok) throw new Error('expected the order to be rejected');
  return result.issues;
}

describe('Baygate order schema', () => {
  it('accepts every shipped example order', () => {
    const names = exampleNames();
    expect(names.length).to.be.at.least(6);
    for (const name of names) {
      const result = parseBaygateOrder(readExample(name));
      expect(result.ok, `${name}: ${JSON.stringify(result)}`).to.equal(true);
    }
  });

  it('normalises ISO times to Beijing YYYYMMDDhhmmss and dashed dates to YYYYMMDD', () => {
    const input = clone(readExample('export-9610-to-hong-kong')) as Record<string, unknown>;
    input.appTime = '2026-11-28T01:30:00Z';
    input.ieDate = '2026-11-28';
    const result = parseBaygateOrder(input);
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(result.order.appTime).to.equal('20261128093000');
    if (result.order.direction !== 'export') throw new Error('direction lost');
    expect(result.order.ieDate).to.equal('20261128');
  });

  it('defaults gname to itemName and an export bar code to "无"', () => {
    const input = clone(readExample('export-9610-to-hong-kong')) as { items: Record<string, unknown>[] };
    delete input.items[0]!.barCode;
    const result = parseBaygateOrder(input);
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(result.order.items[0]!.gname).to.equal(result.order.items[0]!.itemName);
    expect(result.order.items[0]!.barCode).to.equal('无');
  });

  it('gives the same order when a parsed order is parsed again', () => {
    for (const name of exampleNames()) {
      const first = parseBaygateOrder(readExample(name));
      if (!first.ok) throw new Error(name);
      const second = parseBaygateOrder(JSON.parse(JSON.stringify(first.order)));
      expect(second).to.deep.equal(first);
    }
  });

  it('rejects money with more than 5 fraction digits, naming the path', () => {
    const input = clone(readExample('gz-9610-direct-purchase')) as { items: Record<string, unknown>[] };
    input.items[1]!.price = 65.000001;
    expect(issuesOf(input).map((i) => i.path)).to.deep.equal(['items[1].price']);
  });

  it('reports every shape problem at once with paths', () => {
    const input = clone(readExample('gz-9610-direct-purchase')) as Record<string, unknown> & {
      payment: Record<string, unknown>;
    };
    delete input.orderNo;
    input.consigneeDistrict = '4401';
    input.payment.payTime = '20261332100000';
    const paths = issuesOf(input)
      .map((i) => i.path)
      .sort();
    expect(paths).to.deep.equal(['consigneeDistrict', 'orderNo', 'payment.payTime']);
  });

  it('rejects a text longer than the XSD allows', () => {
    const input = clone(readExample('gz-9610-direct-purchase')) as Record<string, unknown>;
    input.buyerTelephone = '1'.repeat(31);
    expect(issuesOf(input)[0]).to.include({ path: 'buyerTelephone', code: 'too_big' });
  });

  it('rejects an unknown direction', () => {
    const input = clone(readExample('gz-9610-direct-purchase')) as Record<string, unknown>;
    input.direction = 'transit';
    expect(issuesOf(input)[0]!.path).to.equal('direction');
  });

  it('rejects an import order without payment', () => {
    const input = clone(readExample('gz-9610-direct-purchase')) as Record<string, unknown>;
    delete input.payment;
    expect(issuesOf(input).map((i) => i.path)).to.deep.equal(['payment']);
  });

  it('rejects a non-object input without throwing', () => {
    expect(issuesOf('not an order')).to.have.length.greaterThan(0);
    expect(issuesOf(null)).to.have.length.greaterThan(0);
  });

  it('rejects an ISO time without a time zone (ambiguous)', () => {
    const input = clone(readExample('gz-9610-direct-purchase')) as Record<string, unknown>;
    input.appTime = '2026-11-28T10:00:00';
    expect(issuesOf(input)[0]!.path).to.equal('appTime');
  });

  it('round-trips CEB timestamps in Beijing time', () => {
    const instant = new Date('2026-12-31T16:30:05Z');
    expect(toCebTimestamp(instant)).to.equal('20270101003005');
    expect(fromCebTimestamp('20270101003005').toISOString()).to.equal('2026-12-31T16:30:05.000Z');
  });

  it('checks the 5-fraction-digit rule exactly', () => {
    expect(hasAtMostFiveDecimals(0.00001)).to.equal(true);
    expect(hasAtMostFiveDecimals(12.34567)).to.equal(true);
    expect(hasAtMostFiveDecimals(0.1 + 0.2)).to.equal(false);
    expect(hasAtMostFiveDecimals(1e-6)).to.equal(false);
    expect(hasAtMostFiveDecimals(Number.NaN)).to.equal(false);
  });

  it('validates refund requests for CEB625', () => {
    expect(
      inventoryRefundRequestSchema.safeParse({
        invtNo: '53492026I000012345',
        reason: '商品破损',
        items: [{ gnum: 1, qty: 1 }],
      }).success,
    ).to.equal(true);
    expect(inventoryRefundRequestSchema.safeParse({ invtNo: '', reason: '商品破损' }).success).to.equal(false);
  });
});
