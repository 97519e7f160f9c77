import Router from '@koa/router';
import { z } from 'zod';
import type { DeclarationStore, OrderNumberClash, OrderNumberStore } from '../../store/contracts';
import type { AuthDeps } from '../auth';
import { readableSellers } from '../auth/policy';
import type { Principal } from '../auth/principal';
import { body, jsonBody, validBody } from '../middleware/body';
import { registerRoute } from '../openapi';
import { problems } from '../problem';
import { parseQuery } from '../query';
import { principalOf, type RequestState } from '../state';

/**
 * Order-number clashes (docs/decisions/order-number-clashes.md): an order refused because another seller
 * on the same platform holds its number is recorded here, so it is never silently undeclarable.
 *  - GET /v1/order-clashes: the refused seller sees its own clashes and its brokers see their sellers',
 *    without a word about the holder; the operator sees both sides.
 *  - POST /v1/order-clashes/{id}/resolve (operator): "dismissed" keeps the number with its holder (the
 *    platform confirmed it); "released" takes it from a holder that never stored a declaration of it, so
 *    the refused seller can submit the order again.
 */
export interface OrderClashesRoutesDeps {
  orderNumbers: OrderNumberStore;
  declarations: Pick<DeclarationStore, 'findByOrderNo'>;
  auth: AuthDeps;
}

const CLASH_ID = /^[0-9a-f]{32}$/;

const listQuerySchema = z.object({
  open: z.enum(['true', 'false']).optional().describe('true: only clashes no operator has resolved yet'),
  limit: z.coerce.number().int().min(1).max(500).default(100).describe('newest first, 1–500'),
});

export const resolveRequestSchema = z
  .object({
    action: z
      .enum(['dismissed', 'released'])
      .describe(
        'dismissed: the holder keeps the number; released: the holder gives it up (only if it declared nothing)',
      ),
    note: z.string().trim().min(1, 'must not be empty').max(1000).describe('what was checked, with whom'),
  })
  .strict();

const resolutionSchema = z.object({
  action: z.enum(['dismissed', 'released']),
  note: z.string(),
  by: z.string(),
  at: z.iso.datetime(),
});

export const clashSchema = z.object({
  id: z.string(),
  platformCode: z.string(),
  orderNo: z.string(),
  claimantSellerId: z.string().describe('the seller whose order was refused'),
  holderSellerId: z.string().optional().describe('the seller holding the number (operator only)'),
  attempts: z.number().int().describe('refused submissions of this number by this seller'),
  firstAt: z.iso.datetime(),
  lastAt: z.iso.datetime(),
  resolution: resolutionSchema.optional(),
});

/** A clash as the principal may see it: the holder only for the operator. */
export function presentClash(principal: Principal, c: OrderNumberClash): z.infer<typeof clashSchema> {
  return {
    id: c.id,
    platformCode: c.platformCode,
    orderNo: c.orderNo,
    claimantSellerId: c.claimantSellerId,
    ...(principal.role === 'admin' ? { holderSellerId: c.holderSellerId } : {}),
    attempts: c.attempts,
    firstAt: c.firstAt.toISOString(),
    lastAt: c.lastAt.toISOString(),
    ...(c.resolution
      ? {
          resolution: {
            action: c.resolution.action,
            note: c.resolution.note,
            by: c.resolution.by,
            at: c.resolution.at.toISOString(),
          },
        }
      : {}),
  };
}

export function orderClashesRoutes(deps: OrderClashesRoutesDeps): Router<RequestState> {
  const router = new Router<RequestState>();

  router.get('/v1/order-clashes', deps.auth.guard('clashes.read'), async (ctx) => {
    const principal = principalOf(ctx);
    const query = parseQuery(listQuerySchema, ctx.query);
    const sellers = readableSellers(principal);
    const items =
      sellers !== 'all' && sellers.length === 0
        ? []
        : await deps.orderNumbers.listClashes(
            { ...(sellers === 'all' ? {} : { claimantSellerIds: sellers }), open: query.open === 'true' },
            query.limit,
          );
    ctx.body = { items: items.map((c) => presentClash(principal, c)) };
  });

  router.post(
    '/v1/order-clashes/:id/resolve',
    deps.auth.guard('clashes.resolve'),
    body({ accept: ['application/json'], limitBytes: 16 * 1024 }),
    async (ctx) => {
      const principal = principalOf(ctx);
      const input = validBody(resolveRequestSchema, jsonBody(ctx), 'resolution');
      const id = ctx.params.id ?? '';
      const clash = CLASH_ID.test(id) ? await deps.orderNumbers.findClash(id) : null;
      if (!clash) throw problems.notFound('No such order-number clash.');
      if (clash.resolution) throw problems.conflict(`This clash was already resolved (${clash.resolution.action}).`);
      if (input.action === 'released') {
        const declared = (await deps.declarations.findByOrderNo(clash.orderNo, [clash.holderSellerId])).filter(
          (d) => d.platformCode === clash.platformCode,
        );
        if (declared.length > 0)
          throw problems.conflict(
            'The holder has declared this order number to customs; it cannot be released here (dismiss the clash once the platform and the sellers have settled it).',
          );
        await deps.orderNumbers.release(clash.platformCode, clash.orderNo, clash.holderSellerId);
      }
      const resolved = await deps.orderNumbers.resolveClash(clash.id, {
        action: input.action,
        note: input.note,
        by: principal.id,
        at: new Date(),
      });
      if (!resolved) throw problems.notFound('No such order-number clash.');
      ctx.body = presentClash(principal, resolved);
    },
  );

  return router;
}

const example = {
  id: '3f9a1c7e0b2d4e6f8a1b3c5d7e9f0a2b',
  platformCode: '4401961A2B',
  orderNo: 'BG20261128GZ000101',
  claimantSellerId: 'seller-hk',
  holderSellerId: 'seller-gd',
  attempts: 2,
  firstAt: '2026-11-28T02:30:00.000Z',
  lastAt: '2026-11-28T02:41:00.000Z',
};

registerRoute({
  method: 'GET',
  path: '/v1/order-clashes',
  summary: "Orders refused because another seller holds the platform's order number",
  description:
    'Each clash is one (platform, order number, refused seller), counted. Sellers see their own refused orders, brokers their sellers’, the operator all — only the operator sees which seller holds the number.',
  tags: ['operations'],
  access: 'clashes.read',
  query: listQuerySchema,
  responses: {
    200: {
      description: 'Clashes, newest first.',
      content: {
        'application/json': { schema: z.object({ items: z.array(clashSchema) }), example: { items: [example] } },
      },
    },
    400: { description: 'Invalid open or limit.', problem: true },
  },
});

registerRoute({
  method: 'POST',
  path: '/v1/order-clashes/:id/resolve',
  summary: 'Resolve an order-number clash (operator)',
  description:
    '`dismissed`: the holder keeps the number (e.g. the platform confirmed the order is the holder’s). `released`: the holder gives the number up — only possible when it never stored a declaration of it; the refused seller may then submit the order again.',
  tags: ['operations'],
  access: 'clashes.resolve',
  params: z.object({ id: z.string().describe('clash id') }),
  request: {
    content: {
      'application/json': {
        schema: resolveRequestSchema,
        example: { action: 'dismissed', note: 'Platform confirms the order belongs to seller-gd (ticket 4411).' },
      },
    },
  },
  responses: {
    200: {
      description: 'The resolved clash.',
      content: {
        'application/json': {
          schema: clashSchema,
          example: {
            ...example,
            resolution: {
              action: 'dismissed',
              note: 'Platform confirms the order belongs to seller-gd (ticket 4411).',
              by: 'ops',
              at: '2026-11-28T03:00:00.000Z',
            },
          },
        },
      },
    },
    404: { description: 'No such clash.', problem: true },
    409: { description: 'Already resolved, or the holder declared the number (cannot be released).', problem: true },
    415: { description: 'Content-Type is not application/json.', problem: true },
    422: { description: 'Invalid body (/action, /note).', problem: true },
  },
});
