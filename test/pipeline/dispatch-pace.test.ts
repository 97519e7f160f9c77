import { expect } from 'chai';
import { Dispatcher } from '../../src/pipeline/dispatcher';
import type { ClaimedDeclaration, DeclarationStore } from '../../src/store/contracts';
import { silentLogger } from '../support/logger';
import { generateValidOrder } from '../support/order-generator';

/**
 * A cycle longer than the lease lets other workers claim the same declarations again; the dispatcher
 * claims only what it can finish in half the lease at the pace of its last cycle (a chaos run on FerretDB
 * saw 256 claimed, 15–40 s cycles, an 8 s lease, and workers taking each other's work).
 */
describe('dispatcher pace: claims what fits in the lease', () => {
  function fakeStore(msPerItem: number | (() => number), asked: number[]): DeclarationStore {
    const pace = typeof msPerItem === 'number' ? () => msPerItem : msPerItem;
    let n = 0;
    const store = {
      claimDue: async (_owner: string, _leaseMs: number, limit: number) => {
        asked.push(limit);
        return Array.from({ length: limit }, (): ClaimedDeclaration => ({
          id: `d-${n++}`,
          messageType: 'CEB311',
          center: 'GD',
          status: 'signed',
          attempts: 0,
          requestId: 'r',
          order: generateValidOrder(1) as ClaimedDeclaration['order'],
          leaseToken: 't',
          manifest: { xml: '<x/>', messageGuid: `G-${n}`, digest: 'd' },
        }));
      },
      markQueued: async (items: unknown[]) => {
        await new Promise((r) => setTimeout(r, pace() * items.length));
        return items.length;
      },
    };
    return store as unknown as DeclarationStore;
  }

  function dispatcher(store: DeclarationStore, leaseMs: number, batchSize: number): Dispatcher {
    return new Dispatcher({
      store,
      leaseMs,
      batchSize,
      logger: silentLogger(),
      builder: {
        build: () => {
          throw new Error('not built: claims are signed');
        },
      },
      signers: {
        signerFor: () => {
          throw new Error('not signed: claims are signed');
        },
      },
      publisher: { publish: async () => undefined },
    } as ConstructorParameters<typeof Dispatcher>[0]);
  }

  it('claims fewer after a cycle that took most of the lease, and never more than the batch size', async () => {
    const asked: number[] = [];
    const d = dispatcher(fakeStore(10, asked), 400, 100); // 100 × 10 ms = 1 s per cycle, lease 400 ms
    await d.runOnce();
    expect(asked).to.deep.equal([100]);
    expect(d.nextClaimLimit).to.be.within(15, 20); // half the lease (200 ms) at ~10 ms per item
    await d.runOnce();
    expect(asked[1]).to.be.within(15, 20);
  });

  it('grows back, doubling up to the batch size, when cycles are quick again', async () => {
    const asked: number[] = [];
    let slow = true;
    const d = dispatcher(
      fakeStore(() => (slow ? 10 : 0), asked),
      400,
      64,
    );
    await d.runOnce();
    const reduced = d.nextClaimLimit;
    expect(reduced).to.be.lessThan(64);
    slow = false;
    await d.runOnce();
    expect(d.nextClaimLimit).to.equal(Math.min(64, reduced * 2));
    for (let i = 0; i < 6; i++) await d.runOnce();
    expect(d.nextClaimLimit).to.equal(64);
  });
});
