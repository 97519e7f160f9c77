import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log';

/** A real pino logger whose lines are kept in memory, so tests can assert on what was (not) logged. */
export function captureLogger(level = 'debug'): { logger: Logger; lines: string[]; text: () => string } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  return { logger: createLogger({ level, destination }), lines, text: () => lines.join('\n') };
}

export function silentLogger(): Logger {
  return createLogger({ level: 'silent' });
}
