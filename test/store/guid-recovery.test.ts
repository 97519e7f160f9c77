import { expect } from 'chai';
import type { Stores } from '../../src/store/index';
import { fakeManifest, importOrder, newDeclaration, openStores, trackingEntry } from './store-fixtures';

/**
 * A worker that dies after storing a manifest but before its "signed" step, or after the step but before
 * publishing, must leave neither an unmatchable receipt nor a second signature (docs/CHAOS.md, finding 2).
 */
describe('declaration store: signing interrupted by a crash', function () {
  this.timeout(60000);
  let stores: Stores;
  let close: () => Promise<void>;

  before(async () => {
    ({ stores, close } = await openStores('store_guid_recovery'));
  });
  after(async () => close?.());

  it('re-sends the manifest the "signed" step names, and its receipts find the declaration by guid', async () => {
    const order = importOrder(4242);
    const { inserted } = await stores.declarations.insertMany([newDeclaration(order, 'CEB621')]);
    const id = inserted[0]!.id;
    const [claim] = (await stores.declarations.claimDue('w1', 60_000, 100)).filter((c) => c.id === id);
    const manifest = fakeManifest(id, order);
    expect(await stores.declarations.markSigned(id, claim!.leaseToken, manifest)).to.equal(true);

    // The worker dies here (published or not); its lease runs out and another worker claims the item.
    const [again] = (await stores.declarations.claimDue('w2', 60_000, 100, new Date(Date.now() + 120_000))).filter(
      (c) => c.id === id,
    );
    expect(again?.manifest?.messageGuid).to.equal(manifest.messageGuid);
    expect(again?.manifest?.xml).to.equal(manifest.xml);
    expect((await stores.declarations.subjectsByGuids([manifest.messageGuid])).get(manifest.messageGuid)?.id).to.equal(
      id,
    );
    expect(await trackingEntry(stores, manifest.messageGuid)).to.include({ id, status: 'signed', center: 'center-gz' });
    expect(await stores.declarations.manifestXml(id)).to.equal(manifest.xml);
  });

  it('stores a manifest whose "signed" step never came without sending it: the next signature is the one', async () => {
    const order = importOrder(4343);
    const { inserted } = await stores.declarations.insertMany([newDeclaration(order, 'CEB311')]);
    const id = inserted[0]!.id;
    const [claim] = (await stores.declarations.claimDue('w1', 60_000, 100)).filter((c) => c.id === id);
    const first = fakeManifest(id, order);
    expect(await stores.declarations.markSigned(id, claim!.leaseToken, first)).to.equal(true);
    // What a crash between the manifest and the signature's fence leaves behind: the manifest, no marker
    // and no "signed" step.
    const db = stores.models.Declaration.db.db!;
    await db.collection('dispatch_signed').deleteOne({ _id: id } as never);
    await db.collection('declaration_events').deleteOne({ _id: `${id}:10` } as never);

    const [again] = (await stores.declarations.claimDue('w2', 60_000, 100, new Date(Date.now() + 120_000))).filter(
      (c) => c.id === id,
    );
    expect(again?.manifest, 'an unsigned claim').to.equal(undefined);
    expect(await stores.declarations.manifestXml(id), 'nothing was sent').to.equal(null);
    const second = fakeManifest(id, order);
    expect(await stores.declarations.markSigned(id, again!.leaseToken, second)).to.equal(true);
    expect(await stores.declarations.manifestXml(id)).to.equal(second.xml);
    expect((await stores.declarations.findById(id))?.messageGuid).to.equal(second.messageGuid);
    expect((await trackingEntry(stores, second.messageGuid))?.id).to.equal(id);
  });
});
