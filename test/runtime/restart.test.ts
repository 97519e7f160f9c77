import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { expect } from 'chai';
import { RESTART_EXIT_CODE } from '../../src/runtime/restart';

/**
 * A process that cannot recover in place (a wedged database client) asks its supervisor for a restart:
 * it runs its graceful shutdown, then exits 75 — an exit code a supervisor restarts on and the chaos
 * harness tells from a crash.
 */
describe('process restart request', function () {
  this.timeout(30000);

  it('runs the graceful shutdown and exits with 75', () => {
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', resolve('test/fixtures/runtime/restarting-process.ts')],
      {
        encoding: 'utf8',
        timeout: 20000,
        env: { ...process.env, LOG_LEVEL: 'fatal' },
      },
    );
    expect(run.stdout, run.stderr).to.include('shutdown step ran');
    expect(run.status, run.stderr).to.equal(RESTART_EXIT_CODE);
  });
});
