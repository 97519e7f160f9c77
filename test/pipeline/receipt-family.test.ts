import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { MessageType } from '../../src/domain/message-types';
import { statusRank } from '../../src/domain/status';
import { ReceiptIngestor } from '../../src/pipeline/receipts';
import { createReceiptVerifier } from '../../src/runtime/signing';
import type { Stores } from '../../src/store/index';
import { devTrustLists } from '../signing/support/dev-identities';
import { silentLogger } from '../support/logger';
import { fixtureGuid } from '../support/receipt-fixtures';
import { fakeManifest, importOrder, newDeclaration, openStores } from '../store/store-fixtures';

/**
 * The new receipt types applied through the real store (FerretDB): the per-type ends the state machine
 * gives them — an export return ends at 800 after its holds (505 移交, 600 挂起), a summary application
 * after 399 at its CEB792 result, an arrival at 399 — each step once, whatever the arrival order.
 * The declarations carry a placeholder order: what matters here is their type and message guid.
 */
const DIR = join(process.cwd(), 'test', 'fixtures', 'receipts', 'signed');

describe('receipts of the new types applied through the store (FerretDB)', function () {
  this.timeout(60_000);
  let stores: Stores;
  let close: () => Promise<void>;

  before(async () => {
    ({ stores, close } = await openStores('pipeline_receipt_family'));
  });
  after(async () => close?.());

  function ingestor(): ReceiptIngestor {
    return new ReceiptIngestor({
      declarations: stores.declarations,
      receipts: stores.receipts,
      verify: createReceiptVerifier(devTrustLists()),
      centersSignedBy: () => ['center-gz'],
      trustClaimedCenter: false,
      logger: silentLogger(),
    });
  }

  /** A declaration of `type` in flight under the message guid its fixtures answer. */
  async function inFlight(type: MessageType, seed: number): Promise<string> {
    const order = importOrder(seed);
    const { inserted } = await stores.declarations.insertMany([newDeclaration(order, type)]);
    const id = inserted[0]!.id;
    const [claim] = (await stores.declarations.claimDue('w1', 60_000, 1000)).filter((c) => c.id === id);
    expect(
      await stores.declarations.markSigned(id, claim!.leaseToken, fakeManifest(id, order, fixtureGuid(type))),
    ).to.equal(true);
    return id;
  }

  for (const [type, files, final] of [
    [
      'CEB213',
      [
        'ceb214-800',
        'ceb214-505',
        'ceb214-2',
        'ceb214-600',
        'ceb214-120',
        'ceb214-3',
        'ceb214-300',
        'ceb214-500',
        'ceb214-800',
      ],
      '800',
    ],
    ['CEB701', ['ceb702-2', 'ceb792-summarized', 'ceb702-399', 'ceb702-3', 'ceb792-summarized'], 'summarized'],
    ['CEB507', ['ceb508-3', 'ceb508-2', 'ceb508-399', 'ceb508-3', 'ceb508-100'], '399'],
  ] as const) {
    it(`${type} ends at ${final}, each step once, however its receipts arrive`, async () => {
      const id = await inFlight(type, 8000 + Number(type.slice(3)));
      for (const f of files)
        await ingestor().ingest(readFileSync(join(DIR, `${f}.xml`)), {
          via: 'amqp',
          center: 'center-gz',
          authenticated: true,
        });
      const d = (await stores.declarations.findById(id))!;
      expect(d.status).to.equal(final);
      expect(d.terminal).to.equal(true);
      const receiptSteps = d.history.filter((h) => h.source === 'receipt').map((h) => h.status);
      const ranks = receiptSteps.map(statusRank);
      expect(ranks, receiptSteps.join(' → ')).to.deep.equal([...ranks].sort((a, b) => a - b));
      expect(new Set(receiptSteps).size).to.equal(receiptSteps.length);
      expect(receiptSteps[receiptSteps.length - 1]).to.equal(final);
    });
  }
});
