/**
 * Builds the compact customs code tables Baygate needs at run time (mappings/codes/*.json) from the
 * official 2019 dumps in ../shared/ceb-2022/codes/ (or the folder given as the first argument).
 *
 * Output: one {code: name} object per table, keys sorted, so diffs stay readable when the dumps are
 * refreshed. The generated files are committed: the official folder is not available on users' machines.
 * Rerunnable: `node --import tsx scripts/build-code-tables.ts [sourceDir] [outDir]`.
 */
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

interface DumpEntry {
  code: string;
  name: string;
  code_en?: string;
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const sourceDir = resolve(process.argv[2] ?? join(repoRoot, '..', 'shared', 'ceb-2022', 'codes'));
const outDir = resolve(process.argv[3] ?? join(repoRoot, 'mappings', 'codes'));

function readDump(file: string): DumpEntry[] {
  const parsed: unknown = JSON.parse(readFileSync(join(sourceDir, file), 'utf8'));
  if (!Array.isArray(parsed)) throw new Error(`${file}: expected a JSON array`);
  return parsed.map((entry: unknown, index) => {
    const e = entry as Partial<DumpEntry>;
    if (typeof e?.code !== 'string' || typeof e.name !== 'string')
      throw new Error(`${file}[${index}]: missing code or name`);
    return { code: e.code.trim(), name: e.name.trim(), code_en: e.code_en?.trim() };
  });
}

/** Sorted {code: value}; refuses a code listed twice with different values, because then one is wrong. */
function toMap(entries: { code: string; value: string }[], label: string): Record<string, string> {
  const map = new Map<string, string>();
  for (const { code, value } of entries) {
    const known = map.get(code);
    if (known !== undefined && known !== value)
      throw new Error(`${label}: code ${code} is both "${known}" and "${value}"`);
    map.set(code, value);
  }
  return Object.fromEntries([...map.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

function write(name: string, table: Record<string, string>): void {
  writeFileSync(join(outDir, name), JSON.stringify(table, null, 1) + '\n');
  console.log(`${name}: ${Object.keys(table).length} codes`);
}

if (!existsSync(sourceDir)) {
  console.error(`code dumps not found at ${sourceDir}; pass the folder as the first argument`);
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });

const countries = readDump('countries.json');
const currencies = readDump('currencies.json');
const units = readDump('units.json');
const districts = [...readDump('customs-districts-1.json'), ...readDump('customs-districts-2.json')];
// The Guangdong TSV repeats part of the district dumps; merging it catches disagreements between them.
const guangdong = readFileSync(join(sourceDir, 'guangdong-customs-codes.tsv'), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => {
    const [code = '', name = ''] = line.split('\t');
    return { code: code.trim(), value: name.trim() };
  });

write(
  'countries.json',
  toMap(
    countries.map((e) => ({ code: e.code, value: e.name })),
    'countries',
  ),
);
write(
  'countries-en.json',
  toMap(
    countries.map((e) => ({ code: e.code, value: e.code_en ?? e.name })),
    'countries-en',
  ),
);
write(
  'currencies.json',
  toMap(
    currencies.map((e) => ({ code: e.code, value: e.name })),
    'currencies',
  ),
);
// ISO 4217 letters per customs currency code; the dump has one lower-case duplicate ("nzd"), normalised here.
write(
  'currencies-iso.json',
  toMap(
    currencies.map((e) => ({ code: e.code, value: (e.code_en ?? '').toUpperCase() })),
    'currencies-iso',
  ),
);
write(
  'units.json',
  toMap(
    units.map((e) => ({ code: e.code, value: e.name })),
    'units',
  ),
);
write(
  'customs-districts.json',
  toMap([...districts.map((e) => ({ code: e.code, value: e.name })), ...guangdong], 'customs-districts'),
);
