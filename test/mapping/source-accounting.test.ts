import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSourceMappings, mapSourceRecord, type SourceMapping } from '../../src/mapping/source-mapper';

/**
 * The mapping engine accounts for every line and field of a source record: a record it cannot map whole is
 * refused with the source field named (issue 13 §3: marketplace-flat dropped lines after a gap in the item
 * numbering or past 99, then recomputed totals, tax and amount paid from what was left). Run for every
 * shipped source format, whatever its kind of lines.
 */

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const mappingsDir = join(repoRoot, 'mappings', 'sources');
const params = { FX_HKD_CNY: 0.92, FX_MOP_CNY: 0.89 };
const shipped = loadSourceMappings(mappingsDir);
const names = readdirSync(mappingsDir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.replace(/\.json$/, ''))
  .sort();

type Rec = Record<string, unknown>;

function example(name: string): Rec {
  return JSON.parse(readFileSync(join(repoRoot, 'examples', 'sources', `${name}.json`), 'utf8')) as Rec;
}

function mappingOf(name: string): SourceMapping {
  const m = shipped.get(name);
  if (!m) throw new Error(`no mapping ${name}`);
  return m;
}

/** The array of lines of an array-sourced record (the path is dotted keys, as in the shipped files). */
function lineArray(record: Rec, path: string): Rec[] {
  let node: unknown = record;
  for (const key of path.split('.')) node = (node as Rec)[key];
  if (!Array.isArray(node)) throw new Error(`no line array at ${path}`);
  return node as Rec[];
}

/** Columns of numbered line n: { "sku": …, "title": … } without the prefix. */
function numberedLine(record: Rec, prefix: string, n: number): Rec {
  const p = prefix.replace('{n}', String(n));
  return Object.fromEntries(
    Object.entries(record)
      .filter(([k]) => k.startsWith(p))
      .map(([k, v]) => [k.slice(p.length), v]),
  );
}

function withNumberedLine(record: Rec, prefix: string, n: number, line: Rec): Rec {
  const out = { ...record };
  for (const [k, v] of Object.entries(line)) out[prefix.replace('{n}', String(n)) + k] = v;
  return out;
}

function withoutNumberedLine(record: Rec, prefix: string, n: number): Rec {
  const p = prefix.replace('{n}', String(n));
  return Object.fromEntries(Object.entries(record).filter(([k]) => !k.startsWith(p)));
}

function refusal(name: string, record: Rec): { path: string; code: string; message: string }[] {
  const result = mapSourceRecord(mappingOf(name), record, { params });
  if (result.ok) throw new Error(`${name}: expected the record to be refused, it mapped to an order`);
  return result.issues;
}

describe('source mappings account for every line and field', () => {
  it('every shipped format is covered below', () => {
    expect(names).to.deep.equal([...shipped.keys()].sort());
    expect(names.length).to.be.greaterThan(2);
  });

  for (const name of names) {
    describe(name, () => {
      const source = mappingOf(name).items.source;

      it('maps its example whole: every value the example holds is read or listed as ignored', () => {
        const result = mapSourceRecord(mappingOf(name), example(name), { params });
        if (!result.ok) throw new Error(JSON.stringify(result.issues));
      });

      it('refuses a record with an order-level field it does not read, naming the field', () => {
        const issues = refusal(name, { ...example(name), 'gift_card_amount 禮品卡': '200.00' });
        expect(issues).to.have.length(1);
        expect(issues[0]).to.include({ path: 'gift_card_amount 禮品卡', code: 'unread_source_field' });
        expect(issues[0]!.message).to.contain('would be lost from the declaration');
      });

      it('refuses a record with a line field it does not read, naming the line and the field', () => {
        const record = structuredClone(example(name));
        let expected: string;
        if ('array' in source) {
          lineArray(record, source.array)[1]!['colour 顏色'] = '紅';
          expected = `${source.array}[1].colour 顏色`;
        } else {
          const column = source.numbered.prefix.replace('{n}', '2') + 'colour';
          record[column] = 'red';
          expected = column;
        }
        const issues = refusal(name, record);
        expect(issues.map((i) => [i.path, i.code])).to.deep.equal([[expected, 'unread_source_field']]);
      });

      it('refuses an order with more lines than a declaration holds, naming what is left over', () => {
        const record = structuredClone(example(name));
        if ('array' in source) {
          const lines = lineArray(record, source.array);
          const first = lines[0]!;
          lines.length = 0;
          for (let i = 0; i < 100; i++) lines.push({ ...first });
          const issues = refusal(name, record);
          expect(issues.map((i) => i.path)).to.include('items');
          expect(issues.find((i) => i.path === 'items')!.message).to.contain('at most 99');
        } else {
          const { prefix, presentWhen } = source.numbered;
          const first = numberedLine(record, prefix, 1);
          let out = record;
          for (let n = 1; n <= 100; n++) out = withNumberedLine(withoutNumberedLine(out, prefix, n), prefix, n, first);
          const issues = refusal(name, out);
          const left = issues.filter((i) => i.code === 'unread_source_field').map((i) => i.path);
          expect(left).to.include(prefix.replace('{n}', '100') + presentWhen);
          expect(left.every((p) => p.startsWith(prefix.replace('{n}', '100')))).to.equal(true);
          expect(issues.find((i) => i.path === prefix.replace('{n}', '100') + presentWhen)!.message).to.contain(
            'past the last line this mapping reads',
          );
        }
      });

      if ('numbered' in source) {
        it('refuses a gap in the line numbering (item_1, item_3): line 3 is named, never dropped', () => {
          const { prefix, presentWhen } = source.numbered;
          const record = example(name);
          const line2 = numberedLine(record, prefix, 2);
          expect(Object.keys(line2).length).to.be.greaterThan(3);
          const gapped = withoutNumberedLine(record, prefix, 2);
          const issues = refusal(name, gapped);
          const unread = issues.filter((i) => i.code === 'unread_source_field');
          const line3 = Object.keys(numberedLine(record, prefix, 3)).filter(
            (k) => String(record[prefix.replace('{n}', '3') + k]).trim() !== '',
          );
          expect(unread.map((i) => i.path).sort()).to.deep.equal(
            line3.map((k) => prefix.replace('{n}', '3') + k).sort(),
          );
          const marker = unread.find((i) => i.path === prefix.replace('{n}', '3') + presentWhen)!;
          expect(marker.message).to.contain('belongs to line 3, which is not read');
          expect(marker.message).to.contain('without a gap');
        });
      } else {
        it('reads every element of its line array (lines cannot be skipped)', () => {
          const record = structuredClone(example(name));
          const lines = lineArray(record, source.array);
          const result = mapSourceRecord(mappingOf(name), record, { params });
          if (!result.ok) throw new Error(JSON.stringify(result.issues));
          expect(result.order.items).to.have.length(lines.length);
        });
      }

      it('accepts a field it does not read when the mapping lists it in "ignore"', () => {
        const m = structuredClone(mappingOf(name));
        m.ignore = ['internal_batch_id'];
        const result = mapSourceRecord(m, { ...example(name), internal_batch_id: 'B-77' }, { params });
        if (!result.ok) throw new Error(JSON.stringify(result.issues));
      });
    });
  }

  it('marketplace-flat: the order of issue 13 (lines 1 and 3, no 2) is refused, not declared with one line', () => {
    const record = withoutNumberedLine(example('marketplace-flat'), 'item_{n}_', 2);
    const result = mapSourceRecord(mappingOf('marketplace-flat'), record, { params });
    expect(result.ok).to.equal(false);
    if (result.ok) return;
    expect(result.issues.map((i) => i.path)).to.include('item_3_sku');
    expect(result.draft.items).to.have.length(1);
  });

  it('empty values need no accounting (an empty item_4_sku marks the end of the lines)', () => {
    const record = { ...example('marketplace-flat'), item_4_sku: '', item_4_title: '   ', buyer_note: null };
    const result = mapSourceRecord(mappingOf('marketplace-flat'), record, { params });
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(result.order.items).to.have.length(3);
  });
});
