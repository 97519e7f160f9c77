import { expect } from 'chai';
import {
  decideTransition,
  isSuccessfulOutcome,
  isTerminal,
  statusLabel,
  statusRank,
  terminalRanks,
} from '../../src/domain/status';

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

  it('ends the export transport documents and their companions at 120 or 399 (CEB403/507/509/605/607/215, 513, 711)', () => {
    for (const type of ['CEB403', 'CEB507', 'CEB509', 'CEB605', 'CEB607', 'CEB215', 'CEB513', 'CEB711'] as const) {
      expect(isTerminal('399', type), type).to.equal(true);
      expect(isTerminal('120', type), type).to.equal(true);
      expect(isSuccessfulOutcome('399', type), type).to.equal(true);
      expect(terminalRanks(type), type).to.deep.equal([100, statusRank('399'), statusRank('120')]);
    }
  });

  it('takes an export return (CEB213) through its holds 505 移交 and 600 挂起 to 800 放行, its end', () => {
    const path = ['delivered', '2', '3', '120', '300', '505', '399', '800'];
    for (let i = 1; i < path.length; i++)
      expect(decideTransition(path[i - 1]!, path[i]!, 'CEB213'), path[i]).to.deep.include({ apply: true });
    expect(decideTransition('505', '600', 'CEB213')).to.deep.equal({ apply: false, reason: 'out-of-order' });
    expect(isTerminal('800', 'CEB213')).to.equal(true);
    expect(isTerminal('800', 'CEB621')).to.equal(false);
    expect(terminalRanks('CEB213')).to.deep.equal([100, statusRank('800')]);
    expect(statusLabel('505')).to.deep.equal({ zh: '移交', en: 'handed over' });
    expect(statusLabel('600')).to.deep.equal({ zh: '挂起', en: 'suspended' });
  });

  it('goes on after 399 for a summary application (CEB701) until its CEB792 result: summarized', () => {
    expect(isTerminal('399', 'CEB701')).to.equal(false);
    expect(decideTransition('399', 'summarized', 'CEB701')).to.deep.include({ apply: true, terminal: true });
    expect(decideTransition('summarized', '399', 'CEB701')).to.deep.equal({ apply: false, reason: 'after-terminal' });
    expect(decideTransition('summarized', 'summarized', 'CEB701')).to.deep.equal({ apply: false, reason: 'duplicate' });
    expect(isSuccessfulOutcome('summarized', 'CEB701')).to.equal(true);
    expect(terminalRanks('CEB701')).to.deep.equal([100]);
  });
});
