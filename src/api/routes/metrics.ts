import Router from '@koa/router';
import type { Middleware } from 'koa';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import type { RequestState } from '../middleware/request-context';
import { registerRoute } from '../openapi';

/**
 * `GET /metrics` in the Prometheus text format. Open by default (scrapers sit on the internal network and
 * the metrics carry no personal data or ids); pass `guard` to require something, e.g. an admin key.
 */
export function metricsRoutes(
  registry: Registry,
  options: { guard?: Middleware<RequestState> } = {},
): Router<RequestState> {
  const router = new Router<RequestState>();
  const handler: Middleware<RequestState> = async (ctx) => {
    const body = await registry.metrics();
    ctx.set('Cache-Control', 'no-store');
    ctx.type = registry.contentType;
    ctx.body = body;
  };
  if (options.guard) router.get('/metrics', options.guard, handler);
  else router.get('/metrics', handler);
  return router;
}

registerRoute({
  method: 'GET',
  path: '/metrics',
  summary: 'Prometheus metrics of this process',
  description:
    'HTTP latency by route template, declarations by status and center, manifest publishes (confirmed/failed), signing time, receipt lag and status delay. No ids or personal data in labels.',
  tags: ['operations'],
  access: 'public',
  responses: {
    200: {
      description: 'Prometheus text format 0.0.4.',
      content: {
        'text/plain': {
          schema: z.string(),
          example: '# TYPE baygate_declarations gauge\nbaygate_declarations{status="120",center="GD"} 42\n',
        },
      },
    },
  },
});
