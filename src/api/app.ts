import Koa from 'koa';
import type Router from '@koa/router';
import type { Logger } from 'pino';
import { problemHandler } from './middleware/problem-handler';
import { requestContext, type RequestState } from './middleware/request-context';

/**
 * Builds the Koa application from its routers. Knows nothing about MongoDB or RabbitMQ: the routers get
 * their dependencies from the composition root (src/main.ts) or from a test.
 */
export function createApp(options: {
  logger: Logger;
  routers: Router<RequestState>[];
  proxy?: boolean;
}): Koa<RequestState> {
  const app = new Koa<RequestState>({ proxy: options.proxy ?? false });
  app.silent = true; // errors are logged by problemHandler with the request id
  app.use(requestContext(options.logger));
  app.use(problemHandler());
  for (const router of options.routers) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  return app;
}
