import { expect } from 'chai';
import { isProblem } from '../api/harness';
import { orderOf, outcomes, startSecuritySystem, type SecuritySystem } from './support/system';

/**
 * Issue 12, finding 1: seller-gd and seller-hk share platform 4401961A2B. Customs knows an order by
 * platform and order number, so a number belongs to the first seller that declares it
 * (docs/decisions/order-number-clashes.md). The attacks: a seller submitting another seller's order
 * number (to read its declarations, or to take the number first). Now: refused, nothing disclosed,
 * nothing stored for the refused seller, and the clash recorded where the operator (and the refused
 * seller's brokers) see it.
 */
describe('security: a platform order number stays with the seller that declared it', function () {
  this.timeout(60000);
  let s: SecuritySystem;

  before(async () => {
    s = await startSecuritySystem('order_numbers');
  });
  after(() => s?.close());

  it('another seller submitting an existing order number learns nothing of it and stores nothing', async () => {
    const hkOrder = orderOf('HK');
    const first = await s.as('sellerHk', 'POST', '/v1/orders', { json: hkOrder });
    expect(first.status).to.equal(202);
    const hkIds = outcomes(first)[0]!.declarations!.map((d) => d.id);
    expect(hkIds).to.have.length(4);
    const before = await s.count('declarations');

    // seller-gd sends the same platform order number with an order of its own company.
    const attack = orderOf('GD', { orderNo: hkOrder.orderNo as string });
    const reply = await s.as('sellerGd', 'POST', '/v1/orders', { json: attack });

    expect(isProblem(reply, 422), reply.text).to.equal(true);
    const [outcome] = outcomes(reply);
    expect(outcome?.outcome).to.equal('rejected');
    expect(reply.body.errors).to.deep.equal([
      {
        path: '/orders/0/orderNo',
        code: 'ORDER_NO_TAKEN',
        message: (reply.body.errors as { message: string }[])[0]!.message,
        messageZh: (reply.body.errors as { messageZh: string }[])[0]!.messageZh,
      },
    ]);
    // Not one id, center, status or seller of the other seller's order.
    for (const id of hkIds) expect(reply.text).not.to.contain(id);
    for (const word of ['seller-hk', 'HK3496A101', '"center"', 'declarations']) expect(reply.text).not.to.contain(word);
    expect(outcome).not.to.have.property('declarations');
    expect(await s.count('declarations')).to.equal(before);
    expect(await s.count('declarations', { sellerId: 'seller-gd' })).to.equal(0);
  });

  it('the rightful seller refused because another took its number first: the operator sees the clash, and one who stored nothing can be released', async () => {
    // seller-hk takes seller-gd's real order number first, with an order of its own company …
    const real = orderOf('GD');
    const squat = orderOf('HK', { orderNo: real.orderNo as string, direction: 'export' });
    expect((await s.as('sellerHk', 'POST', '/v1/orders', { json: squat })).status).to.equal(202);

    // … the real order comes back refused, with a clear error, not "duplicate" with ids it cannot read.
    const refused = await s.as('sellerGd', 'POST', '/v1/orders', { json: real });
    expect(isProblem(refused, 422), refused.text).to.equal(true);
    const error = (refused.body.errors as { code: string; message: string }[])[0]!;
    expect(error.code).to.equal('ORDER_NO_TAKEN');
    expect(error.message).to.match(/operator has been notified \(clash [0-9a-f]{32}\)/);
    const clashId = /clash ([0-9a-f]{32})/.exec(error.message)![1]!;
    expect(refused.text).not.to.contain('seller-hk');

    // The operator sees both sides; seller-gd's broker and seller-gd see their refused order, not the holder.
    const ops = await s.as('admin', 'GET', '/v1/order-clashes?open=true');
    expect(ops.status).to.equal(200);
    const seen = (ops.body.items as Record<string, unknown>[]).find((c) => c.id === clashId);
    expect(seen).to.deep.include({
      platformCode: real.ebpCode,
      orderNo: real.orderNo,
      claimantSellerId: 'seller-gd',
      holderSellerId: 'seller-hk',
      attempts: 1,
    });
    for (const caller of ['brokerGba', 'sellerGd'] as const) {
      const mine = await s.as(caller, 'GET', '/v1/order-clashes');
      const item = (mine.body.items as Record<string, unknown>[]).find((c) => c.id === clashId);
      expect(item, caller).to.deep.include({ orderNo: real.orderNo, claimantSellerId: 'seller-gd' });
      expect(item, caller).not.to.have.property('holderSellerId');
      expect(mine.text, caller).not.to.contain('seller-hk');
    }
    // The holder's side and a broker of neither see nothing of it.
    for (const caller of ['sellerHk', 'brokerHk', 'sellerMo'] as const) {
      const other = await s.as(caller, 'GET', '/v1/order-clashes');
      expect(
        (other.body.items as { id: string }[]).map((c) => c.id),
        caller,
      ).not.to.include(clashId);
    }
    // The metric an alert watches counted it.
    const metrics = await s.as('anonymous', 'GET', '/metrics');
    expect(metrics.text).to.match(/^baygate_order_number_clashes_total [1-9]/m);

    // seller-hk declared the number to customs: it cannot be released, only dismissed by the operator.
    const release = await s.as('admin', 'POST', `/v1/order-clashes/${clashId}/resolve`, {
      json: { action: 'released', note: 'platform says the order is seller-gd’s' },
    });
    expect(isProblem(release, 409), release.text).to.equal(true);
    expect(
      (
        await s.as('sellerGd', 'POST', `/v1/order-clashes/${clashId}/resolve`, {
          json: { action: 'dismissed', note: 'x' },
        })
      ).status,
    ).to.equal(403);
    const dismissed = await s.as('admin', 'POST', `/v1/order-clashes/${clashId}/resolve`, {
      json: { action: 'dismissed', note: 'seller-hk account suspended; seller-gd declares under a new number' },
    });
    expect(dismissed.status).to.equal(200);
    expect(dismissed.body.resolution).to.deep.include({ action: 'dismissed', by: 'ops' });
  });

  it('a number taken by an order that was never stored is released by the operator, and the rightful order then goes through', async () => {
    // seller-hk's order is refused after it took the number (its buyer is over the annual limit): the
    // number is held, nothing is declared.
    const real = orderOf('GD');
    const held = orderOf('HK', { orderNo: real.orderNo as string });
    await s.gateway.core.stores.annualUsage.reserve(
      held.buyerIdNumber as string,
      Number((held.payment as { payTime: string }).payTime.slice(0, 4)),
      'elsewhere',
      26000,
      26000,
    );
    const squat = await s.as('sellerHk', 'POST', '/v1/orders', { json: held });
    expect((squat.body.errors as { code: string }[])[0]?.code).to.equal('ANNUAL_LIMIT_EXCEEDED');

    const refused = await s.as('sellerGd', 'POST', '/v1/orders', { json: real });
    const clashId = /clash ([0-9a-f]{32})/.exec((refused.body.errors as { message: string }[])[0]!.message)![1]!;
    const released = await s.as('admin', 'POST', `/v1/order-clashes/${clashId}/resolve`, {
      json: { action: 'released', note: 'seller-hk never declared it' },
    });
    expect(released.status, released.text).to.equal(200);
    expect(released.body).to.deep.include({ holderSellerId: 'seller-hk' });

    const again = await s.as('sellerGd', 'POST', '/v1/orders', { json: real });
    expect(again.status).to.equal(202);
    expect(outcomes(again)[0]?.outcome).to.equal('accepted');
    // Now seller-gd holds it: seller-hk is the one refused.
    const late = await s.as('sellerHk', 'POST', '/v1/orders', { json: held });
    expect((late.body.errors as { code: string }[])[0]?.code).to.equal('ORDER_NO_TAKEN');
  });

  it('the same seller resubmitting its own order still gets "duplicate" with its own declarations', async () => {
    const order = orderOf('GD');
    const first = await s.as('sellerGd', 'POST', '/v1/orders', { json: order });
    const again = await s.as('sellerGd', 'POST', '/v1/orders', { json: order });
    expect(again.status).to.equal(202);
    expect(outcomes(again)[0]?.outcome).to.equal('duplicate');
    expect(outcomes(again)[0]?.declarations?.map((d) => d.id)).to.have.members(
      outcomes(first)[0]!.declarations!.map((d) => d.id),
    );
  });
});
