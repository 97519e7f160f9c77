import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBaygateOrderOrThrow, type BaygateOrder, type ExportOrder } from '../../src/domain/order';
import { shipmentSchema, summaryApplicationSchema } from '../../src/domain/shipment';
import {
  buildMessage,
  buildShipmentMessage,
  buildSummaryMessage,
  type BuildContext,
} from '../../src/mapping/message-builder';
import { messageDirection, messageTypesFor, MESSAGE_TYPES, type MessageType } from '../../src/domain/message-types';
import { generateValidOrder } from '../support/order-generator';
import { generateExportReturn, generateShipment, generateSummary } from '../support/shipment-generator';
import { fixedContext } from './support/golden-orders';
import {
  SIGNATURE_REQUIRED,
  validateBatch,
  withPlaceholderSignature,
  xmllintAvailable,
  xmllintC14n,
} from './support/xmllint';
import { officialCebAvailable, officialXsdPath, noteOfficialMissing } from './support/xsd-sequence';

/**
 * Every message built from every example input (orders, shipments, summaries) and from hundreds of
 * generated valid ones must validate against the official XSD. Documents are validated in one xmllint run
 * per message type.
 */

const RANDOM_ORDERS = 300;
const MAX_LENGTH_ORDERS = 20;

function typesFor(order: BaygateOrder): readonly MessageType[] {
  return messageTypesFor(order.direction, 'order');
}

/** Requests that fit any order: refund or return every line (or some), a delivery, a cancel. */
function contextFor(order: BaygateOrder, seed: number, maxLengths = false): BuildContext {
  const base = fixedContext({ guid: undefined, headGuid: undefined });
  return {
    ...base,
    refund: {
      invtNo: '514120261000000101',
      reason: `退货 #${seed} & <破损>`,
      items: order.items.map((i) => ({ gnum: i.gnum, qty: i.qty })),
    },
    ...(order.direction === 'export'
      ? { exportReturn: generateExportReturn(seed, order as ExportOrder, maxLengths) }
      : {}),
  };
}

describe('built messages against the official XSD', function () {
  this.timeout(120_000);
  const docs = new Map<MessageType, Array<{ name: string; xml: string }>>(MESSAGE_TYPES.map((t) => [t, []]));
  let official = false;

  before(function () {
    official = officialCebAvailable();
    if (!official) noteOfficialMissing();
    if (!xmllintAvailable()) throw new Error('xmllint (libxml2-utils) is required for the XSD tests');
  });

  it('builds every message type from every example order', () => {
    const dir = join(process.cwd(), 'examples', 'orders');
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files.length).to.be.greaterThan(0);
    for (const f of files) {
      const order = parseBaygateOrderOrThrow(JSON.parse(readFileSync(join(dir, f), 'utf8')));
      for (const type of typesFor(order)) {
        const { xml } = buildMessage(type, order, contextFor(order, 0));
        docs.get(type)?.push({ name: `${f}-${type}`, xml });
      }
    }
  });

  it('builds every shipment and summary message type from every example shipment and summary', () => {
    const ctx = fixedContext({ guid: undefined, headGuid: undefined });
    for (const [folder, kind] of [
      ['shipments', 'shipment'],
      ['summaries', 'summary'],
    ] as const) {
      const dir = join(process.cwd(), 'examples', folder);
      const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
      expect(files.length, folder).to.be.greaterThan(0);
      for (const f of files) {
        const json: unknown = JSON.parse(readFileSync(join(dir, f), 'utf8'));
        if (kind === 'summary') {
          const summary = summaryApplicationSchema.parse(json);
          docs.get('CEB701')?.push({ name: `${f}-CEB701`, xml: buildSummaryMessage('CEB701', summary, ctx).xml });
          continue;
        }
        const shipment = shipmentSchema.parse(json);
        for (const type of messageTypesFor(shipment.direction, 'shipment')) {
          const { xml } = buildShipmentMessage(type, shipment, ctx);
          docs.get(type)?.push({ name: `${f}-${type}`, xml });
        }
      }
    }
  });

  it(`builds every message type from ${RANDOM_ORDERS} generated orders and ${MAX_LENGTH_ORDERS} at maximum lengths`, () => {
    for (let seed = 1; seed <= RANDOM_ORDERS + MAX_LENGTH_ORDERS; seed++) {
      const maxLengths = seed > RANDOM_ORDERS;
      const order = generateValidOrder(seed, { maxLengths, direction: seed % 3 === 0 ? 'export' : 'import' });
      for (const type of typesFor(order)) {
        const { xml } = buildMessage(type, order, contextFor(order, seed, maxLengths));
        docs.get(type)?.push({ name: `seed${seed}-${type}`, xml });
      }
    }
    for (const t of MESSAGE_TYPES.filter((type) => messageTypesFor(messageDirection(type), 'order').includes(type)))
      expect(docs.get(t)?.length, t).to.be.greaterThan(50);
  });

  it('builds every shipment and summary message type from 60 generated shipments and summaries', () => {
    const ctx = fixedContext({ guid: undefined, headGuid: undefined });
    for (let seed = 1; seed <= 60; seed++) {
      const maxLengths = seed > 50;
      const direction = seed % 2 === 0 ? 'export' : 'import';
      const orders = Array.from({ length: 1 + (seed % 7) }, (_, i) =>
        generateValidOrder(seed * 100 + i, { direction, maxLengths }),
      );
      const shipment = generateShipment(seed, orders, { direction, maxLengths });
      for (const type of messageTypesFor(direction, 'shipment')) {
        const { xml } = buildShipmentMessage(type, shipment, ctx);
        docs.get(type)?.push({ name: `shipment${seed}-${type}`, xml });
      }
      const summary = generateSummary(seed, 1 + (seed % 5), maxLengths);
      docs.get('CEB701')?.push({ name: `summary${seed}-CEB701`, xml: buildSummaryMessage('CEB701', summary, ctx).xml });
    }
    for (const t of ['CEB507', 'CEB509', 'CEB607', 'CEB711', 'CEB701'] as const)
      expect(docs.get(t)?.length, t).to.be.greaterThan(25);
  });

  it('builds every message type from orders with the maximum of 99 lines', () => {
    for (const [seed, direction] of [
      [9001, 'import'],
      [9002, 'import'],
      [9003, 'export'],
    ] as const) {
      const order = generateValidOrder(seed, { direction, itemCount: 99 });
      expect(order.items).to.have.length(99);
      for (const type of typesFor(order)) {
        const { xml } = buildMessage(type, order, contextFor(order, seed));
        docs.get(type)?.push({ name: `seed${seed}-99-lines-${type}`, xml });
      }
    }
  });

  for (const type of MESSAGE_TYPES) {
    it(`${type}: every built message validates against the official schema`, function () {
      const batch = docs.get(type) ?? [];
      expect(batch.length).to.be.greaterThan(0);
      if (!official) return; // the note was printed once in before()
      const side = messageDirection(type);
      const prepared = SIGNATURE_REQUIRED.has(type)
        ? batch.map((d) => ({ ...d, xml: withPlaceholderSignature(d.xml) }))
        : batch;
      const failures = validateBatch(officialXsdPath(side), prepared);
      expect(failures.slice(0, 3), `${failures.length} of ${batch.length} ${type} messages fail the XSD`).to.deep.equal(
        [],
      );
    });
  }

  it('generated messages with XML-special characters are canonical too (xmllint --c14n identity)', () => {
    let checked = 0;
    for (const type of MESSAGE_TYPES) {
      for (const d of (docs.get(type) ?? []).filter((x) => /&amp;|&lt;|&gt;|"/.test(x.xml)).slice(0, 3)) {
        expect(xmllintC14n(d.xml), d.name).to.equal(d.xml);
        checked++;
      }
    }
    expect(checked).to.be.greaterThan(10);
  });
});
