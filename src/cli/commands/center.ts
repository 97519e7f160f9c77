import type { Command } from 'commander';
import { CliError } from '../cli-error';

/**
 * `baygate center …`: clearance-center tools.
 *   center list                     the registry (config/centers.json), validated
 *   center simulate --center GD     run a simulated clearance center on its queue
 *   center connect --center HK      push a center's queue to its HTTPS endpoint (mutual TLS)
 * Logic lives in src/centers; this file parses options and waits for Ctrl-C.
 */

async function loadRegistry(file: string | undefined) {
  const { loadConfig } = await import('../../config');
  const { loadCenterRegistry, CenterRegistryError } = await import('../../centers/registry');
  const config = loadConfig();
  try {
    return { config, registry: loadCenterRegistry(file ?? config.CENTERS_FILE, { certsDir: config.CERTS_DIR }) };
  } catch (err) {
    if (err instanceof CenterRegistryError) throw new CliError(err.message, 1);
    throw err;
  }
}

function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const done = (signal: string) => resolve(signal);
    process.once('SIGINT', () => done('SIGINT'));
    process.once('SIGTERM', () => done('SIGTERM'));
  });
}

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0)
      throw new CliError(`--${name} must be a non-negative integer, got "${value}"`, 2);
    return n;
  };
}

export function register(program: Command): void {
  const center = program.command('center').description('clearance centers: registry, simulator, HTTPS connector');

  center
    .command('list')
    .description('print the clearance-center registry (validated)')
    .option('--file <path>', 'registry file (default: CENTERS_FILE or config/centers.json)')
    .option('--json', 'machine-readable output')
    .action(async (opts: { file?: string; json?: boolean }) => {
      const { registry } = await loadRegistry(opts.file);
      if (opts.json) {
        process.stdout.write(JSON.stringify(registry.centers, null, 2) + '\n');
        return;
      }
      for (const c of registry.centers) {
        process.stdout.write(
          `${c.code.padEnd(5)} ${c.transport.padEnd(5)} ${String(c.dailyCapacity).padStart(7)}/day  ${c.districts.join(',')}  ${c.name.zh} (${c.name.en})\n`,
        );
      }
    });

  center
    .command('simulate')
    .description('run a simulated clearance center: consume its queue, verify, check, answer with signed receipts')
    .requiredOption('--center <code>', 'center code from the registry')
    .option('--profile <name>', 'profile in config/simulator-profiles.json (fast, bench, realistic)', 'realistic')
    .option(
      '--faults <list>',
      'faults to inject: duplicate,out-of-order,slow-ack,no-ack,drop-delivery-notice (each optionally =rate)',
    )
    .option('--seed <n>', 'seed for rejections and faults (reproducible runs)', positiveInt('seed'))
    .option('--prefetch <n>', 'manifests in flight', positiveInt('prefetch'))
    .option(
      '--https-port <n>',
      'also accept POSTed manifests over HTTPS with mutual TLS on this port (transport "https" centers)',
      positiveInt('https-port'),
    )
    .option('--tls-key <file>', 'server key (PEM) for --https-port')
    .option('--tls-cert <file>', 'server certificate (PEM) for --https-port')
    .option(
      '--tls-client-ca <file>',
      'CA(s) client certificates must chain to',
      'certs-dev/eport/eport-rsa-ca.chain.pem',
    )
    .option(
      '--persistent-state',
      'keep taken manifests and buyer quotas in MongoDB (MONGO_URL), so a restart neither answers a manifest twice nor forgets a quota',
    )
    .option('--file <path>', 'registry file')
    .action(
      async (opts: {
        center: string;
        profile: string;
        faults?: string;
        seed?: number;
        prefetch?: number;
        persistentState?: boolean;
        file?: string;
        httpsPort?: number;
        tlsKey?: string;
        tlsCert?: string;
        tlsClientCa: string;
      }) => {
        const { config, registry } = await loadRegistry(opts.file);
        if (!registry.find(opts.center))
          throw new CliError(`unknown center "${opts.center}" (known: ${registry.codes().join(', ')})`, 2);
        let httpsIntake: { port: number; key: Buffer; cert: Buffer; clientCa: Buffer } | undefined;
        if (opts.httpsPort !== undefined) {
          if (!opts.tlsKey || !opts.tlsCert) throw new CliError('--https-port needs --tls-key and --tls-cert', 2);
          const { readFileSync } = await import('node:fs');
          const read = (file: string, what: string) => {
            try {
              return readFileSync(file);
            } catch (err) {
              throw new CliError(`cannot read ${what} ${file}: ${(err as Error).message}`, 2);
            }
          };
          httpsIntake = {
            port: opts.httpsPort,
            key: read(opts.tlsKey, '--tls-key'),
            cert: read(opts.tlsCert, '--tls-cert'),
            clientCa: read(opts.tlsClientCa, '--tls-client-ca'),
          };
        }
        const { createLogger } = await import('../../log');
        const { startSimulator } = await import('../../centers/simulator');
        const { MongoManifestDedup, MongoUsageLedger } = await import('../../store/simulator-state');
        const { SimulatorConfigError } = await import('../../centers/simulator/profiles');
        const logger = createLogger({ level: config.LOG_LEVEL, pretty: config.LOG_PRETTY, name: 'center-simulator' });
        let mongo: import('../../store/collections').StoreConnection | undefined;
        if (opts.persistentState) {
          const { connectMongo } = await import('../../store/mongo');
          const { requestRestart } = await import('../../runtime/restart');
          // Its state is persisted per manifest and its queue is acknowledged after the work: exiting is safe.
          mongo = await connectMongo(config.MONGO_URL, logger, {
            onWedged: (reason) => requestRestart(logger, reason),
          });
        }
        let simulator;
        try {
          simulator = await startSimulator({
            center: opts.center,
            registry,
            amqpUrl: config.AMQP_URL,
            logger,
            profile: opts.profile,
            certsDir: config.CERTS_DIR,
            ...(opts.faults ? { faults: opts.faults } : {}),
            ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
            ...(opts.prefetch !== undefined ? { prefetch: opts.prefetch } : {}),
            ...(mongo
              ? {
                  dedup: new MongoManifestDedup(mongo, opts.center),
                  usageLedger: new MongoUsageLedger(mongo, opts.center),
                }
              : {}),
            ...(httpsIntake ? { httpsIntake } : {}),
          });
        } catch (err) {
          await mongo?.close();
          if (err instanceof SimulatorConfigError) throw new CliError(err.message, 2);
          throw err;
        }
        const signal = await untilSignal();
        logger.info({ signal, stats: simulator.stats() }, 'stopping the simulator');
        await simulator.stop();
        await mongo?.close();
      },
    );

  center
    .command('connect')
    .description('push a center queue to the center over HTTPS with mutual TLS (centers with transport "https")')
    .requiredOption('--center <code>', 'center code from the registry')
    .option('--prefetch <n>', 'concurrent POSTs', positiveInt('prefetch'))
    .option('--file <path>', 'registry file')
    .action(async (opts: { center: string; prefetch?: number; file?: string }) => {
      const { config, registry } = await loadRegistry(opts.file);
      const c = registry.find(opts.center);
      if (!c) throw new CliError(`unknown center "${opts.center}" (known: ${registry.codes().join(', ')})`, 2);
      if (c.transport !== 'https' || !c.https)
        throw new CliError(`center ${c.code} uses transport "${c.transport}", not "https": nothing to connect`, 2);
      const { createLogger } = await import('../../log');
      const { startHttpsConnector } = await import('../../centers/https-connector');
      const logger = createLogger({ level: config.LOG_LEVEL, pretty: config.LOG_PRETTY, name: 'center-connector' });
      const connector = await startHttpsConnector({
        center: { code: c.code, queue: c.queue, https: c.https },
        amqpUrl: config.AMQP_URL,
        logger,
        certsDir: config.CERTS_DIR,
        ...(opts.prefetch !== undefined ? { prefetch: opts.prefetch } : {}),
      });
      const signal = await untilSignal();
      logger.info({ signal, stats: connector.stats() }, 'stopping the connector');
      await connector.stop();
    });
}
