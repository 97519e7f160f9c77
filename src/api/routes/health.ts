import Router from '@koa/router';
import type { RequestState } from '../middleware/request-context';
import { problems } from '../problem';

/** What readiness depends on; each check throws (or returns false) with the reason when not ready. */
export interface ReadinessChecks {
  [part: string]: () => Promise<void>;
}

export function healthRoutes(checks: ReadinessChecks): Router<RequestState> {
  const router = new Router<RequestState>();

  // Liveness: the process answers. Never touches dependencies, so a database outage does not get us killed.
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });

  // Readiness: every dependency answers now; a load balancer stops sending traffic while one does not.
  router.get('/readyz', async (ctx) => {
    const results = await Promise.all(
      Object.entries(checks).map(async ([part, check]) => {
        try {
          await check();
          return { part, ok: true as const };
        } catch (err) {
          return { part, ok: false as const, reason: (err as Error)?.message ?? String(err) };
        }
      }),
    );
    const failing = results.filter((r) => !r.ok);
    const parts = Object.fromEntries(results.map((r) => [r.part, r.ok ? 'ok' : r.reason]));
    if (failing.length > 0) {
      throw problems.unavailable(`Not ready: ${failing.map((f) => f.part).join(', ')}.`, { checks: parts });
    }
    ctx.body = { status: 'ready', checks: parts };
  });

  return router;
}
