import { expect } from 'chai';
import { decideTransition, isTerminal, statusRank } from '../../src/domain/status';

describe('declaration status state machine', () => {
  const happyPath = ['accepted', 'signed', 'queued', 'delivered', '2', '3', '120', '300', '500', '399', '800', '899'];

  it('moves forward along the whole inventory path', () => {
    for (let i = 1; i < happyPath.length; i++) {
      const decision = decideTransition(happyPath[i - 1]!, happyPath[i]!, 'CEB621');
      expect(decision, `${happyPath[i - 1]} → ${happyPath[i]}`).to.deep.include({ apply: true });
    }
  });

  it('treats the same status twice as a duplicate no-op', () => {
    expect(decideTransition('120', '120', 'CEB621')).to.deep.equal({ apply: false, reason: 'duplicate' });
  });

  it('never moves backwards on an out-of-order receipt', () => {
    expect(decideTransition('399', '2', 'CEB621')).to.deep.equal({ apply: false, reason: 'out-of-order' });
    expect(decideTransition('800', '120', 'CEB621')).to.deep.equal({ apply: false, reason: 'out-of-order' });
  });

  it('lets receipts skip steps (a late 2 after 120 is ignored, 2 → 800 applies)', () => {
    expect(decideTransition('2', '800', 'CEB621')).to.deep.include({ apply: true });
  });

  it('keeps terminal states final: 899, 700, 100, negative codes and failed', () => {
    for (const terminal of ['899', '700', '100', '-621005', 'failed']) {
      expect(isTerminal(terminal, 'CEB621'), terminal).to.equal(true);
      expect(decideTransition(terminal, '899', 'CEB621')).to.deep.include({ apply: false });
    }
  });

  it('ends the filed-only documents (order, payment, waybill) at 120 or 399', () => {
    expect(isTerminal('120', 'CEB311')).to.equal(true);
    expect(isTerminal('399', 'CEB511')).to.equal(true);
    expect(isTerminal('120', 'CEB621')).to.equal(false);
  });

  it('ranks a negative code as terminal and rejects unknown codes', () => {
    expect(statusRank('-301010')).to.equal(100);
    expect(decideTransition('queued', '12345')).to.deep.equal({ apply: false, reason: 'unknown-status' });
    expect(() => statusRank('nonsense')).to.throw(/unknown declaration status/);
  });
});
