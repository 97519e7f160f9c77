import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { REPO_ROOT } from '../registry';

/**
 * Simulator profiles (config/simulator-profiles.json) and the fault list of `--faults`.
 * A profile may `extends` another one: its keys replace the parent's (one level, whole values).
 */

const rate = z.number().min(0).max(1);
const timelineEntry = z.strictObject({
  status: z.string().regex(/^-?\d{1,9}$/, 'must be a returnStatus code such as "2", "120" or "-621005"'),
  afterMs: z.number().int().min(0),
  info: z.string().min(1).max(1000).optional(),
});
const timeline = z
  .array(timelineEntry)
  .min(1)
  .refine(
    (t) => t.every((e, i) => i === 0 || e.afterMs >= (t[i - 1] as { afterMs: number }).afterMs),
    'afterMs must not decrease',
  );

export const FAULT_NAMES = ['duplicate', 'out-of-order', 'slow-ack', 'no-ack', 'drop-delivery-notice'] as const;
export type FaultName = (typeof FAULT_NAMES)[number];

const profileSchema = z.strictObject({
  description: z.string().optional(),
  timelines: z.strictObject({ inventory: timeline, document: timeline, cancel: timeline }),
  rejection: z.strictObject({
    rate,
    afterMs: z.number().int().min(0),
    reasons: z.array(z.string().min(1).max(900)).min(1),
  }),
  inspection: z.strictObject({ rate, delayMs: z.number().int().min(0) }),
  hold: z.strictObject({ rate, status: z.enum(['501', '502', '503', '599']) }),
  threeDocuments: z.strictObject({ waitMs: z.number().int().min(0), pollMs: z.number().int().positive() }),
  limits: z.strictObject({ singleCny: z.number().positive(), annualCny: z.number().positive() }),
  slowAckMs: z.number().int().min(0),
  xsdValidation: z.boolean(),
  faultDefaults: z.strictObject(
    Object.fromEntries(FAULT_NAMES.map((f) => [f, rate])) as Record<FaultName, typeof rate>,
  ),
});

export type SimulatorProfile = z.output<typeof profileSchema>;
export type TimelineEntry = z.output<typeof timelineEntry>;

const fileSchema = z.strictObject({
  $comment: z.string().optional(),
  profiles: z.record(z.string(), z.record(z.string(), z.unknown())),
});

export const DEFAULT_PROFILES_FILE = join(REPO_ROOT, 'config', 'simulator-profiles.json');

export class SimulatorConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SimulatorConfigError';
  }
}

const pathOf = (segments: readonly PropertyKey[]): string =>
  segments.map((s) => (typeof s === 'number' ? `[${s}]` : `.${String(s)}`)).join('');

function resolveRaw(
  profiles: Record<string, Record<string, unknown>>,
  name: string,
  file: string,
  seen: string[] = [],
): Record<string, unknown> {
  const raw = profiles[name];
  if (!raw)
    throw new SimulatorConfigError(
      `${file}: no simulator profile "${name}" (profiles: ${Object.keys(profiles).join(', ')})`,
    );
  if (seen.includes(name))
    throw new SimulatorConfigError(`${file}: profile "${name}" extends itself (${[...seen, name].join(' → ')})`);
  const { extends: parent, ...own } = raw;
  if (parent === undefined) return own;
  if (typeof parent !== 'string')
    throw new SimulatorConfigError(`${file} at profiles.${name}.extends: must be a profile name`);
  return { ...resolveRaw(profiles, parent, file, [...seen, name]), ...own };
}

/** Loads one profile by name (validated; errors name the file and the JSON path). */
export function loadSimulatorProfile(name: string, file: string = DEFAULT_PROFILES_FILE): SimulatorProfile {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new SimulatorConfigError(`${file}: cannot read simulator profiles (${(err as Error).message})`);
  }
  const parsedFile = fileSchema.safeParse(data);
  if (!parsedFile.success) {
    const issue = parsedFile.error.issues[0];
    throw new SimulatorConfigError(
      `${file} at ${pathOf(issue?.path ?? []).replace(/^\./, '')}: ${issue?.message ?? 'invalid'}`,
    );
  }
  const raw = resolveRaw(parsedFile.data.profiles, name, file);
  const parsed = profileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SimulatorConfigError(
      `${file} at profiles.${name}${pathOf(issue?.path ?? [])}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}

export type FaultRates = Partial<Record<FaultName, number>>;

/**
 * Parses `--faults duplicate,out-of-order=0.5,no-ack:0.1`: a name alone takes the profile's default rate.
 */
export function parseFaults(spec: string | undefined, defaults: Record<FaultName, number>): FaultRates {
  const out: FaultRates = {};
  if (!spec || !spec.trim()) return out;
  for (const part of spec
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^([a-z-]+)(?:[=:]([0-9.]+))?$/.exec(part);
    const name = m?.[1] as FaultName | undefined;
    if (!m || !name || !(FAULT_NAMES as readonly string[]).includes(name)) {
      throw new SimulatorConfigError(
        `unknown fault "${part}" (faults: ${FAULT_NAMES.join(', ')}, each optionally =rate)`,
      );
    }
    const value = m[2] === undefined ? defaults[name] : Number(m[2]);
    if (!Number.isFinite(value) || value < 0 || value > 1)
      throw new SimulatorConfigError(`fault rate for ${name} must be between 0 and 1, got ${m[2]}`);
    out[name] = value;
  }
  return out;
}

/** Small deterministic PRNG (mulberry32) so a seeded run reproduces its rejections and faults. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
