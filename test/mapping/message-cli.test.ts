import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GOLDEN_DIR } from '../xml/support/golden-orders';
import { validateBatch, withPlaceholderSignature } from '../xml/support/xmllint';
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
});
