import { expect } from 'chai';
import { buildMessage } from '../../src/mapping/message-builder';
import { CanonicalXmlWriter } from '../../src/xml/canonical-writer';
import { buildGolden, fixedContext, GOLDEN_CASES, goldenOrder } from './support/golden-orders';
import { xmllintAvailable, xmllintC14n } from './support/xmllint';

/**
 * The builder's output must already be inclusive C14N 1.0 (no comments), so the signer can digest it
 * as is. libxml2's canonicaliser is the reference: c14n(ours) must give back the very same bytes.
 */
describe('canonical form of built messages', function () {
  before(function () {
    if (!xmllintAvailable()) throw new Error('xmllint (libxml2-utils) is required for the canonical-form tests');
  });

  for (const c of GOLDEN_CASES) {
    it(`${c.file}: xmllint --c14n gives identical bytes`, () => {
      const { xml } = buildGolden(c);
      expect(xmllintC14n(xml)).to.equal(xml);
    });
  }

  it('escapes &, <, >, CR in text exactly like C14N and keeps quotes literal', () => {
    const order = goldenOrder('import-9610');
    const { xml } = buildMessage('CEB311', order, fixedContext());
    expect(xml).to.contain('<ceb:note>VIP客户 &amp; "加急" &lt;周末送达&gt;&#xD;\n第二行</ceb:note>');
    expect(xmllintC14n(xml)).to.equal(xml);
  });

  it('writes namespace declarations first and sorted, then attributes sorted, never self-closing', () => {
    const w = new CanonicalXmlWriter();
    w.open(
      'ceb:R',
      { xsi: 'http://www.w3.org/2001/XMLSchema-instance', ceb: 'http://www.chinaport.gov.cn/ceb' },
      { version: '1.0', guid: 'G"&<\t\n\r>' },
    );
    w.leaf('ceb:e', '');
    w.close('ceb:R');
    const xml = w.toString();
    expect(xml).to.equal(
      '<ceb:R xmlns:ceb="http://www.chinaport.gov.cn/ceb" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" guid="G&quot;&amp;&lt;&#x9;&#xA;&#xD;>" version="1.0"><ceb:e></ceb:e></ceb:R>',
    );
    expect(xmllintC14n(xml)).to.equal(xml);
  });
});
