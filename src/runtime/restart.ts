import type { Logger } from 'pino';

/**
 * Exit code asking the process supervisor for a restart (EX_TEMPFAIL, sysexits.h): the process found itself
 * in a state it cannot leave in place — a database client that no longer connects while a new one does
 * (src/store/mongo.ts, watchMongo). Every piece of work is persisted before it is acknowledged and claimed
 * under leases, so a restart loses nothing: another copy, or this one restarted, takes the work over.
 * The supervisor (docker compose `restart: unless-stopped`, systemd `Restart=on-failure`, Kubernetes) does
 * the restart; the chaos harness plays that part in test/chaos.
 */
export const RESTART_EXIT_CODE = 75;

let handler: ((reason: string) => void) | undefined;

/** Installed by runProcess once its graceful shutdown is ready: the restart goes through it. */
export function onRestartRequested(h: (reason: string) => void): void {
  handler = h;
}

/** Stops the process with RESTART_EXIT_CODE, gracefully when a shutdown is installed, at once otherwise. */
export function requestRestart(logger: Logger, reason: string): void {
  logger.fatal(
    { reason, exitCode: RESTART_EXIT_CODE },
    'restart requested: exiting for the supervisor to start this process again',
  );
  if (handler) handler(reason);
  else {
    logger.flush?.();
    process.exit(RESTART_EXIT_CODE);
  }
}
