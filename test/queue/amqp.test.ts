import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { AmqpClient, UnroutableError, type Delivery } from '../../src/queue/amqp';
import { silentLogger } from '../support/logger';
import { addScratchTopology, dropScratchQueue, forceCloseConnection, waitFor } from '../support/rabbitmq';
import { AMQP_URL, requireRabbitMQ } from '../support/services';
import { rejectionOf } from '../support/rejection';

describe('RabbitMQ client (real broker)', function () {
  this.timeout(30000);
  const suffix = randomUUID().slice(0, 8);
  const exchange = `test.x.${suffix}`;
  const queue = `test.q.${suffix}`;
  let client: AmqpClient;

  before(requireRabbitMQ);

  beforeEach(async () => {
    client = new AmqpClient({ url: AMQP_URL, logger: silentLogger(), initialMaxRetries: 2 });
    await client.connect();
    await addScratchTopology(client, exchange, queue, 'rk');
  });

  afterEach(async () => {
    await dropScratchQueue(client, queue);
    await client.close();
  });

  it('publishes on a confirm channel and the consumer receives the message', async () => {
    const received: Delivery[] = [];
    await client.consume(queue, async (d) => {
      received.push(d);
      d.ack();
    });
    const messageId = randomUUID();
    await client.publish(exchange, 'rk', Buffer.from('hello'), { messageId, persistent: true, mandatory: true });
    await waitFor(() => received.length === 1, 5000, 'delivery');
    expect(received[0]!.content.toString()).to.equal('hello');
    expect(received[0]!.message.properties.messageId).to.equal(messageId);
  });

  it('fails a mandatory publish that no queue accepts instead of reporting success', async () => {
    const error = await rejectionOf(
      client.publish(exchange, 'no-such-binding', Buffer.from('lost?'), { messageId: randomUUID(), mandatory: true }),
    );
    expect(error).to.be.instanceOf(UnroutableError);
    expect((error as UnroutableError).message).to.match(/NO_ROUTE/);
  });

  it('reconnects after the broker closes the connection, re-creating topology and consumers', async () => {
    const received: string[] = [];
    await client.consume(queue, async (d) => {
      received.push(d.content.toString());
      d.ack();
    });
    await client.publish(exchange, 'rk', Buffer.from('before'), { messageId: randomUUID(), mandatory: true });
    await waitFor(() => received.includes('before'), 5000, 'first delivery');

    forceCloseConnection(client);
    await waitFor(() => !client.isReady, 5000, 'disconnect to be noticed');
    await client.waitUntilReady(15000);

    await client.publish(exchange, 'rk', Buffer.from('after'), { messageId: randomUUID(), mandatory: true });
    await waitFor(() => received.includes('after'), 10000, 'delivery after reconnect');
  });

  it('does not ack a message on a dead channel: the broker redelivers it after reconnect', async () => {
    const seen: { body: string; redelivered: boolean; channelOpenAtAck: boolean }[] = [];
    let holdFirst = true;
    await client.consume(queue, async (d) => {
      if (holdFirst) {
        holdFirst = false;
        // Simulate a handler still busy while the connection dies, then acking late.
        forceCloseConnection(client);
        await waitFor(() => !d.channelOpen, 5000, 'channel to close');
      }
      seen.push({ body: d.content.toString(), redelivered: d.redelivered, channelOpenAtAck: d.channelOpen });
      d.ack(); // must be a no-op on the dead channel, not an "unknown delivery tag" error
    });
    await client.publish(exchange, 'rk', Buffer.from('work'), { messageId: randomUUID(), mandatory: true });
    await waitFor(() => seen.some((s) => s.redelivered), 15000, 'redelivery after reconnect');
    expect(seen[0]).to.include({ body: 'work', channelOpenAtAck: false });
    const redelivery = seen.find((s) => s.redelivered)!;
    expect(redelivery).to.include({ body: 'work', channelOpenAtAck: true });
    // The redelivered message was acked on its own live channel: nothing is left in the queue.
    await waitFor(
      async () => (await client.withChannel((ch) => ch.checkQueue(queue))).messageCount === 0,
      5000,
      'queue drained',
    );
  });
});
