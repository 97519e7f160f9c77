import { expect } from 'chai';
import { checkAndBookLimits, MemoryUsageLedger, ThreeDocumentIndex } from '../../src/centers/simulator/customs';
import type { ManifestView } from '../../src/centers/simulator/manifest';

/** The simulated customs' limit checks, including the single indivisible item route. */
function inventory(lines: { qty: string; totalPrice: string }[], guid = 'G-1'): ManifestView {
  return {
    type: 'CEB621',
    guid,
    headGuid: `${guid}-H`,
    head: {
      copNo: `COP-${guid}`,
      buyerIdNumber: '440106199003071231',
      freight: '50',
      insuredFee: '0',
      declTime: '20261129',
    },
    lines: lines.map((l, i) => ({ gnum: String(i + 1), ...l })),
  };
}

const limits = { singleCny: 5000, annualCny: 26000 };
const at = new Date('2026-11-29T02:30:00Z');

describe('simulated customs: single and annual limits', () => {
  it('admits one piece of goods over 5,000 CNY and books it toward the annual total', async () => {
    const ledger = new MemoryUsageLedger();
    const decision = await checkAndBookLimits(
      inventory([{ qty: '1', totalPrice: '12800' }]),
      new ThreeDocumentIndex(),
      ledger,
      limits,
      at,
    );
    expect(decision).to.deep.include({ ok: true, amount: 12850 });
    expect(await ledger.used('440106199003071231', 2026)).to.equal(12850);
  });

  it('refuses two pieces, or two lines, over 5,000 CNY with -621005', async () => {
    for (const lines of [
      [{ qty: '2', totalPrice: '12800' }],
      [
        { qty: '1', totalPrice: '5000' },
        { qty: '1', totalPrice: '100' },
      ],
    ]) {
      const decision = await checkAndBookLimits(
        inventory(lines),
        new ThreeDocumentIndex(),
        new MemoryUsageLedger(),
        limits,
        at,
      );
      expect(decision).to.deep.include({ ok: false, status: '-621005' });
    }
  });

  it('still refuses a single item that would take the buyer past 26,000 CNY with -621018', async () => {
    const ledger = new MemoryUsageLedger();
    await ledger.add('440106199003071231', 2026, 'earlier', 13200);
    const decision = await checkAndBookLimits(
      inventory([{ qty: '1', totalPrice: '12800' }]),
      new ThreeDocumentIndex(),
      ledger,
      limits,
      at,
    );
    expect(decision).to.deep.include({ ok: false, status: '-621018' });
  });
});
