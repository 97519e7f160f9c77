import amqplib, {
  type Channel,
  type ChannelModel,
  type ConfirmChannel,
  type ConsumeMessage,
  type Options,
  type RecoveryOptions,
} from 'amqplib';
import type { Logger } from 'pino';

/**
 * One AMQP connection with automatic recovery (amqplib's own `recovery` option).
 *
 * Why a wrapper at all: after a broker restart every channel is new, so topology, consumers and the
 * confirm channel must be re-created on each reconnect, and a message delivered on a dead channel must
 * never be acked on the new one (RabbitMQ would close the channel with "unknown delivery tag").
 * Each delivery therefore carries its own channel, and settling it is a no-op once that channel is gone:
 * the broker has already put the message back and will redeliver it.
 */
export type TopologyFn = (channel: Channel) => Promise<void>;

export interface Delivery {
  readonly message: ConsumeMessage;
  readonly content: Buffer;
  readonly redelivered: boolean;
  /** Whether the channel that delivered this message is still open (settling is only meaningful then). */
  readonly channelOpen: boolean;
  ack(): void;
  nack(options?: { requeue?: boolean }): void;
}

export type DeliveryHandler = (delivery: Delivery) => Promise<void>;

interface ConsumerSpec {
  queue: string;
  handler: DeliveryHandler;
  prefetch: number;
  options: Options.Consume;
  consumerTag?: string;
  channel?: Channel;
}

export class NotConnectedError extends Error {
  constructor(message = 'not connected to RabbitMQ') {
    super(message);
    this.name = 'NotConnectedError';
  }
}

/** The broker accepted the message but no queue was bound for it (publish with `mandatory`). */
export class UnroutableError extends Error {
  constructor(
    public readonly exchange: string,
    public readonly routingKey: string,
    public readonly replyText: string,
  ) {
    super(`message to exchange "${exchange}" with routing key "${routingKey}" was unroutable: ${replyText}`);
    this.name = 'UnroutableError';
  }
}

/** The broker refused the message (basic.nack) or the channel died before confirming it. */
export class PublishNotConfirmedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PublishNotConfirmedError';
  }
}

export interface AmqpClientOptions {
  url: string;
  logger: Logger;
  /** Client name shown in the RabbitMQ management UI. */
  connectionName?: string;
  /** Retries before the first connection succeeds (fail fast at start-up). Default: infinite. */
  initialMaxRetries?: number;
  maxReconnectDelayMs?: number;
  /** false: `connect()` returns at once and keeps trying in the background (the gateway starts without a broker). */
  waitForConnect?: boolean;
  /**
   * How long `publish` waits for the broker's confirm before failing (default 30 s). A confirm that does not
   * come means the connection is dead without amqplib having noticed (a silently lost TCP path is only found
   * by heartbeats, minutes later) or the broker has blocked us: either way the caller's retry path is better
   * than waiting.
   */
  confirmTimeoutMs?: number;
}

export class AmqpClient {
  private connection?: Awaited<ReturnType<typeof connectRecovering>>;
  private model?: ChannelModel;
  private confirmChannel?: ConfirmChannel;
  private readonly topology: TopologyFn[] = [];
  private readonly consumers: ConsumerSpec[] = [];
  private readonly returned = new Map<string, string>();
  private closing = false;
  private generation = 0;
  private readonly readyWaiters: (() => void)[] = [];
  /** Why the broker blocked our connection (resource alarm), while it does. */
  private blockedReason?: string;

  constructor(private readonly options: AmqpClientOptions) {}

  /** Topology is declared now (if connected) and again after every reconnect. */
  async addTopology(fn: TopologyFn): Promise<void> {
    this.topology.push(fn);
    if (this.confirmChannel) await fn(this.confirmChannel);
  }

  async connect(): Promise<this> {
    const { url, logger } = this.options;
    this.connection = await connectRecovering(url, {
      clientProperties: { connection_name: this.options.connectionName ?? 'baygate' },
      recovery: {
        initialDelay: 200,
        maxDelay: this.options.maxReconnectDelayMs ?? 5000,
        initialMaxRetries: this.options.initialMaxRetries ?? Infinity,
        maxRetries: Infinity,
        waitForConnect: this.options.waitForConnect ?? true,
        setup: (model: ChannelModel) => this.setup(model),
      },
    });
    this.connection.on('disconnect', (err: Error) => {
      this.model = undefined;
      this.confirmChannel = undefined;
      this.blockedReason = undefined;
      if (!this.closing) logger.warn({ err: err?.message }, 'rabbitmq connection lost; reconnecting');
    });
    this.connection.on('reconnect-scheduled', (info: { attempt: number; delay: number }) =>
      logger.info({ attempt: info.attempt, delayMs: info.delay }, 'rabbitmq reconnect scheduled'),
    );
    this.connection.on('error', (err: Error) => logger.warn({ err: err.message }, 'rabbitmq connection error'));
    // A resource alarm (memory, disk): the broker stops reading our publishes, so no confirm would come.
    this.connection.on('blocked', (reason: string) => {
      this.blockedReason = String(reason ?? 'blocked');
      logger.warn(
        { reason: this.blockedReason },
        'rabbitmq blocked this connection; publishing fails until it is unblocked',
      );
    });
    this.connection.on('unblocked', () => {
      this.blockedReason = undefined;
      logger.info('rabbitmq unblocked this connection');
    });
    return this;
  }

  /** Runs on every successful (re)connect: new channels, topology, consumers. */
  private async setup(model: ChannelModel): Promise<void> {
    const generation = ++this.generation;
    const channel = await model.createConfirmChannel();
    channel.on('error', (err: Error) =>
      this.options.logger.warn({ err: err.message }, 'rabbitmq publish channel error'),
    );
    channel.on('return', (msg: ConsumeMessage) => {
      const id = msg.properties.messageId as string | undefined;
      const fields = msg.fields as unknown as { replyCode?: number; replyText?: string };
      if (id) this.returned.set(id, `${fields.replyCode ?? ''} ${fields.replyText ?? 'NO_ROUTE'}`.trim());
    });
    channel.on('close', () => {
      if (this.confirmChannel === channel) this.confirmChannel = undefined;
    });
    for (const fn of this.topology) await fn(channel);
    for (const spec of this.consumers) await this.startConsumer(model, spec);
    if (generation !== this.generation) return;
    this.model = model;
    this.confirmChannel = channel;
    this.options.logger.info({ consumers: this.consumers.length }, 'rabbitmq connected');
    for (const wake of this.readyWaiters.splice(0)) wake();
  }

  private async startConsumer(model: ChannelModel, spec: ConsumerSpec): Promise<void> {
    const channel = await model.createChannel();
    let open = true;
    channel.on('close', () => (open = false));
    channel.on('error', (err: Error) =>
      this.options.logger.warn({ err: err.message, queue: spec.queue }, 'rabbitmq consumer channel error'),
    );
    await channel.prefetch(spec.prefetch);
    const { consumerTag } = await channel.consume(
      spec.queue,
      (message) => {
        if (!message) return; // consumer cancelled by the broker (queue deleted); recovery re-creates it
        let settled = false;
        const delivery: Delivery = {
          message,
          content: message.content,
          redelivered: message.fields.redelivered,
          get channelOpen() {
            return open;
          },
          ack: () => {
            if (settled || !open) return;
            settled = true;
            channel.ack(message);
          },
          nack: ({ requeue = true } = {}) => {
            if (settled || !open) return;
            settled = true;
            channel.nack(message, false, requeue);
          },
        };
        spec.handler(delivery).catch((err: unknown) => {
          this.options.logger.error(
            { err: (err as Error)?.message, queue: spec.queue },
            'consumer handler failed; message requeued',
          );
          delivery.nack({ requeue: true });
        });
      },
      spec.options,
    );
    spec.channel = channel;
    spec.consumerTag = consumerTag;
  }

  /** Registers a consumer that survives reconnects. The handler must settle each delivery. */
  async consume(
    queue: string,
    handler: DeliveryHandler,
    options: { prefetch?: number } & Options.Consume = {},
  ): Promise<void> {
    const { prefetch = 16, ...consumeOptions } = options;
    const spec: ConsumerSpec = { queue, handler, prefetch, options: consumeOptions };
    this.consumers.push(spec);
    if (this.model) await this.startConsumer(this.model, spec);
  }

  /** Stops all consumers (used at shutdown before in-flight work drains). */
  async cancelConsumers(): Promise<void> {
    for (const spec of this.consumers.splice(0)) {
      if (spec.channel && spec.consumerTag) await spec.channel.cancel(spec.consumerTag).catch(() => undefined);
    }
  }

  /** The live amqplib connection (tests use it to simulate a network failure). */
  get currentConnection(): ChannelModel | undefined {
    return this.model;
  }

  get isReady(): boolean {
    return this.confirmChannel !== undefined;
  }

  /** Waits until a channel is open, or fails after `timeoutMs`. */
  async waitUntilReady(timeoutMs = 5000): Promise<void> {
    if (this.confirmChannel) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.readyWaiters.indexOf(wake);
        if (i >= 0) this.readyWaiters.splice(i, 1);
        reject(new NotConnectedError(`RabbitMQ not connected after ${timeoutMs} ms`));
      }, timeoutMs);
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      this.readyWaiters.push(wake);
    });
  }

  /**
   * Publishes on the confirm channel and resolves only when the broker has confirmed the message.
   * With `mandatory` a message no queue accepts fails with UnroutableError instead of vanishing.
   * Requires `options.messageId` so a return can be matched to its publish.
   *
   * Always settles: on the confirm (or nack/return), when the channel closes (amqplib fails every
   * unconfirmed publish then), or after `confirmTimeoutMs` with PublishNotConfirmedError. A timeout on the
   * live channel also drops the connection, so the reconnect that a lost TCP path needs starts now rather
   * than after the heartbeats run out; the message may still have been routed: a retry publishes it again
   * under the same messageId.
   */
  async publish(
    exchange: string,
    routingKey: string,
    content: Buffer,
    options: Options.Publish & { messageId: string },
    waitMs = 0,
  ): Promise<void> {
    const confirmTimeoutMs = this.options.confirmTimeoutMs ?? 30000;
    if (!this.confirmChannel && waitMs > 0) await this.waitUntilReady(waitMs);
    const channel = this.confirmChannel;
    if (!channel) throw new NotConnectedError();
    if (this.blockedReason !== undefined)
      throw new NotConnectedError(`RabbitMQ has blocked this connection (${this.blockedReason})`);
    const model = this.model;
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        this.returned.delete(options.messageId);
        reject(
          new PublishNotConfirmedError(
            `broker did not confirm message ${options.messageId} within ${confirmTimeoutMs} ms`,
          ),
        );
        if (this.confirmChannel === channel && this.blockedReason === undefined)
          this.dropConnection(model, `no publisher confirm within ${confirmTimeoutMs} ms`);
      }, confirmTimeoutMs);
      try {
        channel.publish(exchange, routingKey, content, options, (err: unknown) => {
          const returnedReason = this.returned.get(options.messageId);
          this.returned.delete(options.messageId);
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          if (err)
            return reject(
              new PublishNotConfirmedError(
                `broker did not confirm message ${options.messageId}: ${String((err as Error)?.message ?? err)}`,
              ),
            );
          if (returnedReason !== undefined) return reject(new UnroutableError(exchange, routingKey, returnedReason));
          resolve();
        });
      } catch (err) {
        settled = true;
        clearTimeout(timer);
        reject(new PublishNotConfirmedError(`publish failed: ${(err as Error).message}`));
      }
    });
  }

  /**
   * Ends a connection that no longer answers: amqplib is told its socket failed (it then closes every
   * channel, failing their unconfirmed publishes, and recovery reconnects) and the socket is destroyed. A
   * polite connection.close would wait for a CloseOk that a dead peer never sends, and destroying the socket
   * alone is not noticed when it is already gone.
   */
  private dropConnection(model: ChannelModel | undefined, reason: string): void {
    // Once: the close below clears this.model synchronously (amqplib's 'close' → recovery's 'disconnect').
    if (!model || this.model !== model || this.closing) return;
    const connection = (
      model as unknown as {
        connection?: { stream?: { destroy(err?: Error): void }; onSocketError?: (err: Error) => void };
      }
    ).connection;
    this.options.logger.warn({ reason }, 'rabbitmq connection presumed dead; dropping it to reconnect');
    const err = new Error(reason);
    if (typeof connection?.onSocketError === 'function') connection.onSocketError(err);
    connection?.stream?.destroy(err);
  }

  /** Runs `fn` on a short-lived plain channel (queue inspection, purges in tests). */
  async withChannel<T>(fn: (channel: Channel) => Promise<T>): Promise<T> {
    if (!this.model) throw new NotConnectedError();
    const channel = await this.model.createChannel();
    channel.on('error', () => undefined);
    try {
      return await fn(channel);
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.cancelConsumers().catch(() => undefined);
    await this.connection?.close().catch(() => undefined);
    this.model = undefined;
    this.confirmChannel = undefined;
  }
}

function connectRecovering(
  url: string,
  options: { clientProperties: Record<string, string>; recovery: RecoveryOptions },
) {
  return amqplib.connect(url, options);
}
