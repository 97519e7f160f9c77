import type { Channel } from 'amqplib';

/**
 * RabbitMQ topology, declared idempotently by every process on every (re)connect.
 *
 *   baygate.manifests (direct) ──<center code>──▶ baygate.center.<code>   (quorum, delivery limit)
 *   baygate.receipts  (direct) ──receipt|delivery──▶ baygate.receipts     (quorum, delivery limit)
 *   any queue ──rejected / over delivery limit──▶ baygate.dlx (topic) ──#──▶ baygate.dead-letters
 *
 * Quorum queues replicate across a RabbitMQ cluster and count deliveries, so a poison message that
 * keeps failing is dead-lettered after DELIVERY_LIMIT attempts instead of looping forever.
 */
export const MANIFESTS_EXCHANGE = 'baygate.manifests';
export const RECEIPTS_EXCHANGE = 'baygate.receipts';
export const RECEIPTS_QUEUE = 'baygate.receipts';
export const DEAD_LETTER_EXCHANGE = 'baygate.dlx';
export const DEAD_LETTER_QUEUE = 'baygate.dead-letters';
export const RECEIPT_ROUTING_KEY = 'receipt';
export const DELIVERY_ROUTING_KEY = 'delivery';
export const DELIVERY_LIMIT = 5;

export const HEADER_DECLARATION_ID = 'x-baygate-declaration-id';
export const HEADER_MESSAGE_TYPE = 'x-baygate-message-type';
export const HEADER_CENTER = 'x-baygate-center';

export function centerQueueName(centerCode: string): string {
  return `baygate.center.${centerCode}`;
}

function quorumArguments(deadLetterRoutingKey: string): Record<string, unknown> {
  return {
    'x-queue-type': 'quorum',
    'x-delivery-limit': DELIVERY_LIMIT,
    'x-dead-letter-exchange': DEAD_LETTER_EXCHANGE,
    'x-dead-letter-routing-key': deadLetterRoutingKey,
  };
}

export async function declareCoreTopology(channel: Channel): Promise<void> {
  await channel.assertExchange(DEAD_LETTER_EXCHANGE, 'topic', { durable: true });
  await channel.assertQueue(DEAD_LETTER_QUEUE, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await channel.bindQueue(DEAD_LETTER_QUEUE, DEAD_LETTER_EXCHANGE, '#');

  await channel.assertExchange(MANIFESTS_EXCHANGE, 'direct', { durable: true });
  await channel.assertExchange(RECEIPTS_EXCHANGE, 'direct', { durable: true });
  await channel.assertQueue(RECEIPTS_QUEUE, { durable: true, arguments: quorumArguments('receipts') });
  await channel.bindQueue(RECEIPTS_QUEUE, RECEIPTS_EXCHANGE, RECEIPT_ROUTING_KEY);
  await channel.bindQueue(RECEIPTS_QUEUE, RECEIPTS_EXCHANGE, DELIVERY_ROUTING_KEY);
}

export async function declareCenterQueue(channel: Channel, centerCode: string): Promise<void> {
  const queue = centerQueueName(centerCode);
  await channel.assertQueue(queue, { durable: true, arguments: quorumArguments(`center.${centerCode}`) });
  await channel.bindQueue(queue, MANIFESTS_EXCHANGE, centerCode);
}

/** Everything the gateway side needs: core exchanges/queues plus one queue per known center. */
export function topologyFor(centerCodes: readonly string[]): (channel: Channel) => Promise<void> {
  return async (channel) => {
    await declareCoreTopology(channel);
    for (const code of centerCodes) await declareCenterQueue(channel, code);
  };
}
