import { ConfigError, loadConfig } from './config';
import { createLogger } from './log';
import { startGateway } from './runtime/gateway';
import { installGracefulShutdown } from './runtime/shutdown';

/** `npm start` / `baygate serve`: the HTTP gateway. */
let config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`baygate: ${err.message}\n`);
    process.exit(78); // EX_CONFIG
  }
  throw err;
}
const logger = createLogger({ level: config.LOG_LEVEL, pretty: config.LOG_PRETTY, name: 'gateway' });
try {
  const gateway = await startGateway(config, logger);
  installGracefulShutdown(logger, gateway.stopSteps, config.SHUTDOWN_TIMEOUT_MS);
} catch (err) {
  logger.fatal({ err: (err as Error).message }, 'gateway failed to start');
  process.exit(1);
}
