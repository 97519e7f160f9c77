import Router from '@koa/router';
import { z } from 'zod';
import { firstNonXmlChar } from '../../domain/xml-text';
import type { SubmissionService } from '../../pipeline/contracts';
import type { DeclarationFilter, DeclarationStore, DeclarationView, ReceiptStore } from '../../store/contracts';
import type { AuthDeps } from '../auth';
import { mayFollowUp, mayRead, sellerFilter } from '../auth/policy';
import type { Principal } from '../auth/principal';
import { body, jsonBody, validBody } from '../middleware/body';
import { idempotency } from '../middleware/idempotency';
import type { IdempotencyKeyRepository } from '../../store/idempotency-keys';
import { toDeclaration, toSummary } from '../presenters/declaration';
import { buildTimeline } from '../presenters/timeline';
import { problems } from '../problem';
import { declarationListQuerySchema, parseQuery, type DeclarationFilterQuery } from '../query';
import { principalOf, type RequestState } from '../state';
import { documentDeclarationRoutes } from './declarations.docs';

/**
 * The declarations resource: search (filters, cursor pagination, counts per status), one declaration,
 * its timeline, and its follow-up messages — cancel (CEB623) and return (CEB625) of an inventory.
 *
 * Who sees what is the access policy's (src/api/auth/policy.ts): sellers their own, brokers their
 * sellers', the operator all. A declaration the caller may not see answers 404 exactly like one that does
 * not exist (not 403), so ids cannot be probed.
 */
export interface DeclarationsRoutesDeps {
  declarations: Pick<DeclarationStore, 'list' | 'countByStatus' | 'findById'>;
  receipts: Pick<ReceiptStore, 'findById'>;
  submission: Pick<SubmissionService, 'cancel' | 'refund'>;
  auth: AuthDeps;
  idempotency: IdempotencyKeyRepository;
}

/** Body of cancel (CEB623) and return (CEB625). */
export const followUpRequestSchema = z
  .object({
    reason: z
      .string()
      .trim()
      .min(1, 'must not be empty')
      .max(1000, 'must be at most 1000 characters')
      .refine((v) => !firstNonXmlChar(v), 'contains a character XML cannot carry (control characters, U+FFFE/U+FFFF)')
      .describe('reason sent to customs'),
    invtNo: z
      .string()
      .trim()
      .min(1)
      .max(18, 'must be at most 18 characters')
      .refine((v) => !firstNonXmlChar(v), 'contains a character XML cannot carry')
      .optional()
      .describe("inventory number customs assigned; default: the one from the inventory's receipts"),
  })
  .strict();

const FOLLOW_UP_BODY_BYTES = 64 * 1024;
const DECLARATION_ID = /^[A-Za-z0-9-]{1,64}$/;

/** The store filter for what this principal asked for and may see (asking for another tenant is 403). */
export function declarationFilter(principal: Principal, query: DeclarationFilterQuery): DeclarationFilter {
  const sellerIds = sellerFilter(principal, query.seller);
  if (query.from && query.to && query.from > query.to)
    throw problems.badRequest('query.from must not be after query.to.', [
      { path: 'query.from', code: 'range', message: 'must not be after to' },
    ]);
  return {
    ...(sellerIds !== undefined ? { sellerIds } : {}),
    ...(query.status?.length ? { status: query.status } : {}),
    ...(query.center?.length ? { center: query.center } : {}),
    ...(query.messageType?.length ? { messageType: query.messageType } : {}),
    ...(query.orderNo ? { orderNo: query.orderNo } : {}),
    ...(query.from ? { from: query.from } : {}),
    ...(query.to ? { to: query.to } : {}),
  };
}

export function declarationsRoutes(deps: DeclarationsRoutesDeps): Router<RequestState> {
  const router = new Router<RequestState>();
  const read = deps.auth.guard('declarations.read');

  /** The declaration, if this principal may see it; anything else is the same 404. */
  const visible = async (principal: Principal, id: string | undefined): Promise<DeclarationView> => {
    const declaration = id && DECLARATION_ID.test(id) ? await deps.declarations.findById(id) : null;
    if (!declaration || !mayRead(principal, declaration)) throw problems.notFound('No such declaration.');
    return declaration;
  };

  router.get('/v1/declarations', read, async (ctx) => {
    const query = parseQuery(declarationListQuerySchema, ctx.query);
    const filter = declarationFilter(principalOf(ctx), query);
    if (filter.sellerIds && filter.sellerIds.length === 0) {
      ctx.body = { items: [], counts: {}, total: 0 };
      return;
    }
    const [page, counts] = await Promise.all([
      // A cursor of the right shape that this API never issued is the store's InvalidCursorError (400).
      deps.declarations.list(filter, { limit: query.limit, ...(query.cursor ? { cursor: query.cursor } : {}) }),
      deps.declarations.countByStatus(filter),
    ]);
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    if (page.nextCursor) {
      const next = new URL(ctx.href);
      next.searchParams.set('cursor', page.nextCursor);
      next.searchParams.set('limit', String(query.limit));
      ctx.set('Link', `<${next.pathname}${next.search}>; rel="next"`);
    }
    ctx.body = {
      items: page.items.map(toSummary),
      ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
      counts,
      total,
    };
  });

  router.get('/v1/declarations/:id', read, async (ctx) => {
    ctx.body = toDeclaration(await visible(principalOf(ctx), ctx.params.id));
  });

  router.get('/v1/declarations/:id/timeline', read, async (ctx) => {
    const declaration = await visible(principalOf(ctx), ctx.params.id);
    ctx.body = { declaration: toSummary(declaration), steps: await buildTimeline(declaration, deps.receipts) };
  });

  const readFollowUp = body({ accept: ['application/json'], limitBytes: FOLLOW_UP_BODY_BYTES });
  for (const [path, kind] of [
    ['/v1/declarations/:id/cancel', 'cancel'],
    ['/v1/declarations/:id/return', 'refund'],
  ] as const) {
    router.post(
      path,
      deps.auth.guard('declarations.follow-up'),
      readFollowUp,
      idempotency(deps.idempotency),
      async (ctx) => {
        const principal = principalOf(ctx);
        const input = validBody(followUpRequestSchema, jsonBody(ctx), 'request');
        const options = { mayActOn: (d: DeclarationView) => mayFollowUp(principal, d), requestId: ctx.state.requestId };
        const view = await deps.submission[kind](ctx.params.id ?? '', input, options);
        ctx.status = 202;
        ctx.set('Location', `/v1/declarations/${view.id}`);
        ctx.body = toDeclaration(view);
      },
    );
  }

  return router;
}

documentDeclarationRoutes(followUpRequestSchema);
