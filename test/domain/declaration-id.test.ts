import { expect } from 'chai';
import { declarationIdFor } from '../../src/domain/declaration-id';

describe('declaration ids', () => {
  it('names the same declaration the same way on every attempt', () => {
    expect(declarationIdFor('4401960E01', 'BG2026001', 'CEB311')).to.equal(
      declarationIdFor('4401960E01', 'BG2026001', 'CEB311'),
    );
  });

  it('differs when the platform, the order number or the message type differs', () => {
    const ids = new Set([
      declarationIdFor('4401960E01', 'BG2026001', 'CEB311'),
      declarationIdFor('4401960E02', 'BG2026001', 'CEB311'),
      declarationIdFor('4401960E01', 'BG2026002', 'CEB311'),
      declarationIdFor('4401960E01', 'BG2026001', 'CEB621'),
      // the separator keeps "A"+"BC" apart from "AB"+"C"
      declarationIdFor('4401960E01B', 'G2026001', 'CEB311'),
    ]);
    expect(ids.size).to.equal(5);
  });

  it('is shaped as an RFC 9562 version-8 UUID', () => {
    expect(declarationIdFor('4401960E01', 'BG2026001', 'CEB311')).to.match(
      /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });
});
