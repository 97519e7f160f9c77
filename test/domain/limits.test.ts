import { expect } from 'chai';
import { validateOrder, ANNUAL_LIMIT, type AnnualUsageLookup } from '../../src/domain/rules/index';
import { clone, exportExample, importExample } from './example-orders';

/** In-memory stand-in for the store: remembers what it was asked. */
class FakeAnnualUsage implements AnnualUsageLookup {
  readonly calls: { buyerIdNumber: string; year: number }[] = [];
  constructor(private readonly used: number) {}
  async usedThisYear(buyerIdNumber: string, year: number): Promise<number> {
    this.calls.push({ buyerIdNumber, year });
    return this.used;
  }
}

describe('annual 26,000 CNY limit', () => {
  // gz example: goods 1370 + freight 20 + insurance 0 = 1390 counts against the limit.
  const order = importExample('gz-9610-direct-purchase');

  it('passes when the year total reaches exactly 26,000', async () => {
    expect(await validateOrder(order, { annualUsage: new FakeAnnualUsage(ANNUAL_LIMIT - 1390) })).to.deep.equal([]);
  });

  it('rejects when earlier orders plus this one exceed 26,000 by one fen', async () => {
    const violations = await validateOrder(order, { annualUsage: new FakeAnnualUsage(ANNUAL_LIMIT - 1390 + 0.01) });
    expect(violations.map((v) => `${v.code}@${v.path}`)).to.deep.equal(['ANNUAL_LIMIT_EXCEEDED@buyerIdNumber']);
    expect(violations[0]!.message.en).to.contain('26000');
  });

  it('asks for the buyer of the order and the Beijing year of the payment', async () => {
    const lookup = new FakeAnnualUsage(0);
    const newYear = clone(order);
    newYear.payment.payTime = '20270101000501'; // 16:05 UTC on 31 Dec 2026 is already 2027 in Beijing
    await validateOrder(newYear, { annualUsage: lookup });
    expect(lookup.calls).to.deep.equal([{ buyerIdNumber: '440106199003071231', year: 2027 }]);
  });

  it('reports the annual limit together with static violations', async () => {
    const broken = clone(order);
    broken.logistics.packNo = 2;
    const codes = (await validateOrder(broken, { annualUsage: new FakeAnnualUsage(30000) })).map((v) => v.code);
    expect(codes).to.deep.equal(['PACK_NO_NOT_ONE', 'ANNUAL_LIMIT_EXCEEDED']);
  });

  it('does not consult the lookup for export orders', async () => {
    const lookup = new FakeAnnualUsage(1e9);
    expect(await validateOrder(exportExample(), { annualUsage: lookup })).to.deep.equal([]);
    expect(lookup.calls).to.deep.equal([]);
  });

  it('propagates a failing lookup instead of approving the order', async () => {
    const failing: AnnualUsageLookup = { usedThisYear: () => Promise.reject(new Error('store down')) };
    let error: unknown;
    try {
      await validateOrder(order, { annualUsage: failing });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(Error);
    expect((error as Error).message).to.equal('store down');
  });
});
