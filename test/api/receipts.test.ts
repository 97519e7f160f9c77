import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect } from 'chai';
import { identityFiles } from '../../src/centers/identities';
import { buildReceipt } from '../../src/centers/simulator/receipt-builder';
import { SoftwareXmlSigner } from '../../src/signing/signers/software';
import { loadTrustLists } from '../../src/signing/trust';
import { trustListCheck } from '../../src/signing/trust-check';
import { createAdmin, createBroker, createCenter, createSeller, type TestKey } from '../support/accounts';
import { generateValidOrder } from '../support/order-generator';
import { call, isProblem, startApiHarness, type ApiHarness } from './harness';

describe('POST /v1/receipts', function () {
  this.timeout(60000);
  let h: ApiHarness;
  let seller: TestKey;
  let center: TestKey;
  let centerSigner: SoftwareXmlSigner;
  let sellerSigner: SoftwareXmlSigner;

  async function signerFor(identity: string): Promise<SoftwareXmlSigner> {
    const files = identityFiles(identity);
    return SoftwareXmlSigner.fromFiles(
      { keyPath: files.keyPath, certPath: files.certPath },
      { trust: trustListCheck(loadTrustLists(resolve('certs-dev/trust-lists'))) },
    );
  }

  /** A CEB312 order receipt for an order, signed by `signer` (matched by orderNo + ebpCode). */
  async function orderReceipt(
    order: { orderNo: string; ebpCode: string; ebcCode: string },
    status: string,
    signer = centerSigner,
  ): Promise<string> {
    const manifest = {
      type: 'CEB311' as const,
      guid: randomUUID().toUpperCase(),
      headGuid: randomUUID().toUpperCase(),
      head: { orderNo: order.orderNo, ebpCode: order.ebpCode, ebcCode: order.ebcCode },
      lines: [],
    };
    const built = buildReceipt(manifest, [{ status, info: '电子口岸已暂存', at: new Date() }]);
    return signer.sign(built.xml);
  }

  const post = (body: string, key: TestKey = center, type = 'application/xml') =>
    call(h.base, 'POST', '/v1/receipts', { headers: key.headers, body, type });

  before(async () => {
    h = await startApiHarness('api_receipts');
    seller = await createSeller(h.connection);
    center = await createCenter(h.connection, 'GD');
    centerSigner = await signerFor('center-gd');
    sellerSigner = await signerFor('seller-gd');
  });
  after(() => h?.close());

  it('401 without a key; 403 for sellers, brokers and admins; nothing stored', async () => {
    const order = generateValidOrder(1, { direction: 'import' });
    const xml = await orderReceipt(order, '120');
    expect(isProblem(await call(h.base, 'POST', '/v1/receipts', { body: xml, type: 'application/xml' }), 401)).to.equal(
      true,
    );
    for (const key of [
      seller,
      await createBroker(h.connection, [seller.account.id]),
      await createAdmin(h.connection),
    ]) {
      expect(isProblem(await post(xml, key), 403)).to.equal(true);
    }
    expect(await h.count('receipts')).to.equal(0);
  });

  it('202: applies a signed receipt to the matching declaration and reports the outcome per return', async () => {
    // A Guangdong order: routed to GD or GD2, whose receipts the center-gd certificate signs.
    const order = generateValidOrder(2, { direction: 'import', tradeMode: '9610', sellerRegion: 'GD' });
    const submitted = await call(h.base, 'POST', '/v1/orders', { headers: seller.headers, json: order });
    const ceb311 = (
      submitted.body.orders as { declarations: { id: string; messageType: string; center: string }[] }[]
    )[0]!.declarations.find((d) => d.messageType === 'CEB311')!;
    // The center the declaration was routed to answers it (GD and GD2 share the center-gd certificate).
    const routedTo = ceb311.center === 'GD' ? center : await createCenter(h.connection, ceb311.center);
    const xml = await orderReceipt(order, '120');
    const r = await post(xml, routedTo);
    expect(r.status, r.text).to.equal(202);
    expect(r.body).to.include({ receiptType: 'CEB312', duplicate: false, unknown: false });
    expect(r.body.returns).to.deep.equal([
      {
        guid: (r.body.returns as { guid: string }[])[0]!.guid,
        status: '120',
        declarationId: ceb311.id,
        outcome: 'applied',
      },
    ]);
    const read = await call(h.base, 'GET', `/v1/declarations/${ceb311.id}`, { headers: seller.headers });
    expect(read.body.status).to.equal('120');

    // The same receipt again (a center's retry) is a 200 no-op.
    const again = await post(xml, routedTo);
    expect(again.status).to.equal(200);
    expect(again.body).to.include({ duplicate: true, receiptId: r.body.receiptId });
    expect((again.body.returns as { outcome: string }[])[0]!.outcome).to.equal('duplicate');
    expect(await h.count('receipts')).to.equal(1);
  });

  it('202 with outcome "unknown" for a receipt about no known declaration (kept for brokers)', async () => {
    const r = await post(
      await orderReceipt({ orderNo: 'NO-SUCH-ORDER-1', ebpCode: '4401961A2B', ebcCode: '4401960E01' }, '2'),
    );
    expect(r.status).to.equal(202);
    expect(r.body.unknown).to.equal(true);
    expect((r.body.returns as { outcome: string; declarationId: unknown }[])[0]).to.include({
      outcome: 'unknown',
      declarationId: null,
    });
  });

  it('422 problem+json with the code for a tampered receipt; nothing stored, nothing moved', async () => {
    const order = generateValidOrder(3, { direction: 'import' });
    await call(h.base, 'POST', '/v1/orders', { headers: seller.headers, json: order });
    const before = await h.count('receipts');
    const tampered = (await orderReceipt(order, '120')).replace('120</', '399</');
    const r = await post(tampered);
    expect(isProblem(r, 422)).to.equal(true);
    expect(r.body.code)
      .to.be.a('string')
      .and.match(/^[A-Z_]+$/);
    expect((r.body.errors as { code: string }[])[0]!.code).to.equal(r.body.code);
    expect(await h.count('receipts')).to.equal(before);
    const listed = await call(h.base, 'GET', `/v1/orders/${order.orderNo}/declarations`, { headers: seller.headers });
    expect((listed.body.items as { status: string }[]).every((d) => d.status === 'accepted')).to.equal(true);
  });

  it("422 SIGNER_NOT_A_CENTER for a receipt signed by a trusted certificate that is not a center's", async () => {
    const r = await post(
      await orderReceipt({ orderNo: 'X-1', ebpCode: '4401961A2B', ebcCode: '4401960E01' }, '120', sellerSigner),
    );
    expect(isProblem(r, 422)).to.equal(true);
    expect(r.body.code).to.equal('SIGNER_NOT_A_CENTER');
  });

  it('422 for hostile XML (DOCTYPE / external entity)', async () => {
    const r = await post(readFileSync('test/fixtures/receipts/hostile-doctype-xxe.xml', 'utf8'));
    expect(isProblem(r, 422)).to.equal(true);
  });

  it('415 for a non-XML Content-Type and 413 for a body over 1 MiB', async () => {
    expect(isProblem(await post('{"receipt":1}', center, 'application/json'), 415)).to.equal(true);
    expect(isProblem(await post('<a>' + 'x'.repeat(1024 * 1024) + '</a>'), 413)).to.equal(true);
  });
});
