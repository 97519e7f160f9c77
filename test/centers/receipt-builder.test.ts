import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { readManifest, type ManifestView } from '../../src/centers/simulator/manifest';
import {
  buildReceipt,
  buildSummaryResult,
  invtNoFor,
  preNoFor,
  RECEIPT_FOR,
  returnTimeOf,
  sumNoFor,
} from '../../src/centers/simulator/receipt-builder';
import { officialXsdDir } from '../../src/centers/simulator/schema-check';
import { buildFromInput, type MessageInput } from '../../src/mapping/message-builder';
import { MESSAGE_INPUT, MESSAGE_TYPES, messageDirection, type MessageType } from '../../src/domain/message-types';
import { SoftwareXmlSigner } from '../../src/signing/signers/software';
import { trustListCheck } from '../../src/signing/trust-check';
import { verifySignedXml } from '../../src/signing/verifier';
import { parseReceipt } from '../../src/xml/receipts/parse-receipt';
import { exportExample } from '../domain/example-orders';
import { fixedContext, goldenShipment, goldenSummary } from '../xml/support/golden-orders';
import { devIdentity, devTrustLists } from '../signing/support/dev-identities';
import { freshImportOrder, SENDER } from './support';

/**
 * Receipts the simulated centers send: one per declared type, unsigned form valid against the official
 * schema, signed by a center certificate, and read back by the gateway's receipt parser with the keys
 * that match them to the declaration.
 */
function manifestOf(type: MessageType): ManifestView {
  const kind = MESSAGE_INPUT[type];
  const input: MessageInput =
    kind === 'summary'
      ? { kind, summary: goldenSummary() }
      : kind === 'shipment'
        ? { kind, shipment: goldenShipment(type === 'CEB711' ? 'import-arrival' : 'export-consolidation') }
        : { kind, order: messageDirection(type) === 'export' ? exportExample() : freshImportOrder() };
  const ctx = fixedContext({ sender: SENDER, guid: undefined, headGuid: undefined, now: undefined });
  return readManifest(buildFromInput(type, input, { ...ctx, refund: { ...ctx.refund!, items: [] } }).xml);
}

/** Every declared type: each gets its receipt. */
const TYPES: readonly MessageType[] = MESSAGE_TYPES;

describe('centers/simulator/receipt-builder', function () {
  this.timeout(20000);
  const at = new Date('2026-11-29T02:03:04.567Z');

  it('writes returnTime as YYYYMMDDhhmmssSSS in China Standard Time', () => {
    expect(returnTimeOf(at)).to.equal('20261129100304567');
  });

  it('derives 18-character preNo and invtNo that stay the same for the same declaration', () => {
    const m = manifestOf('CEB621');
    expect(preNoFor(m))
      .to.match(/^B\d{17}$/)
      .and.equal(preNoFor(m));
    expect(invtNoFor(m))
      .to.match(/^5141\d{4}1\d{9}$/)
      .and.equal(invtNoFor(m));
  });

  for (const type of TYPES) {
    it(`${type} → ${RECEIPT_FOR[type]}: signed by a center, verified, parsed, keys echoed`, async () => {
      const m = manifestOf(type);
      const built = buildReceipt(m, [
        { status: '2', info: '电子口岸申报中', at },
        { status: '-621005', info: '超过单笔限额', at, invtNo: invtNoFor(m) },
      ]);
      expect(built.type).to.equal(RECEIPT_FOR[type]);
      expect(built.guid)
        .to.match(/^[0-9A-F-]{36}$/)
        .and.not.equal(m.guid);
      const signer = await SoftwareXmlSigner.fromFiles(
        { keyPath: devIdentity('center-hk').keyPath, certPath: devIdentity('center-hk').certPath },
        { trust: trustListCheck(devTrustLists()) },
      );
      const verified = await verifySignedXml(await signer.sign(built.xml), { trustLists: devTrustLists() });
      expect(verified.signer.serialHex).to.equal(devIdentity('center-hk').serialHex);
      const parsed = parseReceipt(verified.signedXml);
      expect(parsed).to.include({ type: RECEIPT_FOR[type], guid: built.guid, version: '1.0' });
      expect(parsed.returns.map((r) => [r.guid, r.status, r.returnTime])).to.deep.equal([
        [m.guid, '2', '20261129100304567'],
        [m.guid, '-621005', '20261129100304567'],
      ]);
      expect(parsed.returns[1]?.error?.known).to.equal(true);
      for (const [key, value] of Object.entries(parsed.returns[0]?.keys ?? {})) {
        if (key !== 'preNo' && key !== 'invtNo') expect(value, key).to.equal(m.head[key]);
      }
      expect(Object.keys(parsed.returns[0]?.keys ?? {})).to.have.length.above(0);
    });
  }

  it('echoes the head guid instead of the message guid when asked', () => {
    const m = manifestOf('CEB311');
    expect(
      parseReceipt(buildReceipt(m, [{ status: '120', info: 'ok', at }], { echoGuid: 'head' }).xml).returns[0]?.guid,
    ).to.equal(m.headGuid);
  });

  it('the unsigned receipts are valid against the official schemas (when ../shared/ceb-2022 exists)', () => {
    const xsdDir = officialXsdDir();
    if (!xsdDir) {
      console.log('official CEB schemas not found at ../shared/ceb-2022: XSD conformance checks not run');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'baygate-receipts-'));
    try {
      for (const type of TYPES) {
        const m = manifestOf(type);
        const file = join(dir, `${RECEIPT_FOR[type]}.xml`);
        writeFileSync(
          file,
          buildReceipt(m, [
            { status: '2', info: '申报中', at },
            { status: '399', info: '审结', at, invtNo: invtNoFor(m) },
          ]).xml,
        );
        const xsd = join(xsdDir, `ceb-${messageDirection(type)}-2022.xsd`);
        expect(existsSync(xsd)).to.equal(true);
        execFileSync('xmllint', ['--noout', '--nonet', '--schema', xsd, file], { stdio: 'pipe' });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an empty returnInfo and more than 100 returns', () => {
    const m = manifestOf('CEB311');
    expect(() => buildReceipt(m, [{ status: '2', info: '', at }])).to.throw(/returnInfo must not be empty/);
    expect(() =>
      buildReceipt(
        m,
        Array.from({ length: 101 }, () => ({ status: '2', info: 'x', at })),
      ),
    ).to.throw(/1–100 returns/);
  });

  describe('CEB792 summary result for a CEB701 summary application', () => {
    const result = {
      at,
      decState: '1',
      entryId: '534520261000012345',
      grossWeight: 5.45,
      netWeight: 4.3,
      note: '汇总完成 <报关单> & 放行',
      lines: [
        { invtNo: '534520260000000606', logisticsNo: 'BQX5345000000606', gnum: 1, gcode: '0902300000' },
        { invtNo: '534520260000000606', logisticsNo: 'BQX5345000000606', gnum: 2, gcode: '6214100090' },
      ],
    };

    it('echoes the application and carries customs numbers: signed by a center, verified, parsed as summarized', async () => {
      const m = manifestOf('CEB701');
      const built = buildSummaryResult(m, [result]);
      expect(built.type).to.equal('CEB792');
      const signer = await SoftwareXmlSigner.fromFiles(
        { keyPath: devIdentity('center-gd').keyPath, certPath: devIdentity('center-gd').certPath },
        { trust: trustListCheck(devTrustLists()) },
      );
      const verified = await verifySignedXml(await signer.sign(built.xml), { trustLists: devTrustLists() });
      const parsed = parseReceipt(verified.signedXml);
      expect(parsed.type).to.equal('CEB792');
      const ret = parsed.returns[0]!;
      expect(ret).to.deep.include({ guid: m.guid, status: 'summarized', returnTime: '20261129100304567' });
      expect(ret.returnInfo).to.equal('汇总完成 <报关单> & 放行');
      expect(ret.keys).to.deep.include({
        sumNo: sumNoFor(m),
        decState: '1',
        entryId: '534520261000012345',
        agentCode: m.head.agentCode,
        ebcCode: m.head.ebcCode,
      });
      expect(ret.summaryLines?.map((l) => [l.gseqno, l.gnum, l.gcode])).to.deep.equal([
        ['1', '1', '0902300000'],
        ['2', '2', '6214100090'],
      ]);
    });

    it('is valid against the official export schema, with and without lines (when ../shared/ceb-2022 exists)', () => {
      const xsdDir = officialXsdDir();
      if (!xsdDir) {
        console.log('official CEB schemas not found at ../shared/ceb-2022: XSD conformance checks not run');
        return;
      }
      const dir = mkdtempSync(join(tmpdir(), 'baygate-792-'));
      try {
        const m = manifestOf('CEB701');
        for (const [name, r] of [
          ['with-lines', result],
          ['head-only', { at, decState: '0', grossWeight: 1, netWeight: 0.8 }],
        ] as const) {
          const file = join(dir, `${name}.xml`);
          writeFileSync(file, buildSummaryResult(m, [r]).xml);
          execFileSync('xmllint', ['--noout', '--nonet', '--schema', join(xsdDir, 'ceb-export-2022.xsd'), file], {
            stdio: 'pipe',
          });
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('answers only a summary application, and refuses a malformed decState', () => {
      expect(() => buildSummaryResult(manifestOf('CEB607'), [result])).to.throw(/answers a CEB701/);
      expect(() => buildSummaryResult(manifestOf('CEB701'), [{ ...result, decState: '1234' }])).to.throw(
        /decState must be 1–3 characters/,
      );
    });
  });
});
