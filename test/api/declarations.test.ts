import { expect } from 'chai';
import { createAdmin, createBroker, createCenter, createSeller, type TestKey } from '../support/accounts';
import { generateValidOrder } from '../support/order-generator';
import { call, isProblem, startApiHarness, type ApiHarness } from './harness';

describe('declarations: read, cancel (CEB623), return (CEB625)', function () {
  this.timeout(60000);
  let h: ApiHarness;
  let seller: TestKey;
  let otherSeller: TestKey;
  let broker: TestKey;
  let otherBroker: TestKey;
  let center: TestKey;
  let admin: TestKey;
  let orderNo: string;
  let ids: Record<string, string>;

  async function submit(key: TestKey, seed: number): Promise<{ orderNo: string; ids: Record<string, string> }> {
    const order = generateValidOrder(seed, { direction: 'import' });
    const r = await call(h.base, 'POST', '/v1/orders', { headers: key.headers, json: order });
    expect(r.status, r.text).to.equal(202);
    const decls = (r.body.orders as { declarations: { id: string; messageType: string }[] }[])[0]!.declarations;
    return { orderNo: order.orderNo, ids: Object.fromEntries(decls.map((d) => [d.messageType, d.id])) };
  }

  /** What a CEB622 receipt with 120 does: the inventory is accepted and gets its invtNo. */
  async function acceptInventory(id: string, invtNo = '514120261000000001') {
    const result = await h.stores.declarations.applyStatus({ id }, '120', {
      at: new Date(),
      source: 'receipt',
      info: '审核通过',
      documentKeys: { invtNo },
    });
    expect(result.applied, result.reason).to.equal(true);
  }

  before(async () => {
    h = await startApiHarness('api_declarations');
    seller = await createSeller(h.connection);
    otherSeller = await createSeller(h.connection);
    broker = await createBroker(h.connection, [seller.account.id]);
    otherBroker = await createBroker(h.connection, [otherSeller.account.id]);
    center = await createCenter(h.connection, 'GD');
    admin = await createAdmin(h.connection);
    ({ orderNo, ids } = await submit(seller, 1));
  });
  after(() => h?.close());

  describe('GET /v1/declarations/{id}', () => {
    it('401 without a key, 403 for a center', async () => {
      expect(isProblem(await call(h.base, 'GET', `/v1/declarations/${ids.CEB311}`), 401)).to.equal(true);
      expect(
        isProblem(await call(h.base, 'GET', `/v1/declarations/${ids.CEB311}`, { headers: center.headers }), 403),
      ).to.equal(true);
    });

    it('the owner, its broker and an admin read it with its history', async () => {
      for (const key of [seller, broker, admin]) {
        const r = await call(h.base, 'GET', `/v1/declarations/${ids.CEB621}`, { headers: key.headers });
        expect(r.status).to.equal(200);
        expect(r.body).to.include({
          id: ids.CEB621,
          orderNo,
          messageType: 'CEB621',
          sellerId: seller.account.id,
          status: 'accepted',
        });
        expect(r.body.history).to.be.an('array').with.length.greaterThan(0);
        expect(JSON.stringify(r.body)).not.to.match(/buyerIdNumber|consigneeAddress|buyerTelephone/);
      }
    });

    it("another seller and another seller's broker get 404 — the same answer as for an id that does not exist", async () => {
      const missing = await call(h.base, 'GET', '/v1/declarations/00000000-0000-4000-8000-000000000000', {
        headers: otherSeller.headers,
      });
      expect(isProblem(missing, 404)).to.equal(true);
      for (const key of [otherSeller, otherBroker]) {
        const r = await call(h.base, 'GET', `/v1/declarations/${ids.CEB311}`, { headers: key.headers });
        expect(isProblem(r, 404)).to.equal(true);
        expect(r.body.title).to.equal(missing.body.title);
        expect(r.text).not.to.include(orderNo);
      }
    });
  });

  describe('GET /v1/orders/{orderNo}/declarations', () => {
    it('401 without a key, 403 for a center', async () => {
      expect(isProblem(await call(h.base, 'GET', `/v1/orders/${orderNo}/declarations`), 401)).to.equal(true);
      expect(
        isProblem(await call(h.base, 'GET', `/v1/orders/${orderNo}/declarations`, { headers: center.headers }), 403),
      ).to.equal(true);
    });

    it('lists every declaration of the order for the owner, its broker and an admin', async () => {
      for (const key of [seller, broker, admin]) {
        const r = await call(h.base, 'GET', `/v1/orders/${orderNo}/declarations`, { headers: key.headers });
        expect(r.status).to.equal(200);
        expect((r.body.items as { messageType: string }[]).map((d) => d.messageType)).to.have.members([
          'CEB311',
          'CEB411',
          'CEB511',
          'CEB621',
        ]);
      }
    });

    it("is 404 for another seller's order (and for its broker)", async () => {
      for (const key of [otherSeller, otherBroker]) {
        const r = await call(h.base, 'GET', `/v1/orders/${orderNo}/declarations`, { headers: key.headers });
        expect(isProblem(r, 404)).to.equal(true);
        expect(r.text).not.to.include(ids.CEB311!);
      }
    });
  });

  describe('POST /v1/declarations/{id}/cancel and /return', () => {
    const declarationsOf = (no: string) => h.count('declarations', { orderNo: no });

    for (const kind of ['cancel', 'return'] as const) {
      it(`${kind}: 401 without a key; 403 for brokers, centers and admins; nothing stored`, async () => {
        expect(
          isProblem(
            await call(h.base, 'POST', `/v1/declarations/${ids.CEB621}/${kind}`, { json: { reason: 'x' } }),
            401,
          ),
        ).to.equal(true);
        for (const key of [broker, center, admin]) {
          expect(
            isProblem(
              await call(h.base, 'POST', `/v1/declarations/${ids.CEB621}/${kind}`, {
                headers: key.headers,
                json: { reason: 'x' },
              }),
              403,
            ),
          ).to.equal(true);
        }
        expect(await declarationsOf(orderNo)).to.equal(4);
      });

      it(`${kind}: another seller gets 404 and nothing is stored`, async () => {
        const r = await call(h.base, 'POST', `/v1/declarations/${ids.CEB621}/${kind}`, {
          headers: otherSeller.headers,
          json: { reason: '买家取消' },
        });
        expect(isProblem(r, 404)).to.equal(true);
        expect(await declarationsOf(orderNo)).to.equal(4);
      });

      it(`${kind}: an invalid body is 422 naming /reason and /unexpected, and nothing is stored`, async () => {
        const r = await call(h.base, 'POST', `/v1/declarations/${ids.CEB621}/${kind}`, {
          headers: seller.headers,
          json: { reason: '', unexpected: 1 },
        });
        expect(isProblem(r, 422)).to.equal(true);
        const paths = (r.body.errors as { path: string }[]).map((e) => e.path);
        expect(paths).to.include('/reason');
        expect(r.body.errors).to.satisfy((errors: { code: string }[]) =>
          errors.some((e) => e.code === 'UNKNOWN_FIELD'),
        );
        const tooLong = await call(h.base, 'POST', `/v1/declarations/${ids.CEB621}/${kind}`, {
          headers: seller.headers,
          json: { reason: 'ok', invtNo: '1'.repeat(19) },
        });
        expect((tooLong.body.errors as { path: string }[])[0]!.path).to.equal('/invtNo');
        expect(await declarationsOf(orderNo)).to.equal(4);
      });

      it(`${kind}: malformed JSON is 400 and a non-JSON body 415`, async () => {
        expect(
          isProblem(
            await call(h.base, 'POST', `/v1/declarations/${ids.CEB621}/${kind}`, {
              headers: seller.headers,
              body: '{"reason":',
              type: 'application/json',
            }),
            400,
          ),
        ).to.equal(true);
        expect(
          isProblem(
            await call(h.base, 'POST', `/v1/declarations/${ids.CEB621}/${kind}`, {
              headers: seller.headers,
              body: 'reason=x',
              type: 'application/x-www-form-urlencoded',
            }),
            415,
          ),
        ).to.equal(true);
      });

      it(`${kind}: is 422 on a declaration that is not an inventory (CEB311)`, async () => {
        const r = await call(h.base, 'POST', `/v1/declarations/${ids.CEB311}/${kind}`, {
          headers: seller.headers,
          json: { reason: '买家取消' },
        });
        expect(isProblem(r, 422)).to.equal(true);
        expect(r.body.detail).to.match(/CEB621/);
      });
    }

    it('is 409 while customs has not accepted the inventory yet', async () => {
      const r = await call(h.base, 'POST', `/v1/declarations/${ids.CEB621}/cancel`, {
        headers: seller.headers,
        json: { reason: '买家取消' },
      });
      expect(isProblem(r, 409)).to.equal(true);
      expect(r.body.detail).to.match(/120/);
      expect(await declarationsOf(orderNo)).to.equal(4);
    });

    it('cancel: 202 with the new CEB623 declaration (invtNo from the receipt), readable and listed with the order', async () => {
      const fresh = await submit(seller, 2);
      await acceptInventory(fresh.ids.CEB621!, '514120261000000002');
      const headers = { ...seller.headers, 'Idempotency-Key': 'cancel-2' };
      const r = await call(h.base, 'POST', `/v1/declarations/${fresh.ids.CEB621}/cancel`, {
        headers,
        json: { reason: '买家取消订单' },
      });
      expect(r.status, r.text).to.equal(202);
      expect(r.body).to.include({
        messageType: 'CEB623',
        orderNo: fresh.orderNo,
        status: 'accepted',
        sellerId: seller.account.id,
      });
      expect(r.headers.get('location')).to.equal(`/v1/declarations/${r.body.id}`);
      const replay = await call(h.base, 'POST', `/v1/declarations/${fresh.ids.CEB621}/cancel`, {
        headers,
        json: { reason: '买家取消订单' },
      });
      expect(replay.headers.get('idempotent-replayed')).to.equal('true');
      expect(replay.body.id).to.equal(r.body.id);
      const listed = await call(h.base, 'GET', `/v1/orders/${fresh.orderNo}/declarations`, { headers: seller.headers });
      expect((listed.body.items as { messageType: string }[]).map((d) => d.messageType)).to.include('CEB623');
      const order = await h.stores.declarations.orderOf(r.body.id as string);
      expect(order?.extra).to.include({ invtNo: '514120261000000002', reason: '买家取消订单' });
    });

    it('return: 202 with the new CEB625 declaration, using the invtNo given in the request', async () => {
      const fresh = await submit(seller, 3);
      await acceptInventory(fresh.ids.CEB621!, '514120261000000003');
      const r = await call(h.base, 'POST', `/v1/declarations/${fresh.ids.CEB621}/return`, {
        headers: seller.headers,
        json: { reason: '商品质量问题退货', invtNo: '514120261000000099' },
      });
      expect(r.status, r.text).to.equal(202);
      expect(r.body).to.include({ messageType: 'CEB625', orderNo: fresh.orderNo });
      const order = await h.stores.declarations.orderOf(r.body.id as string);
      expect(order?.extra).to.include({ invtNo: '514120261000000099' });
      // Another seller cannot see the new declaration either.
      expect(
        isProblem(await call(h.base, 'GET', `/v1/declarations/${r.body.id}`, { headers: otherSeller.headers }), 404),
      ).to.equal(true);
    });
  });
});
