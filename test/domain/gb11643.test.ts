import { expect } from 'chai';
import { gb11643CheckChar, gb11643Problem, isValidGb11643 } from '../../src/domain/rules/gb11643';

describe('GB 11643 identity card numbers', () => {
  const TODAY = new Date('2026-11-29T02:30:00Z'); // 2026-11-29 in Beijing
  const withCheck = (first17: string): string => first17 + gb11643CheckChar(first17);

  it('accepts the vectors from the domain notes', () => {
    expect(isValidGb11643('11010519491231002X', TODAY)).to.equal(true);
    expect(isValidGb11643('440524188001010014', TODAY)).to.equal(true);
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

  it('rejects a birth date in the future, even by one day, in Beijing time', () => {
    expect(gb11643Problem(withCheck('44010629990101123'), TODAY)).to.equal('future-birth-date');
    expect(gb11643Problem(withCheck('44010620261130123'), TODAY)).to.equal('future-birth-date');
    expect(gb11643Problem(withCheck('44010620261129123'), TODAY)).to.equal(null); // born today
    // 2026-11-29T16:30Z is already 2026-11-30 in Beijing: a baby born that day has a valid number.
    expect(gb11643Problem(withCheck('44010620261130123'), new Date('2026-11-29T16:30:00Z'))).to.equal(null);
  });

  it('rejects a birth date more than 150 years before the check date', () => {
    expect(gb11643Problem(withCheck('44010618000101123'), TODAY)).to.equal('birth-date');
    expect(gb11643Problem(withCheck('44010618761128123'), TODAY)).to.equal('birth-date');
    expect(gb11643Problem(withCheck('44010618761129123'), TODAY)).to.equal(null);
  });

  it('rejects impossible calendar dates: 29 February of a non-leap year, month 13, day 0', () => {
    expect(gb11643Problem(withCheck('44010619000229123'), TODAY)).to.equal('birth-date');
    expect(gb11643Problem(withCheck('44010619901301123'), TODAY)).to.equal('birth-date');
    expect(gb11643Problem(withCheck('44010619900100123'), TODAY)).to.equal('birth-date');
    expect(gb11643Problem(withCheck('44010620000229123'), TODAY)).to.equal(null);
  });
});
