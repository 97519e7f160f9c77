import { expect } from 'chai';
import { createSeller, type TestKey } from '../support/accounts';
import { generateValidOrder } from '../support/order-generator';
import { call, isProblem, startApiHarness, type ApiHarness } from './harness';

describe('POST /v1/orders: body encoding', function () {
  this.timeout(60000);
  let h: ApiHarness;
  let seller: TestKey;

  before(async () => {
    h = await startApiHarness('orders_encoding');
    seller = await createSeller(h.connection);
  });
  after(() => h?.close());

  it('refuses invalid UTF-8 with 400 problem+json naming the byte offset, instead of declaring U+FFFD, and stores nothing', async () => {
    const order = generateValidOrder(77, { direction: 'import' }) as unknown as { orderNo: string };
    const json = JSON.stringify(order);
    const at = json.indexOf(order.orderNo);
    // 0xC3 0x28: a two-byte lead followed by a non-continuation byte, inside the order number.
    const body = Buffer.concat([
      Buffer.from(json.slice(0, at + 2)),
      Buffer.from([0xc3, 0x28]),
      Buffer.from(json.slice(at + 2)),
    ]);
    const before = await h.count('declarations');
    const r = await call(h.base, 'POST', '/v1/orders', { headers: seller.headers, body, type: 'application/json' });
    expect(isProblem(r, 400), JSON.stringify(r.body)).to.equal(true);
    expect(JSON.stringify(r.body)).to.contain(`offset ${Buffer.byteLength(json.slice(0, at + 2))}`);
    expect(await h.count('declarations')).to.equal(before);
  });
});
