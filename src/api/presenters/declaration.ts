import { z } from 'zod';
import { maskIdNumber } from '../../domain/masking';
import { MESSAGE_TYPES } from '../../domain/message-types';
import { isTerminal, statusLabel } from '../../domain/status';
import type { DeclarationView, HistoryEntry } from '../../store/contracts';

/**
 * A declaration as the API shows it, in two sizes: the summary (lists, the stream's stats, the timeline's
 * head) and the full resource (GET /v1/declarations/{id}, an order's declarations, a new cancel/return).
 * Both are built field by field from an allow-list — never by spreading a stored document — so nothing
 * reaches a caller because the store's view grew a field. The only personal datum is the buyer's ID
 * number, masked (masked again here, so a clear number stored by mistake still leaves masked).
 */

export const labelSchema = z.object({ zh: z.string(), en: z.string() });
const timestamp = z.string().describe('ISO 8601 date-time');
export const historySources = ['api', 'worker', 'receipt', 'connector', 'sweeper'] as const;

export const declarationSummarySchema = z.object({
  id: z.string(),
  sellerId: z.string(),
  platformCode: z.string(),
  orderNo: z.string(),
  messageType: z.enum(MESSAGE_TYPES),
  direction: z.enum(['import', 'export']),
  tradeMode: z.enum(['9610', '1210']),
  customsCode: z.string(),
  center: z.string(),
  status: z
    .string()
    .describe(
      'gateway step (accepted, signed, queued, delivered, failed) or customs returnStatus (e.g. 120, 899, -621005)',
    ),
  label: labelSchema.describe('status in Chinese (as customs writes it) and English'),
  terminal: z.boolean(),
  messageGuid: z.string().optional(),
  attempts: z.number().int(),
  lastError: z.string().optional(),
  amountCny: z.number(),
  buyerIdMasked: z
    .string()
    .optional()
    .describe('buyer ID number, first and last 4 characters only (4405**********0014)'),
  createdAt: timestamp,
  updatedAt: timestamp,
});

export const historyEntrySchema = z.object({
  eventId: z.string(),
  status: z.string(),
  at: timestamp,
  source: z.enum(historySources),
  receiptId: z.string().optional(),
  signer: z.object({ subject: z.string(), serialHex: z.string() }).optional(),
  info: z.string().optional(),
  documentKeys: z.record(z.string(), z.string()).optional(),
});

export const declarationSchema = declarationSummarySchema.extend({
  digest: z.string().optional().describe('SHA-256 of the signed manifest'),
  requestId: z.string(),
  history: z.array(historyEntrySchema),
});

export type DeclarationSummary = z.infer<typeof declarationSummarySchema>;
export type DeclarationResource = z.infer<typeof declarationSchema>;

export function toSummary(d: DeclarationView): DeclarationSummary {
  return {
    id: d.id,
    sellerId: d.sellerId,
    platformCode: d.platformCode,
    orderNo: d.orderNo,
    messageType: d.messageType,
    direction: d.direction,
    tradeMode: d.tradeMode,
    customsCode: d.customsCode,
    center: d.center,
    status: d.status,
    label: statusLabel(d.status),
    terminal: d.terminal ?? isTerminal(d.status, d.messageType),
    ...(d.messageGuid ? { messageGuid: d.messageGuid } : {}),
    attempts: d.attempts,
    ...(d.lastError ? { lastError: d.lastError } : {}),
    amountCny: d.amountCny,
    ...(d.buyerIdMasked ? { buyerIdMasked: maskIdNumber(d.buyerIdMasked) } : {}),
    createdAt: new Date(d.createdAt).toISOString(),
    updatedAt: new Date(d.updatedAt).toISOString(),
  };
}

export function toHistoryEntry(h: HistoryEntry): z.infer<typeof historyEntrySchema> {
  return {
    eventId: h.eventId,
    status: h.status,
    at: new Date(h.at).toISOString(),
    source: h.source,
    ...(h.receiptId ? { receiptId: h.receiptId } : {}),
    ...(h.signer ? { signer: { subject: h.signer.subject, serialHex: h.signer.serialHex } } : {}),
    ...(h.info ? { info: h.info } : {}),
    ...(h.documentKeys ? { documentKeys: { ...h.documentKeys } } : {}),
  };
}

export function toDeclaration(d: DeclarationView): DeclarationResource {
  return {
    ...toSummary(d),
    ...(d.digest ? { digest: d.digest } : {}),
    requestId: d.requestId,
    history: d.history.map(toHistoryEntry),
  };
}

/** The one example declaration of the OpenAPI document (validated against both schemas by the tests). */
export const exampleDeclaration: DeclarationResource = {
  id: '0b6f3f0e-4c1a-4c7e-9d43-5a3c1f2e9a73',
  sellerId: 'seller-gd',
  platformCode: '4401961A2B',
  orderNo: 'BG20261128GZ000101',
  messageType: 'CEB621',
  direction: 'import',
  tradeMode: '9610',
  customsCode: '5141',
  center: 'GD',
  status: '120',
  label: { zh: '海关入库', en: 'accepted into the customs system' },
  terminal: false,
  messageGuid: 'D3A1C0E2-7F7B-4E59-9B1A-0C4E7A5B2F10',
  attempts: 1,
  amountCny: 1506.49,
  buyerIdMasked: '4401**********0012',
  createdAt: '2026-11-28T02:30:00.000Z',
  updatedAt: '2026-11-28T02:31:10.000Z',
  requestId: 'req-7c1d',
  history: [
    { eventId: '674a1b2c3d4e5f6a7b8c9d01', status: 'accepted', at: '2026-11-28T02:30:00.000Z', source: 'api' },
    { eventId: '674a1b2c3d4e5f6a7b8c9d02', status: 'queued', at: '2026-11-28T02:30:01.000Z', source: 'worker' },
    {
      eventId: '674a1b2c3d4e5f6a7b8c9d03',
      status: '120',
      at: '2026-11-28T02:31:10.000Z',
      source: 'receipt',
      info: '逻辑校验通过',
      documentKeys: { invtNo: '51412026I000000101' },
    },
  ],
};

export const exampleSummary: DeclarationSummary = declarationSummarySchema.parse(exampleDeclaration);
