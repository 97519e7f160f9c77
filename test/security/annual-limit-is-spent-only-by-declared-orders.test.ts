import { expect } from 'chai';
import { limitValue, limitYear } from '../../src/domain/rules';
import type { ImportOrder } from '../../src/domain/order';
import { isProblem } from '../api/harness';
import {
  freshBuyerId,
  orderOf,
  outcomes,
  receiptForSent,
  signerFor,
  startSecuritySystem,
  startSecurityWorker,
  type SecuritySystem,
} from './support/system';

/**
 * Issue 12, finding 2: resubmitting existing order numbers with a fresh buyer's ID burned that buyer's
 * 26,000 CNY (the reservation was taken before the insert said "duplicate" and never given back), and
 * the refusal told any seller what the buyer had spent with other sellers. Now a reservation is taken
 * only for an order really declared, given back when customs refuses it, and the refusal names this
 * order's figures only.
 */
describe('security: a buyer’s annual limit is spent only by orders really declared', function () {
  this.timeout(60000);
  let s: SecuritySystem;
  const usage = (order: ImportOrder) =>
    s.gateway.core.stores.annualUsage.usedThisYear(order.buyerIdNumber, limitYear(order));

  before(async () => {
    s = await startSecuritySystem('annual_limit');
  });
  after(() => s?.close());

  it('resubmitting 18 declared order numbers with a fresh buyer reserves nothing for that buyer, and the buyer’s real order goes through', async () => {
    const declared = Array.from({ length: 18 }, () => orderOf('GD'));
    expect((await s.as('sellerGd', 'POST', '/v1/orders', { json: declared })).body.accepted).to.equal(18);

    const victim = freshBuyerId();
    const replayed = declared.map((o) => orderOf('GD', { orderNo: o.orderNo as string, buyerIdNumber: victim }));
    const attack = await s.as('sellerGd', 'POST', '/v1/orders', { json: replayed });
    expect(attack.status).to.equal(202);
    expect(attack.body).to.deep.include({ accepted: 0, duplicates: 18, rejected: 0 });
    expect(await usage(replayed[0] as ImportOrder)).to.equal(0);

    // The buyer's next real order, with another seller, is declared.
    const real = orderOf('HK', { buyerIdNumber: victim });
    const next = await s.as('sellerHk', 'POST', '/v1/orders', { json: real });
    expect(outcomes(next)[0]?.outcome, next.text).to.equal('accepted');
    expect(await usage(real as ImportOrder)).to.equal(limitValue(real as ImportOrder));
  });

  it('a refusal for the annual limit names this order’s amount only, never what the buyer spent elsewhere', async () => {
    const buyer = freshBuyerId();
    // seller-hk's customer spends most of the allowance …
    const spent: ImportOrder[] = [];
    let total = 0;
    while (total < 23000) {
      const o = orderOf('HK', { buyerIdNumber: buyer }) as ImportOrder;
      spent.push(o);
      total += limitValue(o);
    }
    const hk = await s.as('sellerHk', 'POST', '/v1/orders', { json: spent });
    expect(hk.body.accepted).to.equal(spent.length);
    const used = await usage(spent[0]!);
    expect(used).to.be.greaterThan(23000);

    // … then seller-gd's order for the same buyer does not fit.
    let tooMuch: ImportOrder;
    do tooMuch = orderOf('GD', { buyerIdNumber: buyer }) as ImportOrder;
    while (used + limitValue(tooMuch) <= 26000);
    const refused = await s.as('sellerGd', 'POST', '/v1/orders', { json: tooMuch });
    expect(isProblem(refused, 422)).to.equal(true);
    const error = (refused.body.errors as { code: string; message: string; messageZh: string }[])[0]!;
    expect(error.code).to.equal('ANNUAL_LIMIT_EXCEEDED');
    expect(error.message).to.contain(limitValue(tooMuch).toFixed(2));
    for (const figure of [used.toFixed(2), String(Math.round(used)), used.toFixed(0)]) {
      expect(refused.text).not.to.contain(figure);
    }
    expect(error.message).not.to.match(/used|spent/i);
    expect(await usage(spent[0]!)).to.equal(used);
  });

  it('customs refusing the inventory (100) gives the order’s share back, once; refusing only the order document does not', async () => {
    const worker = await startSecurityWorker(s);
    const center = await signerFor('center-gd');
    try {
      const order = orderOf('GD', { buyerIdNumber: freshBuyerId() }) as ImportOrder;
      const submitted = await s.as('sellerGd', 'POST', '/v1/orders', { json: order });
      const ids = Object.fromEntries(outcomes(submitted)[0]!.declarations!.map((d) => [d.messageType, d.id]));
      expect(await usage(order)).to.equal(limitValue(order));
      const post = async (id: string, status: string) => {
        const reply = await s.as('centerGd', 'POST', '/v1/receipts', {
          body: await receiptForSent(s, id, status, center),
          type: 'application/xml',
        });
        expect(reply.status, reply.text).to.equal(202);
      };

      // The order document refused by a business rule: the inventory may still go (or end in 100 later).
      await post(ids.CEB311!, '-301010');
      expect(await usage(order)).to.equal(limitValue(order));

      // The inventory refused (退单): the goods will not be imported, the share goes back.
      await post(ids.CEB621!, '100');
      expect((await s.as('sellerGd', 'GET', `/v1/declarations/${ids.CEB621}`)).body.status).to.equal('100');
      expect(await usage(order)).to.equal(0);

      // The same refusal delivered again releases nothing more, and the buyer's next order fits again.
      await post(ids.CEB621!, '100');
      expect(await usage(order)).to.equal(0);
    } finally {
      await center.close();
      await worker.stop();
      await worker.purge();
    }
  });
});
