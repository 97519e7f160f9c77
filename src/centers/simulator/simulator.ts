import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { loadConfig } from '../../config';
import { createLogger } from '../../log';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { AmqpClient, NotConnectedError, PublishNotConfirmedError, UnroutableError } from '../../queue/amqp';
import {
  DELIVERY_ROUTING_KEY,
  HEADER_CENTER,
  HEADER_MESSAGE_TYPE,
  RECEIPT_ROUTING_KEY,
  RECEIPTS_EXCHANGE,
  declareCenterQueue,
  declareCoreTopology,
} from '../../queue/topology';
import { SoftwareXmlSigner } from '../../signing/signers/software';
import type { XmlSigner } from '../../signing/signers/types';
import { loadTrustLists, type TrustLists } from '../../signing/trust';
import { trustListCheck } from '../../signing/trust-check';
import { verifySignedXml } from '../../signing/verifier';
import { looksLikeDxp, unwrapDxp } from '../dxp';
import { centerKeyrings, isSealed, openPayload, type CenterKeyring } from '../payload-seal';
import { DEFAULT_CERTS_DIR, identityFiles } from '../identities';
import { loadCenterRegistry, type CenterConfig, type CenterRegistry } from '../registry';
import { checkAndBookLimits, MemoryUsageLedger, ThreeDocumentIndex, type BuyerUsageLedger } from './customs';
import type { ManifestDedup } from '../../store/simulator-state';
import { readManifest, type ManifestView } from './manifest';
import {
  loadSimulatorProfile,
  parseFaults,
  seededRandom,
  type FaultName,
  type FaultRates,
  type SimulatorProfile,
} from './profiles';
import { buildReceipt, invtNoFor, preNoFor } from './receipt-builder';
import { officialXsdDir, structuralProblems, validateWithXmllint, xsdFor } from './schema-check';
import {
  formatFailureStatus,
  planAcceptedReceipts,
  signatureFailureStatus,
  swapAdjacent,
  timelineKindOf,
  type PlannedReceipt,
} from './timeline';

/**
 * A simulated clearance center. It consumes its queue `baygate.center.<code>` (through AmqpClient, which
 * reconnects and re-creates the consumer by itself) and, for every manifest:
 *
 *  0. opens a sealed manifest with the center's payload key (src/centers/payload-seal.ts);
 *  1. publishes a delivery notice `{messageGuid, center, at}` (routing key `delivery`) — unless the
 *     drop-delivery-notice fault hits;
 *  2. unwraps DXP when the body is a DxpMsg;
 *  3. ignores a manifest whose guid it has already taken (a redelivery after a lost ack is harmless);
 *  4. verifies the XML signature strictly against the trust lists (MR + E-port) → −621029 (or the
 *     type's code) when it fails;
 *  5. validates against the official XSD with xmllint when ../shared/ceb-2022 exists (structural check
 *     otherwise) → −621001 … on failure;
 *  6. inventories: waits for the three documents (order, payment, waybill), then checks the single and
 *     annual limits (−621005, −621018); 100 (退单) when the documents never come;
 *  7. answers with receipts signed with the center's certificate, on the profile's timeline, published
 *     with confirms and `mandatory` to `baygate.receipts` (routing key `receipt`).
 *
 * The manifest is acked once it has been taken (before the timeline runs), except under the slow-ack
 * (late ack) and no-ack (never acked: RabbitMQ redelivers after the channel closes) faults.
 */

/** Dedup in memory (the default; src/store/simulator-state.ts keeps it in MongoDB across restarts). */
export class MemoryManifestDedup implements ManifestDedup {
  private readonly seen = new Set<string>();
  async claim(guid: string): Promise<boolean> {
    if (this.seen.has(guid)) return false;
    this.seen.add(guid);
    return true;
  }
}

/** One manifest as it reached the center, whichever way (queue delivery or HTTPS POST). */
interface Intake {
  content: Buffer;
  messageId?: string;
  redelivered: boolean;
  /** Taken: AMQP ack / HTTP 202. */
  ack(): void;
  /** Not taken: requeue (AMQP nack+requeue / HTTP 503) or refuse for good (dead-letter / HTTP 400). */
  nack(options?: { requeue?: boolean }): void;
}

export type SimulatedCenter = Pick<CenterConfig, 'code' | 'queue' | 'receiptSigner'> &
  Partial<Pick<CenterConfig, 'transport' | 'name'>>;

export interface SimulatorOptions {
  /** Center code (looked up in the registry) or a center description (tests use throw-away codes). */
  center: string | SimulatedCenter;
  registry?: CenterRegistry;
  /** A shared client (the caller closes it); otherwise the simulator opens its own to `amqpUrl`. */
  amqp?: AmqpClient;
  amqpUrl?: string;
  logger?: Logger;
  /** Profile name in config/simulator-profiles.json or a profile object. Default "realistic". */
  profile?: string | SimulatorProfile;
  profilesFile?: string;
  /** "duplicate,out-of-order=0.5" or rates. */
  faults?: string | FaultRates;
  /** Seed for rejections/faults; default random. */
  seed?: number;
  certsDir?: string;
  /** Trust lists manifests are verified against; default certsDir/trust-lists. */
  trustLists?: TrustLists;
  /** Receipt signer; default the center's receiptSigner identity from certsDir. */
  signer?: XmlSigner;
  /** Folder with the official XSDs; default ../shared/ceb-2022/xsd when present; null = structural check. */
  xsdDir?: string | null;
  prefetch?: number;
  /** Declare the core topology and the center queue (default true). */
  declareTopology?: boolean;
  /** Where receipts and delivery notices go (defaults: baygate.receipts, "receipt", "delivery"). */
  receipts?: { exchange?: string; receiptKey?: string; deliveryKey?: string };
  echoGuid?: 'message' | 'head';
  dedup?: ManifestDedup;
  usageLedger?: BuyerUsageLedger;
  /** The center's payload keys, to open sealed manifests; default from CENTER_PAYLOAD_KEYS (or the development key). */
  payloadKeyring?: CenterKeyring;
  /**
   * Also accept manifests POSTed over HTTPS with mutual TLS (centers with transport "https", fed by
   * `baygate center connect`). 202 = taken; 400 = refused for good; 503 = try again; under the no-ack
   * fault no answer is sent (the connector times out and retries; the retry is a harmless duplicate).
   */
  /** Consume the center queue (default: yes, except for a transport "https" center, whose queue the connector drains). */
  consumeQueue?: boolean;
  httpsIntake?: {
    port: number;
    host?: string;
    key: string | Buffer;
    cert: string | Buffer;
    clientCa: string | Buffer;
    maxBytes?: number;
  };
}

export interface SimulatorStats {
  taken: number;
  duplicatesIgnored: number;
  accepted: number;
  rejected: number;
  receiptsPublished: number;
  deliveryNotices: number;
  deadLettered: number;
  faults: Record<FaultName, number>;
}

export interface Simulator {
  readonly center: string;
  readonly queue: string;
  readonly profile: SimulatorProfile;
  readonly faults: FaultRates;
  /** https://host:port/ when the HTTPS intake runs. */
  readonly httpsUrl?: string;
  stats(): SimulatorStats;
  /** Resolves when nothing is scheduled or being published (tests, graceful stop). */
  idle(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  const logger = (options.logger ?? createLogger({ name: 'center-simulator' })).child({
    center: typeof options.center === 'string' ? options.center : options.center.code,
  });
  const center: SimulatedCenter =
    typeof options.center === 'string'
      ? (options.registry ?? loadCenterRegistry()).get(options.center)
      : options.center;
  const profile =
    typeof options.profile === 'object'
      ? options.profile
      : loadSimulatorProfile(options.profile ?? 'realistic', options.profilesFile);
  const faults =
    typeof options.faults === 'object' ? options.faults : parseFaults(options.faults, profile.faultDefaults);
  const random = seededRandom(options.seed ?? Math.floor(Math.random() * 2 ** 31));
  const certsDir = options.certsDir ?? DEFAULT_CERTS_DIR;
  const trustLists = options.trustLists ?? loadTrustLists(join(certsDir, 'trust-lists'));
  const signer =
    options.signer ??
    (await (async () => {
      const files = identityFiles(center.receiptSigner, certsDir);
      return SoftwareXmlSigner.fromFiles(
        { keyPath: files.keyPath, certPath: files.certPath },
        { trust: trustListCheck(trustLists) },
      );
    })());
  const xsdDir = options.xsdDir === undefined ? officialXsdDir() : options.xsdDir;
  if (profile.xsdValidation && !xsdDir) {
    logger.warn(
      'official CEB schemas not found at ../shared/ceb-2022: manifests get a structural check (envelope, guids, BaseTransfer) instead of XSD validation',
    );
  }
  const receiptsExchange = options.receipts?.exchange ?? RECEIPTS_EXCHANGE;
  const receiptKey = options.receipts?.receiptKey ?? RECEIPT_ROUTING_KEY;
  const deliveryKey = options.receipts?.deliveryKey ?? DELIVERY_ROUTING_KEY;
  const keyring =
    options.payloadKeyring ??
    centerKeyrings(loadConfig(), [{ code: center.code, payload: 'sealed' }]).get(center.code)!;
  const dedup = options.dedup ?? new MemoryManifestDedup();
  const usage = options.usageLedger ?? new MemoryUsageLedger();
  const documents = new ThreeDocumentIndex();
  /** Inventories this center released, by the inventory number it issued: a cancel (CEB623) gives the buyer's quota back. */
  const issued = new Map<string, { buyer: string; year: number; guid: string }>();

  const ownsClient = !options.amqp;
  const amqp =
    options.amqp ??
    new AmqpClient({
      url: options.amqpUrl ?? loadConfig().AMQP_URL,
      logger,
      connectionName: `baygate-center-simulator-${center.code}`,
    });
  if (options.declareTopology !== false) {
    await amqp.addTopology(async (ch) => {
      await declareCoreTopology(ch);
      await declareCenterQueue(ch, center.code);
    });
  }
  if (ownsClient) await amqp.connect();

  const stats: SimulatorStats = {
    taken: 0,
    duplicatesIgnored: 0,
    accepted: 0,
    rejected: 0,
    receiptsPublished: 0,
    deliveryNotices: 0,
    deadLettered: 0,
    faults: { duplicate: 0, 'out-of-order': 0, 'slow-ack': 0, 'no-ack': 0, 'drop-delivery-notice': 0 },
  };
  let stopped = false;
  // Scheduled waits; stop() clears them and wakes their callers, which then see `stopped`.
  const timers = new Map<NodeJS.Timeout, () => void>();
  const pending = new Set<Promise<unknown>>();
  const track = <T>(p: Promise<T>): Promise<T> => {
    pending.add(p);
    void p.finally(() => pending.delete(p)).catch(() => undefined);
    return p;
  };
  const hits = (fault: FaultName): boolean => {
    const rate = faults[fault];
    if (rate === undefined || rate <= 0) return false;
    const hit = random() < rate;
    if (hit) stats.faults[fault]++;
    return hit;
  };
  const later = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.set(t, resolve);
    });

  /** Publishes with confirms + mandatory, retrying while the broker is away. */
  async function publish(
    routingKey: string,
    body: Buffer,
    props: { messageId: string; contentType: string; headers: Record<string, string> },
  ): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await amqp.publish(
          receiptsExchange,
          routingKey,
          body,
          { ...props, persistent: true, mandatory: true, timestamp: Math.floor(Date.now() / 1000) },
          5000,
        );
        return;
      } catch (err) {
        const retriable =
          err instanceof NotConnectedError ||
          err instanceof PublishNotConfirmedError ||
          (err instanceof UnroutableError && attempt < 5);
        if (!retriable || stopped) throw err;
        logger.warn({ err: (err as Error).message, attempt }, 'publishing to the receipts exchange failed; retrying');
        await sleep(Math.min(5000, 200 * 2 ** attempt));
      }
    }
  }

  async function sendReceipt(
    manifest: ManifestView,
    planned: PlannedReceipt,
    at: Date,
    extra: { invtNo?: string; preNo?: string },
    duplicate: boolean,
  ): Promise<void> {
    const built = buildReceipt(manifest, [{ status: planned.status, info: planned.info, at, ...extra }], {
      echoGuid: options.echoGuid ?? 'message',
    });
    const signed = await signer.sign(built.xml);
    const body = Buffer.from(signed, 'utf8');
    const props = {
      messageId: built.guid,
      contentType: 'application/xml',
      headers: { [HEADER_CENTER]: center.code, [HEADER_MESSAGE_TYPE]: built.type },
    };
    await publish(receiptKey, body, props);
    stats.receiptsPublished++;
    logger.debug({ receipt: built.type, status: planned.status, declaration: manifest.guid }, 'receipt published');
    if (duplicate) {
      await publish(receiptKey, body, props);
      stats.receiptsPublished++;
    }
  }

  /** Sends the planned receipts on their timeline (relative to `start`), possibly out of order. */
  async function runTimeline(manifest: ManifestView, plan: PlannedReceipt[], start: number): Promise<void> {
    const preNo = preNoFor(manifest);
    const invtNo = manifest.type === 'CEB621' || manifest.type === 'CEB603' ? invtNoFor(manifest) : undefined;
    const stamped = plan.map((p) => ({
      p,
      at: new Date(start + p.afterMs),
      extra: { preNo, ...(invtNo && withInvtNo(p.status) ? { invtNo } : {}) },
    }));
    const order = stamped.length > 1 && hits('out-of-order') ? swapAdjacent(stamped) : stamped;
    // Sent at the planned offsets; an out-of-order pair goes out at the earlier slot of the two.
    const slots = stamped.map((s) => s.p.afterMs);
    for (let i = 0; i < order.length; i++) {
      const wait = start + (slots[i] as number) - Date.now();
      if (wait > 0) await later(wait);
      if (stopped) return;
      const item = order[i] as (typeof order)[number];
      await sendReceipt(manifest, item.p, item.at, item.extra, hits('duplicate'));
    }
  }

  async function reject(manifest: ManifestView, status: string, info: string): Promise<void> {
    stats.rejected++;
    logger.info({ declaration: manifest.guid, type: manifest.type, status, info }, 'declaration refused');
    await runTimeline(manifest, [{ status, info, afterMs: profile.timelines.document[0]?.afterMs ?? 0 }], Date.now());
  }

  async function waitForCompanions(inventory: ManifestView): Promise<string[]> {
    const deadline = Date.now() + profile.threeDocuments.waitMs;
    for (;;) {
      const missing = documents.missingFor(inventory);
      if (missing.length === 0 || Date.now() >= deadline || stopped) return missing;
      await later(Math.min(profile.threeDocuments.pollMs, Math.max(1, deadline - Date.now())));
    }
  }

  /** Checks and timeline of one verified, schema-valid declaration. */
  async function process(manifest: ManifestView): Promise<void> {
    const subject =
      manifest.head.copNo ??
      manifest.head.orderNo ??
      manifest.head.logisticsNo ??
      manifest.head.payTransactionId ??
      manifest.guid;
    if (manifest.type === 'CEB311' || manifest.type === 'CEB411' || manifest.type === 'CEB511')
      documents.record(manifest);
    if (manifest.type === 'CEB621') {
      const missing = await waitForCompanions(manifest);
      if (stopped) return;
      if (missing.length > 0)
        return reject(manifest, '100', `海关退单：三单信息不全，未收到${missing.join('、')}[${subject}]`);
      const limits = await checkAndBookLimits(manifest, documents, usage, profile.limits, new Date());
      if (!limits.ok) return reject(manifest, limits.status, limits.info);
      issued.set(invtNoFor(manifest), { buyer: limits.buyer, year: limits.year, guid: manifest.guid });
    }
    if (manifest.type === 'CEB623') {
      const target = issued.get(manifest.head.invtNo ?? '');
      if (target) {
        await usage.release(target.buyer, target.year, target.guid);
        issued.delete(manifest.head.invtNo ?? '');
      }
    }
    stats.accepted++;
    await runTimeline(
      manifest,
      planAcceptedReceipts(timelineKindOf(manifest.type), profile, { subject, random }),
      Date.now(),
    );
  }

  function settle(delivery: Intake): void {
    if (hits('no-ack')) {
      logger.info({ messageId: delivery.messageId }, 'fault no-ack: manifest left unacknowledged');
      return;
    }
    if (hits('slow-ack')) {
      void later(profile.slowAckMs).then(() => delivery.ack());
      return;
    }
    delivery.ack();
  }

  async function handle(delivery: Intake): Promise<void> {
    stats.taken++;
    const messageId = delivery.messageId;
    let cebXml: string;
    try {
      const content = isSealed(delivery.content)
        ? openPayload(keyring, messageId ?? '', delivery.content)
        : delivery.content;
      cebXml = looksLikeDxp(content)
        ? unwrapDxp(content).message
        : new TextDecoder('utf-8', { fatal: true }).decode(content);
    } catch (err) {
      stats.deadLettered++;
      logger.error({ messageId, err: (err as Error).message }, 'unreadable manifest dead-lettered');
      delivery.nack({ requeue: false });
      return;
    }
    // Only the root guid is read before the signature is checked (cheap; parsing twice costs ~6 ms).
    const guid = rootGuidOf(cebXml);
    if (!guid) {
      stats.deadLettered++;
      logger.error({ messageId }, 'manifest has no CEBxxxMessage root with a guid; dead-lettered');
      delivery.nack({ requeue: false });
      return;
    }
    if (!hits('drop-delivery-notice')) {
      const notice = { messageGuid: messageId ?? guid, center: center.code, at: new Date().toISOString() };
      await publish(deliveryKey, Buffer.from(JSON.stringify(notice), 'utf8'), {
        messageId: randomUUID(),
        contentType: 'application/json',
        headers: { [HEADER_CENTER]: center.code },
      });
      stats.deliveryNotices++;
    }
    if (!(await dedup.claim(guid))) {
      stats.duplicatesIgnored++;
      logger.info(
        { declaration: guid, redelivered: delivery.redelivered },
        'manifest already taken; duplicate ignored',
      );
      delivery.ack();
      return;
    }
    settle(delivery);

    let manifest: ManifestView;
    try {
      const verified = await verifySignedXml(cebXml, { trustLists, mode: 'strict' });
      manifest = readManifest(verified.signedXml);
    } catch (err) {
      let unverified: ManifestView;
      try {
        unverified = readManifest(cebXml); // only to echo its keys in the refusal
      } catch (readError) {
        stats.deadLettered++;
        logger.error({ messageId, err: (readError as Error).message }, 'manifest is not a CEB declaration; dropped');
        return;
      }
      await reject(
        unverified,
        signatureFailureStatus(unverified.type),
        `验签失败！${(err as Error).message}`.slice(0, 1000),
      );
      return;
    }
    if (profile.xsdValidation) {
      const errors = xsdDir
        ? (await validateWithXmllint(cebXml, xsdFor(manifest.type, xsdDir))).errors
        : structuralProblems(cebXml);
      if (errors.length > 0) {
        await reject(
          manifest,
          formatFailureStatus(manifest.type),
          `报文格式校验失败：${errors.join('; ')}`.slice(0, 1000),
        );
        return;
      }
    }
    await process(manifest);
  }

  const take = async (intake: Intake): Promise<void> => {
    await track(
      handle(intake).catch((err: unknown) => {
        logger.error({ err: (err as Error).message }, 'manifest handling failed; requeued');
        intake.nack({ requeue: true });
      }),
    );
  };

  const consumeQueue = options.consumeQueue ?? center.transport !== 'https';
  if (consumeQueue) {
    await amqp.consume(
      center.queue,
      async (delivery) => {
        if (stopped) return; // left unsettled: the broker redelivers it to the next consumer
        const messageId = delivery.message.properties.messageId as unknown;
        await take({
          content: delivery.content,
          ...(typeof messageId === 'string' ? { messageId } : {}),
          redelivered: delivery.redelivered,
          ack: () => delivery.ack(),
          nack: (o) => delivery.nack(o),
        });
      },
      { prefetch: options.prefetch ?? 32 },
    );
  }
  const server = options.httpsIntake
    ? await startHttpsIntake(options.httpsIntake, take, () => stopped, logger)
    : undefined;
  logger.info(
    {
      queue: consumeQueue ? center.queue : '(not consumed)',
      profile: typeof options.profile === 'string' ? options.profile : 'custom',
      faults,
    },
    'clearance-center simulator consuming',
  );

  return {
    center: center.code,
    queue: center.queue,
    profile,
    faults,
    ...(server
      ? { httpsUrl: `https://${options.httpsIntake?.host ?? '127.0.0.1'}:${(server.address() as AddressInfo).port}/` }
      : {}),
    stats: () => structuredClone(stats),
    async idle(timeoutMs = 30000) {
      const deadline = Date.now() + timeoutMs;
      while (pending.size > 0) {
        if (Date.now() > deadline) throw new Error(`simulator ${center.code} still busy after ${timeoutMs} ms`);
        await Promise.race([Promise.allSettled([...pending]), sleep(50)]);
      }
    },
    async stop() {
      stopped = true;
      if (server) {
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
      }
      for (const [t, wake] of timers) {
        clearTimeout(t);
        wake();
      }
      timers.clear();
      await Promise.race([Promise.allSettled([...pending]), sleep(2000)]);
      if (ownsClient) await amqp.close();
      else await amqp.cancelConsumers().catch(() => undefined);
      await signer.close();
    },
  };
}

/** HTTPS intake: each POST becomes an Intake whose ack/nack answer the request. */
async function startHttpsIntake(
  config: NonNullable<SimulatorOptions['httpsIntake']>,
  take: (intake: Intake) => Promise<void>,
  isStopped: () => boolean,
  logger: Logger,
): Promise<Server> {
  const maxBytes = config.maxBytes ?? 14 * 1024 * 1024;
  const server = createServer(
    { key: config.key, cert: config.cert, ca: config.clientCa, requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      if (req.method !== 'POST') {
        res.writeHead(405, { allow: 'POST' }).end();
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          res.writeHead(413).end();
          req.destroy();
          return;
        }
        chunks.push(chunk);
      });
      req.on('end', () => {
        if (res.writableEnded) return;
        if (isStopped()) {
          res.writeHead(503).end();
          return;
        }
        let answered = false;
        const answer = (status: number) => {
          if (answered || res.writableEnded) return;
          answered = true;
          res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 202 ? 'accepted' : 'refused');
        };
        const header = req.headers['x-baygate-message-id'];
        void take({
          content: Buffer.concat(chunks),
          ...(typeof header === 'string' && header ? { messageId: header } : {}),
          redelivered: false,
          ack: () => answer(202),
          nack: ({ requeue = true } = {}) => answer(requeue ? 503 : 400),
        });
      });
    },
  );
  server.on('tlsClientError', (err) => logger.warn({ err: err.message }, 'https intake: TLS handshake refused'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host ?? '127.0.0.1', () => resolve());
  });
  logger.info({ port: (server.address() as AddressInfo).port }, 'https intake listening (mutual TLS)');
  return server;
}

/** The root guid of a CEB message, read from its start tag only. */
function rootGuidOf(xml: string): string | undefined {
  const start = /^(?:\uFEFF)?(?:<\?xml[^>]*\?>\s*)?<(?:[A-Za-z_][\w.-]*:)?CEB\d{3}Message(\s[^>]*)?>/.exec(xml);
  return start ? /\sguid\s*=\s*["']([^"']{1,64})["']/.exec(start[1] ?? '')?.[1] : undefined;
}

/** Inventory receipts carry the inventory number once customs has stored the inventory. */
function withInvtNo(status: string): boolean {
  return !['1', '2', '3', '4'].includes(status) && !status.startsWith('-');
}

export interface SimulatorFleet {
  readonly simulators: readonly Simulator[];
  stop(): Promise<void>;
}

/**
 * One simulator per registry center (or per code in `centers`), sharing one RabbitMQ connection — what
 * a local stack runs in-process. Centers with transport "https" are skipped unless listed explicitly
 * (their queue belongs to the HTTPS connector).
 */
export async function startSimulators(
  options: Omit<SimulatorOptions, 'center' | 'amqp'> & { centers?: readonly string[] },
): Promise<SimulatorFleet> {
  const registry = options.registry ?? loadCenterRegistry();
  const codes = options.centers ?? registry.centers.filter((c) => c.transport !== 'https').map((c) => c.code);
  const logger = options.logger ?? createLogger({ name: 'center-simulator' });
  const amqp = new AmqpClient({
    url: options.amqpUrl ?? loadConfig().AMQP_URL,
    logger,
    connectionName: 'baygate-center-simulators',
  });
  await amqp.connect();
  const simulators: Simulator[] = [];
  try {
    for (const code of codes)
      simulators.push(await startSimulator({ ...options, registry, logger, center: code, amqp }));
  } catch (err) {
    await amqp.close();
    throw err;
  }
  return {
    simulators,
    async stop() {
      await amqp.cancelConsumers().catch(() => undefined);
      await Promise.all(simulators.map((s) => s.stop()));
      await amqp.close();
    },
  };
}
