import { expect } from 'chai';
import { connectMongo, watchMongo } from '../../src/store/mongo';
import { silentLogger } from '../support/logger';
import { dropDatabase, mongoUrlFor, requireMongo } from '../support/services';

/**
 * Chaos runs saw a process's MongoDB client stop connecting after a database restart while a new client
 * got through at once (docs/CHAOS.md). The watchdog revives such a client in place.
 */
describe('mongodb client watchdog', function () {
  this.timeout(30000);

  it('reconnects a client that stopped answering while the server answers a new client, and the same collections work again', async () => {
    await requireMongo();
    const url = mongoUrlFor('store_watchdog');
    await dropDatabase(url);
    const connection = await connectMongo(url, silentLogger());
    const watchdog = watchMongo(connection, url, silentLogger(), { everyMs: 200, wedgedAfterMs: 600 });
    try {
      const collection = connection.getClient().db().collection<{ _id: string }>('probe');
      await collection.insertOne({ _id: 'before' });
      // A client that no longer reaches the server (here: closed under its users' feet).
      await connection.getClient().close(true);
      let error: unknown;
      try {
        await collection.insertOne({ _id: 'while-wedged' });
      } catch (err) {
        error = err;
      }
      expect(error, 'the wedged client fails').to.be.instanceOf(Error);
      const deadline = Date.now() + 15000;
      let revived = false;
      while (!revived && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        revived = await collection.insertOne({ _id: `after-${Date.now()}` }).then(() => true, () => false);
      }
      expect(revived, 'the same collection object writes again').to.equal(true);
      expect(await collection.countDocuments({ _id: 'before' })).to.equal(1);
    } finally {
      watchdog.stop();
      await connection.close();
      await dropDatabase(url);
    }
  });
});
