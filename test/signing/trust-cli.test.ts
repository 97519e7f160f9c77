import { expect } from 'chai';
import { spawnSync } from 'node:child_process';

/** Runs `baygate certs check …` the way a user does; returns exit code and output. */
function certsCheck(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, ['bin/baygate.js', 'certs', 'check', ...args], { encoding: 'utf8' });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('cli: baygate certs check', function () {
  this.timeout(60000);

  it('prints TRUSTED with every check passing and exits 0 for a valid HK MR seller', () => {
    const { code, stdout } = certsCheck('certs-dev/hk/seller-hk.cert.pem', '--trust', 'certs-dev/trust-lists');
    expect(code).to.equal(0);
    expect(stdout).to.match(/seller-hk\.cert\.pem: TRUSTED \(trust list hk\)/);
    for (const check of [
      'mr-period',
      'recognised-root',
      'designated-issuer',
      'certificate-type-name',
      'mr-policy',
      'chain-signature',
      'validity',
      'revocation',
    ]) {
      expect(stdout).to.match(new RegExp(`\\[PASS\\] ${check}`));
    }
  });

  it('prints NOT TRUSTED with the failing check and the reason, and exits 1, for the wrong-policy seller', () => {
    const { code, stdout } = certsCheck('certs-dev/mo/seller-mo-wrong-policy.cert.pem');
    expect(code).to.equal(1);
    expect(stdout).to.match(/NOT TRUSTED/);
    expect(stdout).to.match(/\[FAIL\] mr-policy/);
    expect(stdout).to.match(
      /reason: MR_POLICY_MISSING: certificatePolicies has no OID under 2\.16\.344\.8\.2\.2008\.810\.2/,
    );
  });

  it('--chain lets it name an undesignated issuing CA; --json prints the verdict object', () => {
    const { code, stdout } = certsCheck(
      'certs-dev/gd/seller-gd-undesignated-ca.cert.pem',
      '--chain',
      'certs-dev/gd/seller-gd-undesignated-ca.chain.pem',
      '--json',
    );
    expect(code).to.equal(1);
    const verdict = JSON.parse(stdout) as { ok: boolean; reason: string; trustList: string };
    expect(verdict.ok).to.equal(false);
    expect(verdict.trustList).to.equal('gd');
    expect(verdict.reason).to.match(/^MR_ISSUER_NOT_DESIGNATED: /);
  });

  it('fails with one clear line for a missing file or a broken trust-list folder', () => {
    const missing = certsCheck('certs-dev/nope.pem');
    expect(missing.code).to.equal(1);
    expect(missing.stderr.trim()).to.equal('baygate: certificate: cannot read certs-dev/nope.pem (ENOENT)');
    const noLists = certsCheck('certs-dev/hk/seller-hk.cert.pem', '--trust', 'certs-dev/hk');
    expect(noLists.code).to.equal(1);
    expect(noLists.stderr).to.match(/^baygate: trust lists: .*certs-dev\/hk: no trust-list \*\.json files found/);
  });
});
