import { expect } from 'chai';
import type { Stores } from '../../src/store/index';
import { fakeManifest, importOrder, newDeclaration, openStores } from './store-fixtures';

/**
 * A worker that dies after the signature was fixed but before the rest of the bookkeeping must not leave
 * the center's receipts unmatchable (docs/CHAOS.md, finding 2).
 */
describe('declaration store: receipts stay matchable after a crash during signing', function () {
  this.timeout(60000);
  let stores: Stores;
  let close: () => Promise<void>;

  before(async () => {
    ({ stores, close } = await openStores('store_guid_recovery'));
  });
  after(async () => close?.());

  it('finds the declaration by message guid and serves its manifest even without the guid row and the "signed" step', async () => {
    const order = importOrder(4242);
    const { inserted } = await stores.declarations.insertMany([newDeclaration(order, 'CEB621')]);
    const id = inserted[0]!.id;
    const [claim] = (await stores.declarations.claimDue('w1', 60_000, 100)).filter((c) => c.id === id);
    const manifest = fakeManifest(id, order);
    expect(await stores.declarations.markSigned(id, claim!.leaseToken, manifest)).to.equal(true);

    // What a crash between the inserts leaves behind: no guid row, no "signed" step.
    const db = stores.models.Declaration.db.db!;
    await db.collection('message_guids').deleteOne({ _id: manifest.messageGuid } as never);
    await db.collection('declaration_events').deleteOne({ slot: `${id}:10` });

    const found = await stores.declarations.findByMessageGuid(manifest.messageGuid);
    expect(found?.id).to.equal(id);
    expect(await db.collection('message_guids').countDocuments({ _id: manifest.messageGuid } as never)).to.equal(1);
    expect(await stores.declarations.manifestXml(id)).to.equal(manifest.xml);
  });
});
