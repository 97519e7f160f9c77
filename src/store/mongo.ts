import mongoose, { type Connection } from 'mongoose';
import type { Logger } from 'pino';

/**
 * A dedicated mongoose connection (not the global default) so tests and several components can each own
 * one. Timeouts are short: a gateway that cannot reach its database should say so, not hang.
 */
export async function connectMongo(url: string, logger: Logger, options: { serverSelectionTimeoutMS?: number } = {}): Promise<Connection> {
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
  return connection;
}

export async function pingMongo(connection: Connection, timeoutMs = 2000): Promise<void> {
  const db = connection.db;
  if (!db || connection.readyState !== 1) throw new Error('mongodb not connected');
  await withTimeout(db.admin().command({ ping: 1 }), timeoutMs, 'mongodb ping');
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    promise.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e: unknown) => (clearTimeout(timer), reject(e)),
    );
  });
}
