import { expect } from 'chai';
import { isProblem } from '../api/harness';
import { orderOf, startSecuritySystem, type SecuritySystem } from './support/system';

/**
 * Issue 12, finding 6: an address with U+0000 got 202, then three of four declarations ended "failed"
 * (nothing can write it into XML). Now text a customs message cannot carry is refused at the API with the
 * field's path, whichever way it arrives, and nothing is stored.
 */
describe('security: text XML cannot carry is refused at the API, with the field path', function () {
  this.timeout(60000);
  let s: SecuritySystem;

  before(async () => {
    s = await startSecuritySystem('xml_text');
  });
  after(() => s?.close());

  const codes = (reply: { body: Record<string, unknown> }) =>
    (reply.body.errors as { path: string; code: string }[]).filter((e) => e.code === 'XML_CHAR_INVALID');

  it('U+0000 in an address (JSON), U+FFFF in a name and a lone surrogate (NDJSON escapes): 422 naming each field', async () => {
    const order = { ...orderOf('GD'), consigneeAddress: '广州市天河区\u0000体育西路 1 号' };
    const json = await s.as('sellerGd', 'POST', '/v1/orders', { json: order });
    expect(isProblem(json, 422), json.text).to.equal(true);
    expect(codes(json)).to.deep.equal([
      {
        path: '/orders/0/consigneeAddress',
        code: 'XML_CHAR_INVALID',
        message: 'contains U+0000 at character 7, which XML cannot carry',
        messageZh: '含有 XML 不能承载的字符 U+0000（第 7 个字符）',
      },
    ]);

    const second = orderOf('GD') as Record<string, unknown> & { items: Record<string, unknown>[] };
    const line = JSON.stringify(second)
      .replace(`"buyerName":"${String(second.buyerName)}"`, `"buyerName":"\\uffff${String(second.buyerName)}"`)
      .replace(`"itemName":"${String(second.items[0]!.itemName)}"`, `"itemName":"\\ud800"`);
    const ndjson = await s.as('sellerGd', 'POST', '/v1/orders', {
      body: `${JSON.stringify(orderOf('GD'))}\n${line}\n`,
      type: 'application/x-ndjson',
    });
    expect(ndjson.status, ndjson.text).to.equal(202); // the first line is fine; the second is rejected
    const rejected = (ndjson.body.orders as { outcome: string; errors?: { path: string; code: string }[] }[])[1]!;
    expect(rejected.outcome).to.equal('rejected');
    expect(rejected.errors!.filter((e) => e.code === 'XML_CHAR_INVALID').map((e) => e.path)).to.have.members([
      '/orders/1/buyerName',
      '/orders/1/items/0/itemName',
    ]);
    expect(await s.count('declarations', { orderNo: order.orderNo })).to.equal(0);
    expect(await s.count('declarations', { orderNo: second.orderNo })).to.equal(0);
  });

  it('a cancel reason with a control character is 422 on /reason, and nothing is stored', async () => {
    const before = await s.count('declarations');
    const reply = await s.as('sellerGd', 'POST', '/v1/declarations/0b6f3f0e-4c1a-4c7e-9d43-5a3c1f2e9a73/cancel', {
      json: { reason: '买家取消\u0007订单' },
    });
    expect(isProblem(reply, 422), reply.text).to.equal(true);
    expect((reply.body.errors as { path: string }[]).map((e) => e.path)).to.deep.equal(['/reason']);
    expect(await s.count('declarations')).to.equal(before);
  });
});
