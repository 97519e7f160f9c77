import type { Logger } from 'pino';
import { CoalescingCapacityLedger } from '../centers/capacity-ledger';
import { loadCenterRegistry, type CenterRegistry } from '../centers/registry';
import { RoutingView } from '../centers/routing';
import type { Config } from '../config';
import type { BaygateOrder } from '../domain/order';
import { loadSourceMappings, paramsFromConfig } from '../mapping/source-mapper';
import { AnnualLimit } from '../pipeline/annual-limit';
import { ReceiptIngestor, type ReceiptIngestorOptions } from '../pipeline/receipts';
import { NoCenterError, Submission, type SubmissionDeps } from '../pipeline/submission';
import { AmqpClient } from '../queue/amqp';
import { topologyFor } from '../queue/topology';
import type { TrustLists } from '../signing/trust';
import { createStores, type Stores } from '../store';
import type { CenterStateRepository } from '../store/center-states';
import type { StoreConnection } from '../store/collections';
import { createRepositories, type Repositories } from '../store/repositories';
import { connectMongo } from '../store/mongo';
import { requestRestart } from './restart';
import { createReceiptVerifier, loadTrust, normaliseSerial } from './signing';
import { resolve } from 'node:path';
import { NoCenterForDistrictError } from '../centers/routing';

/**
 * What every Baygate process (gateway, worker, simulator) starts from: validated configuration and data
 * files, a MongoDB connection with its stores, and a recovering RabbitMQ connection with the topology.
 * Data files (centers, source mappings, trust lists) are validated here, at start-up, so a bad file stops
 * the process with a message naming the file instead of failing the first request.
 */
export interface Core {
  config: Config;
  logger: Logger;
  mongo: StoreConnection;
  amqp: AmqpClient;
  stores: Stores;
  repositories: Repositories;
  registry: CenterRegistry;
  trustLists: TrustLists;
  centerStates: CenterStateRepository;
  capacity: CoalescingCapacityLedger;
  close(): Promise<void>;
}

export async function startCore(
  config: Config,
  logger: Logger,
  name: string,
  options: { waitForBroker?: boolean } = {},
): Promise<Core> {
  const registry = loadCenterRegistry(resolve(config.CENTERS_FILE));
  const trustLists = loadTrust(config);
  const mongo = await connectMongo(config.MONGO_URL, logger, { onWedged: (reason) => requestRestart(logger, reason) });
  const stores = createStores(mongo, config);
  await stores.init();
  const repositories = createRepositories(mongo);
  await repositories.init();
  const amqp = new AmqpClient({
    url: config.AMQP_URL,
    logger,
    connectionName: `baygate-${name}`,
    waitForConnect: options.waitForBroker ?? false,
  });
  await amqp.addTopology(topologyFor(registry.codes()));
  await amqp.connect();
  return {
    config,
    logger,
    mongo,
    amqp,
    stores,
    repositories,
    registry,
    trustLists,
    centerStates: repositories.centerStates,
    capacity: new CoalescingCapacityLedger(repositories.capacity),
    close: async () => {
      await amqp.close();
      await mongo.close();
    },
  };
}

/** The submission use case wired to the stores and the center routing. */
/** What the submission use case needs: a Core, or a test harness with just the stores and the registry. */
export type SubmissionCore = Pick<Core, 'config' | 'logger' | 'stores' | 'registry' | 'capacity' | 'centerStates'>;

export function createSubmission(
  core: SubmissionCore,
  onAccepted?: (count: number) => void,
  onClash?: SubmissionDeps['onClash'],
): Submission {
  // One view per submission service: usage and center states read once a second, not twice per order.
  const routing = new RoutingView(core.registry.centers, core.capacity, core.centerStates);
  return new Submission({
    declarations: core.stores.declarations,
    annualUsage: core.stores.annualUsage,
    orderNumbers: core.stores.orderNumbers,
    route: async (order: BaygateOrder) => {
      try {
        const decision = await routing.route(order.customsCode, { count: order.direction === 'import' ? 4 : 3 });
        return decision.center;
      } catch (err) {
        if (err instanceof NoCenterForDistrictError) throw new NoCenterError(order.customsCode);
        throw err;
      }
    },
    sourceMappings: loadSourceMappings(resolve('mappings/sources')),
    sourceParams: paramsFromConfig(core.config),
    logger: core.logger,
    onAccepted,
    onClash,
  });
}

/** What receipt ingestion needs: a Core, or a test harness with the stores, the registry and the trust lists. */
export type ReceiptCore = Pick<Core, 'config' | 'logger' | 'stores' | 'registry' | 'trustLists'>;

/**
 * Receipt ingestion as every process wires it (gateway for POST /v1/receipts, worker for the receipts
 * queue): strict verification against the centers' trust list, each receipt bound to its center
 * (src/pipeline/receipt-authority.ts), the annual allowance given back when customs refuses an inventory.
 */
export function createReceiptIngestor(core: ReceiptCore, hooks: Pick<ReceiptIngestorOptions, 'onApplied'> = {}) {
  return new ReceiptIngestor({
    declarations: core.stores.declarations,
    receipts: core.stores.receipts,
    verify: createReceiptVerifier(core.trustLists),
    centersSignedBy: receiptSignerCenters(core),
    trustClaimedCenter: core.config.NODE_ENV !== 'production',
    annualLimit: new AnnualLimit(core.stores.annualUsage, core.stores.declarations),
    logger: core.logger.child({ component: 'receipts' }),
    ...hooks,
  });
}

/** The centers whose configured receiptSigner identity is this certificate (compared by serial). */
export function receiptSignerCenters(
  core: Pick<Core, 'registry' | 'trustLists'>,
): (signer: { serialHex: string }) => readonly string[] {
  const serialOf = new Map(core.trustLists.receiptSigners.map((s) => [s.id, normaliseSerial(s.cert.serialHex)]));
  return (signer) =>
    core.registry.centers
      .filter((c) => serialOf.get(c.receiptSigner) === normaliseSerial(signer.serialHex))
      .map((c) => c.code);
}
