import { expect } from 'chai';
import { createAdmin, createBroker, createCenter, createSeller, type TestKey } from '../support/accounts';
import { advance, getJson, seedDeclaration, startBrokerHarness, type BrokerHarness } from './broker-harness';

interface ListBody {
  items: {
    id: string;
    sellerId: string;
    orderNo: string;
    status: string;
    center: string;
    messageType: string;
    buyerIdMasked?: string;
    label: { zh: string; en: string };
    updatedAt: string;
  }[];
  nextCursor?: string;
  counts: Record<string, number>;
  total: number;
}

describe('broker routes: GET /v1/declarations and the timeline', function () {
  this.timeout(60000);
  let h: BrokerHarness;
  let sellerA: TestKey & { account: { id: string } };
  let sellerB: TestKey & { account: { id: string } };
  let broker: TestKey;
  let admin: TestKey;
  let center: TestKey;
  const ids = { a: [] as string[], b: [] as string[] };
  const buyers: { idNumber: string; name: string; phone: string; address: string }[] = [];
  let rejectedId = '';
  let receiptId = '';

  before(async () => {
    h = await startBrokerHarness('broker_routes');
    sellerA = await createSeller(h.mongo);
    sellerB = await createSeller(h.mongo);
    broker = await createBroker(h.mongo, [sellerA.account.id]);
    admin = await createAdmin(h.mongo);
    center = await createCenter(h.mongo, 'GD');
    // Seller A: 5 declarations over two centers and two types; seller B: 3.
    for (let i = 0; i < 5; i++) {
      const { view, buyer } = await seedDeclaration(h.declarations, {
        sellerId: sellerA.account.id,
        center: i % 2 === 0 ? 'GD' : 'HK',
        messageType: i < 3 ? 'CEB311' : 'CEB621',
        orderNo: `BRK-A-${i}`,
      });
      ids.a.push(view.id);
      buyers.push(buyer);
    }
    for (let i = 0; i < 3; i++) {
      const { view, buyer } = await seedDeclaration(h.declarations, {
        sellerId: sellerB.account.id,
        center: 'GD',
        orderNo: `BRK-B-${i}`,
      });
      ids.b.push(view.id);
      buyers.push(buyer);
    }
    await advance(h.declarations, ids.a[0]!, ['signed', 'queued']);
    // A customs rejection that came from a signed receipt.
    const { receipt } = await h.receipts.insert({
      messageType: 'CEB312',
      digest: 'a'.repeat(64),
      raw: '<CEB312Message/>',
      center: 'GD',
      signer: { subject: 'CN=Guangdong clearance center', serialHex: '01a2b3', trustList: 'centers' },
      returns: [
        { guid: 'X', status: '100', returnInfo: '订单重复申报 duplicate order', returnTime: '20260101120000000' },
      ],
      receivedAt: new Date(),
      via: 'amqp',
    });
    receiptId = receipt.id;
    rejectedId = ids.a[1]!;
    await h.receipts.markMatched(receipt.id, [rejectedId]);
    await advance(h.declarations, rejectedId, ['signed', 'queued', '100'], {
      receiptId: receipt.id,
      signer: { subject: 'CN=Guangdong clearance center', serialHex: '01a2b3' },
      info: '订单重复申报 duplicate order',
    });
  });
  after(() => h?.close());

  const list = (key: TestKey, query = '') => getJson<ListBody>(`${h.base}/v1/declarations${query}`, key.headers);

  it('an admin sees every declaration, newest first, with counts per status that add up to the total', async () => {
    const res = await list(admin, '?limit=200');
    expect(res.status).to.equal(200);
    expect(res.body.items.map((d) => d.id)).to.have.members([...ids.a, ...ids.b]);
    expect(res.body.total).to.equal(8);
    expect(res.body.counts).to.deep.equal({ accepted: 6, queued: 1, '100': 1 });
    const created = res.body.items.map((d) => d.orderNo);
    expect(created[created.length - 1]).to.equal('BRK-A-0'); // inserted first → listed last
  });

  it('filters by status, center, message type, order number and time range; counts follow the filter', async () => {
    const byStatus = await list(admin, '?status=100,queued');
    expect(byStatus.body.items.map((d) => d.id)).to.have.members([ids.a[0], rejectedId]);
    expect(byStatus.body.counts).to.deep.equal({ queued: 1, '100': 1 });
    const byCenter = await list(admin, '?center=HK');
    expect(byCenter.body.items.every((d) => d.center === 'HK')).to.equal(true);
    expect(byCenter.body.total).to.equal(2);
    const byType = await list(admin, '?messageType=CEB621');
    expect(byType.body.items.map((d) => d.orderNo)).to.have.members(['BRK-A-3', 'BRK-A-4']);
    const byOrder = await list(admin, '?orderNo=BRK-B-1');
    expect(byOrder.body.items).to.have.length(1);
    expect(byOrder.body.items[0]!.sellerId).to.equal(sellerB.account.id);
    const future = await list(admin, `?from=${encodeURIComponent(new Date(Date.now() + 3600_000).toISOString())}`);
    expect(future.body.total).to.equal(0);
    expect(future.body.items).to.deep.equal([]);
    const past = await list(
      admin,
      `?from=2020-01-01&to=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`,
    );
    expect(past.body.total).to.equal(8);
  });

  it('pages with limit and an opaque cursor (nextCursor and a Link header) without repeating or losing a row', async () => {
    const seen: string[] = [];
    let query = '?limit=3';
    for (let page = 0; page < 10; page++) {
      const res = await list(admin, query);
      expect(res.body.items.length).to.be.at.most(3);
      seen.push(...res.body.items.map((d) => d.id));
      if (!res.body.nextCursor) {
        expect(res.headers.get('link')).to.equal(null);
        break;
      }
      const link = res.headers.get('link');
      expect(link).to.match(/^<\/v1\/declarations\?[^>]*cursor=[^>]+>; rel="next"$/);
      query = link!.slice(link!.indexOf('?'), link!.indexOf('>'));
    }
    expect(seen).to.have.length(8);
    expect(new Set(seen).size).to.equal(8);
  });

  it('answers a well-formed cursor it never issued with 400 problem+json naming the cursor', async () => {
    const res = await list(admin, '?cursor=bm90LWEtY3Vyc29y');
    expect(res.status).to.equal(400);
    expect(res.headers.get('content-type')).to.match(/^application\/problem\+json/);
    expect(JSON.stringify(res.body)).to.contain('cursor');
  });

  it('a broker sees only the sellers it serves, and is refused a seller it does not serve', async () => {
    const res = await list(broker, '?limit=200');
    expect(res.body.items.map((d) => d.id)).to.have.members(ids.a);
    expect(res.body.total).to.equal(5);
    const foreign = await list(broker, `?seller=${sellerB.account.id}`);
    expect(foreign.status).to.equal(403);
    expect(foreign.headers.get('content-type')).to.match(/^application\/problem\+json/);
    const byOrder = await list(broker, '?orderNo=BRK-B-0');
    expect(byOrder.body.items).to.deep.equal([]);
  });

  it("a seller sees its own declarations only; another seller's declaration and timeline answer 404", async () => {
    const own = await list(sellerB, '?limit=200');
    expect(own.body.items.map((d) => d.id)).to.have.members(ids.b);
    const otherTimeline = await getJson(`${h.base}/v1/declarations/${ids.a[0]}/timeline`, sellerB.headers);
    expect(otherTimeline.status).to.equal(404);
    const brokerForeign = await getJson(`${h.base}/v1/declarations/${ids.b[0]}/timeline`, broker.headers);
    expect(brokerForeign.status).to.equal(404);
    const missing = await getJson(
      `${h.base}/v1/declarations/00000000-0000-4000-8000-000000000000/timeline`,
      admin.headers,
    );
    expect(missing.status).to.equal(404);
    expect(otherTimeline.body).to.deep.include({ detail: 'No such declaration.' });
    expect(missing.body).to.deep.include({ detail: 'No such declaration.' });
  });

  it('answers 401 without a key and 403 for a clearance-center key', async () => {
    expect((await getJson(`${h.base}/v1/declarations`)).status).to.equal(401);
    expect((await getJson(`${h.base}/v1/declarations/${ids.a[0]}/timeline`)).status).to.equal(401);
    expect((await list(center)).status).to.equal(403);
  });

  it('rejects bad query parameters with 400 problem+json naming each parameter', async () => {
    const res = await getJson<{ errors: { path: string }[]; detail: string }>(
      `${h.base}/v1/declarations?limit=0&status=bogus&from=yesterday&messageType=CEB999`,
      admin.headers,
    );
    expect(res.status).to.equal(400);
    expect(res.headers.get('content-type')).to.match(/^application\/problem\+json/);
    expect(res.body.errors.map((e) => e.path)).to.include.members([
      'query.limit',
      'query.status.0',
      'query.from',
      'query.messageType.0',
    ]);
    const reversed = await getJson(`${h.base}/v1/declarations?from=2026-02-01&to=2026-01-01`, admin.headers);
    expect(reversed.status).to.equal(400);
  });

  it('the timeline lists every step with its receipt: id, type, signer subject and serial, returnInfo', async () => {
    const res = await getJson<{
      declaration: { id: string; status: string; label: { zh: string } };
      steps: {
        status: string;
        source: string;
        receipt?: {
          id: string;
          type: string;
          signer?: { subject: string; serialHex: string };
          returnInfo?: string;
          returnStatus?: string;
        };
      }[];
    }>(`${h.base}/v1/declarations/${rejectedId}/timeline`, broker.headers);
    expect(res.status).to.equal(200);
    expect(res.body.declaration).to.include({ id: rejectedId, status: '100' });
    expect(res.body.declaration.label.zh).to.equal('海关退单');
    expect(res.body.steps.map((s) => s.status)).to.deep.equal(['accepted', 'signed', 'queued', '100']);
    const last = res.body.steps[3]!;
    expect(last.receipt).to.deep.include({
      id: receiptId,
      type: 'CEB312',
      returnInfo: '订单重复申报 duplicate order',
      returnStatus: '100',
    });
    expect(last.receipt!.signer).to.deep.include({ subject: 'CN=Guangdong clearance center', serialHex: '01a2b3' });
    expect(res.body.steps[0]!.receipt).to.equal(undefined);
  });

  it("no broker response carries a buyer's clear ID number, name, phone or address; the ID shows masked", async () => {
    const bodies = [
      (await list(admin, '?limit=200')).text,
      (await list(broker, '?limit=200')).text,
      ...(await Promise.all(
        [...ids.a, ...ids.b].map(
          async (id) => (await getJson(`${h.base}/v1/declarations/${id}/timeline`, admin.headers)).text,
        ),
      )),
    ];
    const all = bodies.join('\n');
    for (const b of buyers) {
      for (const secret of [b.idNumber, b.name, b.phone, b.address]) expect(all).to.not.include(secret);
    }
    const one = await list(admin, '?orderNo=BRK-A-2');
    const masked = one.body.items[0]!.buyerIdMasked!;
    const clear = buyers[2]!.idNumber;
    expect(masked).to.equal(`${clear.slice(0, 4)}${'*'.repeat(10)}${clear.slice(-4)}`);
  });
});
