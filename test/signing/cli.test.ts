import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { Command, CommanderError } from 'commander';
import { CliError } from '../../src/cli/cli-error';
import { register as registerSign } from '../../src/cli/commands/sign';
import { register as registerVerify } from '../../src/cli/commands/verify';
import { createPrivateKey } from 'node:crypto';
import { startUKeySimulator } from '../../src/signing/ukey-simulator';
import { devIdentity, devP12Password } from './support/dev-identities';

/** `baygate sign` / `baygate verify` end to end, through bin/baygate.js as a user runs them. */
const repo = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const fixtures = join(repo, 'test/fixtures/signing');

function baygate(args: string[], stdin?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(repo, 'bin/baygate.js'), ...args], {
    cwd: repo,
    encoding: 'utf8',
    input: stdin,
    env: { ...process.env, CERTS_DIR: join(repo, 'certs-dev') },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The same commands in-process (what main.ts does, minus process start-up): most cases run here to keep
 * the suite fast; the first two tests go through the real binary.
 */
async function baygateInProcess(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const program = new Command('baygate').exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  registerSign(program);
  registerVerify(program);
  let stdout = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array): boolean => {
    stdout += chunk.toString();
    return true;
  }) as typeof process.stdout.write;
  const previous = process.env.CERTS_DIR;
  process.env.CERTS_DIR = join(repo, 'certs-dev');
  try {
    await program.parseAsync(['node', 'baygate', ...args]);
    return { status: 0, stdout, stderr: '' };
  } catch (err) {
    if (err instanceof CliError) return { status: err.exitCode, stdout, stderr: `baygate: ${err.message}\n` };
    if (err instanceof CommanderError) return { status: 2, stdout, stderr: err.message };
    throw err;
  } finally {
    process.stdout.write = write;
    if (previous === undefined) delete process.env.CERTS_DIR;
    else process.env.CERTS_DIR = previous;
  }
}

describe('signing/CLI: baygate sign and baygate verify', function () {
  this.timeout(30000);
  let dir: string;
  let signedFile: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'baygate-signing-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('sign writes the signed message to stdout (SM2 key from a PKCS#12 bundle); verify against the trust lists prints one line and exits 0', () => {
    const identity = devIdentity('seller-gd-sm2');
    const signed = baygate([
      'sign',
      '--key',
      identity.p12Path,
      '--password',
      devP12Password(),
      join(fixtures, 'ceb311-unsigned.xml'),
    ]);
    expect(signed.status, signed.stderr).to.equal(0);
    expect(signed.stdout).to.match(
      /<\/ceb:BaseTransfer><ds:Signature [^>]*>.*#sm2-sm3".*<\/ds:Signature><\/ceb:CEB311Message>$/s,
    );
    signedFile = join(dir, 'signed.xml');
    writeFileSync(signedFile, signed.stdout);
    const verified = baygate(['verify', signedFile]);
    expect(verified.status, verified.stderr).to.equal(0);
    expect(verified.stdout.trim().split('\n')).to.have.length(1);
    expect(verified.stdout).to.include(`serial=${identity.serialHex} algorithm=sm2-sm3 trust-list=gd`);
  });

  it('sign with an RSA PEM key and certificate, --alg rsa-sha256, and verify reading stdin', async () => {
    const identity = devIdentity('seller-hk');
    const signed = await baygateInProcess([
      'sign',
      '--key',
      identity.keyPath,
      '--cert',
      identity.certPath,
      '--alg',
      'rsa-sha256',
      join(fixtures, 'ceb303-unsigned.xml'),
    ]);
    expect(signed.status, signed.stderr).to.equal(0);
    expect(signed.stdout).to.include('</ds:Signature><ceb:ExtendMessage>');
    const verified = baygate(['verify', '-'], signed.stdout);
    expect(verified.status, verified.stderr).to.equal(0);
    expect(verified.stdout).to.include('algorithm=rsa-sha256 trust-list=hk');
  });

  it('verify exits 1 with the reason when the message was changed', async () => {
    const tampered = join(dir, 'tampered.xml');
    writeFileSync(
      tampered,
      readFileSync(signedFile, 'utf8').replace('<ceb:freight>10</ceb:freight>', '<ceb:freight>1</ceb:freight>'),
    );
    const r = await baygateInProcess(['verify', tampered]);
    expect(r.status).to.equal(1);
    expect(r.stderr).to.match(/^baygate: verification failed: DIGEST_MISMATCH/);
  });

  it('verify --cert pins a certificate, and --mode eport accepts a re-indented message that strict mode rejects', async () => {
    const cert = join(fixtures, 'fixture-signer.crt.pem');
    const reindented = join(fixtures, 'ceb311-signed-rsa-reindented.xml');
    const eport = await baygateInProcess(['verify', '--cert', cert, '--mode', 'eport', reindented]);
    expect(eport.status, eport.stderr).to.equal(0);
    expect(eport.stdout).to.match(/serial=0c0ffee1 algorithm=rsa-sha1 pinned\n$/);
    const strict = await baygateInProcess(['verify', '--cert', cert, reindented]);
    expect(strict.status).to.equal(1);
    expect(strict.stderr).to.include('DIGEST_MISMATCH');
  });

  it('sign refuses a certificate the trust lists reject, with the relying-party reason', async () => {
    const identity = devIdentity('seller-gd-expired');
    const r = await baygateInProcess([
      'sign',
      '--key',
      identity.keyPath,
      '--cert',
      identity.certPath,
      join(fixtures, 'ceb311-unsigned.xml'),
    ]);
    expect(r.status).to.equal(1);
    expect(r.stderr).to.include('SIGNER_CERT_UNTRUSTED');
    expect(r.stderr).to.include('CERT_EXPIRED');
    expect(r.stdout).to.equal('');
  });

  it('sign --ukey <url> signs through the E-port USB-key client (--password is the PIN)', async () => {
    const identity = devIdentity('operator-rsa');
    const sim = await startUKeySimulator({
      privateKey: createPrivateKey(readFileSync(identity.keyPath)),
      certificate: readFileSync(identity.certPath),
      password: '88888888',
    });
    try {
      const signed = await baygateInProcess([
        'sign',
        '--ukey',
        sim.url,
        '--password',
        '88888888',
        join(fixtures, 'ceb311-unsigned.xml'),
      ]);
      expect(signed.status, signed.stderr).to.equal(0);
      const file = join(dir, 'ukey-signed.xml');
      writeFileSync(file, signed.stdout);
      const verified = await baygateInProcess(['verify', file]);
      expect(verified.stdout).to.include(`serial=${identity.serialHex} algorithm=rsa-sha1 trust-list=eport`);
      const wrongPin = await baygateInProcess([
        'sign',
        '--ukey',
        sim.url,
        '--password',
        '0000',
        join(fixtures, 'ceb311-unsigned.xml'),
      ]);
      expect(wrongPin.status).to.equal(1);
      expect(wrongPin.stderr).to.include('UKEY_FAILED');
    } finally {
      await sim.close();
    }
  });

  it('usage errors exit 2 (both --trust and --cert; unknown --alg; both --key and --ukey)', async () => {
    expect(
      (await baygateInProcess(['sign', '--key', 'k.pem', '--ukey', join(fixtures, 'ceb311-unsigned.xml')])).status,
    ).to.equal(2);
    expect((await baygateInProcess(['verify', '--trust', 'x', '--cert', 'y', signedFile])).status).to.equal(2);
    const identity = devIdentity('seller-gd');
    expect(
      (
        await baygateInProcess([
          'sign',
          '--key',
          identity.keyPath,
          '--alg',
          'rsa-md5',
          join(fixtures, 'ceb311-unsigned.xml'),
        ])
      ).status,
    ).to.equal(2);
  });
});
