import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/config';
import { AmqpClient } from '../../src/queue/amqp';
import { DEAD_LETTER_QUEUE, RECEIPTS_QUEUE, centerQueueName } from '../../src/queue/topology';
import { silentLogger } from './logger';
import { AMQP_URL, mongoUrlFor } from './services';

/** Configuration of a pipeline test: its own database, the real broker, fast dispatch polling. */
export function pipelineConfig(name: string, overrides: Record<string, string> = {}): Config {
  return loadConfig({
    MONGO_URL: mongoUrlFor(name),
    AMQP_URL,
    PORT: '0',
    WORKER_POLL_MS: '20',
    LOG_LEVEL: 'silent',
    ...overrides,
  });
}

/** Empties the shared Baygate queues so a test never sees another run's messages. */
export async function purgeBaygateQueues(centers: readonly string[]): Promise<void> {
  const client = new AmqpClient({ url: AMQP_URL, logger: silentLogger(), initialMaxRetries: 2 });
  await client.connect();
  try {
    for (const queue of [RECEIPTS_QUEUE, DEAD_LETTER_QUEUE, ...centers.map(centerQueueName)]) {
      await client.withChannel((ch) => ch.purgeQueue(queue)).catch(() => undefined);
    }
  } finally {
    await client.close();
  }
}

export function exampleOrders(): { file: string; order: Record<string, unknown> }[] {
  const dir = 'examples/orders';
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, order: JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown> }));
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
