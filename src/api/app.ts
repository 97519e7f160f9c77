import Koa, { type Middleware } from 'koa';
import type Router from '@koa/router';
import type { Logger } from 'pino';
import { problemHandler } from './middleware/problem-handler';
import { requestContext } from './middleware/request-context';
import type { RequestState } from './state';

/**
 * Builds the Koa application from its routers. Knows nothing about MongoDB or RabbitMQ: the routers get
 * their dependencies from the composition root (src/runtime/gateway.ts) or from a test.
 *
 * Order: `observe` (e.g. HTTP metrics: they must see every request and its final status, so they wrap
 * everything), then the request id and logger, the security headers, the one error handler, the routers.
 */
export function createApp(options: {
  logger: Logger;
  routers: Router<RequestState>[];
  observe?: Middleware[];
  proxy?: boolean;
}): Koa<RequestState> {
  const app = new Koa<RequestState>({ proxy: options.proxy ?? false });
  app.silent = true; // errors are logged by problemHandler with the request id
  for (const middleware of options.observe ?? []) app.use(middleware);
  app.use(requestContext(options.logger));
  app.use(securityHeaders());
  app.use(problemHandler());
  for (const router of options.routers) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  return app;
}

/**
 * Headers every answer carries: no MIME sniffing (a JSON answer echoing a seller's text must never be run
 * as HTML). Routes add stricter ones of their own (the dashboard's Content-Security-Policy).
 */
function securityHeaders(): Middleware<RequestState> {
  return async (ctx, next) => {
    ctx.set('X-Content-Type-Options', 'nosniff');
    await next();
  };
}
