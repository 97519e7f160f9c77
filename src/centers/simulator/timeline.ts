import type { MessageType } from '../../domain/message-types';
import { RECEIPT_STATUS_TEXT } from '../../xml/receipts/receipt-types';
import type { SimulatorProfile, TimelineEntry } from './profiles';

/**
 * Pure planning of the receipts a center sends for one accepted declaration: which statuses, with which
 * text, at which offset. Random choices (rejection, inspection, hold) come from the `random` function
 * the caller passes, so a seeded run is reproducible and tests can force each branch.
 */

export interface PlannedReceipt {
  status: string;
  info: string;
  afterMs: number;
}

export type TimelineKind = 'inventory' | 'document' | 'cancel';

export function timelineKindOf(type: MessageType): TimelineKind {
  if (type === 'CEB621' || type === 'CEB603') return 'inventory';
  if (type === 'CEB623' || type === 'CEB625') return 'cancel';
  return 'document';
}

const DEFAULT_INFO: Record<string, string> = {
  ...RECEIPT_STATUS_TEXT,
  '2': '电子口岸申报中',
  '120': '海关入库成功',
  '399': '海关审结',
  '800': '放行',
  '899': '结关',
};

function infoOf(entry: TimelineEntry, subject: string): string {
  return entry.info ?? `${DEFAULT_INFO[entry.status] ?? '处理完成'}[${subject}]`;
}

export interface PlanOptions {
  /** What the text names, e.g. the copNo or orderNo. */
  subject: string;
  random: () => number;
}

export function planAcceptedReceipts(
  kind: TimelineKind,
  profile: SimulatorProfile,
  options: PlanOptions,
): PlannedReceipt[] {
  const base = profile.timelines[kind];
  const { random, subject } = options;
  const planned = base.map((e) => ({ status: e.status, info: infoOf(e, subject), afterMs: e.afterMs }));
  // Rejection (海关退单): the first receipt (申报中) still goes out, then 100 with a reason.
  if (random() < profile.rejection.rate) {
    const first = planned[0] as PlannedReceipt;
    const reason = profile.rejection.reasons[Math.floor(random() * profile.rejection.reasons.length)] ?? '海关退单';
    return [
      first,
      {
        status: '100',
        info: `海关退单：${reason}[${subject}]`,
        afterMs: Math.max(first.afterMs, profile.rejection.afterMs),
      },
    ];
  }
  if (kind !== 'inventory') return planned;
  const stored = planned.findIndex((p) => p.status === '120');
  if (stored < 0) return planned;
  const at120 = (planned[stored] as PlannedReceipt).afterMs;
  if (random() < profile.hold.rate) {
    // Held (扣留): the goods leave the normal flow; no release follows.
    return [
      ...planned.slice(0, stored + 1),
      {
        status: profile.hold.status,
        info: `${DEFAULT_INFO[profile.hold.status] ?? '扣留'}[${subject}]`,
        afterMs: at120 + Math.max(1, Math.floor(profile.inspection.delayMs / 2)),
      },
    ];
  }
  if (random() < profile.inspection.rate) {
    // Inspection (查验) between 入库 and 审结: everything after it is pushed back by the inspection delay.
    const delay = profile.inspection.delayMs;
    return [
      ...planned.slice(0, stored + 1),
      { status: '500', info: `查验[${subject}]`, afterMs: at120 + Math.max(1, Math.floor(delay / 2)) },
      ...planned.slice(stored + 1).map((p) => ({ ...p, afterMs: p.afterMs + delay })),
    ];
  }
  return planned;
}

/**
 * Out-of-order delivery: receipts keep their returnTime (generation order) but are sent with each
 * adjacent pair swapped, so at least one later status arrives before an earlier one.
 */
export function swapAdjacent<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = 0; i + 1 < out.length; i += 2) [out[i], out[i + 1]] = [out[i + 1] as T, out[i] as T];
  return out;
}

/** Business error codes customs uses per declaration type. */
export const ERROR_CODES = {
  signature: { CEB621: '-621029', CEB623: '-623029', CEB625: '-625005' } as Partial<Record<MessageType, string>>,
  format: { CEB621: '-621001', CEB623: '-623001', CEB625: '-625001', CEB311: '-301008' } as Partial<
    Record<MessageType, string>
  >,
  singleLimit: '-621005',
  annualLimit: '-621018',
};

/** Status for a refused signature: the type's code, or 100 (退单) for types without one. */
export function signatureFailureStatus(type: MessageType): string {
  return ERROR_CODES.signature[type] ?? '100';
}

export function formatFailureStatus(type: MessageType): string {
  return ERROR_CODES.format[type] ?? '100';
}
