import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import type { Connection } from 'mongoose';
import { AccountStore, seedAccounts } from '../../../src/api/auth';
import { WebhookRegistry } from '../../../src/pipeline/webhooks';
import { identityFiles } from '../../../src/centers/identities';
import { buildReceipt } from '../../../src/centers/simulator/receipt-builder';
import { loadConfig, type Config } from '../../../src/config';
import type { BaygateOrder } from '../../../src/domain/order';
import { gb11643CheckChar } from '../../../src/domain/rules/gb11643';
import { readManifest } from '../../../src/centers/simulator/manifest';
import { startGateway, type Gateway } from '../../../src/runtime/gateway';
import { startWorker, type Worker } from '../../../src/runtime/worker';
import { SoftwareXmlSigner } from '../../../src/signing/signers/software';
import { loadTrustLists } from '../../../src/signing/trust';
import { trustListCheck } from '../../../src/signing/trust-check';
import { call, type Reply } from '../../api/harness';
import { silentLogger } from '../../support/logger';
import { purgeBaygateQueues } from '../../support/pipeline';
import { waitFor } from '../../support/rabbitmq';
import { generateValidOrder } from '../../support/order-generator';
import { AMQP_URL, dropDatabase, mongoUrlFor, requireMongo, requireRabbitMQ } from '../../support/services';

/**
 * The attack suite's target: the real gateway (src/runtime/gateway.ts, every router as production wires
 * them) on the real MongoDB-wire server and RabbitMQ, with a database of its own and the development
 * accounts of config/accounts.dev.json — the tenants an attacker had:
 *   seller-gd (companies 4401960E01, 4403960E02) and seller-hk (HK3496A101) share platform 4401961A2B;
 *   seller-mo; broker-gba serves all three, broker-hk only seller-hk; centers GD, GD2 (same receipt
 *   signer as GD), HK, MO; the operator "ops".
 */
export const DEV_KEYS = {
  sellerGd: 'bgk_dev_seller_gd.dev-only-seller-gd-not-a-secret',
  sellerHk: 'bgk_dev_seller_hk.dev-only-seller-hk-not-a-secret',
  sellerMo: 'bgk_dev_seller_mo.dev-only-seller-mo-not-a-secret',
  brokerGba: 'bgk_dev_broker_gba.dev-only-broker-gba-not-a-secret',
  brokerHk: 'bgk_dev_broker_hk.dev-only-broker-hk-not-a-secret',
  centerGd: 'bgk_dev_center_gd.dev-only-center-gd-not-a-secret',
  centerGd2: 'bgk_dev_center_gd2.dev-only-center-gd2-not-a-secret',
  centerHk: 'bgk_dev_center_hk.dev-only-center-hk-not-a-secret',
  centerMo: 'bgk_dev_center_mo.dev-only-center-mo-not-a-secret',
  admin: 'bgk_dev_admin.dev-only-admin-not-a-secret',
} as const;

export type Caller = keyof typeof DEV_KEYS | 'anonymous';

export function headersOf(caller: Caller): Record<string, string> {
  return caller === 'anonymous' ? {} : { Authorization: `Bearer ${DEV_KEYS[caller]}` };
}

export interface SecuritySystem {
  base: string;
  config: Config;
  gateway: Gateway;
  mongo: Connection;
  /** The gateway's own accounts and webhooks (over its repositories), for set-up and "nothing changed" checks. */
  accounts: AccountStore;
  webhooks: WebhookRegistry;
  /** One HTTP call as `caller`. */
  as(
    caller: Caller,
    method: string,
    path: string,
    options?: { json?: unknown; body?: string | Buffer; type?: string; headers?: Record<string, string> },
  ): Promise<Reply>;
  /** Documents of a collection (optionally filtered): "nothing was stored" checks. */
  count(collection: string, filter?: Record<string, unknown>): Promise<number>;
  close(): Promise<void>;
}

export async function startSecuritySystem(name: string, env: Record<string, string> = {}): Promise<SecuritySystem> {
  await requireMongo();
  await requireRabbitMQ();
  const url = mongoUrlFor(`security_${name}`);
  await dropDatabase(url);
  const config = loadConfig({
    MONGO_URL: url,
    AMQP_URL,
    PORT: '0',
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    PII_KEYS: `sec1:${Buffer.alloc(32, 5).toString('base64')}`,
    PII_HASH_KEY: Buffer.alloc(32, 6).toString('base64'),
    ...env,
  });
  const gateway = await startGateway(config, silentLogger());
  const accounts = new AccountStore(gateway.core.repositories.accounts);
  await seedAccounts(accounts, resolve('config/accounts.dev.json'));
  const base = `http://127.0.0.1:${gateway.port}`;
  return {
    base,
    config,
    gateway,
    mongo: gateway.mongo,
    accounts,
    webhooks: new WebhookRegistry({
      subscriptions: gateway.core.repositories.webhookSubscriptions,
      deliveries: gateway.core.repositories.webhookDeliveries,
    }),
    as: (caller, method, path, options = {}) =>
      call(base, method, path, { ...options, headers: { ...headersOf(caller), ...(options.headers ?? {}) } }),
    count: (collection, filter = {}) => gateway.mongo.db!.collection(collection).countDocuments(filter),
    close: () => gateway.stop(),
  };
}

let seed = 31_000;

/** A valid import order of a development seller's company ('GD' → 4401960E01, 'HK' → HK3496A101). */
export function orderOf(
  region: 'GD' | 'HK' | 'MO',
  overrides: { orderNo?: string; buyerIdNumber?: string; direction?: 'import' | 'export' } = {},
): BaygateOrder & Record<string, unknown> {
  const order = generateValidOrder(seed++, {
    direction: overrides.direction ?? 'import',
    tradeMode: '9610',
    sellerRegion: region,
  });
  let text = JSON.stringify(order);
  // The buyer's ID number appears as buyer and as payer: replaced everywhere, like a real second buyer.
  if (overrides.buyerIdNumber && order.direction === 'import')
    text = text.split(order.buyerIdNumber).join(overrides.buyerIdNumber);
  if (overrides.orderNo) text = text.split(`"${order.orderNo}"`).join(`"${overrides.orderNo}"`);
  return JSON.parse(text) as BaygateOrder & Record<string, unknown>;
}

let buyers = 0;

/** A valid mainland ID number (GB 11643 check character) no other order of this test file uses. */
export function freshBuyerId(): string {
  const body = `44010619900101${100 + (buyers++ % 900)}`;
  return body + gb11643CheckChar(body);
}

/** The outcomes of a POST /v1/orders answer. */
export interface OrderOutcomeBody {
  index: number;
  orderNo?: string;
  outcome: 'accepted' | 'duplicate' | 'rejected';
  declarations?: { id: string; messageType: string; center: string; status: string }[];
  errors?: { path: string; code: string; message: string }[];
}

export function outcomes(reply: Reply): OrderOutcomeBody[] {
  return ((reply.body.orders as OrderOutcomeBody[] | undefined) ?? []).slice();
}

/** A software signer for a certs-dev identity (center-gd, center-hk, seller-gd …). */
export async function signerFor(identity: string): Promise<SoftwareXmlSigner> {
  const files = identityFiles(identity);
  return SoftwareXmlSigner.fromFiles(
    { keyPath: files.keyPath, certPath: files.certPath },
    { trust: trustListCheck(loadTrustLists(resolve('certs-dev/trust-lists'))) },
  );
}

/**
 * A signed receipt answering one declaration of `order`: CEB312 for the order (CEB311), CEB622 for the
 * inventory (CEB621), matched by order number and platform as centers answer.
 */
export async function receiptFor(
  order: { orderNo: string; ebpCode: string; ebcCode: string; copNo?: string },
  answers: 'CEB311' | 'CEB621',
  status: string,
  signer: SoftwareXmlSigner,
  info = '测试回执',
): Promise<string> {
  const manifest = {
    type: answers,
    guid: randomUUID().toUpperCase(),
    headGuid: randomUUID().toUpperCase(),
    head: {
      orderNo: order.orderNo,
      ebpCode: order.ebpCode,
      ebcCode: order.ebcCode,
      copNo: order.copNo ?? order.orderNo,
    },
    lines: [],
  };
  const built = buildReceipt(manifest, [{ status, info, at: new Date() }]);
  return signer.sign(built.xml);
}

/**
 * A dispatch worker on the system's database and broker (signs and publishes what the gateway stored,
 * consumes receipts); the center queues it fills are purged before and after.
 */
export async function startSecurityWorker(s: SecuritySystem): Promise<Worker & { purge(): Promise<void> }> {
  const purge = () => purgeBaygateQueues(s.gateway.core.registry.codes());
  await purge();
  const worker = await startWorker(s.config, silentLogger(), { monitorCenters: false, webhooks: false });
  await worker.core.amqp.waitUntilReady(10000);
  return Object.assign(worker, { purge });
}

/** Waits until the worker has signed and sent the declaration; returns its message guid. */
export async function sentGuid(s: SecuritySystem, declarationId: string): Promise<string> {
  let guid: string | undefined;
  await waitFor(
    async () => {
      const view = await s.gateway.core.stores.declarations.findById(declarationId);
      guid = view && view.status !== 'accepted' && view.status !== 'signed' ? view.messageGuid : undefined;
      return guid !== undefined;
    },
    20000,
    `declaration ${declarationId} sent`,
  );
  return guid!;
}

/** A receipt answering exactly the manifest the worker sent for this declaration, as its center would. */
export async function receiptForSent(
  s: SecuritySystem,
  declarationId: string,
  status: string,
  signer: SoftwareXmlSigner,
): Promise<string> {
  await sentGuid(s, declarationId);
  const xml = await s.gateway.core.stores.declarations.manifestXml(declarationId);
  if (!xml) throw new Error(`no manifest for ${declarationId}`);
  const built = buildReceipt(readManifest(xml), [{ status, info: `测试回执 ${status}`, at: new Date() }]);
  return signer.sign(built.xml);
}
