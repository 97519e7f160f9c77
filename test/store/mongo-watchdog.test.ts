import { expect } from 'chai';
import { connectMongo, pingMongo, watchMongo } from '../../src/store/mongo';
import { silentLogger } from '../support/logger';
import { dropDatabase, mongoUrlFor, requireMongo } from '../support/services';

/**
 * Chaos runs saw a process's MongoDB client stop connecting after a database restart while a new client
 * got through at once (docs/CHAOS.md). The watchdog tells: /readyz (pingMongo) says so, and the process is
 * asked for a restart (onWedged).
 */
describe('mongodb client watchdog', function () {
  this.timeout(30000);

  it('reports a client that finds no server while a new client does (readiness fails with the reason)', async () => {
    await requireMongo();
    const url = mongoUrlFor('store_watchdog');
    await dropDatabase(url);
    const connection = await connectMongo(url, silentLogger());
    const restartRequests: string[] = [];
    const watchdog = watchMongo(connection, url, silentLogger(), {
      everyMs: 200,
      wedgedAfterMs: 600,
      onWedged: (reason) => restartRequests.push(reason),
    });
    try {
      await pingMongo(connection);
      await connection.getClient().close(true); // a client that no longer reaches the server
      const deadline = Date.now() + 15000;
      let reason = '';
      while (!reason.includes('wedged') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        reason = await pingMongo(connection).then(
          () => '',
          (err: Error) => err.message,
        );
      }
      expect(reason).to.match(/wedged .*restart this process/);
      await new Promise((r) => setTimeout(r, 1000)); // more watchdog rounds: still one request
      expect(restartRequests, 'the process is asked for a restart once').to.have.length(1);
      expect(restartRequests[0]).to.match(/wedged: no server found for \d+ s while a new client connects/);
    } finally {
      watchdog.stop();
      await connection.close().catch(() => undefined);
      await dropDatabase(url);
    }
  });

  it('does not call a busy but working client wedged', async () => {
    await requireMongo();
    const url = mongoUrlFor('store_watchdog_busy');
    const connection = await connectMongo(url, silentLogger());
    const restartRequests: string[] = [];
    const watchdog = watchMongo(connection, url, silentLogger(), {
      everyMs: 100,
      wedgedAfterMs: 300,
      onWedged: (reason) => restartRequests.push(reason),
    });
    try {
      const c = connection.getClient().db().collection<{ _id: string }>('busy');
      const until = Date.now() + 1500;
      await Promise.all(
        Array.from({ length: 40 }, async (_, i) => {
          for (let n = 0; Date.now() < until; n++) await c.insertOne({ _id: `${i}-${n}` });
        }),
      );
      await pingMongo(connection);
      expect(restartRequests).to.deep.equal([]);
    } finally {
      watchdog.stop();
      await connection.close();
      await dropDatabase(url);
    }
  });
});
