import { randomBytes } from 'node:crypto';
import amqplib, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { parseBaygateOrderOrThrow, type ImportOrder } from '../../src/domain/order';
import { buildMessage, type BuiltMessage } from '../../src/mapping/message-builder';
import type { MessageType } from '../../src/domain/message-types';
import {
  HEADER_CENTER,
  HEADER_DECLARATION_ID,
  HEADER_MESSAGE_TYPE,
  MANIFESTS_EXCHANGE,
} from '../../src/queue/topology';
import { SoftwareXmlSigner } from '../../src/signing/signers/software';
import { trustListCheck } from '../../src/signing/trust-check';
import { verifySignedXml } from '../../src/signing/verifier';
import { parseReceipt, type ParsedReceipt } from '../../src/xml/receipts/parse-receipt';
import { readExample } from '../domain/example-orders';
import { waitFor } from '../support/rabbitmq';
import { AMQP_URL } from '../support/services';
import { devIdentity, devTrustLists } from '../signing/support/dev-identities';

/** Helpers for the clearance-center tests: throw-away center codes, signed manifests, a receipt collector. */

export const SENDER = { copCode: '4403960001', copName: '湾区通关服务有限公司', dxpId: 'DXPENT0000460001' };

/** A center code nobody else uses (upper-case letter + 7 hex digits). */
export function uniqueCenterCode(): string {
  return `T${randomBytes(4).toString('hex').toUpperCase().slice(0, 7)}`;
}

let serial = 0;

/** The Guangzhou 9610 example with fresh document numbers, so tests never share an order. */
export function freshImportOrder(change?: (o: ImportOrder) => void): ImportOrder {
  const raw = readExample('gz-9610-direct-purchase') as Record<string, unknown> & {
    payment: Record<string, unknown>;
    logistics: Record<string, unknown>;
  };
  const n = `${Date.now().toString(36).toUpperCase()}${(serial++).toString().padStart(3, '0')}${randomBytes(2).toString('hex').toUpperCase()}`;
  raw.orderNo = `BGT${n}`;
  raw.copNo = `CP${n}`.slice(0, 20);
  raw.payment.payTransactionId = `PT${n}`;
  raw.logistics.logisticsNo = `LN${n}`;
  const order = parseBaygateOrderOrThrow(raw);
  if (order.direction !== 'import') throw new Error('example is not an import order');
  change?.(order);
  return order;
}

let sellerSigner: Promise<SoftwareXmlSigner> | undefined;
export function sellerGdSigner(): Promise<SoftwareXmlSigner> {
  const id = devIdentity('seller-gd');
  return (sellerSigner ??= SoftwareXmlSigner.fromFiles(
    { keyPath: id.keyPath, certPath: id.certPath },
    { trust: trustListCheck(devTrustLists()) },
  ));
}

export interface SignedManifest extends BuiltMessage {
  signed: string;
}

export async function signedManifest(type: MessageType, order: ImportOrder): Promise<SignedManifest> {
  const built = buildMessage(type, order, { sender: SENDER });
  return { ...built, signed: await (await sellerGdSigner()).sign(built.xml) };
}

export async function allFour(
  order: ImportOrder,
): Promise<Record<'CEB311' | 'CEB411' | 'CEB511' | 'CEB621', SignedManifest>> {
  return {
    CEB311: await signedManifest('CEB311', order),
    CEB411: await signedManifest('CEB411', order),
    CEB511: await signedManifest('CEB511', order),
    CEB621: await signedManifest('CEB621', order),
  };
}

export interface Captured {
  routingKey: string;
  body: Buffer;
  message: ConsumeMessage;
}

export interface VerifiedReceipt {
  receipt: ParsedReceipt;
  signerSerial: string;
  trustedBy: string;
}

/**
 * A private queue bound to `baygate.receipts` with this run's own routing keys, so the tests read exactly
 * what their simulator published and leave the shared `baygate.receipts` queue alone.
 */
export class ReceiptCollector {
  readonly captured: Captured[] = [];
  private readonly verified = new Map<Captured, Promise<VerifiedReceipt>>();
  private constructor(
    private readonly connection: ChannelModel,
    readonly channel: Channel,
    readonly receiptKey: string,
    readonly deliveryKey: string,
  ) {}

  static async open(exchange: string, run: string): Promise<ReceiptCollector> {
    const connection = await amqplib.connect(AMQP_URL);
    const channel = await connection.createChannel();
    const receiptKey = `receipt.test.${run}`;
    const deliveryKey = `delivery.test.${run}`;
    await channel.assertExchange(exchange, 'direct', { durable: true });
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
    await channel.bindQueue(queue, exchange, receiptKey);
    await channel.bindQueue(queue, exchange, deliveryKey);
    const collector = new ReceiptCollector(connection, channel, receiptKey, deliveryKey);
    await channel.consume(
      queue,
      (m) => {
        if (m) collector.captured.push({ routingKey: m.fields.routingKey, body: m.content, message: m });
      },
      { noAck: true },
    );
    return collector;
  }

  receipts(): Captured[] {
    return this.captured.filter((c) => c.routingKey === this.receiptKey);
  }

  notices(): { messageGuid: string; center: string; at: string }[] {
    return this.captured
      .filter((c) => c.routingKey === this.deliveryKey)
      .map((c) => JSON.parse(c.body.toString('utf8')) as { messageGuid: string; center: string; at: string });
  }

  /** Receipts (verified against the trust lists, then parsed) whose return echoes `declarationGuid`, in arrival order. */
  async receiptsFor(declarationGuid: string): Promise<VerifiedReceipt[]> {
    const out: VerifiedReceipt[] = [];
    for (const c of this.receipts()) {
      if (!c.body.toString('utf8').includes(declarationGuid)) continue;
      let pending = this.verified.get(c);
      if (!pending) {
        pending = verifySignedXml(c.body.toString('utf8'), { trustLists: devTrustLists(), mode: 'strict' }).then(
          (v) => ({
            receipt: parseReceipt(v.signedXml),
            signerSerial: v.signer.serialHex,
            trustedBy: v.signer.trustedBy,
          }),
        );
        this.verified.set(c, pending);
      }
      const result = await pending;
      if (result.receipt.returns.some((r) => r.guid === declarationGuid)) out.push(result);
    }
    return out;
  }

  async statusesFor(declarationGuid: string): Promise<string[]> {
    return (await this.receiptsFor(declarationGuid)).flatMap((r) => r.receipt.returns.map((x) => x.status));
  }

  async waitForStatuses(declarationGuid: string, count: number, timeoutMs = 10000): Promise<string[]> {
    await waitFor(
      async () => (await this.statusesFor(declarationGuid)).length >= count,
      timeoutMs,
      `${count} receipts for ${declarationGuid}`,
    );
    return this.statusesFor(declarationGuid);
  }

  async close(): Promise<void> {
    await this.connection.close().catch(() => undefined);
  }
}

/** Publishes a manifest the way the gateway's dispatcher does (topology names from src/queue/topology). */
export async function publishManifest(
  channel: amqplib.ConfirmChannel,
  center: string,
  manifest: { guid: string; type: string },
  body: string | Buffer,
): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    channel.publish(
      MANIFESTS_EXCHANGE,
      center,
      Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'),
      {
        messageId: manifest.guid,
        correlationId: `req-${manifest.guid.slice(0, 8)}`,
        contentType: 'application/xml',
        persistent: true,
        mandatory: true,
        headers: {
          [HEADER_DECLARATION_ID]: `decl-${manifest.guid.slice(0, 8)}`,
          [HEADER_MESSAGE_TYPE]: manifest.type,
          [HEADER_CENTER]: center,
        },
      },
      (err: unknown) => (err ? reject(err as Error) : resolve()),
    );
  });
}
