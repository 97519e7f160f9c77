import { expect } from 'chai';
import type { Stores } from '../../src/store/index';
import { createStores } from '../../src/store/index';
import { connectMongo } from '../../src/store/mongo';
import { silentLogger } from '../support/logger';
import { BUYER_ID, openStores, PII_CONFIG } from './store-fixtures';

describe('annual usage store', function () {
  this.timeout(60000);
  let stores: Stores;
  let close: () => Promise<void>;
  let url: string;
  const LIMIT = 26000;

  before(async () => {
    ({ stores, close, url } = await openStores('store_annual_usage'));
  });
  after(async () => close?.());

  const usage = () => stores.annualUsage;

  it('adds an order once per orderKey and gives it back once', async () => {
    const buyer = '11010519491231002X';
    expect(await usage().usedThisYear(buyer, 2026)).to.equal(0);
    expect(await usage().reserve(buyer, 2026, 'P1/O1', 4999.99, LIMIT)).to.deep.equal({
      ok: true,
      used: 4999.99,
      added: true,
    });
    // The same order again is not added twice, and the caller learns it did not add it.
    expect(await usage().reserve(buyer, 2026, 'P1/O1', 4999.99, LIMIT)).to.deep.equal({
      ok: true,
      used: 4999.99,
      added: false,
    });
    expect(await usage().reserve(buyer.toLowerCase(), 2026, 'P1/O2', 0.02, LIMIT)).to.deep.equal({
      ok: true,
      used: 5000.01,
      added: true,
    });
    expect(await usage().usedThisYear(buyer, 2026)).to.equal(5000.01);
    expect(await usage().usedThisYear(buyer, 2025)).to.equal(0);
    await usage().release(buyer, 2026, 'P1/O1');
    await usage().release(buyer, 2026, 'P1/O1');
    await usage().release(buyer, 2026, 'never-reserved');
    expect(await usage().usedThisYear(buyer, 2026)).to.equal(0.02);
    // Released orders can be reserved again (a resubmission after a rejection).
    expect(await usage().reserve(buyer, 2026, 'P1/O1', 100, LIMIT)).to.deep.equal({
      ok: true,
      used: 100.02,
      added: true,
    });
  });

  it('refuses an order that would go above the limit, and accepts one that lands exactly on it', async () => {
    const buyer = BUYER_ID;
    expect((await usage().reserve(buyer, 2027, 'a', 20000, LIMIT)).ok).to.equal(true);
    expect(await usage().reserve(buyer, 2027, 'b', 6000.01, LIMIT)).to.deep.equal({
      ok: false,
      used: 20000,
      added: false,
    });
    expect(await usage().reserve(buyer, 2027, 'b', 6000, LIMIT)).to.deep.equal({ ok: true, used: 26000, added: true });
    expect(await usage().reserve(buyer, 2027, 'c', 0.01, LIMIT)).to.deep.equal({
      ok: false,
      used: 26000,
      added: false,
    });
    // A first order above the limit on its own stores nothing.
    expect(await usage().reserve(buyer, 2028, 'big', 26000.01, LIMIT)).to.deep.equal({
      ok: false,
      used: 0,
      added: false,
    });
    expect(await usage().reserve(buyer, 2028, 'fits', 26000, LIMIT)).to.deep.equal({
      ok: true,
      used: 26000,
      added: true,
    });
  });

  it('keeps one document per buyer and year, with what each order reserved in cents', async () => {
    const buyer = '110105194912310037';
    await usage().reserve(buyer, 2029, 'P/1', 0.1, LIMIT);
    await usage().reserve(buyer, 2029, 'P/2', 0.2, LIMIT);
    const docs = await stores.models.Usage.db.db!.collection('annual_usage').find({}).toArray();
    const mine = docs.filter((d) => String(d._id).endsWith(':2029'));
    expect(mine).to.have.length(1);
    expect(mine[0]).to.include({ usedCents: 30 });
    expect(Object.values(mine[0]!.orders as Record<string, number>).sort()).to.deep.equal([10, 20]);
    expect(JSON.stringify(mine[0]), 'no ID number, no order key in clear').to.not.match(/110105194912310037|P\/1/);
    expect(await usage().usedThisYear(buyer, 2029)).to.equal(0.3);
  });

  it('never lets concurrent reservations (two gateways) spend the same headroom', async () => {
    // A second store on its own connection to the same database plays the other gateway.
    const connectionB = await connectMongo(url, silentLogger());
    const gatewayB = createStores(connectionB, PII_CONFIG).annualUsage;
    try {
      const buyer = '110105194912310021';
      for (let round = 0; round < 3; round++) {
        const year = 2030 + round;
        const attempts = Array.from({ length: 16 }, (_, i) =>
          (i % 2 ? usage() : gatewayB).reserve(buyer, year, `order-${i}`, 4000, LIMIT),
        );
        const results = await Promise.all(attempts);
        const accepted = results.filter((r) => r.ok).length;
        expect(accepted, `round ${round}`).to.equal(6); // 6 × 4000 = 24000 ≤ 26000 < 7 × 4000
        expect(await usage().usedThisYear(buyer, year)).to.equal(24000);
      }
    } finally {
      await connectionB.close();
    }
  });

  it('counts an order once when the same reservation is retried concurrently', async () => {
    const buyer = '440524188001010014';
    const results = await Promise.all(
      Array.from({ length: 8 }, () => usage().reserve(buyer, 2040, 'same-order', 1234.5, LIMIT)),
    );
    expect(results.every((r) => r.ok)).to.equal(true);
    expect(results.filter((r) => r.added)).to.have.length(1); // exactly one caller may release it
    expect(await usage().usedThisYear(buyer, 2040)).to.equal(1234.5);
  });

  it('rejects nonsense years and amounts with a clear error', async () => {
    let error: unknown;
    try {
      await usage().reserve(BUYER_ID, 26, 'x', 1, LIMIT);
    } catch (err) {
      error = err;
    }
    expect(String(error)).to.match(/year must be a calendar year/);
    error = undefined;
    try {
      await usage().reserve(BUYER_ID, 2026, 'x', Number.NaN, LIMIT);
    } catch (err) {
      error = err;
    }
    expect(String(error)).to.match(/amount must be a non-negative number/);
  });
});
