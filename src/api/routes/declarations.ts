import Router, { type RouterContext } from '@koa/router';
import { z } from 'zod';
import { MESSAGE_TYPES } from '../../domain/message-types';
import type { SubmissionService } from '../../pipeline/contracts';
import type { DeclarationStore } from '../../store/contracts';
import { canSeeSeller, principalOf, sellerScope, type AuthDeps } from '../auth';
import { body, jsonBody, validBody } from '../middleware/body';
import { idempotency, type IdempotencyStore } from '../middleware/idempotency';
import type { RequestState } from '../middleware/request-context';
import { registerRoute } from '../openapi';
import { problems } from '../problem';

/**
 * Reading one declaration, the declarations of an order, and the follow-up messages of an inventory:
 * cancel (CEB623) and return (CEB625).
 *
 * Tenancy: a declaration the caller may not see answers 404 exactly like one that does not exist (not
 * 403), so declaration ids and order numbers of other sellers cannot be probed.
 */
export interface DeclarationsRoutesDeps {
  declarations: DeclarationStore;
  submission: SubmissionService;
  auth: AuthDeps;
  idempotency: IdempotencyStore;
}

const historyEntrySchema = z.object({
  eventId: z.string(),
  status: z.string(),
  at: z.iso.datetime(),
  source: z.enum(['api', 'worker', 'receipt', 'connector', 'sweeper']),
  receiptId: z.string().optional(),
  signer: z.object({ subject: z.string(), serialHex: z.string() }).optional(),
  info: z.string().optional(),
  documentKeys: z.record(z.string(), z.string()).optional(),
});

/** A declaration as the API shows it (DeclarationView: no personal data except the masked buyer id). */
export const declarationSchema = z.object({
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
      'internal step (accepted, signed, queued, delivered, failed) or a customs return code (e.g. 120, 399, 800)',
    ),
  terminal: z.boolean(),
  messageGuid: z.string().optional(),
  digest: z.string().optional(),
  attempts: z.number().int(),
  lastError: z.string().optional(),
  amountCny: z.number(),
  buyerIdMasked: z.string().optional(),
  requestId: z.string(),
  history: z.array(historyEntrySchema),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});

export const idParamsSchema = z.object({ id: z.string().min(1).max(64).describe('declaration id (UUID)') });
export const orderNoParamsSchema = z.object({ orderNo: z.string().min(1).max(60).describe('order number (orderNo)') });

/** Body of cancel (CEB623) and return (CEB625). */
export const followUpRequestSchema = z
  .object({
    reason: z
      .string()
      .trim()
      .min(1, 'must not be empty')
      .max(1000, 'must be at most 1000 characters')
      .describe('reason sent to customs'),
    invtNo: z
      .string()
      .trim()
      .min(1)
      .max(18, 'must be at most 18 characters')
      .optional()
      .describe("inventory number customs assigned; default: the one from the inventory's receipts"),
  })
  .strict();

const FOLLOW_UP_BODY_BYTES = 64 * 1024;

export function declarationsRoutes(deps: DeclarationsRoutesDeps): Router<RequestState> {
  const router = new Router<RequestState>();

  router.get('/v1/declarations/:id', deps.auth.guard('seller', 'broker', 'admin'), async (ctx) => {
    const principal = principalOf(ctx);
    const view = await deps.declarations.findById(ctx.params.id ?? '');
    if (!view || !canSeeSeller(principal, view.sellerId)) throw problems.notFound(`No declaration ${ctx.params.id}.`);
    ctx.body = view;
  });

  router.get('/v1/orders/:orderNo/declarations', deps.auth.guard('seller', 'broker', 'admin'), async (ctx) => {
    const principal = principalOf(ctx);
    const orderNo = ctx.params.orderNo ?? '';
    const found = await deps.declarations.findByOrderNo(orderNo, sellerScope(principal));
    const visible = found.filter((d) => canSeeSeller(principal, d.sellerId));
    if (visible.length === 0) throw problems.notFound(`No declarations for order ${orderNo}.`);
    ctx.body = { orderNo, items: visible };
  });

  const followUp = (kind: 'cancel' | 'refund') => async (ctx: RouterContext<RequestState>) => {
    const principal = principalOf(ctx);
    const input = validBody(followUpRequestSchema, jsonBody(ctx), 'request');
    const options = { sellerIds: principal.sellerIds ?? [principal.id], requestId: ctx.state.requestId };
    const view =
      kind === 'cancel'
        ? await deps.submission.cancel(ctx.params.id ?? '', input, options)
        : await deps.submission.refund(ctx.params.id ?? '', input, options);
    ctx.status = 202;
    ctx.set('Location', `/v1/declarations/${view.id}`);
    ctx.body = view;
  };

  const readBody = body({ accept: ['application/json'], limitBytes: FOLLOW_UP_BODY_BYTES });

  router.post(
    '/v1/declarations/:id/cancel',
    deps.auth.guard('seller'),
    readBody,
    idempotency(deps.idempotency),
    followUp('cancel'),
  );
  router.post(
    '/v1/declarations/:id/return',
    deps.auth.guard('seller'),
    readBody,
    idempotency(deps.idempotency),
    followUp('refund'),
  );

  return router;
}

const exampleDeclaration: z.input<typeof declarationSchema> = {
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
  terminal: false,
  messageGuid: 'D3A1C0E2-7F7B-4E59-9B1A-0C4E7A5B2F10',
  attempts: 1,
  amountCny: 1506.49,
  buyerIdMasked: '4401**********0012',
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
  createdAt: '2026-11-28T02:30:00.000Z',
  updatedAt: '2026-11-28T02:31:10.000Z',
};

const readRoles = ['seller', 'broker', 'admin'] as const;

registerRoute({
  method: 'GET',
  path: '/v1/declarations/:id',
  summary: 'One declaration with its status history',
  description:
    'Sellers see their own declarations, brokers those of their sellers, admins all. Anything else is 404 (not 403), so ids cannot be probed.',
  tags: ['declarations'],
  roles: [...readRoles],
  params: idParamsSchema,
  responses: {
    200: {
      description: 'The declaration.',
      content: { 'application/json': { schema: declarationSchema, example: exampleDeclaration } },
    },
    404: { description: 'No such declaration, or not yours.', problem: true },
  },
});

registerRoute({
  method: 'GET',
  path: '/v1/orders/:orderNo/declarations',
  summary: 'Every declaration of an order (all message types, incl. cancel/return)',
  tags: ['declarations'],
  roles: [...readRoles],
  params: orderNoParamsSchema,
  responses: {
    200: {
      description: 'The declarations visible to the caller.',
      content: {
        'application/json': {
          schema: z.object({ orderNo: z.string(), items: z.array(declarationSchema) }),
          example: { orderNo: exampleDeclaration.orderNo, items: [exampleDeclaration] },
        },
      },
    },
    404: { description: 'No declarations of this order visible to the caller.', problem: true },
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
    roles: ['seller'],
    params: idParamsSchema,
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
