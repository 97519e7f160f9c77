import { MongoClient } from 'mongodb';
import mongoose, { type Connection } from 'mongoose';
import type { Logger } from 'pino';
import { installMongoWriteGuard } from './mongo-write-guard';

/**
 * A dedicated mongoose connection (not the global default) so tests and several components can each own
 * one. Timeouts are short: a gateway that cannot reach its database should say so, not hang.
 */
export async function connectMongo(
  url: string,
  logger: Logger,
  options: { serverSelectionTimeoutMS?: number; onWedged?: (reason: string) => void } = {},
): Promise<Connection> {
  installMongoWriteGuard(); // the driver's wedge after a server restart (see the module)
  const connection = mongoose.createConnection(url, {
    serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? 5000,
    connectTimeoutMS: 5000,
    // After a database restart under load, a streaming monitor was seen never to recover (docs/CHAOS.md,
    // finding 4) and an operation on a dead socket never settled (finding 5): poll the server, and bound
    // every socket read so a lost answer becomes an error the caller retries.
    serverMonitoringMode: 'poll',
    heartbeatFrequencyMS: 2000,
    socketTimeoutMS: 60000,
    maxPoolSize: 20,
    autoIndex: true,
  });
  connection.on('disconnected', () => logger.warn('mongodb disconnected'));
  connection.on('reconnected', () => logger.info('mongodb reconnected'));
  await connection.asPromise();
  logger.info({ db: connection.name }, 'mongodb connected');
  const watchdog = watchMongo(connection, url, logger, options.onWedged ? { onWedged: options.onWedged } : {});
  const close = connection.close.bind(connection);
  connection.close = ((force?: boolean) => {
    watchdog.stop();
    return close(force);
  }) as typeof connection.close;
  return connection;
}

export async function pingMongo(connection: Connection, timeoutMs = 2000): Promise<void> {
  // The ping itself says whether the database answers (mongoose's readyState lags a client that reconnected).
  if (wedged.has(connection))
    throw new Error('mongodb client wedged (it finds no server while a new client does): restart this process');
  const db = connection.getClient().db();
  await withTimeout(db.admin().command({ ping: 1 }), timeoutMs, 'mongodb ping');
}

/**
 * Watches for a client whose server monitoring died. In chaos runs, after FerretDB was restarted under load,
 * a process's driver sometimes never connected again (no socket to the server for minutes, every operation
 * a MongoServerSelectionError quoting the first failure) while a new client reached the server at once
 * (docs/CHAOS.md findings 4 and 13). The cause, a hang in the driver, is worked around by
 * src/store/mongo-write-guard.ts; the watchdog stays as the backstop for any other way a client can end up
 * so. Every `everyMs` the client is pinged; when for `wedgedAfterMs` it has
 * found no server while a fresh client to the same URL gets through, the client is declared wedged: logged,
 * reported by `/readyz` (pingMongo), and handed to `onWedged` — long-lived processes ask their supervisor
 * for a restart (src/runtime/restart.ts), which is what a wedged client needs.
 * Closing and reconnecting the same MongoClient in place was tried and made things worse (operations in
 * flight failed with MongoExpiredSessionError and MongoClientClosedError).
 */
export function watchMongo(
  connection: Connection,
  url: string,
  logger: Logger,
  options: { everyMs?: number; wedgedAfterMs?: number; onWedged?: (reason: string) => void } = {},
): { stop: () => void } {
  const everyMs = options.everyMs ?? 5000;
  const wedgedAfterMs = options.wedgedAfterMs ?? 20000;
  let lastOk = Date.now();
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void check().finally(() => (busy = false));
  }, everyMs);
  timer.unref();

  async function check(): Promise<void> {
    const client = connection.getClient();
    try {
      // Its own bound (not the pool's queue): a client that is merely busy is not wedged.
      await client.db().admin().command({ ping: 1 }, { timeoutMS: 15000 });
      lastOk = Date.now();
      wedged.delete(connection);
      return;
    } catch (err) {
      // Only "no server to talk to" is the wedge; a slow or failing command means the client does reach it.
      const name = (err as Error)?.name ?? '';
      if (!/ServerSelection|TopologyClosed|ClientClosed|NotConnected|PoolCleared|Network/.test(name))
        lastOk = Date.now();
      if (Date.now() - lastOk < wedgedAfterMs) return;
    }
    const fresh = new MongoClient(url, { serverSelectionTimeoutMS: 3000, connectTimeoutMS: 3000 });
    try {
      await fresh.connect();
      await withTimeout(fresh.db().admin().command({ ping: 1 }), 3000, 'mongodb ping (fresh client)');
    } catch {
      return; // the server itself is away: not this client's fault
    } finally {
      await fresh.close().catch(() => undefined);
    }
    if (wedged.has(connection)) return;
    const silentForMs = Date.now() - lastOk;
    logger.error(
      { silentForMs },
      'mongodb client wedged: it finds no server while a new client does; restart this process',
    );
    wedged.add(connection);
    options.onWedged?.(
      `mongodb client wedged: no server found for ${Math.round(silentForMs / 1000)} s while a new client connects`,
    );
  }

  return { stop: () => clearInterval(timer) };
}

/** Connections the watchdog found wedged (reported by pingMongo, hence /readyz). */
const wedged = new WeakSet<Connection>();

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    promise.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e: unknown) => (clearTimeout(timer), reject(e)),
    );
  });
}
