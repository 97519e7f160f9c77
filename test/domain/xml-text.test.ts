import { expect } from 'chai';
import { checkOrder } from '../../src/domain/rules';
import { firstNonXmlChar, nonXmlText } from '../../src/domain/xml-text';
import { generateValidOrder } from '../support/order-generator';

describe('domain: text XML cannot carry', () => {
  it('finds control characters, U+FFFE/U+FFFF and lone surrogates, and accepts everything XML 1.0 can carry', () => {
    for (const [text, codePoint] of [
      ['a\u0000b', 'U+0000'],
      ['\u0008', 'U+0008'],
      ['x\u001f', 'U+001F'],
      ['\uFFFE', 'U+FFFE'],
      ['\uFFFF', 'U+FFFF'],
      ['\uD800', 'U+D800'],
      ['ok\uDC00', 'U+DC00'],
    ] as const) {
      expect(firstNonXmlChar(text)?.codePoint, JSON.stringify(text)).to.equal(codePoint);
    }
    for (const text of ['', 'tab\tlf\ncr\r', '广州市天河区', '香港尖沙咀', '😀 \u{10FFFF}', '\uE000\uFFFD'])
      expect(firstNonXmlChar(text), JSON.stringify(text)).to.equal(undefined);
  });

  it('names every field holding such text, in order notation', () => {
    expect(nonXmlText({ a: 'ok', items: [{ gname: 'x\u0000' }], b: { c: '\uFFFF' } })).to.deep.equal([
      { path: 'items[0].gname', index: 1, codePoint: 'U+0000' },
      { path: 'b.c', index: 0, codePoint: 'U+FFFF' },
    ]);
  });

  it('checkOrder refuses an order whose address carries U+0000, naming the field', async () => {
    const order = { ...generateValidOrder(5, { direction: 'import' }), consigneeAddress: '广州市\u0000天河区' };
    const checked = await checkOrder(order, { annualUsage: { usedThisYear: async () => 0 } });
    expect(checked.ok).to.equal(false);
    expect(!checked.ok && checked.violations.filter((v) => v.code === 'XML_CHAR_INVALID')).to.deep.equal([
      {
        path: 'consigneeAddress',
        code: 'XML_CHAR_INVALID',
        message: {
          zh: '含有 XML 不能承载的字符 U+0000（第 4 个字符）',
          en: 'contains U+0000 at character 4, which XML cannot carry',
        },
      },
    ]);
  });
});
