/**
 * Generates the signed receipt fixtures of the CEB family beyond the nine first declarations
 * (test/fixtures/receipts/signed/): for each receipt type, one receipt per status of its life, each
 * answering a declaration built from the golden inputs (fixed guids), signed by the development Hong Kong
 * center certificate (RSA, deterministic: regenerating gives the same bytes), plus the summary result.
 *
 * Usage: node --import tsx scripts/gen-receipt-fixtures.ts
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPrivateKey } from 'node:crypto';
import { readManifest } from '../src/centers/simulator/manifest';
import { buildReceipt, buildSummaryResult, invtNoFor, sumNoFor } from '../src/centers/simulator/receipt-builder';
import type { MessageType } from '../src/domain/message-types';
import { SoftwareXmlSigner } from '../src/signing/signers/software';
import { pinnedCertificateCheck } from '../src/signing/trust-check';
import { fixtureGuid, LIFECYCLES } from '../test/support/receipt-fixtures';
import { buildGolden, GOLDEN_CASES } from '../test/xml/support/golden-orders';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'test/fixtures/receipts/signed');

const AT = Date.parse('2026-12-01T02:00:00Z');

async function main(): Promise<void> {
  mkdirSync(out, { recursive: true });
  const key = join(root, 'certs-dev/hk/center-hk.key.pem');
  const cert = readFileSync(join(root, 'certs-dev/hk/center-hk.cert.pem'), 'utf8');
  const signer = await SoftwareXmlSigner.create({
    privateKey: createPrivateKey(readFileSync(key)),
    certificate: cert,
    trust: pinnedCertificateCheck(cert),
  });
  let written = 0;
  for (const [type, statuses] of Object.entries(LIFECYCLES) as [MessageType, string[]][]) {
    const c = GOLDEN_CASES.find((g) => g.type === type);
    if (!c) throw new Error(`no golden case for ${type}`);
    const m = readManifest(buildGolden(c, { guid: fixtureGuid(type) }).xml);
    statuses.forEach((status, i) => {
      const built = buildReceipt(
        m,
        [
          {
            status,
            info:
              status === '100'
                ? `海关退单：单证信息与申报不符 [${m.head.copNo ?? m.head.orderNo ?? type}]`
                : `回执 ${status}`,
            at: new Date(AT + i * 60_000),
            ...(type === 'CEB711' && status === '120' ? { rkdNo: '514120261000000711' } : {}),
            ...(type === 'CEB701' && status === '399' ? { sumNo: sumNoFor(m) } : {}),
            ...(type === 'CEB605' ? { invtNo: invtNoFor(m) } : {}),
          },
        ],
        { guid: `B0B1C2D3-0000-4000-8000-${String(Number(type.slice(3)) * 100 + i).padStart(12, '0')}` },
      );
      writeFileSync(join(out, `${built.type.toLowerCase()}-${status}.xml`), signer.signSync(built.xml));
      written++;
    });
    if (type === 'CEB701') {
      const result = buildSummaryResult(
        m,
        [
          {
            at: new Date(AT + 3_600_000),
            decState: '1',
            entryId: '534520261000012345',
            grossWeight: 5.45,
            netWeight: 4.3,
            lines: [
              { invtNo: '534520260000000606', logisticsNo: 'BQX5345000000606', gnum: 1, gcode: '0902300000' },
              { invtNo: '534520260000000606', logisticsNo: 'BQX5345000000606', gnum: 2, gcode: '6214100090' },
              { invtNo: '534520260000000607', logisticsNo: 'BQX5345000000607', gnum: 1, gcode: '0902300000' },
            ],
          },
        ],
        { guid: 'B0B1C2D3-0000-4000-8000-000000079201' },
      );
      writeFileSync(join(out, 'ceb792-summarized.xml'), signer.signSync(result.xml));
      written++;
    }
  }
  console.log(`wrote ${written} signed receipts to ${out}`);
}

await main();
