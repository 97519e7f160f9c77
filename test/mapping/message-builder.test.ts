import { expect } from 'chai';
import type { BaygateOrder, ImportOrder } from '../../src/domain/order';
import { buildMessage, MessageBuildError, type BuildContext } from '../../src/mapping/message-builder';
import { fixedContext, FIXED_GUID, FIXED_HEAD_GUID, goldenOrder, TEST_SENDER } from '../xml/support/golden-orders';

function buildError(fn: () => unknown): MessageBuildError {
  try {
    fn();
  } catch (err) {
    if (err instanceof MessageBuildError) return err;
    throw err;
  }
  throw new Error('expected a MessageBuildError');
}

function importOrder(): ImportOrder {
  return structuredClone(goldenOrder('import-9610')) as ImportOrder;
}

function leaf(xml: string, name: string): string[] {
  return [...xml.matchAll(new RegExp(`<ceb:${name}>([^<]*)</ceb:${name}>`, 'g'))].map((m) => m[1] as string);
}

describe('buildMessage', () => {
  it('writes the root with the ceb and xsi namespaces, guid and version 1.0, and the sender as BaseTransfer', () => {
    const built = buildMessage('CEB311', importOrder(), fixedContext());
    expect(
      built.xml.startsWith(
        `<ceb:CEB311Message xmlns:ceb="http://www.chinaport.gov.cn/ceb" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" guid="${FIXED_GUID}" version="1.0">`,
      ),
    ).to.equal(true);
    expect(built.xml).to.contain(
      `<ceb:BaseTransfer><ceb:copCode>${TEST_SENDER.copCode}</ceb:copCode><ceb:copName>${TEST_SENDER.copName}</ceb:copName><ceb:dxpMode>DXP</ceb:dxpMode><ceb:dxpId>${TEST_SENDER.dxpId}</ceb:dxpId></ceb:BaseTransfer></ceb:CEB311Message>`,
    );
    expect(built).to.include({ type: 'CEB311', guid: FIXED_GUID, headGuid: FIXED_HEAD_GUID });
    expect(built.xml).not.to.match(/^<\?xml/);
    expect(built.xml).not.to.match(/\/>/);
  });

  it('gives the message and its head fresh, distinct, upper-case 36-character guids by default', () => {
    const a = buildMessage('CEB411', importOrder(), { sender: TEST_SENDER });
    const b = buildMessage('CEB411', importOrder(), { sender: TEST_SENDER });
    for (const g of [a.guid, a.headGuid, b.guid])
      expect(g).to.match(/^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
    expect(new Set([a.guid, a.headGuid, b.guid, b.headGuid]).size).to.equal(4);
    expect(leaf(a.xml, 'guid')).to.deep.equal([a.headGuid]);
  });

  it('refuses a lower-case or malformed guid from the caller', () => {
    const err = buildError(() =>
      buildMessage('CEB411', importOrder(), fixedContext({ guid: FIXED_GUID.toLowerCase() })),
    );
    expect(err.violations[0]).to.include({ element: '@guid', source: 'ctx.guid' });
  });

  it('stamps appTime in China time from ctx.now when the order has none, and CEB621 declTime from it', () => {
    const order = importOrder();
    delete (order as Partial<ImportOrder>).appTime;
    delete (order as Partial<ImportOrder>).declTime;
    const now = new Date('2026-12-31T17:30:05Z'); // 2027-01-01 01:30:05 in Beijing
    const xml = buildMessage('CEB621', order, fixedContext({ now })).xml;
    expect(leaf(xml, 'appTime')).to.deep.equal(['20270101013005']);
    expect(leaf(xml, 'declTime')).to.deep.equal(['20270101']);
  });

  it('uses the order appTime when present and honours appType/appStatus options', () => {
    const xml = buildMessage('CEB511', importOrder(), fixedContext({ options: { appType: '2', appStatus: '1' } })).xml;
    expect(leaf(xml, 'appTime')).to.deep.equal(['20261128103000']);
    expect(leaf(xml, 'appType')).to.deep.equal(['2']);
    expect(leaf(xml, 'appStatus')).to.deep.equal(['1']);
  });

  it('writes decimals without exponent or float noise and gnum as integers', () => {
    const order = importOrder();
    const item = order.items[0] as ImportOrder['items'][number];
    item.qty1 = 0.1 + 0.2; // 0.30000000000000004
    item.price = 1e-5;
    item.totalPrice = 12345678901234;
    const xml = buildMessage('CEB621', order, fixedContext()).xml;
    expect(leaf(xml, 'qty1')[0]).to.equal('0.3');
    expect(leaf(xml, 'price')[0]).to.equal('0.00001');
    expect(leaf(xml, 'totalPrice')[0]).to.equal('12345678901234');
    expect(leaf(xml, 'gnum')).to.deep.equal(['1', '2']);
  });

  it('chooses the CEB621 mapping by trade mode: transport fields for 9610, account book for 1210', () => {
    const direct = buildMessage('CEB621', goldenOrder('import-9610'), fixedContext()).xml;
    const bonded = buildMessage('CEB621', goldenOrder('import-1210'), fixedContext()).xml;
    expect(leaf(direct, 'tradeMode')).to.deep.equal(['9610']);
    expect(leaf(direct, 'billNo')).to.have.length(1);
    expect(leaf(direct, 'emsNo')).to.deep.equal([]);
    expect(leaf(bonded, 'tradeMode')).to.deep.equal(['1210']);
    expect(leaf(bonded, 'emsNo')).to.have.length(1);
    expect(leaf(bonded, 'itemRecordNo')).to.have.length(2);
    expect(leaf(bonded, 'trafNo')).to.deep.equal([]);
    expect(leaf(bonded, 'country')[0]).to.equal('142');
  });

  it('reports every violation at once, naming element, source and reason, and returns no XML', () => {
    const order = importOrder() as ImportOrder & Record<string, unknown>;
    order.orderNo = 'X'.repeat(61);
    order.buyerName = '';
    (order.items[1] as Record<string, unknown>).qty = 1.234567;
    order.consigneeAddress = 'bad\u0001char';
    (order.items[0] as Record<string, unknown>).gcode = '33049900';
    const err = buildError(() => buildMessage('CEB621', order as BaygateOrder, fixedContext()));
    const lines = err.violations.map((v) => `${v.element} (${v.source}): ${v.reason}`);
    expect(lines).to.include.members([
      'Inventory/InventoryHead/orderNo (order.orderNo): must be at most 60 characters, got 61',
      'Inventory/InventoryHead/buyerName (order.buyerName): is required but has no value',
      'Inventory/InventoryList[2]/qty (order.items[1].qty): 1.234567 has more than 5 fraction digits',
      'Inventory/InventoryHead/consigneeAddress (order.consigneeAddress): contains a character XML cannot carry (U+0001 at 3)',
      'Inventory/InventoryList[1]/gcode (order.items[0].gcode): must be exactly 10 characters, got 8 ("33049900")',
    ]);
    expect(err.message).to.contain('cannot build CEB621');
  });

  it('counts lengths in characters, not UTF-16 units', () => {
    const order = importOrder();
    order.buyerName = '𠀀'.repeat(60); // 60 characters outside the BMP = 120 UTF-16 units
    expect(() => buildMessage('CEB311', order, fixedContext())).not.to.throw();
    order.buyerName = '𠀀'.repeat(61);
    expect(buildError(() => buildMessage('CEB311', order, fixedContext())).violations[0]?.reason).to.equal(
      'must be at most 60 characters, got 61',
    );
  });

  it('refuses an import message for an export order and the reverse', () => {
    const exp = goldenOrder('export-9610');
    expect(buildError(() => buildMessage('CEB311', exp, fixedContext())).violations[0]?.reason).to.equal(
      'CEB311 needs an import order, got export',
    );
    expect(buildError(() => buildMessage('CEB603', importOrder(), fixedContext())).violations[0]?.reason).to.equal(
      'CEB603 needs an export order, got import',
    );
  });

  it('needs the cancel request for CEB623 and takes invtNo, reason and appTime from it', () => {
    const ctx: BuildContext = fixedContext();
    delete ctx.cancel;
    expect(buildError(() => buildMessage('CEB623', importOrder(), ctx)).violations[0]?.source).to.equal('ctx.cancel');
    const xml = buildMessage(
      'CEB623',
      importOrder(),
      fixedContext({
        cancel: {
          invtNo: '514120261000000777',
          reason: '取消',
          appTime: '20261201080000',
          preNo: 'B20261201000000001',
        },
      }),
    ).xml;
    expect(leaf(xml, 'invtNo')).to.deep.equal(['514120261000000777']);
    expect(leaf(xml, 'reason')).to.deep.equal(['取消']);
    expect(leaf(xml, 'appTime')).to.deep.equal(['20261201080000']);
    expect(leaf(xml, 'preNo')).to.deep.equal(['B20261201000000001']);
    expect(leaf(xml, 'copNo')).to.deep.equal(['GZ20261128000101']);
  });

  it('CEB625 returns every line in full by default, or the requested lines joined with their order lines', () => {
    const order = importOrder();
    const all = buildMessage(
      'CEB625',
      order,
      fixedContext({ refund: { invtNo: '514120261000000101', reason: '退货' } }),
    ).xml;
    expect(leaf(all, 'gnum')).to.deep.equal(['1', '2']);
    expect(leaf(all, 'qty')).to.deep.equal(['1', '2']);
    const part = buildMessage(
      'CEB625',
      order,
      fixedContext({ refund: { invtNo: '514120261000000101', reason: '退货', items: [{ gnum: 2, qty: 1 }] } }),
    ).xml;
    expect(leaf(part, 'gnum')).to.deep.equal(['2']);
    expect(leaf(part, 'gcode')).to.deep.equal([order.items[1]?.gcode]);
    expect(leaf(part, 'unit')).to.deep.equal([order.items[1]?.unit]);
  });

  it('CEB625 refuses a line the order does not have or more than was ordered', () => {
    const order = importOrder();
    const unknown = buildError(() =>
      buildMessage(
        'CEB625',
        order,
        fixedContext({ refund: { invtNo: '1', reason: 'r', items: [{ gnum: 9, qty: 1 }] } }),
      ),
    );
    expect(unknown.violations[0]).to.deep.include({ element: 'InvtRefund/InvtRefundList', source: 'fn refundLines' });
    expect(unknown.violations[0]?.reason).to.contain('gnum 9 is not a line of order');
    const tooMany = buildError(() =>
      buildMessage(
        'CEB625',
        order,
        fixedContext({ refund: { invtNo: '1', reason: 'r', items: [{ gnum: 1, qty: 5 }] } }),
      ),
    );
    expect(tooMany.violations[0]?.reason).to.contain('exceeds the ordered 1');
  });

  it('CEB511 summarises the goods when the waybill gives no goodsInfo', () => {
    const order = importOrder();
    delete order.logistics.goodsInfo;
    const xml = buildMessage('CEB511', order, fixedContext()).xml;
    expect(leaf(xml, 'goodsInfo')).to.deep.equal(['SK-II 护肤精华露 230ml*1;肌研极润洁面乳 100g*2']);
  });

  it('leaves out optional elements that have no value instead of writing them empty', () => {
    const order = importOrder();
    delete order.consigneeDistrict;
    delete order.batchNumbers;
    const xml = buildMessage('CEB311', order, fixedContext()).xml;
    expect(xml).not.to.contain('consigneeDistrict');
    expect(xml).not.to.contain('batchNumbers');
    expect(xml).not.to.match(/<ceb:(\w+)><\/ceb:\1>/);
  });
});
