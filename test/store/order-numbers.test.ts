import { expect } from 'chai';
import { createStores, type Stores } from '../../src/store/index';
import { connectMongo } from '../../src/store/mongo';
import { silentLogger } from '../support/logger';
import { openStores, PII_CONFIG } from './store-fixtures';

describe('store: order numbers (one seller per platform order number) and clashes', function () {
  this.timeout(30000);
  let stores: Stores;
  let close: () => Promise<void>;
  let url: string;

  before(async () => {
    ({ stores, close, url } = await openStores('store_order_numbers'));
  });
  after(async () => close?.());

  const numbers = () => stores.orderNumbers;

  it('gives a number to the first seller that claims it; later claims learn who holds it', async () => {
    expect(await numbers().claim([{ platformCode: 'P1', orderNo: 'O-1', sellerId: 'a' }])).to.deep.equal([
      { owner: 'a', claimed: true },
    ]);
    expect(
      await numbers().claim([
        { platformCode: 'P1', orderNo: 'O-1', sellerId: 'a' },
        { platformCode: 'P1', orderNo: 'O-1', sellerId: 'b' },
        // The same number on another platform is another number.
        { platformCode: 'P2', orderNo: 'O-1', sellerId: 'b' },
      ]),
    ).to.deep.equal([
      { owner: 'a', claimed: false },
      { owner: 'a', claimed: false },
      { owner: 'b', claimed: true },
    ]);
  });

  it('the same number twice in one batch is claimed once', async () => {
    const claims = [
      { platformCode: 'P1', orderNo: 'O-2', sellerId: 'a' },
      { platformCode: 'P1', orderNo: 'O-2', sellerId: 'a' },
    ];
    expect(await numbers().claim(claims)).to.deep.equal([
      { owner: 'a', claimed: true },
      { owner: 'a', claimed: false },
    ]);
  });

  it('of two gateways claiming the same numbers at once, exactly one wins each', async () => {
    const connectionB = await connectMongo(url, silentLogger());
    try {
      const other = createStores(connectionB, PII_CONFIG).orderNumbers;
      const batch = (seller: string) =>
        Array.from({ length: 20 }, (_, i) => ({ platformCode: 'P9', orderNo: `race-${i}`, sellerId: seller }));
      const [a, b] = await Promise.all([numbers().claim(batch('a')), other.claim(batch('b'))]);
      for (let i = 0; i < 20; i++) {
        expect(a[i]!.owner, `race-${i}`).to.equal(b[i]!.owner);
        expect(Number(a[i]!.claimed) + Number(b[i]!.claimed), `race-${i}`).to.equal(1);
      }
    } finally {
      await connectionB.close();
    }
  });

  it('a number is released only by its holder', async () => {
    await numbers().claim([{ platformCode: 'P1', orderNo: 'O-3', sellerId: 'a' }]);
    expect(await numbers().release('P1', 'O-3', 'b')).to.equal(false);
    expect(await numbers().release('P1', 'O-3', 'a')).to.equal(true);
    expect(await numbers().claim([{ platformCode: 'P1', orderNo: 'O-3', sellerId: 'b' }])).to.deep.equal([
      { owner: 'b', claimed: true },
    ]);
  });

  it('records a clash once per refused seller and number, counts repeats, and settles it once', async () => {
    const clash = { platformCode: 'P1', orderNo: 'O-4', holderSellerId: 'a', claimantSellerId: 'b' };
    const first = await numbers().recordClash({ ...clash, requestId: 'r1' }, new Date('2026-11-28T01:00:00Z'));
    const again = await numbers().recordClash({ ...clash, requestId: 'r2' }, new Date('2026-11-28T02:00:00Z'));
    expect(again.id).to.equal(first.id);
    expect(again).to.deep.include({ attempts: 2, requestId: 'r2', holderSellerId: 'a', claimantSellerId: 'b' });
    expect(again.firstAt.toISOString()).to.equal('2026-11-28T01:00:00.000Z');
    expect((await numbers().listClashes({ claimantSellerIds: ['b'], open: true }, 10)).map((c) => c.id)).to.deep.equal([
      first.id,
    ]);
    expect(await numbers().listClashes({ claimantSellerIds: ['a'] }, 10)).to.deep.equal([]);

    const at = new Date('2026-11-28T03:00:00Z');
    const settled = await numbers().resolveClash(first.id, {
      action: 'dismissed',
      note: 'platform confirms a',
      by: 'ops',
      at,
    });
    expect(settled?.resolution).to.deep.equal({ action: 'dismissed', note: 'platform confirms a', by: 'ops', at });
    const second = await numbers().resolveClash(first.id, {
      action: 'released',
      note: 'x',
      by: 'ops2',
      at: new Date(),
    });
    expect(second?.resolution?.by).to.equal('ops');
    expect(await numbers().listClashes({ open: true }, 10)).to.deep.equal([]);
    expect(await numbers().resolveClash('no-such-clash', { action: 'dismissed', note: '', by: 'ops', at })).to.equal(
      null,
    );
  });
});
