import { execFile } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';

/** `baygate center …` as a user runs it: output, one-line errors and exit codes. */
const run = promisify(execFile);
const BIN = new URL('../../bin/baygate.js', import.meta.url).pathname;

async function baygate(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('node', [BIN, ...args], { timeout: 30000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('cli: baygate center', function () {
  this.timeout(60000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'baygate-center-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('center list --json prints the validated registry', async () => {
    const r = await baygate('center', 'list', '--json');
    expect(r.code).to.equal(0);
    expect((JSON.parse(r.stdout) as { code: string }[]).map((c) => c.code)).to.deep.equal(['GD', 'GD2', 'HK', 'MO']);
  });

  it('an invalid registry stops every center command with one line naming the file and path', async () => {
    const file = join(dir, 'centers.json');
    const data = JSON.parse(readFileSync(new URL('../../config/centers.json', import.meta.url), 'utf8')) as {
      centers: { dailyCapacity: number }[];
    };
    (data.centers[1] as { dailyCapacity: number }).dailyCapacity = 0;
    writeFileSync(file, JSON.stringify(data));
    const r = await baygate('center', 'list', '--file', file);
    expect(r.code).to.equal(1);
    expect(r.stderr.trim().split('\n')).to.have.length(1);
    expect(r.stderr).to.include(`${file} at centers[1].dailyCapacity:`);
  });

  it('simulate refuses an unknown center and an unknown fault with exit code 2; connect refuses a non-https center', async () => {
    const unknown = await baygate('center', 'simulate', '--center', 'XX');
    expect([unknown.code, unknown.stderr.trim()]).to.deep.equal([
      2,
      'baygate: unknown center "XX" (known: GD, GD2, HK, MO)',
    ]);
    const fault = await baygate('center', 'simulate', '--center', 'GD', '--faults', 'meteor');
    expect(fault.code).to.equal(2);
    expect(fault.stderr).to.match(/unknown fault "meteor"/);
    const connect = await baygate('center', 'connect', '--center', 'MO');
    expect([connect.code, connect.stderr.trim()]).to.deep.equal([
      2,
      'baygate: center MO uses transport "amqp", not "https": nothing to connect',
    ]);
  });
});
