import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { CommandStartedEvent } from 'mongodb';
import { buildReceipt } from '../../src/centers/simulator/receipt-builder';
import type { ManifestView } from '../../src/centers/simulator/manifest';
import type { ImportOrder } from '../../src/domain/order';
import { ReceiptIngestor } from '../../src/pipeline/receipts';
import type { Stores } from '../../src/store/index';
import { silentLogger } from '../support/logger';
import { fakeManifest, importOrder, newDeclaration, openStores } from '../store/store-fixtures';

/**
 * A receipt may answer up to a hundred manifests. Its returns are looked up together, so its cost in
 * database reads does not grow with the number of returns (a receipt with a hundred returns once took over
 * 20 s: docs/CHAOS.md, finding 12), and every look-up of a declaration is by an indexed field.
 */
describe('receipt ingestion: the returns of one receipt are matched together', function () {
  this.timeout(60000);
  let stores: Stores;
  let close: () => Promise<void>;
  const finds: string[] = [];
  /** Reads of declarations by anything else than an indexed field (the guid, the id, the order number). */
  const unindexed: string[] = [];

  before(async () => {
    let connection;
    ({ stores, close, connection } = await openStores('pipeline_receipt_lookups', undefined, {
      monitorCommands: true,
    }));
    const client = connection.getClient();
    client.on('commandStarted', (e: CommandStartedEvent) => {
      if (e.commandName !== 'find') return;
      finds.push(String(e.command.find));
      const filter = (e.command.filter ?? {}) as Record<string, unknown>;
      const indexed = ['messageGuid', '_id', 'orderNo'];
      if (e.command.find === 'declarations' && !Object.keys(filter).some((k) => indexed.includes(k)))
        unindexed.push(JSON.stringify(filter));
    });
  });
  after(async () => close?.());

  const SENDER = { via: 'http', center: 'center-gz', authenticated: true } as const;

  function ingestor(): ReceiptIngestor {
    // The signature is checked elsewhere (test/signing, test/api/receipts); here the bytes are taken as signed.
    return new ReceiptIngestor({
      declarations: stores.declarations,
      receipts: stores.receipts,
      verify: async (xml) =>
        ({ signedXml: xml, signer: { subject: 'CN=center-gd', serialHex: '01', trustedBy: 'test' } }) as never,
      // The declarations of these tests go to center-gz (store fixtures), whose certificate this is.
      centersSignedBy: () => ['center-gz'],
      trustClaimedCenter: false,
      logger: silentLogger(),
    });
  }

  function view(order: ImportOrder, guid: string): ManifestView {
    return {
      type: 'CEB311',
      guid,
      headGuid: randomUUID().toUpperCase(),
      head: { orderNo: order.orderNo, ebpCode: order.ebpCode, ebcCode: order.ebcCode },
      lines: [],
    };
  }

  /** One CEB312 whose OrderReturn elements answer these manifests, in order. */
  function receiptFor(manifests: ManifestView[], status = '2'): string {
    const parts = manifests.map((m) => buildReceipt(m, [{ status, info: '已入库', at: new Date() }]).xml);
    const open = /^<CEB312Message[^>]*>/.exec(parts[0]!)![0];
    const body = parts.map((p) => p.slice(p.indexOf('>') + 1, p.lastIndexOf('</CEB312Message>'))).join('');
    return `${open}${body}</CEB312Message>`;
  }

  async function signedDeclaration(
    seed: number,
  ): Promise<{ id: string; order: ImportOrder; guid: string; leaseToken: string }> {
    const order = importOrder(seed);
    const { inserted } = await stores.declarations.insertMany([newDeclaration(order, 'CEB311')]);
    const id = inserted[0]!.id;
    const [claim] = (await stores.declarations.claimDue('w1', 60_000, 1000)).filter((c) => c.id === id);
    const manifest = fakeManifest(id, order);
    expect(await stores.declarations.markSigned(id, claim!.leaseToken, manifest)).to.equal(true);
    return { id, order, guid: manifest.messageGuid, leaseToken: claim!.leaseToken };
  }

  it('matches in-flight, final and order-number returns and reports the unknown ones, in a few indexed reads', async () => {
    const inFlight = await signedDeclaration(7101);
    const archived = await signedDeclaration(7102);
    await stores.declarations.applyStatus({ messageGuid: archived.guid }, '899', { at: new Date(), source: 'receipt' });
    const byOrderOrder = importOrder(7103);
    const { inserted } = await stores.declarations.insertMany([newDeclaration(byOrderOrder, 'CEB311')]);
    const byOrder = inserted[0]!;

    const unknown = Array.from({ length: 60 }, (_, i) => view(importOrder(7200 + i), randomUUID().toUpperCase()));
    const manifests = [
      view(inFlight.order, inFlight.guid),
      ...unknown.slice(0, 30),
      view(archived.order, archived.guid),
      view(byOrderOrder, randomUUID().toUpperCase()),
      ...unknown.slice(30),
    ];

    finds.length = 0;
    unindexed.length = 0;
    const result = await ingestor().ingest(receiptFor(manifests), SENDER);
    const readsOfIngest = [...finds];
    expect(unindexed).to.deep.equal([]);

    expect(result.returns).to.have.length(63);
    expect(result.unknown).to.equal(false);
    expect(result.returns[0]).to.include({ declarationId: inFlight.id, applied: true });
    expect(result.returns[31]).to.include({ declarationId: archived.id, applied: false });
    expect(result.returns[32]).to.include({ declarationId: byOrder.id, applied: true });
    const unknownOutcomes = result.returns.filter((_, i) => i !== 0 && i !== 31 && i !== 32);
    expect(unknownOutcomes.every((o) => o.declarationId === null && o.reason === 'unknown-declaration')).to.equal(true);
    expect((await stores.declarations.findById(inFlight.id))?.status).to.equal('2');
    expect((await stores.declarations.findById(byOrder.id))?.status).to.equal('2');
    expect((await stores.receipts.findById(result.receiptId))?.matched).to.deep.equal(
      result.returns.map((o) => o.declarationId),
    );
    // One read of the guids, one of the order numbers, then one per applied return (a read and its update).
    expect(readsOfIngest.length, `finds: ${readsOfIngest.join(', ')}`).to.be.at.most(6);
  });

  it('applies a delivery notice in flight, and one overtaken by the final receipt with one indexed read', async () => {
    const inFlight = await signedDeclaration(7301);
    expect(await stores.declarations.markQueued([{ id: inFlight.id, leaseToken: inFlight.leaseToken }])).to.equal(1);
    expect(await ingestor().delivered({ messageGuid: inFlight.guid, center: 'GD' })).to.equal(true);
    expect((await stores.declarations.findById(inFlight.id))?.status).to.equal('delivered');

    const final = await signedDeclaration(7302);
    await stores.declarations.applyStatus({ messageGuid: final.guid }, '899', { at: new Date(), source: 'receipt' });
    finds.length = 0;
    expect(await ingestor().delivered({ messageGuid: final.guid, center: 'GD' })).to.equal(false);
    expect(finds, 'the declaration is read by its guid, once').to.deep.equal(['declarations']);
    expect((await stores.declarations.findById(final.id))?.status).to.equal('899');
  });

  it('answers a receipt overtaken by the final one from the declaration read by its guid, changing nothing', async () => {
    const final = await signedDeclaration(7601);
    await stores.declarations.applyStatus({ messageGuid: final.guid }, '899', { at: new Date(), source: 'receipt' });
    unindexed.length = 0;
    finds.length = 0;
    const result = await ingestor().ingest(receiptFor([view(final.order, final.guid)], '800'), SENDER);
    expect(result.returns[0]).to.include({ declarationId: final.id, applied: false, reason: 'after-terminal' });
    expect(unindexed).to.deep.equal([]);
    expect(finds, 'one read of the declaration').to.deep.equal(['declarations']);
    const stored = await stores.declarations.findById(final.id);
    expect(stored?.status).to.equal('899');
    expect(stored?.history.map((h) => h.status)).to.not.include('800');
  });

  it('reads no more for a hundred returns than for two', async () => {
    const few = Array.from({ length: 2 }, (_, i) => view(importOrder(7400 + i), randomUUID().toUpperCase()));
    finds.length = 0;
    await ingestor().ingest(receiptFor(few), SENDER);
    const forTwo = finds.length;

    const many = Array.from({ length: 100 }, (_, i) => view(importOrder(7500 + i), randomUUID().toUpperCase()));
    finds.length = 0;
    const result = await ingestor().ingest(receiptFor(many), SENDER);
    expect(result.unknown).to.equal(true);
    expect(result.returns.every((o) => o.reason === 'unknown-declaration')).to.equal(true);
    expect(finds.length, `finds: ${finds.join(', ')}`).to.be.at.most(forTwo);
  });
});
