import { expect } from 'chai';
import { escapeCanonicalAttribute, escapeCanonicalText, invalidXmlCharIndex } from '../../src/xml/canonical-text';
import {
  assertCebGuid,
  CebFormatError,
  formatCebDate,
  formatCebDateTime,
  formatCebDecimal,
  formatCebInt,
  newCebGuid,
} from '../../src/xml/ceb-formats';

describe('CEB value formats', () => {
  describe('decimal (totalDigits 19, fractionDigits 5)', () => {
    const cases: Array<[unknown, string]> = [
      [0, '0'],
      [-0, '0'],
      [14000, '14000'],
      [12.5, '12.5'],
      [0.1 + 0.2, '0.3'],
      [1e-5, '0.00001'],
      [1e-7 * 100, '0.00001'],
      [123456789012345e-1, '12345678901234.5'],
      ['007.50', '7.5'],
      ['0.00000', '0'],
      [' 3.10 ', '3.1'],
      [-2.5, '-2.5'],
    ];
    for (const [input, want] of cases) {
      it(`${JSON.stringify(input)} → ${want}`, () => expect(formatCebDecimal(input)).to.equal(want));
    }
    it('never writes an exponent', () => {
      expect(formatCebDecimal(1e-5)).not.to.match(/e/i);
      expect(formatCebDecimal(9.99999e13)).to.equal('99999900000000');
    });
    for (const bad of [1.234567, '1.234567', 1e21, Infinity, NaN, '1e5', '', '12,5', null, true]) {
      it(`refuses ${String(bad)}`, () => expect(() => formatCebDecimal(bad)).to.throw(CebFormatError));
    }
    it('refuses more than 19 digits in a string', () => {
      expect(() => formatCebDecimal('12345678901234567890')).to.throw(/more than 19 digits/);
      expect(formatCebDecimal('12345678901234.56789')).to.equal('12345678901234.56789');
    });
  });

  describe('int', () => {
    it('formats whole numbers and refuses fractions and out-of-range values', () => {
      expect(formatCebInt(1)).to.equal('1');
      expect(formatCebInt('42')).to.equal('42');
      expect(() => formatCebInt(1.5)).to.throw(CebFormatError);
      expect(() => formatCebInt(2 ** 31)).to.throw(/xs:int range/);
      expect(() => formatCebInt('1.0x')).to.throw(CebFormatError);
    });
  });

  describe('date-time YYYYMMDDhhmmss and date YYYYMMDD, China Standard Time', () => {
    it('converts instants to UTC+8 whatever the host zone', () => {
      expect(formatCebDateTime(new Date('2026-11-28T16:00:00Z'))).to.equal('20261129000000');
      expect(formatCebDateTime('2026-11-28T10:15:30+08:00')).to.equal('20261128101530');
      expect(formatCebDateTime('2026-11-28T10:15:30')).to.equal('20261128101530');
      expect(formatCebDate(new Date('2026-12-31T16:00:00Z'))).to.equal('20270101');
    });
    it('keeps valid CEB strings and refuses impossible calendar values', () => {
      expect(formatCebDateTime('20260229000000'.replace('2026', '2028'))).to.equal('20280229000000');
      expect(() => formatCebDateTime('20260229000000')).to.throw(/not a valid/);
      expect(() => formatCebDateTime('20261128246000')).to.throw(CebFormatError);
      expect(formatCebDate('2026-11-28')).to.equal('20261128');
      expect(formatCebDate('20261128103000')).to.equal('20261128');
      expect(() => formatCebDate('20261131')).to.throw(/not a valid calendar date/);
      expect(() => formatCebDateTime('yesterday')).to.throw(CebFormatError);
    });
  });

  describe('guid', () => {
    it('makes 36-character upper-case UUIDs and checks given ones', () => {
      const g = newCebGuid();
      expect(g).to.match(/^[0-9A-F-]{36}$/);
      expect(assertCebGuid(g)).to.equal(g);
      expect(() => assertCebGuid(g.toLowerCase())).to.throw(/upper-case/);
      expect(() => assertCebGuid(g.slice(1))).to.throw(CebFormatError);
    });
  });

  describe('canonical escaping', () => {
    it('escapes text like C14N: & < > CR; quotes, tabs and LF stay literal', () => {
      expect(escapeCanonicalText('a&b<c>d"e\'f\tg\nh\ri')).to.equal('a&amp;b&lt;c&gt;d"e\'f\tg\nh&#xD;i');
      expect(escapeCanonicalText('湾区')).to.equal('湾区');
    });
    it('escapes attribute values like C14N: & < " TAB LF CR; > stays literal', () => {
      expect(escapeCanonicalAttribute('a&b<c>d"e\tf\ng\rh')).to.equal('a&amp;b&lt;c>d&quot;e&#x9;f&#xA;g&#xD;h');
    });
    it('finds characters XML 1.0 cannot carry, including lone surrogates', () => {
      expect(invalidXmlCharIndex('ok\t\n\r 😀')).to.equal(-1);
      expect(invalidXmlCharIndex('a\u0000')).to.equal(1);
      expect(invalidXmlCharIndex('a\u001Fb')).to.equal(1);
      expect(invalidXmlCharIndex('\uFFFE')).to.equal(0);
      expect(invalidXmlCharIndex('x\uD800y')).to.equal(1);
      expect(invalidXmlCharIndex('x\uDC00')).to.equal(1);
    });
  });
});
