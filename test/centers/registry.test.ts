import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import {
  buildCenterRegistry,
  CenterRegistryError,
  DEFAULT_CENTERS_FILE,
  loadCenterRegistry,
  UnknownCenterError,
} from '../../src/centers/registry';

/** config/centers.json and the registry validation: every bad input names the file, the JSON path and the reason. */
const fixture = (name: string) => new URL(`../fixtures/centers/${name}`, import.meta.url).pathname;
const minimal = (): { centers: Record<string, unknown>[] } =>
  JSON.parse(readFileSync(fixture('centers-valid-minimal.json'), 'utf8')) as { centers: Record<string, unknown>[] };

function errorOf(fn: () => unknown): CenterRegistryError {
  try {
    fn();
  } catch (err) {
    if (err instanceof CenterRegistryError) return err;
    throw err;
  }
  throw new Error('expected a CenterRegistryError');
}

function withCenter(change: (c: Record<string, unknown>) => void): unknown {
  const data = minimal();
  change(data.centers[0] as Record<string, unknown>);
  return data;
}

describe('centers/registry', () => {
  it('loads the shipped config/centers.json: GD, GD2, HK, MO, each district known, signers from certs-dev', () => {
    const registry = loadCenterRegistry();
    expect(registry.codes()).to.deep.equal(['GD', 'GD2', 'HK', 'MO']);
    expect(registry.get('HK').districts).to.include('5345');
    expect(registry.get('MO').districts).to.include('5795');
    expect(registry.servingDistrict('5141').map((c) => c.code)).to.deep.equal(['GD', 'GD2']);
    expect(registry.servingDistrict('5349').map((c) => c.code)).to.deep.equal(['GD', 'GD2']);
    expect(registry.get('GD2').dxp).to.deep.equal({ senderId: 'DXPENT0000458712', receiverId: 'DXPEDCCEB0000002' });
    expect(registry.source).to.equal(DEFAULT_CENTERS_FILE);
  });

  it('every shipped example order district is served by some center', () => {
    const registry = loadCenterRegistry();
    for (const code of ['5141', '5345', '5349', '5795'])
      expect(registry.servingDistrict(code), code).to.have.length.above(0);
  });

  it('get() of an unknown code names the known ones', () => {
    expect(() => loadCenterRegistry().get('XX')).to.throw(
      UnknownCenterError,
      /unknown clearance center "XX" \(known: GD, GD2, HK, MO\)/,
    );
  });

  it('a missing file is reported with its path', () => {
    const err = errorOf(() => loadCenterRegistry('/nonexistent/centers.json'));
    expect(err.message).to.match(/^\/nonexistent\/centers\.json: cannot read the center registry/);
  });

  it('broken JSON is reported with the file name', () => {
    const err = errorOf(() => loadCenterRegistry(fixture('centers-broken-json.json')));
    expect(err.file).to.equal(fixture('centers-broken-json.json'));
    expect(err.reason).to.match(/not valid JSON/);
  });

  const cases: [string, (c: Record<string, unknown>) => void, string, RegExp][] = [
    [
      'a negative capacity',
      (c) => (c.dailyCapacity = -1),
      'centers[0].dailyCapacity',
      /expected number to be >0|Too small/i,
    ],
    ['a lower-case code', (c) => (c.code = 'gd'), 'centers[0].code', /upper-case/],
    ['a 3-digit district', (c) => (c.districts = ['514']), 'centers[0].districts[0]', /4-digit customs district/],
    [
      'an unknown district',
      (c) => (c.districts = ['9999']),
      'centers[0].districts[0]',
      /9999 is not a customs district/,
    ],
    ['a district listed twice', (c) => (c.districts = ['5141', '5141']), 'centers[0].districts[1]', /listed twice/],
    ['an unknown transport', (c) => (c.transport = 'ftp'), 'centers[0].transport', /amqp|dxp|https/],
    ['dxp without ids', (c) => (c.transport = 'dxp'), 'centers[0].dxp', /needs dxp.senderId/],
    ['https without endpoint', (c) => (c.transport = 'https'), 'centers[0].https', /needs https.url/],
    [
      'an http:// endpoint',
      (c) => (c.https = { url: 'http://center.example/ceb', clientIdentity: 'operator-rsa', caPath: 'x.pem' }),
      'centers[0].https.url',
      /https:\/\//,
    ],
    [
      'a queue that is not baygate.center.<code>',
      (c) => (c.queue = 'centers.gd'),
      'centers[0].queue',
      /must be "baygate.center.GD"/,
    ],
    [
      'a receipt signer not in certs-dev',
      (c) => (c.receiptSigner = 'center-xx'),
      'centers[0].receiptSigner',
      /not an identity/,
    ],
    [
      'a seller certificate as receipt signer',
      (c) => (c.receiptSigner = 'seller-gd'),
      'centers[0].receiptSigner',
      /role "seller"/,
    ],
    ['an unknown property', (c) => (c.colour = 'red'), 'centers[0]', /colour/],
  ];
  for (const [what, change, path, reason] of cases) {
    it(`refuses ${what}, naming ${path}`, () => {
      const err = errorOf(() => buildCenterRegistry(withCenter(change), 'centers.json'));
      expect(err.path).to.equal(path);
      expect(err.reason).to.match(reason);
      expect(err.message.startsWith(`centers.json at ${path}: `)).to.equal(true);
    });
  }

  it('refuses a duplicate center code, pointing at the second one', () => {
    const data = minimal();
    data.centers.push({ ...(data.centers[0] as Record<string, unknown>) });
    const err = errorOf(() => buildCenterRegistry(data, 'centers.json'));
    expect(err.path).to.equal('centers[1].code');
    expect(err.reason).to.match(/duplicate center code "GD" \(also centers\[0\]\)/);
  });

  it('refuses an empty registry', () => {
    expect(errorOf(() => buildCenterRegistry({ centers: [] }, 'centers.json')).reason).to.match(/at least one/);
  });

  it('skips the certificate cross-check when certsDir is null (certificates managed elsewhere)', () => {
    const registry = buildCenterRegistry(
      withCenter((c) => (c.receiptSigner = 'prod-center-gd')),
      'centers.json',
      { certsDir: null },
    );
    expect(registry.get('GD').receiptSigner).to.equal('prod-center-gd');
  });
});
