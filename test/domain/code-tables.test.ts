import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultCodeTables } from '../../src/domain/reference-data';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const officialCodes = join(repoRoot, '..', 'shared', 'ceb-2022', 'codes');

describe('customs code tables', () => {
  it('know the Greater Bay Area districts and the codes the examples use', () => {
    expect(defaultCodeTables.customsDistricts).to.include({
      '5141': '广州机场',
      '5345': '深圳湾海关',
      '5795': '横琴海关',
    });
    expect(defaultCodeTables.customsDistricts['5349']).to.contain('前海湾');
    expect(defaultCodeTables.countries).to.include({ '110': '中国香港', '121': '中国澳门', '142': '中国' });
    expect(defaultCodeTables.currencies).to.include({ '142': '人民币', '110': '港币', '121': '澳门元' });
    expect(defaultCodeTables.units).to.include({ '035': '千克', '011': '件' });
  });

  it('are reproduced exactly by scripts/build-code-tables.ts from the official dumps', function () {
    this.timeout(30000);
    if (!existsSync(officialCodes)) {
      console.log(
        'official CEB code dumps not found at ../shared/ceb-2022/codes: code-table regeneration check not run',
      );
      return;
    }
    const out = mkdtempSync(join(tmpdir(), 'baygate-codes-'));
    try {
      execFileSync(
        process.execPath,
        ['--import', 'tsx', join(repoRoot, 'scripts', 'build-code-tables.ts'), officialCodes, out],
        { cwd: repoRoot, stdio: 'pipe' },
      );
      const committed = join(repoRoot, 'mappings', 'codes');
      for (const file of readdirSync(out)) {
        expect(readFileSync(join(out, file), 'utf8'), file).to.equal(readFileSync(join(committed, file), 'utf8'));
      }
      expect(readdirSync(out).sort()).to.deep.equal([
        'countries-en.json',
        'countries.json',
        'currencies-iso.json',
        'currencies.json',
        'customs-districts.json',
        'units.json',
      ]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
