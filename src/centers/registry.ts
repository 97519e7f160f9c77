import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { defaultCodeTables } from '../domain/reference-data';

/**
 * The clearance-center registry (config/centers.json): which centers exist, which customs districts
 * each serves, how manifests reach it and who signs its receipts. Loaded and validated once at start-up;
 * a bad file stops the process with an error naming the file, the JSON path and the reason.
 */

export const CENTER_TRANSPORTS = ['amqp', 'dxp', 'https'] as const;
export type CenterTransport = (typeof CENTER_TRANSPORTS)[number];

const code = z.string().regex(/^[A-Z][A-Z0-9]{1,9}$/, 'must be 2–10 upper-case letters/digits starting with a letter');
const district = z.string().regex(/^\d{4}$/, 'must be a 4-digit customs district code (关区代码)');
const dxpId = z.string().min(1).max(16, 'DXP ids are at most 16 characters (dxp-terminal schema)');

const centerSchema = z.strictObject({
  code,
  region: z.enum(['GD', 'HK', 'MO']),
  name: z.strictObject({ zh: z.string().min(1), en: z.string().min(1) }),
  districts: z.array(district).min(1, 'a center must serve at least one customs district'),
  queue: z.string().min(1),
  transport: z.enum(CENTER_TRANSPORTS),
  /** DXP envelope ids (transport dxp). */
  dxp: z.strictObject({ senderId: dxpId, receiverId: dxpId }).optional(),
  /** HTTPS push (transport https): the connector POSTs each manifest here with mutual TLS. */
  https: z
    .strictObject({
      url: z.url({ protocol: /^https$/, error: 'must be an https:// URL' }),
      /** certs-dev/index.json id of the client certificate the connector presents. */
      clientIdentity: z.string().min(1),
      /** CA certificate (PEM file, relative to the repository root) the center's server certificate must chain to. */
      caPath: z.string().min(1),
      timeoutMs: z.number().int().positive().default(10000),
    })
    .optional(),
  /** certs-dev/index.json id of the certificate the center signs receipts with. */
  receiptSigner: z.string().min(1),
  /**
   * The RabbitMQ user the center publishes receipts as: RabbitMQ validates a message's user-id against its
   * connection, so a receipt with this user-id comes from this center. Needed over AMQP when the center
   * shares its receipt certificate with another center (docs/decisions/receipt-authority.md).
   */
  receiptsUser: z.string().min(1).optional(),
  /**
   * How manifests sit on the center's queue: "sealed" (default) with the center's payload key
   * (src/centers/payload-seal.ts), or "clear" for a center that consumes AMQP directly and cannot open
   * them — personal data then rests on the broker's disk in clear (docs/decisions/sealed-manifests.md).
   */
  payload: z.enum(['sealed', 'clear']).default('sealed'),
  dailyCapacity: z.number().int().positive(),
  /** Backlog (ready messages) above which the center counts as interrupted. */
  interruptionBacklog: z.number().int().positive(),
});

const fileSchema = z.strictObject({
  $comment: z.string().optional(),
  centers: z.array(centerSchema).min(1, 'at least one clearance center is needed'),
});

export type CenterConfig = z.output<typeof centerSchema>;

export class CenterRegistryError extends Error {
  constructor(
    public readonly file: string,
    public readonly path: string,
    public readonly reason: string,
  ) {
    super(`${file}${path ? ` at ${path}` : ''}: ${reason}`);
    this.name = 'CenterRegistryError';
  }
}

export class UnknownCenterError extends Error {
  constructor(
    public readonly code: string,
    known: readonly string[],
  ) {
    super(`unknown clearance center "${code}" (known: ${known.join(', ')})`);
    this.name = 'UnknownCenterError';
  }
}

export interface CenterRegistry {
  /** The file it was loaded from (or '(inline)'). */
  readonly source: string;
  readonly centers: readonly CenterConfig[];
  codes(): string[];
  get(code: string): CenterConfig;
  find(code: string): CenterConfig | undefined;
  /** Centers serving a customs district, in file order. */
  servingDistrict(customsCode: string): CenterConfig[];
}

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const DEFAULT_CENTERS_FILE = join(REPO_ROOT, 'config', 'centers.json');

export interface RegistryOptions {
  /** Customs district table the codes are checked against; default mappings/codes/customs-districts.json. */
  districts?: Readonly<Record<string, string>>;
  /**
   * certs-dev folder: when given, receiptSigner and https.clientIdentity must be identities in its
   * index.json (receipt signers with role "center"). Default: the repository's certs-dev.
   * Pass null to skip (a deployment whose certificates live elsewhere).
   */
  certsDir?: string | null;
}

const pathOf = (segments: readonly PropertyKey[]): string =>
  segments
    .map((s) => (typeof s === 'number' ? `[${s}]` : `.${String(s)}`))
    .join('')
    .replace(/^\./, '');

interface DevIndex {
  identities: { id: string; role: string }[];
}

function readIndex(certsDir: string, file: string): DevIndex {
  const indexPath = join(certsDir, 'index.json');
  try {
    return JSON.parse(readFileSync(indexPath, 'utf8')) as DevIndex;
  } catch (err) {
    throw new CenterRegistryError(file, '', `cannot read certificate index ${indexPath} (${(err as Error).message})`);
  }
}

/** Validates parsed JSON into a registry. `file` names the source in errors. */
export function buildCenterRegistry(data: unknown, file = '(inline)', options: RegistryOptions = {}): CenterRegistry {
  const parsed = fileSchema.safeParse(data);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const more = parsed.error.issues.length > 1 ? ` (and ${parsed.error.issues.length - 1} more issue(s))` : '';
    throw new CenterRegistryError(file, first ? pathOf(first.path) : '', `${first?.message ?? 'invalid'}${more}`);
  }
  const centers = parsed.data.centers;
  const districts = options.districts ?? defaultCodeTables.customsDistricts;
  const certsDir = options.certsDir === undefined ? join(REPO_ROOT, 'certs-dev') : options.certsDir;
  const index = certsDir ? readIndex(certsDir, file) : undefined;
  const seen = new Map<string, number>();

  centers.forEach((c, i) => {
    const at = (suffix: string) => `centers[${i}].${suffix}`;
    const previous = seen.get(c.code);
    if (previous !== undefined)
      throw new CenterRegistryError(file, at('code'), `duplicate center code "${c.code}" (also centers[${previous}])`);
    seen.set(c.code, i);
    const expectedQueue = `baygate.center.${c.code}`;
    if (c.queue !== expectedQueue) {
      throw new CenterRegistryError(
        file,
        at('queue'),
        `must be "${expectedQueue}" (the manifests exchange routes by center code to that queue), got "${c.queue}"`,
      );
    }
    const seenDistricts = new Set<string>();
    c.districts.forEach((d, j) => {
      if (seenDistricts.has(d))
        throw new CenterRegistryError(file, at(`districts[${j}]`), `district ${d} is listed twice`);
      seenDistricts.add(d);
      if (!(d in districts))
        throw new CenterRegistryError(file, at(`districts[${j}]`), `${d} is not a customs district in the code table`);
    });
    if (c.transport === 'dxp' && !c.dxp)
      throw new CenterRegistryError(file, at('dxp'), 'transport "dxp" needs dxp.senderId and dxp.receiverId');
    if (c.transport === 'https' && !c.https)
      throw new CenterRegistryError(
        file,
        at('https'),
        'transport "https" needs https.url, https.clientIdentity and https.caPath',
      );
    if (index) {
      const signer = index.identities.find((x) => x.id === c.receiptSigner);
      if (!signer)
        throw new CenterRegistryError(
          file,
          at('receiptSigner'),
          `"${c.receiptSigner}" is not an identity in ${join(certsDir as string, 'index.json')}`,
        );
      if (signer.role !== 'center')
        throw new CenterRegistryError(
          file,
          at('receiptSigner'),
          `"${c.receiptSigner}" has role "${signer.role}"; receipts are signed with a center certificate`,
        );
      if (c.https && !index.identities.some((x) => x.id === c.https?.clientIdentity)) {
        throw new CenterRegistryError(
          file,
          at('https.clientIdentity'),
          `"${c.https.clientIdentity}" is not an identity in ${join(certsDir as string, 'index.json')}`,
        );
      }
    }
  });

  const byCode = new Map(centers.map((c) => [c.code, c]));
  return {
    source: file,
    centers,
    codes: () => centers.map((c) => c.code),
    find: (c) => byCode.get(c),
    get: (c) => {
      const hit = byCode.get(c);
      if (!hit) throw new UnknownCenterError(c, [...byCode.keys()]);
      return hit;
    },
    servingDistrict: (customsCode) => centers.filter((c) => c.districts.includes(customsCode)),
  };
}

/** Reads and validates config/centers.json (or `file`). */
export function loadCenterRegistry(file: string = DEFAULT_CENTERS_FILE, options: RegistryOptions = {}): CenterRegistry {
  const path = resolve(REPO_ROOT, file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CenterRegistryError(path, '', `cannot read the center registry (${(err as Error).message})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new CenterRegistryError(path, '', `not valid JSON (${(err as Error).message})`);
  }
  return buildCenterRegistry(data, path, options);
}
