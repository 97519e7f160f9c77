import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkOrder } from '../../src/domain/rules/index';
import { exampleNames, examplesDir, readExample } from './example-orders';

const noUsage = { annualUsage: { usedThisYear: async () => 0 } };
const invalidDir = join(examplesDir, 'invalid');
const expected = JSON.parse(readFileSync(join(invalidDir, 'expected.json'), 'utf8')) as Record<
  string,
  { codes: string[]; why: string }
>;

describe('example orders', () => {
  for (const name of exampleNames()) {
    it(`${name} passes every rule`, async () => {
      const result = await checkOrder(readExample(name), noUsage);
      expect(result.ok ? [] : result.violations).to.deep.equal([]);
    });
  }

  it('ships the required kinds of example', () => {
    expect(exampleNames()).to.include.members([
      'gz-9610-direct-purchase',
      'qianhai-1210-bonded',
      'hk-seller-shenzhen-bay',
      'mo-seller-hengqin',
      'multi-item-with-gift',
      'export-9610-to-hong-kong',
    ]);
  });

  it('lists an expectation for every invalid example', () => {
    expect(Object.keys(expected).sort()).to.deep.equal(exampleNames(invalidDir));
  });

  for (const name of exampleNames(invalidDir)) {
    it(`invalid/${name} is rejected with exactly ${expected[name]?.codes.join(', ')}`, async () => {
      const result = await checkOrder(readExample(name, invalidDir), noUsage);
      expect(result.ok).to.equal(false);
      const codes = result.ok ? [] : result.violations.map((v) => v.code);
      expect(codes.sort()).to.deep.equal([...(expected[name]?.codes ?? [])].sort());
    });
  }
});
