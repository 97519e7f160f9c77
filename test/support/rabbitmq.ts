import { execFileSync } from 'node:child_process';
import type { AmqpClient } from '../../src/queue/amqp';

/**
 * Forcibly closes the client's connection: from the broker side with rabbitmqctl when the broker is the one
 * scripts/services.sh started, otherwise by destroying the client's socket (what a network cut looks like).
 */
export function forceCloseConnection(client: AmqpClient): 'broker' | 'socket' {
  try {
    execFileSync('bash', ['scripts/services.sh', 'ctl', 'close_all_connections', 'closed by test'], {
      stdio: 'pipe',
      timeout: 15000,
    });
    return 'broker';
  } catch {
    // With an error, as a network failure surfaces: a plain destroy() goes unnoticed by amqplib.
    const model = client.currentConnection as unknown as
      { connection?: { stream?: { destroy(err?: Error): void } } } | undefined;
    model?.connection?.stream?.destroy(new Error('connection cut by test'));
    return 'socket';
  }
}

export function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 10000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = async () => {
      try {
        if (await predicate()) return resolve();
      } catch {
        // keep polling until the deadline
      }
      if (Date.now() > deadline) return reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      setTimeout(tick, 50);
    };
    void tick();
  });
}

/**
 * A scratch exchange → queue binding for a test, declared as part of the client's topology (so it comes back
 * after a reconnect); `dropScratchQueue` removes the queue afterwards (the exchange goes by itself).
 */
export function addScratchTopology(
  client: AmqpClient,
  exchange: string,
  queue: string,
  routingKey: string,
): Promise<void> {
  return client.addTopology(async (ch) => {
    await ch.assertExchange(exchange, 'direct', { durable: false, autoDelete: true });
    await ch.assertQueue(queue, { durable: false, autoDelete: false });
    await ch.bindQueue(queue, exchange, routingKey);
  });
}

export async function dropScratchQueue(client: AmqpClient | undefined, queue: string): Promise<void> {
  await client?.withChannel((ch) => ch.deleteQueue(queue)).catch(() => undefined);
}
