import Router from '@koa/router';
import { z } from 'zod';
import { checkWebhookTarget, type WebhookTargetPolicy } from '../../pipeline/webhook-targets';
import type { WebhookDelivery, WebhookRegistry } from '../../pipeline/webhooks';
import type { AuthDeps } from '../auth';
import { ownsWebhook } from '../auth/policy';
import { body, jsonBody, validBody } from '../middleware/body';
import { principalOf, type RequestState } from '../state';
import { registerRoute } from '../openapi';
import { problems } from '../problem';

/**
 * A seller's webhooks: register a URL (the signing secret is returned once), list, delete, and read the
 * delivery log of one webhook. Another seller's webhook answers 404, like a missing one.
 */
export interface WebhooksRoutesDeps {
  webhooks: WebhookRegistry;
  auth: AuthDeps;
  /**
   * Where a webhook may point: public https targets, plus the development allow-list
   * (src/pipeline/webhook-targets.ts). Checked at registration here and again at every delivery.
   */
  targets: WebhookTargetPolicy;
}

export const MAX_WEBHOOKS_PER_SELLER = 10;

export const createWebhookSchema = z
  .object({
    url: z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
      .max(2048)
      .describe('where to POST events'),
    secret: z
      .string()
      .min(24, 'must be at least 24 characters')
      .max(256)
      .optional()
      .describe('HMAC secret; generated when absent'),
  })
  .strict();

const webhookSchema = z.object({ id: z.string(), url: z.string(), createdAt: z.iso.datetime() });
const createdWebhookSchema = webhookSchema.extend({ secret: z.string().describe('shown only in this response') });

const deliverySchema = z.object({
  id: z.string(),
  eventId: z.string(),
  declarationId: z.string(),
  status: z.enum(['pending', 'delivered', 'failed', 'cancelled']),
  attempts: z.number().int(),
  nextAttemptAt: z.iso.datetime(),
  lastStatus: z.number().int().optional(),
  lastError: z.string().optional(),
  createdAt: z.iso.datetime(),
  deliveredAt: z.iso.datetime().optional(),
  log: z.array(
    z.object({
      at: z.iso.datetime(),
      status: z.number().int().optional(),
      error: z.string().optional(),
      ms: z.number(),
    }),
  ),
});

const webhookIdParams = z.object({ id: z.string().min(1).max(64).describe('webhook id') });
const deliveriesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).optional().describe('newest first; default 100'),
});

function presentDelivery(d: WebhookDelivery): z.input<typeof deliverySchema> {
  return {
    id: d.id,
    eventId: d.eventId,
    declarationId: d.declarationId,
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: d.nextAttemptAt.toISOString(),
    ...(d.lastStatus !== undefined ? { lastStatus: d.lastStatus } : {}),
    ...(d.lastError !== undefined ? { lastError: d.lastError } : {}),
    createdAt: d.createdAt.toISOString(),
    ...(d.deliveredAt ? { deliveredAt: d.deliveredAt.toISOString() } : {}),
    log: d.log.map((a) => ({
      at: new Date(a.at).toISOString(),
      ms: a.ms,
      ...(a.status !== undefined ? { status: a.status } : {}),
      ...(a.error ? { error: a.error } : {}),
    })),
  };
}

export function webhooksRoutes(deps: WebhooksRoutesDeps): Router<RequestState> {
  const router = new Router<RequestState>();
  const guard = deps.auth.guard('webhooks.manage');

  router.post('/v1/webhooks', guard, body({ accept: ['application/json'], limitBytes: 16 * 1024 }), async (ctx) => {
    const principal = principalOf(ctx);
    const input = validBody(createWebhookSchema, jsonBody(ctx), 'webhook');
    const url = new URL(input.url);
    const verdict = await checkWebhookTarget(url, deps.targets);
    if (!verdict.ok) {
      throw problems.validation('The webhook URL must be https and resolve to public addresses only.', [
        {
          path: '/url',
          code: 'URL_NOT_ALLOWED',
          message: `${verdict.reason}: webhooks go to public https addresses only`,
          messageZh: '必须是可公开访问的 https 地址',
        },
      ]);
    }
    const existing = await deps.webhooks.list(principal.id);
    if (existing.length >= MAX_WEBHOOKS_PER_SELLER)
      throw problems.conflict(`A seller may register at most ${MAX_WEBHOOKS_PER_SELLER} webhooks; delete one first.`);
    const webhook = await deps.webhooks.create(principal.id, url.toString(), input.secret);
    ctx.status = 201;
    ctx.set('Location', `/v1/webhooks/${webhook.id}`);
    ctx.body = { id: webhook.id, url: webhook.url, createdAt: webhook.createdAt.toISOString(), secret: webhook.secret };
  });

  router.get('/v1/webhooks', guard, async (ctx) => {
    const principal = principalOf(ctx);
    const list = await deps.webhooks.list(principal.id);
    ctx.body = { items: list.map((w) => ({ id: w.id, url: w.url, createdAt: w.createdAt.toISOString() })) };
  });

  router.delete('/v1/webhooks/:id', guard, async (ctx) => {
    const principal = principalOf(ctx);
    if (!(await deps.webhooks.remove(principal.id, ctx.params.id ?? '')))
      throw problems.notFound(`No webhook ${ctx.params.id}.`);
    ctx.status = 204;
  });

  router.get('/v1/webhooks/:id/deliveries', guard, async (ctx) => {
    const principal = principalOf(ctx);
    const query = deliveriesQuery.safeParse(ctx.query);
    if (!query.success)
      throw problems.badRequest(
        'Invalid query parameters.',
        query.error.issues.map((i) => ({
          path: `query:${i.path.join('.')}`,
          code: 'QUERY_INVALID',
          message: i.message,
        })),
      );
    const webhook = await deps.webhooks.find(ctx.params.id ?? '');
    if (!webhook || !ownsWebhook(principal, webhook)) throw problems.notFound(`No webhook ${ctx.params.id}.`);
    const deliveries = await deps.webhooks.deliveriesOf(webhook.id, query.data.limit ?? 100);
    ctx.body = { webhookId: webhook.id, items: deliveries.map(presentDelivery) };
  });

  return router;
}

const created = {
  id: '9a1f4f8e-2b57-4d0c-9a9e-3f1c2d7b8e61',
  url: 'https://seller.example.com/baygate/events',
  createdAt: '2026-11-28T02:00:00.000Z',
};

registerRoute({
  method: 'POST',
  path: '/v1/webhooks',
  summary: 'Register a webhook URL',
  description:
    'Every status change of your declarations is POSTed as JSON `{id, type: "declaration.status_changed", createdAt, data: {declarationId, orderNo, messageType, status, …}}` with `Baygate-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`, `Baygate-Event-Id` and `Baygate-Delivery-Id`. ' +
    'Verify the signature over the raw bytes and refuse timestamps older than 5 minutes. Answer 2xx; anything else (or no answer within 10 s) is retried with exponential backoff (5 s doubling to 1 h) for about 21 hours. The same event can arrive more than once: de-duplicate by `Baygate-Event-Id`.',
  tags: ['webhooks'],
  access: 'webhooks.manage',
  request: { content: { 'application/json': { schema: createWebhookSchema, example: { url: created.url } } } },
  responses: {
    201: {
      description: 'Registered; the secret is shown only here.',
      headers: { Location: 'The webhook.' },
      content: { 'application/json': { schema: createdWebhookSchema, example: { ...created, secret: 'whsec_k3J9…' } } },
    },
    400: { description: 'Malformed JSON.', problem: true },
    409: { description: 'Too many webhooks.', problem: true },
    415: { description: 'Content-Type is not application/json.', problem: true },
    422: { description: 'Invalid URL or secret (paths /url, /secret).', problem: true },
  },
});
registerRoute({
  method: 'GET',
  path: '/v1/webhooks',
  summary: 'Your webhooks',
  tags: ['webhooks'],
  access: 'webhooks.manage',
  responses: {
    200: {
      description: 'Registered webhooks (secrets are never shown again).',
      content: {
        'application/json': { schema: z.object({ items: z.array(webhookSchema) }), example: { items: [created] } },
      },
    },
  },
});
registerRoute({
  method: 'DELETE',
  path: '/v1/webhooks/:id',
  summary: 'Delete a webhook (pending deliveries are cancelled)',
  tags: ['webhooks'],
  access: 'webhooks.manage',
  params: webhookIdParams,
  responses: {
    204: { description: 'Deleted.' },
    404: { description: 'No such webhook, or not yours.', problem: true },
  },
});
registerRoute({
  method: 'GET',
  path: '/v1/webhooks/:id/deliveries',
  summary: 'Delivery log of a webhook (newest first)',
  tags: ['webhooks'],
  access: 'webhooks.manage',
  params: webhookIdParams,
  query: deliveriesQuery,
  responses: {
    200: {
      description: 'Deliveries with every attempt.',
      content: {
        'application/json': {
          schema: z.object({ webhookId: z.string(), items: z.array(deliverySchema) }),
          example: {
            webhookId: created.id,
            items: [
              {
                id: `${created.id}:674a1b2c3d4e5f6a7b8c9d03`,
                eventId: '674a1b2c3d4e5f6a7b8c9d03',
                declarationId: '0b6f3f0e-4c1a-4c7e-9d43-5a3c1f2e9a73',
                status: 'delivered',
                attempts: 2,
                nextAttemptAt: '2026-11-28T02:31:15.000Z',
                lastStatus: 200,
                lastError: 'HTTP 500',
                createdAt: '2026-11-28T02:31:10.000Z',
                deliveredAt: '2026-11-28T02:31:16.000Z',
                log: [
                  { at: '2026-11-28T02:31:10.500Z', status: 500, error: 'HTTP 500', ms: 12 },
                  { at: '2026-11-28T02:31:16.000Z', status: 200, ms: 9 },
                ],
              },
            ],
          },
        },
      },
    },
    400: { description: 'Bad limit.', problem: true },
    404: { description: 'No such webhook, or not yours.', problem: true },
  },
});
