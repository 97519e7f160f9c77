import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Router from '@koa/router';
import { z } from 'zod';
import { baygateOrderSchema } from '../../domain/order';
import { MESSAGE_TYPES } from '../../domain/message-types';
import type { OrderOutcome, SubmissionService, SubmissionViolation } from '../../pipeline/contracts';
import type { DeclarationStore } from '../../store/contracts';
import type { AuthDeps } from '../auth';
import { declarableCompanies, readableSellers } from '../auth/policy';
import { body, bodyOf } from '../middleware/body';
import { idempotency } from '../middleware/idempotency';
import type { IdempotencyKeyRepository } from '../../store/idempotency-keys';
import { registerRoute } from '../openapi';
import { declarationSchema, exampleDeclaration, toDeclaration } from '../presenters/declaration';
import { problems, type ProblemDetails } from '../problem';
import { orderNoParams, parseParams } from '../query';
import { principalOf, type RequestState } from '../state';

/**
 * The orders resource. GET /v1/orders/{orderNo}/declarations: every declaration of an order the caller
 * may see (404 when none). POST /v1/orders: one order (JSON object), a batch (JSON array, ≤ 1,000) or NDJSON (one order per line),
 * in the Baygate format or a mapped source format (?source=<name>); ?atomic=true for all-or-nothing.
 *
 * Outcomes (documented in OpenAPI):
 *  - 202: at least one order was stored (or was already stored: a resubmitted order is a "duplicate" with
 *    its existing declarations). A NON-atomic batch with some invalid orders is still 202; its body lists
 *    every order's outcome, the rejected ones with their errors, and `rejected` > 0 tells the client to
 *    look. Location points at the first declaration.
 *  - 422 problem+json: nothing was stored — every order was invalid, or the batch was atomic and any order
 *    was invalid. `errors[].path` is a JSON Pointer prefixed with the order's index: /orders/3/items/0/price.
 *  - 400 malformed JSON/NDJSON (with the line), 413 body or batch too large, 415 wrong Content-Type.
 */
export const MAX_ORDERS_PER_REQUEST = 1000;
export const MAX_ORDERS_BODY_BYTES = 16 * 1024 * 1024;

export interface OrdersRoutesDeps {
  submission: Pick<SubmissionService, 'submit'>;
  declarations: Pick<DeclarationStore, 'findByOrderNo'>;
  auth: AuthDeps;
  idempotency: IdempotencyKeyRepository;
  limits?: { maxBodyBytes?: number; maxOrders?: number };
}

export const submitQuerySchema = z.object({
  source: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a source format name')
    .optional()
    .describe('Source format (a mapping in mappings/sources/, e.g. marketplace-flat); absent = Baygate format'),
  atomic: z.enum(['true', 'false']).optional().describe('true = store nothing unless every order is valid'),
});

const fieldErrorSchema = z.object({
  path: z.string(),
  code: z.string(),
  message: z.string(),
  messageZh: z.string().optional(),
});

const declarationRefSchema = z.object({
  id: z.string(),
  messageType: z.enum(MESSAGE_TYPES),
  center: z.string(),
  status: z.string(),
  href: z.string(),
});

export const orderOutcomeSchema = z.object({
  index: z.number().int().describe('position of the order in the request (0-based)'),
  line: z.number().int().optional().describe('NDJSON line number'),
  orderNo: z.string().optional(),
  outcome: z.enum(['accepted', 'duplicate', 'rejected']),
  declarations: z.array(declarationRefSchema).optional(),
  errors: z.array(fieldErrorSchema).optional(),
});

export const submitResponseSchema = z.object({
  accepted: z.number().int(),
  duplicates: z.number().int(),
  rejected: z.number().int(),
  atomic: z.boolean(),
  orders: z.array(orderOutcomeSchema),
});

/** "items[0].price" (rule notation) → "/orders/3/items/0/price" (JSON Pointer, index-prefixed). */
export function orderPointer(index: number, path: string): string {
  const prefix = `/orders/${index}`;
  if (!path || path === '(order)') return prefix;
  const parts = path
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .filter((p) => p !== '');
  return prefix + parts.map((p) => '/' + p.replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

function toFieldErrors(index: number, violations: SubmissionViolation[]): z.infer<typeof fieldErrorSchema>[] {
  return violations.map((v) => ({
    path: orderPointer(index, v.path),
    code: v.code,
    message: v.message.en,
    messageZh: v.message.zh,
  }));
}

function present(o: OrderOutcome, lines: number[] | undefined): z.infer<typeof orderOutcomeSchema> {
  const line = lines?.[o.index];
  const base = {
    index: o.index,
    ...(line !== undefined ? { line } : {}),
    ...(o.orderNo ? { orderNo: o.orderNo } : {}),
  };
  if (o.outcome === 'rejected') return { ...base, outcome: 'rejected', errors: toFieldErrors(o.index, o.violations) };
  return {
    ...base,
    outcome: o.outcome,
    declarations: o.declarations.map((d) => ({
      id: d.id,
      messageType: d.messageType,
      center: d.center,
      status: d.status,
      href: `/v1/declarations/${d.id}`,
    })),
  };
}

export function ordersRoutes(deps: OrdersRoutesDeps): Router<RequestState> {
  const maxBodyBytes = deps.limits?.maxBodyBytes ?? MAX_ORDERS_BODY_BYTES;
  const maxOrders = deps.limits?.maxOrders ?? MAX_ORDERS_PER_REQUEST;
  const router = new Router<RequestState>();

  router.post(
    '/v1/orders',
    deps.auth.guard('orders.submit'),
    body({ accept: ['application/json', 'application/x-ndjson'], limitBytes: maxBodyBytes, maxRecords: maxOrders }),
    idempotency(deps.idempotency),
    async (ctx) => {
      const principal = principalOf(ctx);
      const query = submitQuerySchema.safeParse(ctx.query);
      if (!query.success) {
        throw problems.badRequest(
          'Invalid query parameters.',
          query.error.issues.map((i) => ({
            path: `query:${i.path.join('.')}`,
            code: 'QUERY_INVALID',
            message: i.message,
          })),
        );
      }
      const read = bodyOf(ctx);
      let orders: unknown[];
      let lines: number[] | undefined;
      if (read.kind === 'ndjson') ({ values: orders, lines } = read);
      else if (read.kind === 'json' && Array.isArray(read.value)) orders = read.value;
      else if (read.kind === 'json' && read.value !== null && typeof read.value === 'object') orders = [read.value];
      else throw problems.badRequest('The body must be an order (JSON object) or a batch of orders (JSON array).');
      if (orders.length === 0) throw problems.badRequest('The request contains no orders.');
      if (orders.length > maxOrders)
        throw problems.payloadTooLarge(
          `A request may hold at most ${maxOrders} orders; this one has ${orders.length}.`,
        );

      const atomic = query.data.atomic === 'true';
      const result = await deps.submission.submit(orders, {
        sellerId: principal.id,
        ebcCodes: declarableCompanies(principal),
        source: query.data.source,
        atomic,
        requestId: ctx.state.requestId,
      });
      const presented = result.orders.map((o) => present(o, lines));
      const stored = presented.filter((o) => o.outcome !== 'rejected');
      if (stored.length === 0) {
        const errors = presented.flatMap((o) => o.errors ?? []);
        const detail =
          atomic && result.orders.length > 1
            ? `Atomic batch rejected: ${presented.filter((o) => !o.errors?.every((e) => e.code === 'BATCH_REJECTED')).length} of ${orders.length} orders are invalid; nothing was stored.`
            : `${orders.length === 1 ? 'The order is' : `All ${orders.length} orders are`} invalid; nothing was stored.`;
        throw problems.validation(detail, errors as ProblemDetails['errors'], {
          orders: presented.map(({ index, line, orderNo, errors: e }) => ({
            index,
            ...(line !== undefined ? { line } : {}),
            ...(orderNo ? { orderNo } : {}),
            outcome: 'rejected',
            errors: e,
          })),
        });
      }
      const first = stored[0]?.declarations?.[0];
      if (first) ctx.set('Location', first.href);
      ctx.status = 202;
      ctx.body = {
        accepted: result.accepted,
        duplicates: result.duplicates,
        rejected: result.rejected,
        atomic,
        orders: presented,
      } satisfies z.infer<typeof submitResponseSchema>;
    },
  );

  router.get('/v1/orders/:orderNo/declarations', deps.auth.guard('declarations.read'), async (ctx) => {
    const { orderNo } = parseParams(orderNoParams, ctx.params);
    const sellers = readableSellers(principalOf(ctx));
    const visible = await deps.declarations.findByOrderNo(orderNo, sellers === 'all' ? undefined : [...sellers]);
    if (visible.length === 0) throw problems.notFound('No declarations of this order.');
    ctx.body = { orderNo, items: visible.map(toDeclaration) };
  });

  return router;
}

/** A real order from examples/ for the OpenAPI examples (validated against the schema by the tests). */
function exampleOrder(): unknown {
  try {
    const here = dirname(fileURLToPath(import.meta.url));
    return JSON.parse(readFileSync(join(here, '../../../examples/orders/gz-9610-direct-purchase.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

const order = exampleOrder();
const acceptedExample = {
  accepted: 1,
  duplicates: 0,
  rejected: 0,
  atomic: false,
  orders: [
    {
      index: 0,
      orderNo: 'BG20261128GZ000101',
      outcome: 'accepted',
      declarations: (['CEB311', 'CEB411', 'CEB511', 'CEB621'] as const).map((messageType, i) => ({
        id: `0b6f3f0e-4c1a-4c7e-9d43-5a3c1f2e9a7${i}`,
        messageType,
        center: 'GD',
        status: 'accepted',
        href: `/v1/declarations/0b6f3f0e-4c1a-4c7e-9d43-5a3c1f2e9a7${i}`,
      })),
    },
  ],
};

registerRoute({
  method: 'POST',
  path: '/v1/orders',
  summary: 'Submit one order, a batch (≤ 1,000) or NDJSON',
  description:
    'Each order becomes one declaration per customs message (import: CEB311, CEB411, CEB511, CEB621; export: CEB303, CEB505, CEB603), signed and sent by the workers. ' +
    'A resubmitted order (same platform and order number) is reported as `duplicate` with its existing declarations, never declared twice.\n\n' +
    'Non-atomic batch with some invalid orders: 202, the body lists every order with its outcome and the rejected ones with their errors. If nothing could be stored (all invalid, or `atomic=true` and any invalid): 422 problem+json with every error, paths prefixed by the order index (`/orders/3/items/0/price`).\n\n' +
    'Send `Idempotency-Key` to make retries safe: the same key with the same request replays the first response; with a different request it is 422; while the first is running it is 409.',
  tags: ['orders'],
  access: 'orders.submit',
  query: submitQuerySchema,
  headers: [
    { name: 'Idempotency-Key', description: 'Up to 255 visible ASCII characters, unique per seller for 24 h.' },
  ],
  request: {
    description: 'A Baygate order, an array of up to 1,000, or NDJSON (one order per line). Up to 16 MiB.',
    content: {
      'application/json': {
        schema: z.union([baygateOrderSchema, z.array(baygateOrderSchema).max(MAX_ORDERS_PER_REQUEST)]),
        example: order,
      },
      'application/x-ndjson': { schema: z.string(), example: `${JSON.stringify(order)}\n` },
    },
  },
  responses: {
    202: {
      description: 'Stored (or already stored); per-order outcomes.',
      headers: { Location: 'The first declaration (/v1/declarations/{id}).' },
      content: { 'application/json': { schema: submitResponseSchema, example: acceptedExample } },
    },
    400: { description: 'Malformed JSON or NDJSON (with the line number), empty batch, bad query.', problem: true },
    409: { description: 'A request with this Idempotency-Key is still being processed.', problem: true },
    413: { description: 'Body over 16 MiB or more than 1,000 orders.', problem: true },
    415: { description: 'Content-Type is not application/json or application/x-ndjson.', problem: true },
    422: {
      description:
        'Nothing stored: every violation of every order, or Idempotency-Key reused with a different request.',
      problem: true,
      content: {
        'application/problem+json': {
          example: {
            type: 'https://baygate.dev/problems/validation-failed',
            title: 'Unprocessable Content',
            status: 422,
            detail: 'The order is invalid; nothing was stored.',
            errors: [
              {
                path: '/orders/0/items/0/price',
                code: 'ITEM_TOTAL_MISMATCH',
                message: 'totalPrice must equal price × qty',
                messageZh: '商品总价应等于单价乘以数量',
              },
            ],
          },
        },
      },
    },
  },
});

registerRoute({
  method: 'GET',
  path: '/v1/orders/:orderNo/declarations',
  summary: 'Every declaration of an order (all message types, incl. cancel/return)',
  tags: ['declarations'],
  access: 'declarations.read',
  params: orderNoParams,
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
    400: { description: 'The order number is empty or longer than 60 characters (params.orderNo).', problem: true },
    404: { description: 'No declarations of this order visible to the caller.', problem: true },
  },
});
