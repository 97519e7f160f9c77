import type { Logger } from 'pino';

export type ShutdownStep = { name: string; run: () => Promise<void> };

/**
 * Runs the shutdown steps in order on SIGTERM/SIGINT (stop accepting, drain, close RabbitMQ, then MongoDB),
 * bounded by a timeout after which the process exits anyway. A second signal exits at once.
 */
export function installGracefulShutdown(
  logger: Logger,
  steps: ShutdownStep[],
  timeoutMs: number,
): { shutdown: (reason: string, exitCode?: number) => Promise<void> } {
  let shuttingDown = false;
  /** `exitCode` set: the process stops on its own (e.g. asking for a restart) and exits with that code whatever happens. */
  const shutdown = async (reason: string, exitCode?: number) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ reason, timeoutMs }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown timed out; exiting');
      process.exit(exitCode ?? 1);
    }, timeoutMs);
    timer.unref();
    let failed = false;
    for (const step of steps) {
      try {
        await step.run();
        logger.info({ step: step.name }, 'shutdown step done');
      } catch (err) {
        failed = true;
        logger.error({ step: step.name, err: (err as Error).message }, 'shutdown step failed');
      }
    }
    clearTimeout(timer);
    logger.info('shutdown complete');
    logger.flush?.();
    process.exit(exitCode ?? (failed ? 1 : 0));
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (shuttingDown) {
        logger.warn({ signal }, 'second signal: exiting now');
        process.exit(1);
      }
      void shutdown(signal);
    });
  }
  return { shutdown };
}
