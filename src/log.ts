import { pino, type Logger } from 'pino';

/**
 * Paths pino replaces with "[redacted]". Personal data of buyers, payers and consignees must never reach
 * a log line; listing the field names here means a careless `log.info({ order })` is still safe.
 */
export const redactedPaths = [
  'buyerIdNumber',
  'buyerName',
  'buyerTelephone',
  'consignee',
  'consigneeTelephone',
  'consigneeAddress',
  'payerIdNumber',
  'payerName',
  'telephone',
  'idNumber',
  'address',
  'phone',
  '*.buyerIdNumber',
  '*.buyerName',
  '*.buyerTelephone',
  '*.consignee',
  '*.consigneeTelephone',
  '*.consigneeAddress',
  '*.payerIdNumber',
  '*.payerName',
  '*.telephone',
  '*.idNumber',
  '*.address',
  '*.phone',
  '*.*.idNumber',
  '*.*.phone',
  '*.*.telephone',
  '*.*.address',
  '*.*.buyerIdNumber',
  '*.*.consigneeAddress',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers["x-api-key"]',
  'password',
  'passwd',
  '*.password',
  'apiKey',
  '*.apiKey',
];

export function createLogger(
  options: { level?: string; pretty?: boolean; name?: string; destination?: NodeJS.WritableStream } = {},
): Logger {
  const pinoOptions = {
    name: options.name ?? 'baygate',
    level: options.level ?? 'info',
    redact: { paths: redactedPaths, censor: '[redacted]' },
    base: { pid: process.pid },
    ...(options.pretty && !options.destination ? { transport: { target: 'pino-pretty' } } : {}),
  };
  return options.destination ? pino(pinoOptions, options.destination) : pino(pinoOptions);
}

export type { Logger };
