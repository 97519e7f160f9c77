import Router from '@koa/router';
import type { Middleware } from 'koa';
import type { Registry } from 'prom-client';
import type { RequestState } from '../middleware/request-context';

/**
 * `GET /metrics` in the Prometheus text format. Open by default (scrapers sit on the internal network and
 * the metrics carry no personal data or ids); pass `guard` to require something, e.g. an admin key.
 */
export function metricsRoutes(registry: Registry, options: { guard?: Middleware<RequestState> } = {}): Router<RequestState> {
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
