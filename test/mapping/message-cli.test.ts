import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MESSAGE_TYPES, messageDirection, type MessageType } from '../../src/domain/message-types';
import { GOLDEN_DIR } from '../xml/support/golden-orders';
import { SIGNATURE_REQUIRED, validateBatch, withPlaceholderSignature } from '../xml/support/xmllint';
import { noteOfficialMissing, officialCebAvailable, officialXsdPath } from '../xml/support/xsd-sequence';

/** `baygate map`: the command-line preview of a declaration, run as a real process. */
describe('baygate map (CLI)', function () {
  this.timeout(60_000);
  let dir: string;
  const goldenInput = (name: string): Record<string, unknown> =>
    JSON.parse(readFileSync(join(GOLDEN_DIR, 'orders', `${name}.json`), 'utf8'));

  function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync(process.execPath, ['bin/baygate.js', 'map', ...args], { encoding: 'utf8' });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'baygate-map-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the unsigned XML of a valid order on stdout and exits 0', () => {
    const r = run(
      '--type',
      'CEB621',
      '--guid',
      '6F9619FF-8B86-D011-B42D-00C04FC964FF',
      '--dxp-id',
      'DXPENT0000460001',
      join(GOLDEN_DIR, 'orders', 'import-1210.json'),
    );
    expect(r.stderr).to.equal('');
    expect(r.status).to.equal(0);
    expect(r.stdout).to.match(
      /^<ceb:CEB621Message xmlns:ceb="http:\/\/www\.chinaport\.gov\.cn\/ceb" xmlns:xsi="[^"]+" guid="6F9619FF-8B86-D011-B42D-00C04FC964FF" version="1\.0">/,
    );
    expect(r.stdout).to.contain('<ceb:copCode>4403988A02</ceb:copCode>'); // the declaring agent sends inventories
    expect(r.stdout).to.contain('<ceb:dxpId>DXPENT0000460001</ceb:dxpId>');
    if (officialCebAvailable()) {
      expect(
        validateBatch(officialXsdPath('import'), [{ name: 'cli', xml: withPlaceholderSignature(r.stdout.trimEnd()) }]),
      ).to.deep.equal([]);
    } else noteOfficialMissing();
  });

  it('builds CEB625 from --invt-no, --reason and --refund-lines', () => {
    const r = run(
      '--type',
      'ceb625',
      '--invt-no',
      '514120261000000101',
      '--reason',
      '退货',
      '--refund-lines',
      '2:1',
      join(GOLDEN_DIR, 'orders', 'import-1210.json'),
    );
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.contain('<ceb:InvtRefundList><ceb:gnum>2</ceb:gnum><ceb:gcode>2106909090</ceb:gcode>');
  });

  it('reads a source-format document with --source through the source mapper', () => {
    const r = run(
      '--type',
      'CEB511',
      '--source',
      'hk-seller',
      join(process.cwd(), 'examples', 'sources', 'hk-seller.json'),
    );
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^<ceb:CEB511Message [^>]+><ceb:Logistics><ceb:LogisticsHead>/);
    expect(r.stdout).to.contain('<ceb:logisticsNo>BQ5345000005858</ceb:logisticsNo>');
  });

  it('reads an order file that starts with a UTF-8 byte-order mark (Windows exports)', () => {
    const file = join(dir, 'bom-order.json');
    const text = readFileSync(join(GOLDEN_DIR, 'orders', 'import-9610.json'));
    writeFileSync(file, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), text]));
    const r = run('--type', 'CEB311', '--guid', '6F9619FF-8B86-D011-B42D-00C04FC964FF', file);
    expect(r.stderr).to.equal('');
    expect(r.status).to.equal(0);
    expect(r.stdout).to.match(/^<ceb:CEB311Message /);
  });

  it('lists every business-rule violation on stderr, prints no XML and exits 1', () => {
    const order = goldenInput('import-9610');
    const items = order.items as Array<Record<string, unknown>>;
    (items[1] as Record<string, unknown>).totalPrice = 120;
    order.buyerIdNumber = '440106199003071232';
    const file = join(dir, 'bad-rules.json');
    writeFileSync(file, JSON.stringify(order));
    const r = run('--type', 'CEB311', file);
    expect(r.status).to.equal(1);
    expect(r.stdout).to.equal('');
    expect(r.stderr).to.match(/breaks \d+ rules/);
    expect(r.stderr).to.contain('items[1].totalPrice: TOTAL_PRICE_MISMATCH');
    expect(r.stderr).to.contain('buyerIdNumber: ID_NUMBER_INVALID');
  });

  it('lists every shape problem of a malformed order and exits 1', () => {
    const order = goldenInput('export-9610');
    delete order.orderNo;
    order.pod = 'HONGKONG';
    const file = join(dir, 'bad-shape.json');
    writeFileSync(file, JSON.stringify(order));
    const r = run('--type', 'CEB603', file);
    expect(r.status).to.equal(1);
    expect(r.stdout).to.equal('');
    expect(r.stderr).to.contain('not a valid Baygate order (2 problems)');
    expect(r.stderr).to.match(/^\s+orderNo: /m);
    expect(r.stderr).to.match(/^\s+pod: must be a 3–4 character port code/m);
  });

  it('refuses an unknown type or a missing cancel request (usage, exit 2) and an unreadable file (exit 1)', () => {
    const good = join(GOLDEN_DIR, 'orders', 'import-9610.json');
    const unknown = run('--type', 'CEB999', good);
    expect(unknown.status).to.equal(2);
    expect(unknown.stderr).to.contain('--type must be one of CEB311');
    const cancel = run('--type', 'CEB623', good);
    expect(cancel.status).to.equal(2);
    expect(cancel.stderr).to.contain('CEB623 needs --invt-no and --reason');
    const missing = run('--type', 'CEB311', join(dir, 'nope.json'));
    expect(missing.status).to.equal(1);
    expect(missing.stderr).to.contain('cannot read');
  });

  /** The command line for each type, from the examples (orders, shipments, summaries, a return request). */
  const EXAMPLE_ARGS: Record<MessageType, string[]> = (() => {
    const ex = (...parts: string[]) => join(process.cwd(), 'examples', ...parts);
    const imp = ex('orders', 'gz-9610-direct-purchase.json');
    const exp = ex('orders', 'export-9610-to-hong-kong.json');
    const cancel = ['--invt-no', '514120261000000101', '--reason', '买家取消'];
    const ret = ['--return', ex('requests', 'export-return.json')];
    return {
      CEB311: [imp],
      CEB411: [imp],
      CEB511: [imp],
      CEB513: ['--logistics-time', '2026-11-30T15:30:00+08:00', imp],
      CEB621: [imp],
      CEB623: [...cancel, imp],
      CEB625: [...cancel, imp],
      CEB711: [ex('shipments', 'import-arrival-guangzhou-airport.json')],
      CEB303: [exp],
      CEB403: [exp],
      CEB505: [exp],
      CEB507: [ex('shipments', 'export-consolidation-shenzhen-bay.json')],
      CEB509: [ex('shipments', 'export-consolidation-shenzhen-bay.json')],
      CEB603: [exp],
      CEB605: [...cancel, exp],
      CEB607: [ex('shipments', 'export-consolidation-shenzhen-bay.json')],
      CEB701: [ex('summaries', 'monthly-summary-gz.json')],
      CEB213: [...ret, exp],
      CEB215: [...ret, exp],
    };
  })();

  it('builds every message type of the family from the examples, and each validates against the official XSD', function () {
    const docs: Record<'import' | 'export', { name: string; xml: string }[]> = { import: [], export: [] };
    for (const type of MESSAGE_TYPES) {
      const r = run('--type', type, ...EXAMPLE_ARGS[type]);
      expect(r.stderr, type).to.equal('');
      expect(r.status, type).to.equal(0);
      expect(r.stdout, type).to.match(new RegExp(`^<ceb:${type}Message `));
      const xml = r.stdout.trimEnd();
      docs[messageDirection(type)].push({
        name: type,
        xml: SIGNATURE_REQUIRED.has(type) ? withPlaceholderSignature(xml) : xml,
      });
    }
    if (!officialCebAvailable()) {
      noteOfficialMissing();
      return;
    }
    for (const side of ['import', 'export'] as const)
      expect(validateBatch(officialXsdPath(side), docs[side]), side).to.deep.equal([]);
  });

  it('names what a transport or return message lacks: the request option (exit 2), a bad shipment (exit 1)', () => {
    const exp = join(process.cwd(), 'examples', 'orders', 'export-9610-to-hong-kong.json');
    const noReturn = run('--type', 'CEB213', exp);
    expect(noReturn.status).to.equal(2);
    expect(noReturn.stderr).to.contain('CEB213 needs --return <file>');
    const noTime = run('--type', 'CEB513', join(process.cwd(), 'examples', 'orders', 'gz-9610-direct-purchase.json'));
    expect(noTime.status).to.equal(2);
    expect(noTime.stderr).to.contain('CEB513 needs --logistics-time');
    const shipment = JSON.parse(
      readFileSync(join(process.cwd(), 'examples', 'shipments', 'export-consolidation-shenzhen-bay.json'), 'utf8'),
    ) as Record<string, unknown>;
    delete shipment.agent;
    shipment.customsCode = '53';
    const file = join(dir, 'bad-shipment.json');
    writeFileSync(file, JSON.stringify(shipment));
    const bad = run('--type', 'CEB607', file);
    expect(bad.status).to.equal(1);
    expect(bad.stderr).to.contain('not a valid shipment (1 problem)');
    expect(bad.stderr).to.match(/^\s+customsCode: must be a 4-character code/m);
    delete shipment.customsCode;
    shipment.customsCode = '5345';
    writeFileSync(file, JSON.stringify(shipment));
    const noAgent = run('--type', 'CEB607', '--cop-code', '4403960001', '--cop-name', '湾区通关', file);
    expect(noAgent.status).to.equal(1);
    expect(noAgent.stderr).to.contain(
      'WayBill/WayBillHead/agentCode (shipment.agent.code): is required but has no value',
    );
    const order = run('--type', 'CEB607', exp);
    expect(order.status).to.equal(1);
    expect(order.stderr).to.contain('not a valid shipment');
  });
});
