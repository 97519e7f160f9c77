import { expect } from 'chai';
import type { Stores } from '../../src/store/index';
import { fakeManifest, importOrder, newDeclaration, openStores } from './store-fixtures';

/**
 * A worker that dies after its manifest is stored but before the update that makes it the signature, or
 * after that update but before publishing, must leave neither an unmatchable receipt nor a second signature.
 */
describe('declaration store: signing interrupted by a crash', function () {
  this.timeout(60000);
  let stores: Stores;
  let close: () => Promise<void>;

  before(async () => {
    ({ stores, close } = await openStores('store_guid_recovery'));
  });
  after(async () => close?.());

  it('re-sends the manifest the declaration was signed with, and its receipts find the declaration by guid', async () => {
    const order = importOrder(4242);
    const { inserted } = await stores.declarations.insertMany([newDeclaration(order, 'CEB621')]);
    const id = inserted[0]!.id;
    const [claim] = (await stores.declarations.claimDue('w1', 60_000, 100)).filter((c) => c.id === id);
    const manifest = fakeManifest(id, order);
    expect(await stores.declarations.markSigned(id, claim!.leaseToken, manifest)).to.equal(true);

    // The worker dies here (published or not); its lease runs out and another worker claims it.
    const [again] = (await stores.declarations.claimDue('w2', 60_000, 100, new Date(Date.now() + 120_000))).filter(
      (c) => c.id === id,
    );
    expect(again).to.include({ status: 'signed', attempts: 1 });
    expect(again?.manifest?.messageGuid).to.equal(manifest.messageGuid);
    expect(again?.manifest?.xml).to.equal(manifest.xml);
    expect((await stores.declarations.subjectsByGuids([manifest.messageGuid])).get(manifest.messageGuid)).to.include({
      id,
      status: 'signed',
      center: 'center-gz',
    });
    expect(await stores.declarations.manifestXml(id)).to.equal(manifest.xml);
  });

  it('never sends a manifest stored without the update that makes it the signature: the next signature is the one', async () => {
    const order = importOrder(4343);
    const { inserted } = await stores.declarations.insertMany([newDeclaration(order, 'CEB311')]);
    const id = inserted[0]!.id;
    const [claim] = (await stores.declarations.claimDue('w1', 60_000, 100)).filter((c) => c.id === id);
    // What a crash between the two writes leaves behind: a manifest archived, the declaration unsigned.
    const orphan = fakeManifest(id, order);
    await stores.models.Manifest.db
      .db!.collection('declaration_manifests')
      .insertOne({ _id: orphan.messageGuid, declarationId: id, digest: orphan.digest, signer: orphan.signer } as never);

    const [again] = (await stores.declarations.claimDue('w2', 60_000, 100, new Date(Date.now() + 120_000))).filter(
      (c) => c.id === id,
    );
    expect(claim, 'first claim').to.not.equal(undefined);
    expect(again?.manifest, 'an unsigned claim').to.equal(undefined);
    expect(await stores.declarations.manifestXml(id), 'nothing was sent').to.equal(null);
    expect((await stores.declarations.subjectsByGuids([orphan.messageGuid])).size, 'its guid names nothing').to.equal(
      0,
    );
    const second = fakeManifest(id, order);
    expect(await stores.declarations.markSigned(id, again!.leaseToken, second)).to.equal(true);
    expect(await stores.declarations.manifestXml(id)).to.equal(second.xml);
    expect((await stores.declarations.findById(id))?.messageGuid).to.equal(second.messageGuid);
  });
});
