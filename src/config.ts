import { z } from 'zod';

/**
 * Runtime configuration, read once from the environment and validated before anything starts.
 * Defaults point at loopback services so a developer machine needs no settings at all.
 */
const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const port = z.coerce.number().int().min(0).max(65535);

const base64Key32 = z
  .string()
  .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes encoded as Base64');

export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: port.default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  /**
   * The gateway runs behind a load balancer or proxy that sets X-Forwarded-For: client addresses (for the
   * failed-authentication throttle) are then read from it. Never set it when clients reach the gateway
   * directly: they could forge their address.
   */
  TRUST_PROXY: booleanFlag.default(false),
  MONGO_URL: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// or mongodb+srv:// URL')
    .default('mongodb://127.0.0.1:27017/baygate'),
  AMQP_URL: z
    .string()
    .regex(/^amqps?:\/\//, 'must be an amqp:// or amqps:// URL')
    .default('amqp://guest:guest@127.0.0.1:5672'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_PRETTY: booleanFlag.default(false),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(10000),
  /** AES-256-GCM keys for personal data at rest: "id:base64key" pairs, comma separated, newest first. */
  PII_KEYS: z
    .string()
    .regex(
      /^[A-Za-z0-9_-]+:[A-Za-z0-9+/=]+(,[A-Za-z0-9_-]+:[A-Za-z0-9+/=]+)*$/,
      'must be "keyId:base64Key[,keyId:base64Key…]"',
    )
    .refine(
      (v) => v.split(',').every((pair) => base64Key32.safeParse(pair.split(':')[1]).success),
      'every key must be 32 bytes (AES-256) in Base64',
    )
    // Development-only key, clearly not a secret: production must set its own.
    .default('dev1:YmF5Z2F0ZS1kZXZlbG9wbWVudC1vbmx5LXBpaS1rZXk='),
  /** HMAC key for the keyed hashes that let us look personal data up without storing it in clear. */
  PII_HASH_KEY: base64Key32.default('YmF5Z2F0ZS1kZXYtb25seS1ibGluZC1pbmRleC1rZXk='),
  /** CNY per 1 HKD and per 1 MOP, used by source-format mappings that carry foreign prices. */
  FX_HKD_CNY: z.coerce.number().positive().default(0.92),
  FX_MOP_CNY: z.coerce.number().positive().default(0.89),
  CERTS_DIR: z.string().min(1).default('certs-dev'),
  /** Trust lists (GD, HK, MO, E-port, receipt signers). */
  TRUST_DIR: z.string().min(1).default('certs-dev/trust-lists'),
  /** Signing identity: an id from $CERTS_DIR/index.json, used unless SIGNER_KEY_FILE is set. */
  SIGNER_IDENTITY: z.string().min(1).default('operator-rsa'),
  /** Key file (PEM or PKCS#12) and certificate for signing manifests, instead of SIGNER_IDENTITY. */
  SIGNER_KEY_FILE: z.string().min(1).optional(),
  SIGNER_CERT_FILE: z.string().min(1).optional(),
  SIGNER_PASSWORD: z.string().optional(),
  /** Signature algorithm; default by key: rsa-sha1 (the spec) for RSA, sm2-sm3 (chinaport 2022 URIs) for SM2. */
  SIGNER_ALGORITHM: z.enum(['rsa-sha1', 'rsa-sha256', 'sm2-sm3', 'sm2-sm3-w3c']).optional(),
  /** BaseTransfer of every message: our E-port registration (development values by default). */
  SENDER_COP_CODE: z.string().min(1).max(18).default('4403960ABC'),
  SENDER_COP_NAME: z.string().min(1).max(100).default('湾关通跨境电商服务（深圳）有限公司'),
  SENDER_DXP_ID: z.string().min(1).max(30).default('DXPENT0000458712'),
  /**
   * Dispatch worker tuning. A claim cycle costs about a dozen database round trips whatever its size
   * (the work-item and lease reads scan their collections on FerretDB 1.x), so bigger batches move more
   * per round trip: bench/pipeline.ts measured 3× more declarations queued with 256 than with 64 under
   * the same load; 256 RSA signatures take well under a second, far inside the 30 s lease.
   */
  WORKER_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(256),
  WORKER_LEASE_MS: z.coerce.number().int().min(1000).default(30000),
  WORKER_POLL_MS: z.coerce.number().int().min(5).default(100),
  WORKER_MAX_ATTEMPTS: z.coerce.number().int().min(1).default(8),
  /** Port of the worker's own /metrics and /healthz (workers serve no API); unset = not served. */
  METRICS_PORT: port.optional(),
  CENTERS_FILE: z.string().min(1).default('config/centers.json'),
  /**
   * Keys sealing each center's manifests on the broker: "CODE:keyId:base64(32 bytes)", comma separated,
   * newest first per center. Centers without one get a development key (refused in production).
   */
  CENTER_PAYLOAD_KEYS: z
    .string()
    .regex(
      /^[A-Z][A-Z0-9]{1,9}:[A-Za-z0-9_-]+:[A-Za-z0-9+/=]+(,[A-Z][A-Z0-9]{1,9}:[A-Za-z0-9_-]+:[A-Za-z0-9+/=]+)*$/,
      'must be "CODE:keyId:base64Key[,CODE:keyId:base64Key…]"',
    )
    .refine(
      (v) => v.split(',').every((entry) => base64Key32.safeParse(entry.split(':')[2]).success),
      'every key must be 32 bytes (AES-256) in Base64',
    )
    .optional(),
  /**
   * Development only (refused in production): webhook targets allowed although not public, as "host" or
   * "host:port", comma separated (e.g. "127.0.0.1:9090,hooks.test"); they may also be plain http.
   */
  WEBHOOK_ALLOWED_TARGETS: z
    .string()
    .regex(/^[^\s,]+(,[^\s,]+)*$/, 'must be "host" or "host:port" entries, comma separated')
    .optional(),
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  constructor(public readonly problems: { variable: string; message: string }[]) {
    super('Invalid configuration:\n' + problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n'));
    this.name = 'ConfigError';
  }
}

/** Reads and validates the configuration; throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const known = Object.keys(configSchema.shape);
  const input: Record<string, string> = {};
  for (const key of known) {
    const value = env[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  const parsed = configSchema.safeParse(input);
  if (parsed.success && parsed.data.NODE_ENV === 'production' && parsed.data.WEBHOOK_ALLOWED_TARGETS)
    throw new ConfigError([
      {
        variable: 'WEBHOOK_ALLOWED_TARGETS',
        message: 'is a development allow-list; in production webhooks go to public https targets only',
      },
    ]);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => ({
        variable: String(issue.path[0] ?? '?'),
        message: issue.message,
      })),
    );
  }
  return parsed.data;
}
