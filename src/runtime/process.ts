import { ConfigError, loadConfig, type Config } from '../config';
import { createLogger, type Logger } from '../log';
import { onRestartRequested, RESTART_EXIT_CODE } from './restart';
import { installGracefulShutdown, type ShutdownStep } from './shutdown';

/**
 * Runs one long-lived Baygate process: validated configuration (exit 78 naming the bad variable),
 * a logger, the start function, and graceful shutdown on SIGTERM/SIGINT — or when the process asks to be
 * restarted (exit 75, src/runtime/restart.ts).
 */
export async function runProcess(
  name: string,
  start: (config: Config, logger: Logger) => Promise<ShutdownStep[]>,
): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`baygate ${name}: ${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
  const logger = createLogger({ level: config.LOG_LEVEL, pretty: config.LOG_PRETTY, name });
  try {
    const steps = await start(config, logger);
    const { shutdown } = installGracefulShutdown(logger, steps, config.SHUTDOWN_TIMEOUT_MS);
    onRestartRequested((reason) => void shutdown(`restart requested: ${reason}`, RESTART_EXIT_CODE));
  } catch (err) {
    logger.fatal({ err: (err as Error).message }, `${name} failed to start`);
    process.exit(1);
  }
}
