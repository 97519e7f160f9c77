import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { loadConfig } from '../config';
import { createLogger } from '../log';
import { AmqpClient, type Delivery } from '../queue/amqp';
import {
  DELIVERY_ROUTING_KEY,
  HEADER_CENTER,
  HEADER_DECLARATION_ID,
  HEADER_MESSAGE_TYPE,
  RECEIPTS_EXCHANGE,
  declareCenterQueue,
  declareCoreTopology,
} from '../queue/topology';
import { DEFAULT_CERTS_DIR, identityFiles } from './identities';
import { centerKeyrings, isSealed, openPayload, PayloadSealError, type CenterKeyring } from './payload-seal';
import { REPO_ROOT, type CenterConfig } from './registry';

/**
 * HTTPS push connector for centers with transport "https": consumes `baygate.center.<code>` and POSTs
 * each manifest — opened when it is sealed, otherwise unchanged — to the center's endpoint over mutual TLS — our client certificate
 * (a certs-dev identity, sent with its issuing CA) and the center's server certificate verified against
 * the configured CA. Outcomes:
 *  - 2xx: ack, then a delivery notice `{messageGuid, center, at}` on `baygate.receipts` (key `delivery`);
 *  - 408/429/5xx/network error/timeout: wait (exponential backoff per message), then nack with requeue;
 *    the quorum queue's delivery limit dead-letters a message that keeps failing;
 *  - other 4xx: the center refuses this message for good → nack without requeue (dead-letter).
 * Prefetch bounds how many POSTs run at once.
 */

export type HttpsCenter = Pick<CenterConfig, 'code' | 'queue'> & { https: NonNullable<CenterConfig['https']> };

export interface HttpsConnectorOptions {
  center: HttpsCenter;
  amqp?: AmqpClient;
  amqpUrl?: string;
  logger?: Logger;
  certsDir?: string;
  /** PEM material overriding the identity / CA files (tests). */
  tls?: { key: string | Buffer; cert: string | Buffer; ca: string | Buffer };
  prefetch?: number;
  backoff?: { initialMs?: number; maxMs?: number };
  receipts?: { exchange?: string; deliveryKey?: string };
  declareTopology?: boolean;
  /** The center's payload keys, to open sealed manifests before the push; default from CENTER_PAYLOAD_KEYS. */
  payloadKeyring?: CenterKeyring;
}

export interface ConnectorStats {
  delivered: number;
  retried: number;
  refused: number;
  notices: number;
}

export interface HttpsConnector {
  readonly center: string;
  stats(): ConnectorStats;
  stop(): Promise<void>;
}

export class PushError extends Error {
  constructor(
    message: string,
    public readonly retriable: boolean,
    public readonly statusCode?: number,
  ) {
    super(message);
    this.name = 'PushError';
  }
}

function tlsMaterial(options: HttpsConnectorOptions): {
  key: string | Buffer;
  cert: string | Buffer;
  ca: string | Buffer;
} {
  if (options.tls) return options.tls;
  const files = identityFiles(options.center.https.clientIdentity, options.certsDir ?? DEFAULT_CERTS_DIR);
  const chain = files.chainPath ? readFileSync(files.chainPath, 'utf8') : '';
  return {
    key: readFileSync(files.keyPath),
    // Our certificate followed by its issuing CA(s), so the center can build the chain.
    cert: readFileSync(files.certPath, 'utf8') + chain,
    ca: readFileSync(resolve(REPO_ROOT, options.center.https.caPath)),
  };
}

/** One POST; resolves with the status code for 2xx, throws PushError otherwise. */
export function pushManifest(
  agent: Agent,
  url: string,
  body: Buffer,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) }, timeout: timeoutMs },
      (res) => {
        const status = res.statusCode ?? 0;
        res.resume(); // the center's answer body is not needed; receipts come on the receipts queue
        res.on('end', () => {
          if (status >= 200 && status < 300) resolvePromise(status);
          else
            reject(
              new PushError(
                `center answered HTTP ${status}`,
                status === 408 || status === 429 || status >= 500,
                status,
              ),
            );
        });
        res.on('error', (err) => reject(new PushError(`response failed: ${err.message}`, true, status)));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => reject(new PushError(`POST ${url} failed: ${err.message}`, true)));
    req.end(body);
  });
}

export async function startHttpsConnector(options: HttpsConnectorOptions): Promise<HttpsConnector> {
  const { center } = options;
  const logger = (options.logger ?? createLogger({ name: 'center-connector' })).child({ center: center.code });
  const tls = tlsMaterial(options);
  const agent = new Agent({
    keepAlive: true,
    key: tls.key,
    cert: tls.cert,
    ca: tls.ca,
    rejectUnauthorized: true,
    maxSockets: options.prefetch ?? 4,
  });
  const initialMs = options.backoff?.initialMs ?? 500;
  const maxMs = options.backoff?.maxMs ?? 30000;
  const failures = new Map<string, number>();
  const stats: ConnectorStats = { delivered: 0, retried: 0, refused: 0, notices: 0 };
  let stopped = false;
  const waits = new Set<NodeJS.Timeout>();

  const ownsClient = !options.amqp;
  const amqp =
    options.amqp ??
    new AmqpClient({
      url: options.amqpUrl ?? loadConfig().AMQP_URL,
      logger,
      connectionName: `baygate-https-connector-${center.code}`,
    });
  if (options.declareTopology !== false) {
    await amqp.addTopology(async (ch) => {
      await declareCoreTopology(ch);
      await declareCenterQueue(ch, center.code);
    });
  }
  if (ownsClient) await amqp.connect();

  const keyring =
    options.payloadKeyring ??
    centerKeyrings(loadConfig(), [{ code: center.code, payload: 'sealed' }]).get(center.code)!;
  const exchange = options.receipts?.exchange ?? RECEIPTS_EXCHANGE;
  const deliveryKey = options.receipts?.deliveryKey ?? DELIVERY_ROUTING_KEY;

  async function handle(delivery: Delivery): Promise<void> {
    const props = delivery.message.properties;
    const headers = (props.headers ?? {}) as Record<string, unknown>;
    const messageId = typeof props.messageId === 'string' ? props.messageId : '';
    const httpHeaders: Record<string, string> = {
      'content-type': typeof props.contentType === 'string' ? props.contentType : 'application/xml',
      'x-baygate-message-id': messageId,
      'x-baygate-center': center.code,
    };
    if (typeof props.correlationId === 'string') httpHeaders['x-request-id'] = props.correlationId;
    for (const h of [HEADER_DECLARATION_ID, HEADER_MESSAGE_TYPE])
      if (typeof headers[h] === 'string') httpHeaders[h] = headers[h];
    try {
      // Sealed on the broker's disk, clear inside the mutual-TLS connection to the center.
      let body = delivery.content;
      if (isSealed(body)) {
        body = openPayload(keyring, messageId, body);
        httpHeaders['content-type'] = 'application/xml';
      }
      await pushManifest(agent, center.https.url, body, httpHeaders, center.https.timeoutMs);
    } catch (err) {
      if (err instanceof PayloadSealError) {
        stats.refused++;
        logger.error({ messageId, err: err.message }, 'sealed manifest does not open; dead-lettered');
        delivery.nack({ requeue: false });
        return;
      }
      const pushError = err instanceof PushError ? err : new PushError((err as Error).message, true);
      if (!pushError.retriable) {
        stats.refused++;
        logger.error(
          { messageId, status: pushError.statusCode, err: pushError.message },
          'center refused the manifest; dead-lettered',
        );
        delivery.nack({ requeue: false });
        return;
      }
      const n = (failures.get(messageId) ?? 0) + 1;
      failures.set(messageId, n);
      const delay = Math.min(maxMs, initialMs * 2 ** (n - 1));
      logger.warn(
        { messageId, attempt: n, retryInMs: delay, err: pushError.message },
        'push to center failed; requeueing after backoff',
      );
      await new Promise<void>((r) => {
        const t = setTimeout(() => (waits.delete(t), r()), delay);
        waits.add(t);
      });
      stats.retried++;
      delivery.nack({ requeue: true });
      return;
    }
    failures.delete(messageId);
    delivery.ack();
    stats.delivered++;
    const notice = { messageGuid: messageId, center: center.code, at: new Date().toISOString() };
    try {
      await amqp.publish(
        exchange,
        deliveryKey,
        Buffer.from(JSON.stringify(notice)),
        {
          messageId: randomUUID(),
          contentType: 'application/json',
          persistent: true,
          mandatory: true,
          headers: { [HEADER_CENTER]: center.code },
        },
        5000,
      );
      stats.notices++;
    } catch (err) {
      // The center has the manifest; a lost notice only delays "delivered" until the first receipt.
      logger.warn({ messageId, err: (err as Error).message }, 'delivery notice not published');
    }
  }

  await amqp.consume(
    center.queue,
    async (delivery) => {
      if (stopped) return;
      await handle(delivery);
    },
    { prefetch: options.prefetch ?? 4 },
  );
  logger.info({ queue: center.queue, url: center.https.url }, 'https connector consuming');

  return {
    center: center.code,
    stats: () => ({ ...stats }),
    async stop() {
      stopped = true;
      for (const t of waits) clearTimeout(t);
      if (ownsClient) await amqp.close();
      else await amqp.cancelConsumers().catch(() => undefined);
      agent.destroy();
    },
  };
}
