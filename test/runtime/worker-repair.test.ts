import { expect } from 'chai';
import { MongoNetworkError } from 'mongodb';
import { repairInBackground } from '../../src/runtime/worker';
import { silentLogger } from '../support/logger';

describe('worker start-up repair', () => {
  it('keeps retrying through a database outage and reports the repaired items once it gets through', async () => {
    let calls = 0;
    const repair = repairInBackground(
      async () => {
        calls++;
        if (calls < 3) throw new MongoNetworkError('connection 3 to 127.0.0.1:27017 closed');
        return ['a', 'b'];
      },
      silentLogger(),
      5,
    );
    await repair.done;
    expect(calls).to.equal(3);
  });

  it('stops retrying when the worker shuts down', async () => {
    let calls = 0;
    const repair = repairInBackground(
      async () => {
        calls++;
        throw new MongoNetworkError('connection refused');
      },
      silentLogger(),
      60_000,
    );
    await new Promise((r) => setTimeout(r, 50));
    await repair.stop();
    const after = calls;
    await new Promise((r) => setTimeout(r, 100));
    expect(calls).to.equal(after);
    expect(calls).to.be.greaterThan(0);
  });
});
