import { expect } from 'chai';
import { countsTable, evaluate } from '../support/chaos/checker';
import type { OrderRecord } from '../support/chaos/load';

/** The chaos checker itself: each problem it exists to find is found (pure; no services needed). */
const order = (orderNo: string, ids: string[], result: OrderRecord['result'] = 'accepted'): OrderRecord => ({
  orderNo,
  platformCode: 'P',
  direction: 'export',
  expectedTypes: ['CEB303', 'CEB505', 'CEB603'],
  attempts: [],
  result,
  declarations: ids.map((id, i) => ({ id, messageType: ['CEB303', 'CEB505', 'CEB603'][i] as string })),
});
const decl = (id: string, orderNo: string, messageType: string) => ({
  _id: id,
  platformCode: 'P',
  orderNo,
  messageType,
});
const final = (declarationId: string, status = '120') => ({
  declarationId,
  status,
  terminal: true,
  source: 'receipt',
  rank: 100,
});

describe('chaos checker', () => {
  it('counts an order final only when every declaration reached a terminal status from a receipt', () => {
    const r = evaluate(
      [order('A', ['a1', 'a2', 'a3'])],
      [decl('a1', 'A', 'CEB303'), decl('a2', 'A', 'CEB505'), decl('a3', 'A', 'CEB603')],
      [final('a1'), final('a2'), { ...final('a3', 'failed'), source: 'worker' }],
      [],
      0,
    );
    expect(r.counts).to.include({ accepted: 1, declared: 1, final: 0, notFinal: 1, failed: 1, lost: 0, duplicated: 0 });
  });

  it('finds a lost declaration, one stored under another id than the 202 said, and duplicates', () => {
    const r = evaluate(
      [order('A', ['a1', 'a2', 'a3']), order('B', ['b1', 'b2', 'b3'])],
      [
        decl('a1', 'A', 'CEB303'),
        decl('a2', 'A', 'CEB505'),
        decl('bX', 'B', 'CEB303'),
        decl('b2', 'B', 'CEB505'),
        decl('b3', 'B', 'CEB603'),
        decl('b4', 'B', 'CEB603'),
      ],
      [],
      [
        { _id: 'G1', declarationId: 'b2' },
        { _id: 'G2', declarationId: 'b2' },
      ],
      0,
    );
    expect(r.counts).to.include({ accepted: 2, lost: 2, duplicated: 1, resigned: 1, declared: 0 });
    expect(countsTable(r.counts).split('\n')).to.have.length(2);
  });

  it('reports orders stored without a 202 and ignores orders that were refused', () => {
    const r = evaluate([order('A', [], 'gave-up'), order('C', [], 'rejected')], [decl('a1', 'A', 'CEB303')], [], [], 0);
    expect(r.counts).to.include({ accepted: 0, storedWithout202: 1, lost: 0 });
  });
});
