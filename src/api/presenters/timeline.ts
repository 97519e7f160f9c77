import { z } from 'zod';
import { statusLabel, statusRank } from '../../domain/status';
import type { DeclarationView, HistoryEntry, ReceiptStore, StoredReceipt } from '../../store/contracts';
import { declarationSummarySchema, historySources, labelSchema, toHistoryEntry } from './declaration';

/**
 * A declaration's timeline: every status step in the state machine's order, each with the receipt behind
 * it (type, verified signer, the customs text of the return that answered this declaration). Built field
 * by field like every API answer.
 */

export interface TimelineReceipt {
  id: string;
  type: string;
  receivedAt: string;
  via: string;
  center?: string;
  signer?: { subject: string; serialHex: string; trustList?: string };
  /** The return of this receipt that answered this declaration. */
  returnStatus?: string;
  returnInfo?: string;
  returnTime?: string;
}

export interface TimelineStep {
  eventId: string;
  status: string;
  label: { zh: string; en: string };
  at: string;
  source: HistoryEntry['source'];
  info?: string;
  signer?: { subject: string; serialHex: string };
  documentKeys?: Record<string, string>;
  receiptId?: string;
  receipt?: TimelineReceipt;
}

function stringField(value: unknown, key: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = (value as Record<string, unknown>)[key];
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}

/** The return of a receipt that matched this declaration (the receipt may answer up to 100 messages). */
function returnFor(receipt: StoredReceipt, declaration: DeclarationView, status: string): unknown {
  const byMatch = receipt.matched.findIndex((m) => m === declaration.id);
  if (byMatch >= 0) return receipt.returns[byMatch];
  const byGuid = receipt.returns.find(
    (r) => declaration.messageGuid && stringField(r, 'guid')?.toUpperCase() === declaration.messageGuid.toUpperCase(),
  );
  return (
    byGuid ??
    (receipt.returns.length === 1
      ? receipt.returns[0]
      : receipt.returns.find((r) => stringField(r, 'status') === status))
  );
}

export function toTimelineReceipt(
  receipt: StoredReceipt,
  declaration: DeclarationView,
  status: string,
): TimelineReceipt {
  const ret = returnFor(receipt, declaration, status);
  const returnStatus = stringField(ret, 'status') ?? stringField(ret, 'returnStatus');
  const returnInfo = stringField(ret, 'returnInfo');
  const returnTime = stringField(ret, 'returnTime');
  return {
    id: receipt.id,
    type: receipt.messageType,
    receivedAt: new Date(receipt.receivedAt).toISOString(),
    via: receipt.via,
    ...(receipt.center ? { center: receipt.center } : {}),
    ...(receipt.signer
      ? {
          signer: {
            subject: receipt.signer.subject,
            serialHex: receipt.signer.serialHex,
            ...(receipt.signer.trustList ? { trustList: receipt.signer.trustList } : {}),
          },
        }
      : {}),
    ...(returnStatus ? { returnStatus } : {}),
    ...(returnInfo ? { returnInfo } : {}),
    ...(returnTime ? { returnTime } : {}),
  };
}

export async function buildTimeline(
  declaration: DeclarationView,
  receipts: Pick<ReceiptStore, 'findById'>,
): Promise<TimelineStep[]> {
  const ids = [
    ...new Set(declaration.history.map((h) => h.receiptId).filter((id): id is string => typeof id === 'string')),
  ];
  const found = new Map<string, StoredReceipt | null>(
    await Promise.all(ids.map(async (id) => [id, await receipts.findById(id)] as const)),
  );
  // Steps in the order of the state machine: receipts are applied concurrently and may be recorded out of
  // order (a late 120 after 800), but a status only ever counts when it ranks higher, so rank order is the
  // declaration's real path. Same rank: by time, then id.
  const rank = (status: string) => {
    try {
      return statusRank(status);
    } catch {
      return Number.MAX_SAFE_INTEGER;
    }
  };
  return [...declaration.history]
    .sort(
      (a, b) =>
        rank(a.status) - rank(b.status) ||
        new Date(a.at).getTime() - new Date(b.at).getTime() ||
        (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0),
    )
    .map((h) => {
      const receipt = h.receiptId ? found.get(h.receiptId) : undefined;
      return {
        ...toHistoryEntry(h),
        label: statusLabel(h.status),
        ...(receipt ? { receipt: toTimelineReceipt(receipt, declaration, h.status) } : {}),
      };
    });
}

const timestamp = z.string().describe('ISO 8601 date-time');

const timelineReceiptSchema = z.object({
  id: z.string(),
  type: z.string().describe('receipt message type (CEB312, CEB622, …)'),
  receivedAt: timestamp,
  via: z.string(),
  center: z.string().optional(),
  signer: z
    .object({ subject: z.string(), serialHex: z.string(), trustList: z.string().optional() })
    .optional()
    .describe('the verified signer of the receipt'),
  returnStatus: z.string().optional(),
  returnInfo: z.string().optional(),
  returnTime: z.string().optional().describe('YYYYMMDDhhmmssSSS, Beijing time, as customs sent it'),
});

export const timelineResponseSchema = z.object({
  declaration: declarationSummarySchema,
  steps: z.array(
    z.object({
      eventId: z.string(),
      status: z.string(),
      label: labelSchema,
      at: timestamp,
      source: z.enum(historySources),
      info: z.string().optional(),
      signer: z.object({ subject: z.string(), serialHex: z.string() }).optional(),
      documentKeys: z.record(z.string(), z.string()).optional(),
      receiptId: z.string().optional(),
      receipt: timelineReceiptSchema.optional(),
    }),
  ),
});
