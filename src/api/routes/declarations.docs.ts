import { z } from 'zod';
import { registerRoute } from '../openapi';
import {
  declarationSchema,
  declarationSummarySchema,
  exampleDeclaration,
  exampleSummary,
} from '../presenters/declaration';
import { timelineResponseSchema } from '../presenters/timeline';
import { declarationIdParams, declarationListQuerySchema } from '../query';

/** OpenAPI documentation of the declarations resource (src/api/routes/declarations.ts). */

const listResponseSchema = z.object({
  items: z.array(declarationSummarySchema),
  nextCursor: z
    .string()
    .optional()
    .describe('pass as ?cursor= for the next page (also in the Link header, rel="next")'),
  counts: z
    .record(z.string(), z.number().int())
    .describe('declarations per status matching the same filter (all pages)'),
  total: z.number().int(),
});

export function documentDeclarationRoutes(followUpRequestSchema: z.ZodType): void {
  registerRoute({
    method: 'GET',
    path: '/v1/declarations',
    summary: 'Search declarations (filters, cursor pagination, counts per status)',
    description:
      'Newest first. Filters combine with AND; list-valued ones take comma-separated values or repeat. `counts` are per status for the same filter over all pages. ' +
      'Brokers see the sellers they serve, sellers their own, admins all; asking for a seller one does not serve is 403. No personal data: the buyer ID shows masked.',
    tags: ['broker'],
    access: 'declarations.read',
    query: declarationListQuerySchema,
    responses: {
      200: {
        description: 'One page of declarations.',
        headers: { Link: '<…?cursor=…>; rel="next" when there is a next page' },
        content: {
          'application/json': {
            schema: listResponseSchema,
            example: {
              items: [exampleSummary],
              nextCursor: 'eyJjIjoiMjAyNi0xMS0yOFQwOTozMDowMC4wMDBaIn0',
              counts: { '120': 1, accepted: 3 },
              total: 4,
            },
          },
        },
      },
      400: { description: 'Invalid query parameter (errors[].path names it, e.g. query.status.0).', problem: true },
    },
  });

  registerRoute({
    method: 'GET',
    path: '/v1/declarations/:id/timeline',
    summary: "A declaration's timeline: every status step with the receipt behind it",
    description:
      "Each step that came from a receipt carries the receipt id and type, its verified signer (subject, serial) and the customs text (returnInfo). Another tenant's declaration answers 404 like a missing one.",
    tags: ['broker'],
    access: 'declarations.read',
    params: declarationIdParams,
    responses: {
      200: {
        description: 'The declaration and its steps, oldest first.',
        content: {
          'application/json': {
            schema: timelineResponseSchema,
            example: {
              declaration: exampleSummary,
              steps: [
                {
                  eventId: '6748371a0000000000000001',
                  status: 'accepted',
                  label: { zh: '已受理', en: 'accepted' },
                  at: '2026-11-28T09:30:00.000Z',
                  source: 'api',
                },
                {
                  eventId: '6748371e0000000000000004',
                  status: '120',
                  label: { zh: '海关入库', en: 'accepted into the customs system' },
                  at: '2026-11-28T09:30:04.000Z',
                  source: 'receipt',
                  signer: { subject: 'CN=Guangdong Clearance Center', serialHex: '01691f7f' },
                  receiptId: 'r-6748371e',
                  receipt: {
                    id: 'r-6748371e',
                    type: 'CEB622',
                    receivedAt: '2026-11-28T09:30:04.120Z',
                    via: 'amqp',
                    center: 'GD',
                    signer: { subject: 'CN=Guangdong Clearance Center', serialHex: '01691f7f' },
                    returnStatus: '120',
                    returnInfo: '[Code:2600;Desc:放行]',
                    returnTime: '20261128173004000',
                  },
                },
              ],
            },
          },
        },
      },
      404: { description: 'No such declaration, or not visible to the caller.', problem: true },
    },
  });

  registerRoute({
    method: 'GET',
    path: '/v1/declarations/:id',
    summary: 'One declaration with its status history',
    description:
      'Sellers see their own declarations, brokers those of their sellers, admins all. Anything else is 404 (not 403), so ids cannot be probed.',
    tags: ['declarations'],
    access: 'declarations.read',
    params: declarationIdParams,
    responses: {
      200: {
        description: 'The declaration.',
        content: { 'application/json': { schema: declarationSchema, example: exampleDeclaration } },
      },
      404: { description: 'No such declaration, or not yours.', problem: true },
    },
  });

  for (const [kind, type, what] of [
    ['cancel', 'CEB623', 'Cancel (withdraw) an accepted inventory'],
    ['return', 'CEB625', 'Declare a return (refund) of an inventory'],
  ] as const) {
    registerRoute({
      method: 'POST',
      path: `/v1/declarations/:id/${kind}`,
      summary: `${what} (${type})`,
      description: `The id must be a CEB621 inventory of yours that customs accepted (status 120 or later${kind === 'cancel' ? ', not yet cleared (899)' : ''}). Answers with the new ${type} declaration, which the workers sign and send. Idempotency-Key is supported.`,
      tags: ['declarations'],
      access: 'declarations.follow-up',
      params: declarationIdParams,
      headers: [{ name: 'Idempotency-Key', description: 'Makes a retry safe (see POST /v1/orders).' }],
      request: {
        content: {
          'application/json': {
            schema: followUpRequestSchema,
            example: { reason: kind === 'cancel' ? '买家取消订单' : '商品质量问题退货' },
          },
        },
      },
      responses: {
        202: {
          description: `The new ${type} declaration.`,
          headers: { Location: 'The new declaration.' },
          content: {
            'application/json': {
              schema: declarationSchema,
              example: {
                ...exampleDeclaration,
                id: '5d2e8a51-0d3b-4f0e-8a3e-2c9f7d1b6e44',
                messageType: type,
                status: 'accepted',
                history: [exampleDeclaration.history[0]!],
              },
            },
          },
        },
        400: { description: 'Malformed JSON.', problem: true },
        404: { description: 'No such declaration, or not yours.', problem: true },
        409: {
          description: 'The inventory is not in a state that allows this (or an Idempotency-Key is in flight).',
          problem: true,
        },
        415: { description: 'Content-Type is not application/json.', problem: true },
        422: {
          description: 'Invalid body (field paths like /reason), or the declaration is not a CEB621.',
          problem: true,
        },
      },
    });
  }
}
