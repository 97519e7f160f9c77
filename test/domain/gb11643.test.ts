import { expect } from 'chai';
import { gb11643CheckChar, gb11643Problem, isValidGb11643 } from '../../src/domain/rules/gb11643';

describe('GB 11643 identity card numbers', () => {
  it('accepts the vectors from the domain notes', () => {
    expect(isValidGb11643('11010519491231002X')).to.equal(true);
    expect(isValidGb11643('440524188001010014')).to.equal(true);
  });

  it('computes the check character, including X', () => {
    expect(gb11643CheckChar('11010519491231002')).to.equal('X');
    expect(gb11643CheckChar('44052418800101001')).to.equal('4');
  });

  it('rejects a wrong check character', () => {
    expect(gb11643Problem('110105194912310021')).to.equal('check-digit');
    expect(gb11643Problem('440524188001010015')).to.equal('check-digit');
  });

  it('rejects a lower-case x, wrong lengths and letters', () => {
    expect(gb11643Problem('11010519491231002x')).to.equal('format');
    expect(gb11643Problem('1101051949123100')).to.equal('format');
    expect(gb11643Problem('11010519491231002XX')).to.equal('format');
    expect(gb11643Problem('A1010519491231002X')).to.equal('format');
  });

  it('rejects an impossible birth date even with a matching check character', () => {
    const first17 = '11010519490230002';
    expect(gb11643Problem(first17 + gb11643CheckChar(first17))).to.equal('birth-date');
  });
});
