import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import type { SubmissionService } from '../../src/pipeline/contracts';
import {
  createAccountWithKey,
  createBroker,
  createCenter,
  createAdmin,
  createSeller,
  type TestKey,
} from '../support/accounts';
import { generateValidOrder } from '../support/order-generator';
import { declarationIdFor } from '../../src/domain/declaration-id';
import { call, isProblem, startApiHarness, type ApiHarness } from './harness';

const validOrder = (seed: number, overrides: Record<string, unknown> = {}) => ({
  ...generateValidOrder(seed, { direction: 'import' }),
  ...overrides,
});

/** An order the business rules reject: the first line's total no longer equals price × qty. */
function badLineTotal(seed: number) {
  const order = generateValidOrder(seed, { direction: 'import' }) as unknown as {
    orderNo: string;
    items: { totalPrice: number }[];
  };
  order.items[0]!.totalPrice += 7;
  return order;
}

describe('POST /v1/orders', function () {
  this.timeout(60000);
  let h: ApiHarness;
  let seller: TestKey;
  // Holds submissions while set, to observe an Idempotency-Key "in flight".
  let gate: Promise<void> | undefined;
  // Makes the next submission fail like a database outage would.
  let failNext = false;

  before(async () => {
    h = await startApiHarness('api_orders', {
      submission: (real) => {
        const gated: SubmissionService = {
          submit: async (orders, options) => {
            if (gate) await gate;
            if (failNext) {
              failNext = false;
              throw new Error('simulated database outage');
            }
            return real.submit(orders, options);
          },
          cancel: (...args) => real.cancel(...args),
          refund: (...args) => real.refund(...args),
        };
        return gated as typeof real;
      },
    });
    seller = await createSeller(h.connection);
  });
  after(() => h?.close());

  const declarations = () => h.count('declarations');

  describe('access control', () => {
    it('answers 401 problem+json without an API key and stores nothing', async () => {
      const before = await declarations();
      const r = await call(h.base, 'POST', '/v1/orders', { json: validOrder(1) });
      expect(isProblem(r, 401)).to.equal(true);
      expect(await declarations()).to.equal(before);
    });

    it('answers 403 to brokers, centers and admins (only sellers submit)', async () => {
      const broker = await createBroker(h.connection, [seller.account.id]);
      const center = await createCenter(h.connection, 'GD');
      const admin = await createAdmin(h.connection);
      for (const key of [broker, center, admin]) {
        expect(
          isProblem(await call(h.base, 'POST', '/v1/orders', { headers: key.headers, json: validOrder(2) }), 403),
        ).to.equal(true);
      }
      expect(await h.count('declarations', { orderNo: validOrder(2).orderNo })).to.equal(0);
    });
  });

  describe('one order', () => {
    it('answers 202 with the declaration ids per message type and a Location that can be read back', async () => {
      const order = validOrder(10);
      const r = await call(h.base, 'POST', '/v1/orders', { headers: seller.headers, json: order });
      expect(r.status).to.equal(202);
      expect(r.body).to.include({ accepted: 1, duplicates: 0, rejected: 0, atomic: false });
      const [outcome] = r.body.orders as {
        outcome: string;
        orderNo: string;
        declarations: { id: string; messageType: string; href: string }[];
      }[];
      expect(outcome!.outcome).to.equal('accepted');
      expect(outcome!.orderNo).to.equal(order.orderNo);
      expect(outcome!.declarations.map((d) => d.messageType)).to.have.members(['CEB311', 'CEB411', 'CEB511', 'CEB621']);
      expect(r.headers.get('location')).to.equal(outcome!.declarations[0]!.href);
      const read = await call(h.base, 'GET', r.headers.get('location')!, { headers: seller.headers });
      expect(read.status).to.equal(200);
      expect(read.body).to.include({ orderNo: order.orderNo, sellerId: seller.account.id, status: 'accepted' });
      expect(await h.count('declarations', { orderNo: order.orderNo })).to.equal(4);
    });

    it('reports a resubmitted order as duplicate with the same declarations, storing nothing new', async () => {
      const order = validOrder(11);
      const first = await call(h.base, 'POST', '/v1/orders', { headers: seller.headers, json: order });
      const again = await call(h.base, 'POST', '/v1/orders', { headers: seller.headers, json: order });
      expect(again.status).to.equal(202);
      expect(again.body).to.include({ accepted: 0, duplicates: 1 });
      const ids = (x: typeof first) =>
        (x.body.orders as { declarations: { id: string }[] }[])[0]!.declarations.map((d) => d.id).sort();
      expect(ids(again)).to.deep.equal(ids(first));
      expect(await h.count('declarations', { orderNo: order.orderNo })).to.equal(4);
    });

    it('names the declarations of an order by the order itself: a retry gets the ids an earlier, cut-off attempt stored', async () => {
      // What a gateway killed mid-request leaves behind (docs/CHAOS.md finding 1): the first attempt's write
      // lands after the client gave up. Its declarations must be the ones the retry's 202 names.
      const order = validOrder(12);
      const cutOff = await h.stores.declarations.insertMany(
        (['CEB311', 'CEB411', 'CEB511', 'CEB621'] as const).map((messageType) => ({
          id: declarationIdFor(order.ebpCode, order.orderNo, messageType),
          sellerId: seller.account.id,
          platformCode: order.ebpCode,
          orderNo: order.orderNo,
          messageType,
          direction: 'import' as const,
          tradeMode: order.tradeMode,
          customsCode: order.customsCode,
          center: 'GD',
          order,
          amountCny: 'acturalPaid' in order ? order.acturalPaid : 0,
          requestId: 'the-cut-off-attempt',
        })),
      );
      const retry = await call(h.base, 'POST', '/v1/orders', { headers: seller.headers, json: order });
      expect(retry.status).to.equal(202);
      expect(retry.body).to.include({ accepted: 0, duplicates: 1 });
      const ids = (retry.body.orders as { declarations: { id: string }[] }[])[0]!.declarations.map((d) => d.id).sort();
      expect(ids).to.deep.equal(cutOff.inserted.map((v) => v.id).sort());
      // Every attempt derives the same ids, so a late write can never store the order under other ids.
      expect(ids).to.deep.equal(
        (['CEB311', 'CEB411', 'CEB511', 'CEB621'] as const)
          .map((t) => declarationIdFor(order.ebpCode, order.orderNo, t))
          .sort(),
      );
      for (const id of ids)
        expect((await call(h.base, 'GET', `/v1/declarations/${id}`, { headers: seller.headers })).status).to.equal(200);
      expect(await h.count('declarations', { orderNo: order.orderNo })).to.equal(4);
    });

    it('answers 422 problem+json with index-prefixed JSON Pointer paths, English and Chinese messages, and stores nothing', async () => {
      const before = await declarations();
      const order = badLineTotal(12);
      const r = await call(h.base, 'POST', '/v1/orders', { headers: seller.headers, json: order });
      expect(isProblem(r, 422)).to.equal(true);
      const errors = r.body.errors as { path: string; code: string; message: string; messageZh: string }[];
      const mismatch = errors.find((e) => e.code === 'TOTAL_PRICE_MISMATCH');
      expect(mismatch, JSON.stringify(errors)).to.not.equal(undefined);
      expect(mismatch!.path).to.equal('/orders/0/items/0/totalPrice');
      expect(mismatch!.message).to.be.a('string').with.length.greaterThan(0);
      expect(mismatch!.messageZh).to.match(/[\u4e00-\u9fff]/);
      expect(await declarations()).to.equal(before);
    });

    it('names every schema violation of a shape-invalid order (missing and mistyped fields)', async () => {
      const order = validOrder(13) as Record<string, unknown>;
      delete order.orderNo;
      (order.items as Record<string, unknown>[])[0]!.price = 'cheap';
      const r = await call(h.base, 'POST', '/v1/orders', { headers: seller.headers, json: order });
      expect(isProblem(r, 422)).to.equal(true);
      const paths = (r.body.errors as { path: string }[]).map((e) => e.path);
      expect(paths).to.include.members(['/orders/0/orderNo', '/orders/0/items/0/price']);
    });

    it('rejects an order of an e-commerce company the seller may not declare for (path /orders/0/ebcCode)', async () => {
      const gdOnly = await createAccountWithKey(h.connection, {
        role: 'seller',
        id: 'seller-gd-only',
        name: 'GD only',
        ebcCodes: ['4401960E01'],
      });
      const hkOrder = generateValidOrder(14, { direction: 'import', sellerRegion: 'HK', tradeMode: '9610' });
      const r = await call(h.base, 'POST', '/v1/orders', { headers: gdOnly.headers, json: hkOrder });
      expect(isProblem(r, 422)).to.equal(true);
      expect(r.body.errors).to.deep.include.members([
        {
          path: '/orders/0/ebcCode',
          code: 'EBC_NOT_YOURS',
          message: 'this account may not declare for e-commerce company HK3496A101',
          messageZh: '本账户无权为电商企业 HK3496A101 申报',
        },
      ]);
      expect(await h.count('declarations', { orderNo: hkOrder.orderNo })).to.equal(0);
    });

    it('accepts a mapped source format with ?source= and rejects an unknown source by name', async () => {
      const record = JSON.parse(readFileSync('examples/sources/marketplace-flat.json', 'utf8')) as Record<
        string,
        unknown
      >;
      const r = await call(h.base, 'POST', '/v1/orders?source=marketplace-flat', {
        headers: seller.headers,
        json: record,
      });
      expect(r.status, r.text).to.equal(202);
      expect((r.body.orders as { orderNo: string }[])[0]!.orderNo).to.equal(record.order_id);
      const unknown = await call(h.base, 'POST', '/v1/orders?source=no-such-format', {
        headers: seller.headers,
        json: record,
      });
      expect(isProblem(unknown, 422)).to.equal(true);
      expect((unknown.body.errors as { code: string; path: string }[])[0]).to.include({
        code: 'SOURCE_UNKNOWN',
        path: '/orders/0',
      });
    });
  });

  describe('batches', () => {
    it('non-atomic mixed batch: 202 with every outcome, the rejected order with its errors, only valid orders stored', async () => {
      const batch = [validOrder(20), badLineTotal(21), validOrder(22)];
      const r = await call(h.base, 'POST', '/v1/orders', { headers: seller.headers, json: batch });
      expect(r.status).to.equal(202);
      expect(r.body).to.include({ accepted: 2, rejected: 1 });
      const orders = r.body.orders as { index: number; outcome: string; errors?: { path: string }[] }[];
      expect(orders.map((o) => o.outcome)).to.deep.equal(['accepted', 'rejected', 'accepted']);
      expect(orders[1]!.errors!.map((e) => e.path)).to.include('/orders/1/items/0/totalPrice');
      expect(await h.count('declarations', { orderNo: batch[1]!.orderNo as string })).to.equal(0);
      expect(await h.count('declarations', { orderNo: { $in: [batch[0]!.orderNo, batch[2]!.orderNo] } })).to.equal(8);
    });

    it('a batch where every order is invalid is 422 listing the errors of each order', async () => {
      const before = await declarations();
      const r = await call(h.base, 'POST', '/v1/orders', {
        headers: seller.headers,
        json: [badLineTotal(23), badLineTotal(24)],
      });
      expect(isProblem(r, 422)).to.equal(true);
      const paths = (r.body.errors as { path: string }[]).map((e) => e.path);
      expect(paths).to.include.members(['/orders/0/items/0/totalPrice', '/orders/1/items/0/totalPrice']);
      expect(await declarations()).to.equal(before);
    });

    it('atomic batch with one invalid order: 422 and NOTHING stored (not even the valid ones, nor their annual-limit use)', async () => {
      const before = await declarations();
      const usageBefore = await h.count('annual_usage');
      const batch = [validOrder(30), validOrder(31), badLineTotal(32)];
      const r = await call(h.base, 'POST', '/v1/orders?atomic=true', { headers: seller.headers, json: batch });
      expect(isProblem(r, 422)).to.equal(true);
      expect(r.body.detail).to.match(/Atomic batch rejected: 1 of 3/);
      expect((r.body.errors as { path: string }[]).map((e) => e.path)).to.include('/orders/2/items/0/totalPrice');
      expect(await declarations()).to.equal(before);
      expect(await h.count('annual_usage')).to.equal(usageBefore);
    });

    it('atomic batch of valid orders stores all of them', async () => {
      const batch = [validOrder(33), validOrder(34)];
      const r = await call(h.base, 'POST', '/v1/orders?atomic=true', { headers: seller.headers, json: batch });
      expect(r.status).to.equal(202);
      expect(r.body).to.include({ accepted: 2, atomic: true });
    });

    it('takes an NDJSON batch of 1,000 orders in one request', async function () {
      // Bound by the submission pipeline on FerretDB (25 s on an idle 2-core machine, ~60 s under parallel load).
      this.timeout(300000);
      const orders = Array.from({ length: 1000 }, (_, i) => generateValidOrder(10_000 + i));
      const body = orders.map((o) => JSON.stringify(o)).join('\n') + '\n';
      const started = Date.now();
      const r = await call(h.base, 'POST', '/v1/orders', {
        headers: seller.headers,
        body,
        type: 'application/x-ndjson',
      });
      const ms = Date.now() - started;
      expect(r.status, r.text.slice(0, 2000)).to.equal(202);
      expect(r.body.accepted).to.equal(1000);
      const outcomes = r.body.orders as { line: number; index: number }[];
      expect(outcomes[999]).to.include({ index: 999, line: 1000 });
      const expected = orders.reduce((n, o) => n + (o.direction === 'import' ? 4 : 3), 0);
      expect(await h.count('declarations', { orderNo: { $in: orders.map((o) => o.orderNo) } })).to.equal(expected);
      console.log(
        `      1,000-order NDJSON batch: ${ms} ms (${Math.round(1000 / (ms / 1000))} orders/s, ${expected} declarations)`,
      );
    });

    it('answers 413 for more than 1,000 orders (JSON array and NDJSON) and stores nothing', async () => {
      const before = await declarations();
      const order = validOrder(40);
      const array = await call(h.base, 'POST', '/v1/orders', {
        headers: seller.headers,
        json: Array.from({ length: 1001 }, () => order),
      });
      expect(isProblem(array, 413)).to.equal(true);
      const ndjson = await call(h.base, 'POST', '/v1/orders', {
        headers: seller.headers,
        body: `${JSON.stringify(order)}\n`.repeat(1001),
        type: 'application/x-ndjson',
      });
      expect(isProblem(ndjson, 413)).to.equal(true);
      expect(ndjson.body.detail).to.match(/line 1001/);
      expect(await declarations()).to.equal(before);
    });

    it('answers 413 for a body over the size limit', async () => {
      const r = await call(h.base, 'POST', '/v1/orders', {
        headers: seller.headers,
        body: 'x'.repeat(17 * 1024 * 1024),
        type: 'application/json',
      });
      expect(isProblem(r, 413)).to.equal(true);
    });
  });

  describe('malformed input', () => {
    it('malformed JSON is 400 naming the line and column, and stores nothing', async () => {
      const before = await declarations();
      const r = await call(h.base, 'POST', '/v1/orders', {
        headers: seller.headers,
        body: '{\n  "orderNo": "X",\n  "items": [1,,2]\n}',
        type: 'application/json',
      });
      expect(isProblem(r, 400)).to.equal(true);
      expect(r.body.detail).to.match(/line 3, column 15/);
      expect(await declarations()).to.equal(before);
    });

    it('a bad NDJSON line is 400 naming that line; no order of the batch is stored', async () => {
      const good = validOrder(50);
      const body = `${JSON.stringify(good)}\n\n${JSON.stringify(validOrder(51))}\n{"orderNo": oops}\n`;
      const r = await call(h.base, 'POST', '/v1/orders', {
        headers: seller.headers,
        body,
        type: 'application/x-ndjson',
      });
      expect(isProblem(r, 400)).to.equal(true);
      expect(r.body.detail).to.match(/NDJSON line 4 /);
      expect(await h.count('declarations', { orderNo: good.orderNo })).to.equal(0);
    });

    it('an empty batch, a JSON scalar and a wrong Content-Type are 400, 400 and 415', async () => {
      expect(isProblem(await call(h.base, 'POST', '/v1/orders', { headers: seller.headers, json: [] }), 400)).to.equal(
        true,
      );
      expect(isProblem(await call(h.base, 'POST', '/v1/orders', { headers: seller.headers, json: 42 }), 400)).to.equal(
        true,
      );
      const r = await call(h.base, 'POST', '/v1/orders', {
        headers: seller.headers,
        body: '<order/>',
        type: 'application/xml',
      });
      expect(isProblem(r, 415)).to.equal(true);
    });

    it('a bad query parameter is 400 naming it', async () => {
      const r = await call(h.base, 'POST', '/v1/orders?atomic=maybe', {
        headers: seller.headers,
        json: validOrder(52),
      });
      expect(isProblem(r, 400)).to.equal(true);
      expect((r.body.errors as { path: string }[])[0]!.path).to.equal('query:atomic');
      expect(await h.count('declarations', { orderNo: validOrder(52).orderNo })).to.equal(0);
    });
  });

  describe('Idempotency-Key', () => {
    it('same key and same body replays the first response (status, body, Location) without storing again', async () => {
      const order = validOrder(60);
      const headers = { ...seller.headers, 'Idempotency-Key': 'order-60-attempt' };
      const first = await call(h.base, 'POST', '/v1/orders', { headers, json: order });
      const second = await call(h.base, 'POST', '/v1/orders', { headers, json: order });
      expect(first.status).to.equal(202);
      expect(second.status).to.equal(202);
      expect(second.body).to.deep.equal(first.body);
      expect(second.headers.get('location')).to.equal(first.headers.get('location'));
      expect(second.headers.get('idempotent-replayed')).to.equal('true');
      expect(await h.count('declarations', { orderNo: order.orderNo })).to.equal(4);
      expect(
        await h.count('idempotency_keys', { sellerId: seller.account.id, key: 'order-60-attempt', status: 'done' }),
      ).to.equal(1);
    });

    it('replays a 422 too (a client error is the answer to that exact request)', async () => {
      const headers = { ...seller.headers, 'Idempotency-Key': 'bad-order-61' };
      const first = await call(h.base, 'POST', '/v1/orders', { headers, json: badLineTotal(61) });
      const second = await call(h.base, 'POST', '/v1/orders', { headers, json: badLineTotal(61) });
      expect(first.status).to.equal(422);
      expect(second.status).to.equal(422);
      expect(second.headers.get('idempotent-replayed')).to.equal('true');
      expect(second.body.errors).to.deep.equal(first.body.errors);
    });

    it('same key with a different body is 422 and stores nothing', async () => {
      const headers = { ...seller.headers, 'Idempotency-Key': 'reused-key-62' };
      await call(h.base, 'POST', '/v1/orders', { headers, json: validOrder(62) });
      const other = validOrder(63);
      const r = await call(h.base, 'POST', '/v1/orders', { headers, json: other });
      expect(isProblem(r, 422)).to.equal(true);
      expect(r.body.type).to.match(/idempotency-key-reused/);
      expect(await h.count('declarations', { orderNo: other.orderNo })).to.equal(0);
    });

    it('same key while the first request is still running is 409 with Retry-After', async () => {
      let release!: () => void;
      gate = new Promise((resolve) => (release = resolve));
      const headers = { ...seller.headers, 'Idempotency-Key': 'slow-64' };
      const order = validOrder(64);
      const first = call(h.base, 'POST', '/v1/orders', { headers, json: order });
      try {
        await new Promise((r) => setTimeout(r, 300));
        const second = await call(h.base, 'POST', '/v1/orders', { headers, json: order });
        expect(isProblem(second, 409)).to.equal(true);
        expect(second.headers.get('retry-after')).to.equal('1');
      } finally {
        gate = undefined;
        release();
      }
      expect((await first).status).to.equal(202);
      const third = await call(h.base, 'POST', '/v1/orders', { headers, json: order });
      expect(third.headers.get('idempotent-replayed')).to.equal('true');
    });

    it('a 500 releases the key: the retry with the same key is processed, not replayed', async () => {
      const headers = { ...seller.headers, 'Idempotency-Key': 'outage-68' };
      const order = validOrder(68);
      failNext = true;
      const failed = await call(h.base, 'POST', '/v1/orders', { headers, json: order });
      expect(isProblem(failed, 500)).to.equal(true);
      expect(failed.text).not.to.include('simulated database outage');
      const retry = await call(h.base, 'POST', '/v1/orders', { headers, json: order });
      expect(retry.status).to.equal(202);
      expect(retry.headers.get('idempotent-replayed')).to.equal(null);
    });

    it('keys are per seller: another seller may use the same key', async () => {
      const other = await createSeller(h.connection);
      const r1 = await call(h.base, 'POST', '/v1/orders', {
        headers: { ...seller.headers, 'Idempotency-Key': 'shared-key' },
        json: validOrder(65),
      });
      const r2 = await call(h.base, 'POST', '/v1/orders', {
        headers: { ...other.headers, 'Idempotency-Key': 'shared-key' },
        json: validOrder(66),
      });
      expect(r1.status).to.equal(202);
      expect(r2.status).to.equal(202);
      expect(r2.headers.get('idempotent-replayed')).to.equal(null);
    });

    it('expired records are swept (FerretDB has no TTL indexes)', async () => {
      await call(h.base, 'POST', '/v1/orders', {
        headers: { ...seller.headers, 'Idempotency-Key': 'to-expire' },
        json: validOrder(67),
      });
      const removed = await h.idempotency.sweep(new Date(Date.now() + 2 * 86_400_000));
      expect(removed).to.be.greaterThan(0);
      expect(await h.count('idempotency_keys', { key: 'to-expire' })).to.equal(0);
    });
  });
});
