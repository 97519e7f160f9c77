import Router from '@koa/router';
import { z } from 'zod';
import type { IngestResult, ReceiptIngestor } from '../../pipeline/receipts';
import type { AuthDeps } from '../auth';
import { answeringCenter } from '../auth/policy';
import { body, bodyOf } from '../middleware/body';
import { principalOf, type RequestState } from '../state';
import { registerRoute } from '../openapi';

/**
 * POST /v1/receipts: a clearance center posts one signed CEB receipt (the HTTP alternative to the
 * RabbitMQ receipts queue; both go through ReceiptIngestor). Verification is strict against the centers'
 * trust list, and only the signed bytes are read.
 *
 * 202 = a new receipt was stored and applied (the declarations moved now; webhooks follow asynchronously).
 * 200 = the very same receipt was already received: a no-op, safe for a center's retry.
 * 422 = rejected (bad signature, untrusted signer, unreadable): `code` says why, nothing is stored.
 */
export const MAX_RECEIPT_BYTES = 1024 * 1024;

export interface ReceiptsRoutesDeps {
  ingestor: Pick<ReceiptIngestor, 'ingest'>;
  auth: AuthDeps;
  maxBytes?: number;
}

export const receiptResultSchema = z.object({
  receiptId: z.string(),
  receiptType: z.string().describe('CEB312, CEB622, CEB816, …'),
  duplicate: z.boolean().describe('this exact receipt was received before (nothing changed)'),
  unknown: z.boolean().describe('no return matched a declaration (kept and reported to brokers)'),
  returns: z.array(
    z.object({
      guid: z.string(),
      status: z.string().describe('customs return status code'),
      declarationId: z.string().nullable(),
      outcome: z
        .enum(['applied', 'duplicate', 'unknown'])
        .describe(
          'applied = moved the declaration; duplicate = already at this or a later status; unknown = no such declaration or unknown status',
        ),
      reason: z.string().optional(),
    }),
  ),
});

export function presentReceipt(result: IngestResult): z.infer<typeof receiptResultSchema> {
  return {
    receiptId: result.receiptId,
    receiptType: result.receiptType,
    duplicate: result.duplicate,
    unknown: result.unknown,
    returns: result.returns.map((r) => ({
      guid: r.guid,
      status: r.status,
      declarationId: r.declarationId,
      outcome: r.applied
        ? 'applied'
        : r.declarationId === null || r.reason === 'unknown-status'
          ? 'unknown'
          : 'duplicate',
      ...(r.reason ? { reason: r.reason } : {}),
    })),
  };
}

export function receiptsRoutes(deps: ReceiptsRoutesDeps): Router<RequestState> {
  const router = new Router<RequestState>();
  const readBody = body({ accept: ['application/xml', 'text/xml'], limitBytes: deps.maxBytes ?? MAX_RECEIPT_BYTES });
  router.post('/v1/receipts', deps.auth.guard('receipts.post'), readBody, async (ctx) => {
    const center = answeringCenter(principalOf(ctx));
    const read = bodyOf(ctx);
    if (read.kind !== 'xml' || center === undefined) throw new Error('receipts: XML from a center only');
    const result = await deps.ingestor.ingest(read.text, { via: 'http', center, authenticated: true });
    ctx.status = result.duplicate ? 200 : 202;
    ctx.body = presentReceipt(result);
  });
  return router;
}

const example = {
  receiptId: '674a1b2c3d4e5f6a7b8c9d10',
  receiptType: 'CEB622',
  duplicate: false,
  unknown: false,
  returns: [
    {
      guid: 'D3A1C0E2-7F7B-4E59-9B1A-0C4E7A5B2F10',
      status: '120',
      declarationId: '0b6f3f0e-4c1a-4c7e-9d43-5a3c1f2e9a73',
      outcome: 'applied' as const,
    },
  ],
};

registerRoute({
  method: 'POST',
  path: '/v1/receipts',
  summary: 'Post one signed customs receipt (clearance centers)',
  description:
    "Body: the signed CEB receipt XML exactly as received from customs (XML-DSig, verified strictly against the clearance centers' trust list). Up to 1 MiB. DOCTYPE/entities are refused.",
  tags: ['receipts'],
  access: 'receipts.post',
  request: {
    content: {
      'application/xml': {
        schema: z.string(),
        example:
          '<?xml version="1.0" encoding="UTF-8"?><ceb:CEB622Message xmlns:ceb="http://www.chinaport.gov.cn/ceb" guid="…" version="1.0">…<ds:Signature>…</ds:Signature></ceb:CEB622Message>',
      },
    },
  },
  responses: {
    202: {
      description: 'Stored and applied; the outcome of every return.',
      content: { 'application/json': { schema: receiptResultSchema, example } },
    },
    200: {
      description: 'Already received: nothing changed.',
      content: {
        'application/json': {
          schema: receiptResultSchema,
          example: {
            ...example,
            duplicate: true,
            returns: [{ ...example.returns[0]!, outcome: 'duplicate' as const, reason: 'not-newer' }],
          },
        },
      },
    },
    413: { description: 'Body over 1 MiB.', problem: true },
    415: { description: 'Content-Type is not application/xml or text/xml.', problem: true },
    422: {
      description: 'Signature invalid, signer untrusted or receipt unreadable; `code` says which.',
      problem: true,
      content: {
        'application/problem+json': {
          example: {
            type: 'https://baygate.dev/problems/receipt-rejected',
            title: 'Receipt rejected',
            status: 422,
            detail: 'receipt signature rejected: digest mismatch',
            code: 'SIGNATURE_INVALID',
          },
        },
      },
    },
  },
});
