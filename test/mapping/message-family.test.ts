import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExportOrder } from '../../src/domain/order';
import { parseShipment, parseSummaryApplication, type Shipment } from '../../src/domain/shipment';
import {
  buildFromInput,
  buildMessage,
  buildShipmentMessage,
  buildSummaryMessage,
  MessageBuildError,
} from '../../src/mapping/message-builder';
import { compileMappingText, DEFAULT_MAPPINGS_DIR, MappingFileError } from '../../src/mapping/message-mapper';
import { thrown } from '../support/thrown';
import { fixedContext, goldenOrder, goldenShipment, goldenSummary } from '../xml/support/golden-orders';

/**
 * The rest of the CEB family: messages built from a shipment or a summary application, and the order
 * messages that need a request (export cancel, export return and tally, waybill status).
 */
const buildError = (fn: () => unknown): MessageBuildError => thrown(MessageBuildError, fn);

const leaf = (xml: string, name: string): string[] =>
  [...xml.matchAll(new RegExp(`<ceb:${name}>([^<]*)</ceb:${name}>`, 'g'))].map((m) => m[1] as string);

const exportOrder = () => structuredClone(goldenOrder('export-9610')) as ExportOrder;

describe('the CEB family beyond the nine: inputs and requests', () => {
  it('numbers the parcels of a consolidation from 1 and lists their inventories (CEB607)', () => {
    const xml = buildShipmentMessage('CEB607', goldenShipment('export-consolidation'), fixedContext()).xml;
    expect(leaf(xml, 'gnum')).to.deep.equal(['1', '2', '3']);
    expect(leaf(xml, 'logisticsNo')).to.deep.equal(['BQX5345000000606', 'BQX5345000000607', 'BQX5345000000608']);
    expect(leaf(xml, 'invtNo')).to.deep.equal(['534520260000000606', '534520260000000607']);
    expect(leaf(xml, 'msgCount')).to.deep.equal(['1']);
  });

  it('writes a split document as message msgSeqNo of msgCount', () => {
    const shipment: Shipment = { ...goldenShipment('export-consolidation'), split: { msgCount: 3, msgSeqNo: 2 } };
    const xml = buildShipmentMessage('CEB509', shipment, fixedContext()).xml;
    expect([leaf(xml, 'msgCount')[0], leaf(xml, 'msgSeqNo')[0]]).to.deep.equal(['3', '2']);
    expect(leaf(xml, 'leaveTime')).to.deep.equal(['20261128183000']);
  });

  it('names the field a message needs that the shipment does not carry, with its path', () => {
    const { agent: _agent, grossWeight: _weight, ...rest } = goldenShipment('export-consolidation');
    const err = buildError(() => buildShipmentMessage('CEB607', rest, fixedContext()));
    expect(err.violations.map((v) => `${v.element} (${v.source})`)).to.deep.equal([
      'WayBill/WayBillHead/agentCode (shipment.agent.code)',
      'WayBill/WayBillHead/agentName (shipment.agent.name)',
      'WayBill/WayBillHead/grossWeight (shipment.grossWeight)',
    ]);
  });

  it('refuses the wrong kind of input, and a shipment of the wrong direction', () => {
    expect(buildError(() => buildMessage('CEB607', exportOrder(), fixedContext())).message).to.contain(
      'CEB607 is built from a shipment, not from a order',
    );
    expect(
      buildError(() => buildShipmentMessage('CEB711', goldenShipment('export-consolidation'), fixedContext())).message,
    ).to.contain('CEB711 needs an import shipment, got export');
    expect(buildError(() => buildSummaryMessage('CEB507', goldenSummary(), fixedContext())).message).to.contain(
      'CEB507 is built from a shipment, not from a summary',
    );
  });

  it('summarises a list of inventories, or a period with no list (CEB701)', () => {
    const listed = buildSummaryMessage('CEB701', goldenSummary(), fixedContext()).xml;
    expect(leaf(listed, 'invtNo')).to.deep.equal(['534520260000000606', '534520260000000607']);
    expect(listed).not.to.contain('startTime');
    const byPeriod = parseSummaryApplication({
      ...JSON.parse(
        readFileSync(join(process.cwd(), 'examples', 'summaries', 'monthly-summary-by-period.json'), 'utf8'),
      ),
    });
    if (!byPeriod.ok) throw new Error(JSON.stringify(byPeriod.issues));
    const xml = buildSummaryMessage('CEB701', byPeriod.value, fixedContext()).xml;
    expect([leaf(xml, 'startTime')[0], leaf(xml, 'endTime')[0]]).to.deep.equal(['20261101000000', '20261130235959']);
    expect(xml).not.to.contain('SummaryApplyList');
  });

  it('validates shipments and summaries at the boundary, listing every problem with its path', () => {
    const shipment = parseShipment({
      direction: 'export',
      shipmentNo: '',
      customsCode: '5345',
      logistics: { code: 'L', name: 'N' },
      transport: { trafMode: '44' },
      parcels: [{ logisticsNo: 'A' }, { logisticsNo: 'A' }],
    });
    expect(shipment.ok).to.equal(false);
    if (!shipment.ok)
      expect(shipment.issues.map((i) => i.path)).to.deep.equal([
        'shipmentNo',
        'transport.trafMode',
        'parcels[1].logisticsNo',
      ]);
    const empty = parseSummaryApplication({ ...goldenSummary(), inventories: [] });
    expect(empty.ok ? [] : empty.issues.map((i) => `${i.path}: ${i.message}`)).to.deep.equal([
      'inventories: needs at least one inventory, or a period',
    ]);
    const flag = parseSummaryApplication({ ...goldenSummary(), summaryFlag: '3' });
    expect(flag.ok ? [] : flag.issues.map((i) => i.path)).to.deep.equal(['summaryFlag']);
  });

  it('returns part of an export line with its legal quantities in proportion, or as the request states (CEB213)', () => {
    const base = fixedContext().exportReturn!;
    const xml = buildMessage('CEB213', exportOrder(), fixedContext()).xml;
    expect(leaf(xml, 'qty')).to.deep.equal(['2', '2']); // 2 of 4 tins, 2 of 2 scarves
    expect(leaf(xml, 'qty1')).to.deep.equal(['0.5', '2']); // 1 kg × 2/4, the whole line's 2
    const stated = buildMessage(
      'CEB213',
      exportOrder(),
      fixedContext({ exportReturn: { ...base, items: [{ gnum: 1, qty: 1, qty1: 0.26 }] } }),
    ).xml;
    expect(leaf(stated, 'qty1')).to.deep.equal(['0.26']);
    const tooMuch = buildError(() =>
      buildMessage('CEB213', exportOrder(), fixedContext({ exportReturn: { ...base, items: [{ gnum: 2, qty: 3 }] } })),
    );
    expect(tooMuch.violations[0]?.reason).to.contain('qty 3 exceeds the ordered 2');
  });

  it('falls back to the original waybill, and to the waybill number for billNo, as the specification asks', () => {
    const { logistics: _l, ...noNewWaybill } = fixedContext().exportReturn!;
    const xml = buildMessage('CEB213', exportOrder(), fixedContext({ exportReturn: noNewWaybill })).xml;
    expect(leaf(xml, 'logisticsNo')).to.deep.equal(['BQX5345000000606']);
    expect(leaf(xml, 'billNo')).to.deep.equal(['BQX5345000000606']);
  });

  it('needs the request a type declares: export return, logistics status, cancel', () => {
    for (const [type, order, ctx, text] of [
      ['CEB213', exportOrder(), { exportReturn: undefined }, 'an export return request'],
      ['CEB215', exportOrder(), { exportReturn: undefined }, 'an export return request'],
      ['CEB605', exportOrder(), { cancel: undefined }, 'a cancel request'],
      ['CEB513', goldenOrder('import-9610'), { logisticsStatus: undefined }, 'a logistics status'],
    ] as const) {
      const err = buildError(() => buildMessage(type, order, { ...fixedContext(), ...ctx }));
      expect(err.violations, type).to.have.length(1);
      expect(err.violations[0]?.reason, type).to.match(new RegExp(`^${type} needs ${text}`));
      expect(err.violations[0]?.source).to.match(/^ctx\./);
    }
  });

  it('the tally (CEB215) names the supervised site operator the return request must carry', () => {
    const { operator: _o, ...noOperator } = fixedContext().exportReturn!;
    const err = buildError(() => buildMessage('CEB215', exportOrder(), fixedContext({ exportReturn: noOperator })));
    expect(err.violations.map((v) => v.element)).to.deep.equal([
      'InvtRefundDetail/operatorCode',
      'InvtRefundDetail/operatorName',
    ]);
  });

  it('a receipt of payment (CEB403) needs the export order’s payment, and takes the order currency by default', () => {
    const xml = buildMessage('CEB403', exportOrder(), fixedContext()).xml;
    expect(leaf(xml, 'charge')).to.deep.equal(['1168']);
    expect(leaf(xml, 'currency')).to.deep.equal(['142']);
    expect(leaf(xml, 'accountingDate')).to.deep.equal(['20261128092512']);
    const { payment: _p, ...unpaid } = exportOrder();
    const err = buildError(() => buildFromInput('CEB403', { kind: 'order', order: unpaid }, fixedContext()));
    expect(err.violations.map((v) => v.element)).to.deep.equal([
      'Receipts/payName',
      'Receipts/charge',
      'Receipts/accountingDate',
    ]);
  });
});

describe('message mapping files: inputs and requests are checked at load', () => {
  function problems(file: string, edit: (m: Record<string, unknown>) => void): string {
    const m = JSON.parse(readFileSync(join(DEFAULT_MAPPINGS_DIR, file), 'utf8')) as Record<string, unknown>;
    edit(m);
    return thrown(MappingFileError, () => compileMappingText(file, JSON.stringify(m))).problems.join('\n');
  }

  it('refuses a path to another input, a request the file does not declare, and a type built from something else', () => {
    expect(
      problems('ceb607.json', (m) => {
        const head = ((m.content as Record<string, unknown>[])[0]!.content as Record<string, unknown>[])[0]!
          .content as Record<string, unknown>[];
        head[4]!.value = { path: 'order.customsCode' };
      }),
    ).to.contain('path "order.customsCode" reads order, but this message is built from a shipment');
    expect(
      problems('ceb605.json', (m) => {
        delete m.request;
      }),
    ).to.contain('reads the cancel request, but the file declares no request');
    expect(
      problems('ceb507.json', (m) => {
        m.input = 'order';
      }),
    ).to.contain('input: CEB507 is built from a shipment');
  });
});
