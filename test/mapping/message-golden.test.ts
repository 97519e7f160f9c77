import { expect } from 'chai';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildGolden, GOLDEN_CASES, GOLDEN_DIR } from '../xml/support/golden-orders';

/**
 * One golden file per message type, built from fixed orders, guids and time. A diff here means the
 * bytes we sign changed: review it, then regenerate with BAYGATE_UPDATE_GOLDEN=1.
 */
describe('message golden files', () => {
  const update = process.env.BAYGATE_UPDATE_GOLDEN === '1';

  for (const c of GOLDEN_CASES) {
    it(`${c.file} is reproduced byte for byte`, () => {
      const built = buildGolden(c);
      const path = join(GOLDEN_DIR, c.file);
      if (update) writeFileSync(path, built.xml);
      expect(existsSync(path), `${path} is missing: run with BAYGATE_UPDATE_GOLDEN=1 to create it`).to.equal(true);
      expect(built.xml).to.equal(readFileSync(path, 'utf8'));
    });
  }
});
