import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  compileMappingText,
  DEFAULT_MAPPINGS_DIR,
  loadMessageMappings,
  MappingFileError,
  type CompiledMapping,
} from '../../src/mapping/message-mapper';
import { isGroup, isOmitted, type ElementMapping } from '../../src/mapping/message-mapping-schema';
import { MESSAGE_TYPES } from '../../src/domain/message-types';
import { officialCebAvailable, xsdMessageTree, type XsdNode, noteOfficialMissing } from '../xml/support/xsd-sequence';

function errorOf(fn: () => unknown): MappingFileError {
  try {
    fn();
  } catch (err) {
    if (err instanceof MappingFileError) return err;
    throw err;
  }
  throw new Error('expected a MappingFileError');
}

/** Compares one mapping level with the XSD sequence it stands for; returns every difference. */
function compareWithXsd(mapped: ElementMapping[], xsd: XsdNode, where: string, out: string[]): void {
  const names = mapped.map((m) => m.element);
  const expected = xsd.children.map((c) => c.name);
  if (names.join(',') !== expected.join(',')) {
    out.push(`${where}: elements ${names.join(',')} but the XSD sequence is ${expected.join(',')}`);
    return;
  }
  mapped.forEach((m, i) => {
    const x = xsd.children[i] as XsdNode;
    const at = `${where}/${m.element}`;
    if (isOmitted(m)) {
      if (x.minOccurs > 0 && x.name !== 'ds:Signature') out.push(`${at}: omitted but the XSD requires it`);
      return;
    }
    if (isGroup(m)) {
      if (x.children.length === 0) out.push(`${at}: a group in the mapping, a simple element in the XSD`);
      if ((m.forEach !== undefined) !== (x.maxOccurs > 1 && where.split('/').length > 1)) {
        out.push(`${at}: forEach ${m.forEach ? 'given' : 'missing'} but XSD maxOccurs is ${x.maxOccurs}`);
      }
      if (m.forEach !== undefined && (m.optional ?? false) !== (x.minOccurs === 0))
        out.push(`${at}: optional=${m.optional ?? false} but XSD minOccurs=${x.minOccurs}`);
      compareWithXsd(m.content, x, at, out);
      return;
    }
    if (x.children.length > 0) out.push(`${at}: a value in the mapping, a group in the XSD`);
    if (m.optional !== (x.minOccurs === 0)) out.push(`${at}: optional=${m.optional} but XSD minOccurs=${x.minOccurs}`);
    const f = x.facets;
    const wantFormat = f.base === 'decimal' ? 'decimal' : f.base === 'int' ? 'int' : undefined;
    if (wantFormat && m.format !== wantFormat) out.push(`${at}: format ${m.format} but XSD type is xs:${f.base}`);
    if (!wantFormat && (m.format === 'decimal' || m.format === 'int'))
      out.push(`${at}: format ${m.format} but XSD type is xs:${f.base}`);
    if (f.base === 'decimal' && (f.fractionDigits !== 5 || f.totalDigits !== 19))
      out.push(`${at}: XSD decimal facets differ from the builder's 19/5`);
    if (!wantFormat) {
      if (m.length !== f.length) out.push(`${at}: length ${m.length} but XSD length ${f.length}`);
      if (m.maxLength !== f.maxLength) out.push(`${at}: maxLength ${m.maxLength} but XSD maxLength ${f.maxLength}`);
      const xsdMin = f.minLength && f.minLength > 0 ? f.minLength : undefined;
      if (m.minLength !== xsdMin) out.push(`${at}: minLength ${m.minLength} but XSD minLength ${xsdMin}`);
    }
    if (f.fixed !== undefined && !('const' in m.value && m.value.const === f.fixed))
      out.push(`${at}: XSD fixes "${f.fixed}", mapping does not give that constant`);
  });
}

describe('message mapping files', () => {
  let mappings: Map<string, CompiledMapping>;

  before(() => {
    mappings = loadMessageMappings();
  });

  it('load and validate at start-up, one file per message type and CEB621 trade mode', () => {
    const keys = [...mappings.keys()].sort();
    const expected = [...MESSAGE_TYPES.filter((t) => t !== 'CEB621'), 'CEB621-9610', 'CEB621-1210'].sort();
    expect(keys).to.deep.equal(expected);
  });

  it('follow the official XSD element sequence, occurrences and facets', function () {
    if (!officialCebAvailable()) {
      noteOfficialMissing();
      return;
    }
    const problems: string[] = [];
    for (const m of mappings.values()) {
      compareWithXsd(
        m.mapping.content,
        xsdMessageTree(m.mapping.xsd, m.mapping.root),
        `${m.file}:${m.mapping.root}`,
        problems,
      );
    }
    expect(problems).to.deep.equal([]);
  });

  it('the XSD comparison notices a swapped pair of elements', function () {
    if (!officialCebAvailable()) {
      noteOfficialMissing();
      return;
    }
    const m = mappings.get('CEB411') as CompiledMapping;
    const swapped = structuredClone(m.mapping.content);
    const head = ((swapped[0] as { content: ElementMapping[] }).content[0] as { content: ElementMapping[] }).content;
    [head[1], head[2]] = [head[2] as ElementMapping, head[1] as ElementMapping];
    const problems: string[] = [];
    compareWithXsd(swapped, xsdMessageTree('import', 'CEB411Message'), 'CEB411', problems);
    expect(problems.join('\n')).to.match(/CEB411\/Payment\/PaymentHead: elements guid,appTime,appType/);
  });

  it('reject a bad file with the file name, the element path and the reason', () => {
    const good = JSON.parse(readFileSync(join(DEFAULT_MAPPINGS_DIR, 'ceb411.json'), 'utf8'));
    const head = good.content[0].content[0].content;
    head[0].value = { fn: 'makeGuid' };
    head[4].value = { path: 'customer.payCode' };
    head[5].maxLength = -1;
    head[6] = { element: 'payTransactionId' };
    const err = errorOf(() => compileMappingText('ceb411-broken.json', JSON.stringify(good)));
    expect(err.message).to.contain('ceb411-broken.json');
    const text = err.problems.join('\n');
    expect(text).to.match(
      /content\[0\]\(Payment\)\.content\[0\]\(PaymentHead\)\.content\[0\]\(guid\)\.value\.fn: Invalid option/,
    );
    expect(text).to.match(/content\[4\]\(payCode\)\.value\.path: must be <root>\.<field>/);
    expect(text).to.match(/content\[5\]\(payName\)\.maxLength: .*>0|content\[5\]\(payName\)\.maxLength/);
    expect(text).to.match(/content\[6\]\(payTransactionId\): must be an object with one of: omit, content, value/);
  });

  it('reject invalid JSON, a wrong root and a missing CEB621 variant', () => {
    expect(errorOf(() => compileMappingText('x.json', '{ "type": ')).problems[0]).to.match(/not valid JSON/);
    const m = JSON.parse(readFileSync(join(DEFAULT_MAPPINGS_DIR, 'ceb621-9610.json'), 'utf8'));
    m.root = 'CEB622Message';
    delete m.variant;
    const text = errorOf(() => compileMappingText('ceb621.json', JSON.stringify(m))).problems.join('\n');
    expect(text).to.contain('root: must be CEB621Message');
    expect(text).to.contain('variant: CEB621 mappings need a variant');
  });

  it('reject item paths outside a forEach group and elements listed twice', () => {
    const m = JSON.parse(readFileSync(join(DEFAULT_MAPPINGS_DIR, 'ceb411.json'), 'utf8'));
    const head = m.content[0].content[0].content;
    head[7].value = { path: 'item.orderNo' };
    head[8] = { ...head[9] };
    const text = errorOf(() => compileMappingText('ceb411.json', JSON.stringify(m))).problems.join('\n');
    expect(text).to.contain(
      'CEB411Message/Payment/PaymentHead/orderNo.value: path "item.orderNo" uses item outside a forEach group',
    );
    expect(text).to.contain('CEB411Message/Payment/PaymentHead/ebpName: element listed twice');
  });

  it('refuse two files that map the same message', () => {
    const dir = mkdtempSync(join(tmpdir(), 'baygate-mappings-'));
    try {
      const text = readFileSync(join(DEFAULT_MAPPINGS_DIR, 'ceb511.json'), 'utf8');
      writeFileSync(join(dir, 'a.json'), text);
      writeFileSync(join(dir, 'b.json'), text);
      expect(errorOf(() => loadMessageMappings(dir)).message).to.match(
        /b\.json[\s\S]*maps CEB511, which a\.json maps already/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
