import Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import { readableSellers } from '../auth/policy';
import { registerRoute } from '../openapi';
import { computeStats, statsSchema, type Stats, type StatsSources } from '../presenters/stats';
import { parseQuery } from '../query';
import { principalOf, type RequestState } from '../state';

/**
 * `GET /v1/stats`: what a broker watches (src/api/presenters/stats.ts computes it). Declaration figures
 * are limited to the sellers the access policy lets the caller read.
 */
export type { QueueDepth, Stats, StatsCenter } from '../presenters/stats';

export interface StatsRouteDeps extends StatsSources {
  /** Authentication and the access policy's check (auth.guard('declarations.read')). */
  auth: Middleware<RequestState>;
  /** Results are reused for this long per caller view (dashboards poll). */
  cacheMs?: number;
  now?: () => Date;
}

const statsQuerySchema = z.object({
  minutes: z.coerce
    .number()
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(1440, 'must be at most 1440')
    .default(60),
  stuckAfter: z.coerce
    .number()
    .int('must be an integer')
    .min(1, 'must be at least 1 second')
    .max(30 * 86_400, 'must be at most 30 days')
    .default(600),
});

export function statsRoutes(deps: StatsRouteDeps): Router<RequestState> {
  const router = new Router<RequestState>();
  const now = deps.now ?? (() => new Date());
  const cacheMs = deps.cacheMs ?? 2000;
  const cache = new Map<string, { at: number; value: Promise<Stats> }>();

  router.get('/v1/stats', deps.auth, async (ctx) => {
    const query = parseQuery(statsQuerySchema, ctx.query);
    const readable = readableSellers(principalOf(ctx));
    const sellerIds = readable === 'all' ? undefined : [...readable];
    const key = JSON.stringify([sellerIds ?? '*', query.minutes, query.stuckAfter]);
    const t = Date.now();
    for (const [k, v] of cache) if (t - v.at > cacheMs) cache.delete(k);
    let entry = cache.get(key);
    if (!entry) {
      entry = { at: t, value: computeStats(deps, sellerIds, query.minutes, query.stuckAfter, now()) };
      cache.set(key, entry);
      entry.value.catch(() => cache.delete(key));
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await entry.value;
  });

  return router;
}

registerRoute({
  method: 'GET',
  path: '/v1/stats',
  summary: 'Throughput, center backlog/capacity/state, stuck declarations, rejection reasons',
  description:
    'Throughput counts declarations accepted and reaching a final status per minute over the last `minutes`. Centers: RabbitMQ backlog, capacity left today (China Standard Time) and interruption state. ' +
    "Stuck: non-final declarations without a change for `stuckAfter` seconds (default 600). Rejections: customs 100 and negative codes in the window, grouped by code and text. Declaration figures cover the caller's sellers only.",
  tags: ['broker'],
  access: 'declarations.read',
  query: statsQuerySchema,
  responses: {
    200: {
      description: 'The figures.',
      content: {
        'application/json': {
          schema: statsSchema,
          example: {
            generatedAt: '2026-11-28T09:31:00.000Z',
            windowMinutes: 2,
            throughput: {
              perMinute: [
                { minute: '2026-11-28T09:30:00.000Z', accepted: 12, final: 9 },
                { minute: '2026-11-28T09:31:00.000Z', accepted: 3, final: 1 },
              ],
              accepted: 15,
              final: 10,
              truncated: false,
            },
            centers: [
              {
                center: 'GD',
                name: {
                  zh: '广东跨境电商通关服务中心（广州）',
                  en: 'Guangdong Cross-border Clearance Center (Guangzhou)',
                },
                backlog: { messages: 4, consumers: 1 },
                capacity: { day: '2026-11-28', daily: 200000, used: 1520, remaining: 198480 },
                state: {
                  status: 'available',
                  since: '2026-11-28T08:00:00.000Z',
                  checkedAt: '2026-11-28T09:30:58.000Z',
                },
              },
            ],
            stuck: {
              thresholdSeconds: 600,
              total: 1,
              byStatus: { queued: 1 },
              items: [
                {
                  id: '0b6f3f0e-4c1a-4c7e-9d43-5a3c1f2e9a73',
                  orderNo: 'BG20261128GZ000101',
                  sellerId: 'seller-gd',
                  messageType: 'CEB621',
                  center: 'GD',
                  status: 'queued',
                  label: { zh: '已入队', en: 'queued for the clearance center' },
                  since: '2026-11-28T09:10:00.000Z',
                  ageSeconds: 1260,
                },
              ],
            },
            rejections: {
              total: 2,
              reasons: [
                {
                  code: '-621005',
                  text: '超过单次交易限值',
                  count: 2,
                  label: { zh: '业务错误', en: 'customs error -621005' },
                },
              ],
            },
          },
        },
      },
    },
    400: { description: 'Invalid minutes or stuckAfter.', problem: true },
  },
});
