import { expect } from 'chai';
import { createHash, randomUUID } from 'node:crypto';
import type { Stores } from '../../src/store/index';
import { openStores } from './store-fixtures';

describe('receipt store', function () {
  this.timeout(30000);
  let stores: Stores;
  let close: () => Promise<void>;

  before(async () => {
    ({ stores, close } = await openStores('store_receipts'));
  });
  after(async () => close?.());

  function receipt(body = `<CEB312Message guid="${randomUUID().toUpperCase()}"/>`) {
    return {
      messageType: 'CEB312',
      digest: createHash('sha256').update(body).digest('hex'),
      raw: body,
      center: 'center-gz',
      signer: { subject: 'CN=customs', serialHex: '0a', trustList: 'eport' },
      returns: [
        { guid: 'A', returnStatus: '120' },
        { guid: 'B', returnStatus: '2' },
      ],
      receivedAt: new Date(),
      via: 'amqp' as const,
    };
  }

  it('stores a receipt once: the same bytes again (even concurrently) return the stored one as a duplicate', async () => {
    const r = receipt();
    const results = await Promise.all([
      stores.receipts.insert(r),
      stores.receipts.insert(r),
      stores.receipts.insert({ ...r, via: 'http' }),
    ]);
    expect(results.filter((x) => !x.duplicate)).to.have.length(1);
    const ids = new Set(results.map((x) => x.receipt.id));
    expect(ids.size).to.equal(1);
    const stored = await stores.receipts.findById([...ids][0]!);
    const winner = results.find((x) => !x.duplicate)!.receipt;
    expect(stored).to.deep.equal(winner);
    expect(stored).to.deep.include({
      messageType: 'CEB312',
      digest: r.digest,
      raw: r.raw,
      center: 'center-gz',
      matched: [],
      unknown: false,
    });
    expect(stored!.returns).to.deep.equal(r.returns);
    expect(stored!.signer).to.deep.equal(r.signer);
  });

  it('records what each return matched, and lists receipts none of whose returns matched', async () => {
    const known = (await stores.receipts.insert(receipt())).receipt;
    const partly = (await stores.receipts.insert(receipt())).receipt;
    const unknown = (await stores.receipts.insert(receipt())).receipt;
    await stores.receipts.markMatched(known.id, ['decl-1', 'decl-2']);
    await stores.receipts.markMatched(partly.id, ['decl-3', null]);
    await stores.receipts.markMatched(unknown.id, [null, null]);
    expect((await stores.receipts.findById(partly.id))!).to.deep.include({ matched: ['decl-3', null], unknown: false });
    expect((await stores.receipts.listUnknown(10)).map((r) => r.id)).to.deep.equal([unknown.id]);
    // Matched later (the declaration arrived): no longer unknown.
    await stores.receipts.markMatched(unknown.id, ['decl-4', null]);
    expect(await stores.receipts.listUnknown(10)).to.deep.equal([]);
    const again = await stores.receipts.insert({ ...receipt(unknown.raw) });
    expect(again).to.deep.include({ duplicate: true });
    expect(again.receipt.matched).to.deep.equal(['decl-4', null]);
    expect(await stores.receipts.findById(randomUUID())).to.equal(null);
  });
});
