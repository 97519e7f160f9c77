import { expect } from 'chai';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config';
import { validateOrder } from '../../src/domain/rules/index';
import {
  loadSourceMappings,
  mapSourceRecord,
  paramsFromConfig,
  SourceMappingError,
  validateSourceMapping,
  type SourceMapping,
} from '../../src/mapping/source-mapper';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const mappingsDir = join(repoRoot, 'mappings', 'sources');
const sourcesDir = join(repoRoot, 'examples', 'sources');
const params = { FX_HKD_CNY: 0.92, FX_MOP_CNY: 0.89 };
const noUsage = { annualUsage: { usedThisYear: async () => 0 } };

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}
function sourceExample(name: string): Record<string, unknown> {
  return readJson(join(sourcesDir, `${name}.json`));
}

/** Runs `fn` with a temporary mappings folder holding `files`, and removes it afterwards. */
function withMappingDir<T>(files: Record<string, string>, fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'baygate-sources-'));
  try {
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function loadError(files: Record<string, string>): SourceMappingError {
  return withMappingDir(files, (dir) => {
    try {
      loadSourceMappings(dir);
    } catch (error) {
      if (error instanceof SourceMappingError) return error;
      throw error;
    }
    throw new Error('expected loadSourceMappings to fail');
  });
}

const shipped = loadSourceMappings(mappingsDir);
const mapping = (name: string): SourceMapping => {
  const m = shipped.get(name);
  if (!m) throw new Error(`no mapping ${name}`);
  return m;
};
const minimal = (overrides: Record<string, unknown> = {}) =>
  JSON.stringify({
    name: 'tiny',
    description: 'test format',
    order: { orderNo: { from: 'id' } },
    items: { source: { array: 'lines' }, fields: { itemName: { from: 'name' } } },
    ...overrides,
  });

describe('source mappings', () => {
  it('loads and validates every shipped mapping file', () => {
    expect([...shipped.keys()].sort()).to.include.members(['hk-seller', 'marketplace-flat', 'mo-seller']);
  });

  for (const name of readdirSync(mappingsDir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.replace(/\.json$/, ''))) {
    it(`${name}: maps its example input to an order that passes every rule`, async () => {
      const result = mapSourceRecord(mapping(name), sourceExample(name), { params });
      if (!result.ok) throw new Error(JSON.stringify(result.issues));
      expect(await validateOrder(result.order, noUsage)).to.deep.equal([]);
    });
  }

  it('every example input has a mapping and every mapping an example input', () => {
    const examples = readdirSync(sourcesDir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.replace(/\.json$/, ''))
      .sort();
    expect(examples).to.deep.equal([...shipped.keys()].sort());
  });

  it('mo-seller converts MOP at FX_MOP_CNY and finds origin codes by Chinese name', () => {
    const result = mapSourceRecord(mapping('mo-seller'), sourceExample('mo-seller'), {
      params: { ...params, FX_MOP_CNY: 0.89 },
    });
    if (!result.ok || result.order.direction !== 'import') throw new Error(JSON.stringify(result));
    expect(result.order.items.map((i) => i.price)).to.deep.equal([69.42, 85.89, 105.02]);
    expect(result.order.items.map((i) => i.country)).to.deep.equal(['121', '121', '311']);
    expect(result.order.discount).to.equal(8.9);
  });

  it('marketplace-flat reads numbered columns, looks codes up and strips phone formatting', () => {
    const result = mapSourceRecord(mapping('marketplace-flat'), sourceExample('marketplace-flat'), { params });
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    const order = result.order;
    if (order.direction !== 'import') throw new Error('expected import');
    expect(order.items.map((i) => i.itemNo)).to.deep.equal(['JP-SHI-ULT-50', 'JP-KAO-MASK-12', 'JP-SAMPLE-01']);
    expect(order.items.map((i) => i.unit)).to.deep.equal(['142', '140', '142']);
    expect(order.items[0]!.gcode).to.equal('3304990099');
    expect(order.country).to.equal('116');
    expect(order.buyerTelephone).to.equal('13922334455');
    expect(order.voyageNo).to.equal('NH933/20261130');
    expect(order.payment.payTime).to.equal('20261129091230');
    expect(order.payment.amountPaid).to.equal(order.acturalPaid);
    expect(order.insuredFee).to.equal(0);
  });

  it('hk-seller converts HKD at the configured FX_HKD_CNY rate and rounds to the fen', () => {
    const at = (rate: number) => {
      const result = mapSourceRecord(mapping('hk-seller'), sourceExample('hk-seller'), {
        params: { ...params, FX_HKD_CNY: rate },
      });
      if (!result.ok || result.order.direction !== 'import') throw new Error(JSON.stringify(result));
      return result.order;
    };
    expect(at(0.92).items[0]!.price).to.equal(1729.6); // 1,880.00 HKD
    expect(at(0.9137).items[0]!.price).to.equal(1717.76); // 1717.756 → 1717.76
    expect(at(0.9137).freight).to.equal(31.98); // 35 × 0.9137 = 31.9795
    expect(at(0.9137).items[0]!.country).to.equal('110');
  });

  it('takes FX rates from the validated configuration', () => {
    const config = loadConfig({ FX_HKD_CNY: '0.95' });
    expect(paramsFromConfig(config)).to.deep.equal({ FX_HKD_CNY: 0.95, FX_MOP_CNY: 0.89 });
  });

  it('reports a missing configuration parameter at the field that needs it', () => {
    const result = mapSourceRecord(mapping('hk-seller'), sourceExample('hk-seller'), { params: {} });
    expect(result.ok).to.equal(false);
    if (result.ok) return;
    expect(result.issues.map((i) => i.path)).to.include.members(['freight', 'items[0].price']);
    expect(result.issues.find((i) => i.path === 'freight')!.message).to.contain('FX_HKD_CNY');
  });

  it('names the order path and the source field when the source lacks a value', () => {
    const record = sourceExample('marketplace-flat');
    delete record.buyer_id_no;
    record.item_2_unit = '箩筐';
    record.paid_at = '29/11/2026';
    const result = mapSourceRecord(mapping('marketplace-flat'), record, { params });
    if (result.ok) throw new Error('expected failure');
    const byPath = Object.fromEntries(result.issues.map((i) => [i.path, i.message]));
    expect(byPath.buyerIdNumber).to.contain('buyer_id_no');
    expect(byPath['items[1].unit']).to.contain('units code table');
    expect(byPath['payment.payTime']).to.contain('YYYY-MM-DD HH:mm:ss');
    expect(result.draft).to.have.property('orderNo', 'MP2026112900017');
  });

  it('passes shape problems of the mapped order through with order paths', () => {
    const record = sourceExample('marketplace-flat');
    record.buyer_name = 'x'.repeat(61);
    const result = mapSourceRecord(mapping('marketplace-flat'), record, { params });
    if (result.ok) throw new Error('expected failure');
    expect(result.issues.map((i) => i.path)).to.deep.equal(['buyerName', 'payment.payerName']);
  });

  it('treats a "__proto__" column in untrusted input as data, and refuses it as a field it cannot map', () => {
    const record = { ...sourceExample('marketplace-flat') };
    // Line 2 has no bar code: an inherited "ean" would show up as one.
    Object.defineProperty(record, 'item_2___proto__', {
      value: { ean: '6666666666666', polluted: true },
      enumerable: true,
    });
    const result = mapSourceRecord(mapping('marketplace-flat'), record, { params });
    if (result.ok) throw new Error('expected the unread column to be refused');
    expect(result.issues.map((i) => i.path).sort()).to.deep.equal([
      'item_2___proto__.ean',
      'item_2___proto__.polluted',
    ]);
    expect((result.draft.items as Record<string, unknown>[])[1]!.barCode).to.equal(undefined);
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
  });

  it('rejects a record without lines', () => {
    const result = mapSourceRecord(
      mapping('hk-seller'),
      { ...sourceExample('hk-seller'), '貨品 Items': [] },
      { params },
    );
    expect(result.ok).to.equal(false);
    if (!result.ok) expect(result.issues[0]).to.include({ path: 'items' });
  });

  it('adding a format is adding a file: a new Macao format maps with no code change', () => {
    const moFormat = {
      name: 'mo-pos',
      description: 'Macao point-of-sale export, MOP prices',
      order: {
        ...mapping('hk-seller').order,
        sellerRegion: { const: 'MO' },
        ebcCode: { const: 'MO5795B201' },
        ebcName: { const: '澳門鉅記手信有限公司' },
        customsCode: { const: '5795' },
        portCode: { const: '5795' },
        country: { const: '121' },
        freight: {
          from: 'freight_mop',
          transforms: [{ op: 'number' }, { op: 'multiply', by: { param: 'FX_MOP_CNY' } }, { op: 'round', digits: 2 }],
        },
        insuredFee: { const: 0 },
        discount: { const: 0 },
      },
      items: mapping('hk-seller').items,
      // Fields this format carries and deliberately does not use: listed, or the record is refused.
      ignore: ['訂單 Order.保險 Insurance (HKD)', '訂單 Order.折扣 Discount (HKD)'],
    };
    const record: Record<string, unknown> = structuredClone({ ...sourceExample('hk-seller'), freight_mop: '20' });
    delete (record['訂單 Order'] as Record<string, unknown>)['運費 Shipping (HKD)'];
    withMappingDir({ 'mo-pos.json': JSON.stringify(moFormat) }, (dir) => {
      const loaded = loadSourceMappings(dir).get('mo-pos');
      if (!loaded) throw new Error('not loaded');
      const result = mapSourceRecord(loaded, record, { params });
      if (!result.ok || result.order.direction !== 'import') throw new Error(JSON.stringify(result));
      expect(result.order.freight).to.equal(17.8);
      expect(result.order.sellerRegion).to.equal('MO');
    });
  });
});

describe('broken source mapping files', () => {
  it('names file, path and reason for an unknown order field', () => {
    const error = loadError({ 'tiny.json': minimal({ order: { orderNumber: { from: 'id' } } }) });
    expect(error.problems).to.have.length(1);
    expect(error.problems[0]!.file).to.match(/tiny\.json$/);
    expect(error.problems[0]!.path).to.equal('order.orderNumber');
    expect(error.problems[0]!.reason).to.contain('not a field');
    expect(error.message).to.contain('tiny.json: order.orderNumber:');
  });

  it('names the transform that is malformed', () => {
    const error = loadError({
      'tiny.json': minimal({
        order: { freight: { from: 'f', transforms: [{ op: 'number' }, { op: 'round', digits: 9 }] } },
      }),
    });
    expect(error.problems.map((p) => p.path)).to.deep.equal(['order.freight.transforms[1].digits']);
  });

  it('reports invalid JSON with the file name', () => {
    const error = loadError({ 'tiny.json': '{ "name": "tiny", ' });
    expect(error.problems[0]!.path).to.equal('(file)');
    expect(error.problems[0]!.reason).to.contain('not valid JSON');
  });

  it('rejects unknown parameters, misplaced calculations and a name that differs from the file', () => {
    const error = loadError({
      'tiny.json': minimal({
        name: 'other',
        order: {
          freight: { param: 'FX_EUR_CNY' },
          goodsValue: { calc: 'lineTotal' },
          'payment.payerName': { copy: 'buyerFullName' },
        },
        items: {
          source: { array: 'lines' },
          fields: {
            totalPrice: { calc: 'taxTotal' },
            price: { from: 'p', transforms: [{ op: 'multiply', by: { param: 'FX_XXX' } }] },
          },
        },
      }),
    });
    expect(error.problems.map((p) => p.path).sort()).to.deep.equal(
      [
        'items.fields.price.transforms[0].by.param',
        'items.fields.totalPrice.calc',
        'name',
        'order.freight.param',
        'order.goodsValue.calc',
        'order.payment.payerName.copy',
      ].sort(),
    );
  });

  it('collects the problems of every file before failing', () => {
    const error = loadError({
      'good.json': minimal({ name: 'good' }),
      'bad-a.json': minimal({
        name: 'bad-a',
        items: { source: { numbered: { prefix: 'item_', presentWhen: 'sku' } }, fields: {} },
      }),
      'bad-b.json': minimal({
        name: 'bad-b',
        order: { orderNo: { from: 'id', transforms: [{ op: 'date', format: 'DD/MM' }] } },
      }),
    });
    expect(error.problems.map((p) => `${p.file.split('/').pop()}:${p.path}`).sort()).to.deep.equal(
      ['bad-a.json:items.source.numbered.prefix', 'bad-b.json:order.orderNo.transforms[0].format'].sort(),
    );
  });

  it('rejects an invalid regular expression in replace', () => {
    const result = validateSourceMapping(
      JSON.parse(
        minimal({ order: { orderNo: { from: 'id', transforms: [{ op: 'replace', pattern: '([', with: '' }] } } }),
      ),
      'tiny.json',
    );
    expect(result.ok).to.equal(false);
    if (!result.ok) expect(result.problems[0]!.path).to.equal('order.orderNo.transforms[0].pattern');
  });

  it('accepts the shipped files copied to another folder (no hidden dependency on the path)', () => {
    withMappingDir({}, (dir) => {
      for (const name of ['hk-seller.json', 'marketplace-flat.json'])
        copyFileSync(join(mappingsDir, name), join(dir, name));
      expect(loadSourceMappings(dir).size).to.equal(2);
    });
  });
});
