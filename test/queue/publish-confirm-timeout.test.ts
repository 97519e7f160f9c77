import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { expect } from 'chai';
import { AmqpClient, NotConnectedError, PublishNotConfirmedError } from '../../src/queue/amqp';
import { captureLogger } from '../support/logger';
import { addScratchTopology, dropScratchQueue, waitFor } from '../support/rabbitmq';
import { AMQP_URL, requireRabbitMQ } from '../support/services';
import { rejectionOf } from '../support/rejection';

/**
 * A TCP proxy between the client and the real broker. `freeze()` turns the connections open now into a dead
 * path (bytes in both directions are dropped, no FIN, no RST: what a lost route or a hung peer looks like);
 * connections opened later pass normally. `toClient()` writes raw bytes to the client, as if from the broker.
 */
class FreezableProxy {
  private readonly server = net.createServer((client) => this.accept(client));
  private readonly pairs: { client: net.Socket; upstream: net.Socket; frozen: boolean }[] = [];

  constructor(private readonly target: { host: string; port: number }) {}

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as net.AddressInfo).port;
  }

  private accept(client: net.Socket): void {
    const upstream = net.connect(this.target.port, this.target.host);
    const pair = { client, upstream, frozen: false };
    this.pairs.push(pair);
    client.on('data', (chunk) => pair.frozen || upstream.write(chunk));
    upstream.on('data', (chunk) => pair.frozen || client.write(chunk));
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  }

  freeze(): void {
    for (const pair of this.pairs) pair.frozen = true;
  }

  toClient(bytes: Buffer): void {
    const live = this.pairs.filter((p) => !p.frozen && !p.client.destroyed);
    for (const pair of live) pair.client.write(bytes);
  }

  async close(): Promise<void> {
    for (const pair of this.pairs) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** An AMQP 0-9-1 method frame on channel 0 of class 10 (connection), e.g. connection.blocked (60). */
function connectionFrame(methodId: number, args: Buffer = Buffer.alloc(0)): Buffer {
  const payload = Buffer.alloc(4 + args.length);
  payload.writeUInt16BE(10, 0);
  payload.writeUInt16BE(methodId, 2);
  args.copy(payload, 4);
  const header = Buffer.alloc(7);
  header.writeUInt8(1, 0); // method frame
  header.writeUInt16BE(0, 1); // channel 0
  header.writeUInt32BE(payload.length, 3);
  return Buffer.concat([header, payload, Buffer.from([0xce])]);
}

function shortString(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  return Buffer.concat([Buffer.from([bytes.length]), bytes]);
}

describe('RabbitMQ publish when the broker never confirms (real broker behind a proxy)', function () {
  this.timeout(30000);
  const suffix = randomUUID().slice(0, 8);
  const exchange = `test.confirm-timeout.x.${suffix}`;
  const queue = `test.confirm-timeout.q.${suffix}`;
  let proxy: FreezableProxy;
  let client: AmqpClient;
  let log: ReturnType<typeof captureLogger>;

  before(requireRabbitMQ);

  beforeEach(async () => {
    const broker = new URL(AMQP_URL);
    proxy = new FreezableProxy({ host: broker.hostname, port: Number(broker.port || 5672) });
    const viaProxy = new URL(AMQP_URL);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(await proxy.listen());
    log = captureLogger('info');
    client = new AmqpClient({
      url: viaProxy.toString(),
      logger: log.logger,
      initialMaxRetries: 2,
      confirmTimeoutMs: 1000,
    });
    await client.connect();
    await addScratchTopology(client, exchange, queue, 'rk');
  });

  afterEach(async () => {
    await dropScratchQueue(client, queue);
    await client.close();
    await proxy.close();
  });

  async function bodiesInQueue(): Promise<string[]> {
    return client.withChannel(async (ch) => {
      const bodies: string[] = [];
      for (let msg = await ch.get(queue, { noAck: true }); msg; msg = await ch.get(queue, { noAck: true }))
        bodies.push(msg.content.toString());
      return bodies;
    });
  }

  it('fails a publish whose confirm never comes with PublishNotConfirmedError, then drops the dead connection and publishes on a new one', async () => {
    await client.publish(exchange, 'rk', Buffer.from('before'), { messageId: randomUUID(), mandatory: true });
    const deadConnection = client.currentConnection;

    proxy.freeze();
    const error = await rejectionOf(
      client.publish(exchange, 'rk', Buffer.from('into the void'), { messageId: randomUUID(), mandatory: true }),
    );
    expect(error).to.be.instanceOf(PublishNotConfirmedError);
    expect((error as Error).message).to.match(/within 1000 ms/);

    // Heartbeats would notice the dead path only minutes later: the timeout itself must start the reconnect.
    await client.waitUntilReady(15000);
    expect(client.currentConnection).to.not.equal(deadConnection);
    await client.publish(exchange, 'rk', Buffer.from('after'), { messageId: randomUUID(), mandatory: true });
    expect(await bodiesInQueue()).to.deep.equal(['before', 'after']);
    expect(log.text()).to.contain('rabbitmq connection presumed dead');
  });

  it('refuses to publish at once while the broker blocks the connection, and publishes again once unblocked', async () => {
    await client.publish(exchange, 'rk', Buffer.from('before'), { messageId: randomUUID(), mandatory: true });
    const connection = client.currentConnection;

    proxy.toClient(connectionFrame(60, shortString('low on memory (test)'))); // connection.blocked
    await waitFor(() => log.text().includes('rabbitmq blocked this connection'), 5000, 'the blocked notice');
    const error = await rejectionOf(
      client.publish(exchange, 'rk', Buffer.from('while blocked'), { messageId: randomUUID(), mandatory: true }),
    );
    expect(error).to.be.instanceOf(NotConnectedError);
    expect((error as Error).message).to.match(/blocked.*low on memory/);

    proxy.toClient(connectionFrame(61)); // connection.unblocked
    await waitFor(() => log.text().includes('rabbitmq unblocked this connection'), 5000, 'the unblocked notice');
    await client.publish(exchange, 'rk', Buffer.from('after'), { messageId: randomUUID(), mandatory: true });
    expect(client.currentConnection, 'a blocked connection is not dropped').to.equal(connection);
    expect(await bodiesInQueue()).to.deep.equal(['before', 'after']);
  });
});
