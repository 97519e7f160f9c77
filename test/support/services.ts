import amqplib from 'amqplib';
import { MongoClient } from 'mongodb';

/**
 * Integration tests run against the real RabbitMQ and MongoDB-compatible server that `npm test` starts
 * (scripts/services.sh). When one is missing the test FAILS with this message; it never skips.
 */
export const AMQP_URL = process.env.AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672';
const BASE_MONGO_URL = process.env.MONGO_URL || 'mongodb://127.0.0.1:27017/baygate';

/** A database name of its own for each test file, so files never see each other's data. */
export function mongoUrlFor(suffix: string): string {
  const url = new URL(BASE_MONGO_URL);
  const db = (url.pathname.replace(/^\//, '') || 'baygate') + '_test_' + suffix.replace(/[^A-Za-z0-9_]/g, '_');
  url.pathname = '/' + db;
  return url.toString();
}

export async function requireRabbitMQ(): Promise<void> {
  try {
    const conn = await amqplib.connect(AMQP_URL, { timeout: 3000 });
    await conn.close();
  } catch (err) {
    throw new Error(
      `RabbitMQ is required for this test and does not answer at ${AMQP_URL.replace(/\/\/[^@]*@/, '//')} ` +
        `(${(err as Error).message}). Start it with \`npm run services:start\` or set AMQP_URL.`,
      { cause: err },
    );
  }
}

export async function requireMongo(): Promise<void> {
  const client = new MongoClient(BASE_MONGO_URL, { serverSelectionTimeoutMS: 3000 });
  try {
    await client.connect();
    await client.db('admin').command({ ping: 1 });
  } catch (err) {
    throw new Error(
      `A MongoDB-compatible server is required for this test and does not answer at ${BASE_MONGO_URL} ` +
        `(${(err as Error).message}). Start it with \`npm run services:start\` or set MONGO_URL.`,
      { cause: err },
    );
  } finally {
    await client.close();
  }
}

/** Drops the per-file test database. */
export async function dropDatabase(url: string): Promise<void> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 3000 });
  try {
    await client.connect();
    await client.db().dropDatabase();
  } finally {
    await client.close();
  }
}
