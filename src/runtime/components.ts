import type { Connection } from 'mongoose';
import type { Logger } from 'pino';
import { MongoCapacityLedger } from '../centers/capacity-store';
import { MongoCenterStateStore } from '../centers/health';
import { loadCenterRegistry, type CenterRegistry } from '../centers/registry';
import { RoutingView } from '../centers/routing';
import type { Config } from '../config';
import type { BaygateOrder } from '../domain/order';
import type { DeclarationSubject } from '../store/contracts';
import { loadSourceMappings, paramsFromConfig } from '../mapping/source-mapper';
import { NoCenterError, Submission, type SubmissionDeps } from '../pipeline/submission';
import { AmqpClient } from '../queue/amqp';
import { topologyFor } from '../queue/topology';
import type { TrustLists } from '../signing/trust';
import { createStores, type Stores } from '../store';
import { connectMongo } from '../store/mongo';
import { requestRestart } from './restart';
import { loadTrust, normaliseSerial } from './signing';
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
  mongo: Connection;
  amqp: AmqpClient;
  stores: Stores;
  registry: CenterRegistry;
  trustLists: TrustLists;
  centerStates: MongoCenterStateStore;
  capacity: MongoCapacityLedger;
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
    registry,
    trustLists,
    centerStates: new MongoCenterStateStore(mongo),
    capacity: new MongoCapacityLedger(mongo),
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

/**
 * A receipt may only move declarations routed to the center that signed it: the center's configured
 * receiptSigner identity must be the certificate that signed the receipt (compared by serial).
 */
export function receiptAuthority(
  core: Core,
): (declaration: DeclarationSubject, signer: { serialHex: string }) => boolean {
  const serialOf = new Map(core.trustLists.receiptSigners.map((s) => [s.id, normaliseSerial(s.cert.serialHex)]));
  return (declaration, signer) => {
    const center = core.registry.find(declaration.center);
    if (!center) return false;
    return serialOf.get(center.receiptSigner) === normaliseSerial(signer.serialHex);
  };
}
