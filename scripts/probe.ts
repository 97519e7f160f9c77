/**
 * Answers whether a service really works, not just whether its port is open:
 *   probe.ts amqp <url>   — opens an AMQP connection and a channel
 *   probe.ts mongo <url>  — runs { ping: 1 } through the MongoDB driver
 * Exit 0 when it answers within the timeout, 1 otherwise (reason on stderr).
 */
import amqplib from 'amqplib';
import { MongoClient } from 'mongodb';

const [kind, url] = process.argv.slice(2);
const timeoutMs = Number(process.env.PROBE_TIMEOUT_MS ?? 3000);

async function probeAmqp(target: string): Promise<void> {
  const conn = await amqplib.connect(target, { timeout: timeoutMs });
  const ch = await conn.createChannel();
  await ch.close();
  await conn.close();
}

async function probeMongo(target: string): Promise<void> {
  const client = new MongoClient(target, { serverSelectionTimeoutMS: timeoutMs, connectTimeoutMS: timeoutMs });
  try {
    await client.connect();
    await client.db('admin').command({ ping: 1 });
  } finally {
    await client.close();
  }
}

if (!url || (kind !== 'amqp' && kind !== 'mongo')) {
  process.stderr.write('usage: probe.ts amqp|mongo <url>\n');
  process.exit(2);
}
const timer = setTimeout(() => {
  process.stderr.write(`${kind} at ${url.replace(/\/\/[^@]*@/, '//***@')}: no answer within ${timeoutMs} ms\n`);
  process.exit(1);
}, timeoutMs + 1000);
try {
  await (kind === 'amqp' ? probeAmqp(url) : probeMongo(url));
  clearTimeout(timer);
  process.exit(0);
} catch (err) {
  process.stderr.write(`${kind}: ${(err as Error).message}\n`);
  process.exit(1);
}
