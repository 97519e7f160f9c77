import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { expect } from 'chai';
import { mongoUrlFor, requireMongo } from '../support/services';

/**
 * The driver hang behind the "wedged client" after a database restart (src/store/mongo-write-guard.ts):
 * with the guard the client recovers; without it, it never does. When the second test fails after a
 * mongodb upgrade, the driver has fixed the hang and the guard can go.
 */
describe('mongodb write guard: a monitor check on a destroyed socket', function () {
  this.timeout(60000);

  function scenario(guard: boolean): string {
    const run = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        resolve('test/fixtures/store/monitor-socket-destroyed.ts'),
        mongoUrlFor('store_write_guard'),
        guard ? 'guard' : 'none',
      ],
      {
        encoding: 'utf8',
        timeout: 45000,
      },
    );
    if (run.status !== 0) throw new Error(`scenario exited ${run.status}: ${run.stderr}`);
    return run.stdout.trim();
  }

  it('recovers: the check fails, the next one connects, a ping gets through', async () => {
    await requireMongo();
    expect(scenario(true)).to.equal('recovered');
  });

  it('still wedges without the guard on this driver version (the hang the guard works around)', async () => {
    await requireMongo();
    expect(scenario(false)).to.equal('wedged');
  });
});
