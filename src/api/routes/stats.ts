import Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import { listCenterStates, type CenterStateRepository } from '../../centers/health';
import { capacityDay, type CapacityLedger } from '../../centers/routing';
import { isNegativeCode, isTerminal, statusLabel } from '../../domain/status';
import type { MessageType } from '../../domain/message-types';
import type { DeclarationFilter, DeclarationStore } from '../../store/contracts';
import { eventIdFloor } from '../live-events';
import { registerRoute } from '../openapi';
import { parseQuery, principalOf, toSummary, visibleSellers, type AuthedState } from './broker';

/**
 * `GET /v1/stats`: what a broker watches. Every figure comes from single-collection queries (history
 * entries via eventsSince, stuck declarations, the capacity counters, center states) plus RabbitMQ queue
 * depths — no joins, so it runs on FerretDB v1. Declaration figures are limited to the caller's sellers;
 * center figures (backlog, capacity, interruption) are operational and the same for everyone.
 */

export interface QueueDepth {
  messageCount: number;
  consumerCount?: number;
}

export interface StatsCenter {
  code: string;
  name?: { zh: string; en: string };
  dailyCapacity: number;
}

export interface StatsRouteDeps {
  declarations: Pick<DeclarationStore, 'eventsSince' | 'stuck'>;
  centers: readonly StatsCenter[];
  /** Ready messages (and consumers) on a center's queue, e.g. amqp.withChannel(ch => ch.checkQueue(queue)). */
  queueDepth: (center: string) => Promise<QueueDepth | number>;
  capacity: Pick<CapacityLedger, 'usedOn'>;
  centerStates: CenterStateRepository;
  auth: Middleware<AuthedState>;
  /** Most history entries one stats request reads for throughput and rejections. */
  maxEvents?: number;
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

export interface Stats {
  generatedAt: string;
  windowMinutes: number;
  throughput: {
    perMinute: { minute: string; accepted: number; final: number }[];
    accepted: number;
    final: number;
    /** More history entries than one request reads: the oldest minutes are incomplete. */
    truncated: boolean;
  };
  centers: {
    center: string;
    name?: { zh: string; en: string };
    backlog: { messages: number; consumers?: number } | { error: string };
    capacity: { day: string; daily: number; used: number; remaining: number };
    state: { status: string; reason?: string; since?: string; checkedAt?: string };
  }[];
  stuck: {
    thresholdSeconds: number;
    total: number;
    byStatus: Record<string, number>;
    items: {
      id: string;
      orderNo: string;
      sellerId: string;
      messageType: string;
      center: string;
      status: string;
      label: { zh: string; en: string };
      since: string;
      ageSeconds: number;
    }[];
  };
  rejections: {
    total: number;
    reasons: { code: string; text: string; count: number; label: { zh: string; en: string } }[];
  };
}

export function statsRoutes(deps: StatsRouteDeps): Router<AuthedState> {
  const router = new Router<AuthedState>();
  const now = deps.now ?? (() => new Date());
  const cacheMs = deps.cacheMs ?? 2000;
  const cache = new Map<string, { at: number; value: Promise<Stats> }>();

  router.get('/v1/stats', deps.auth, async (ctx) => {
    const principal = principalOf(ctx);
    const query = parseQuery(statsQuerySchema, ctx.query);
    const sellerIds = visibleSellers(principal);
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

export async function computeStats(
  deps: StatsRouteDeps,
  sellerIds: string[] | undefined,
  minutes: number,
  stuckAfterSeconds: number,
  at: Date,
): Promise<Stats> {
  const filter: DeclarationFilter = sellerIds ? { sellerIds } : {};
  const none = sellerIds !== undefined && sellerIds.length === 0;
  const [history, centers, stuck] = await Promise.all([
    none ? emptyHistory(minutes, at) : recentHistory(deps, filter, minutes, at),
    centerFigures(deps, at),
    none ? [] : deps.declarations.stuck(new Date(at.getTime() - stuckAfterSeconds * 1000), filter),
  ]);
  const byStatus: Record<string, number> = {};
  for (const d of stuck) byStatus[d.status] = (byStatus[d.status] ?? 0) + 1;
  const items = stuck
    .map(toSummary)
    .sort((a, b) => a.updatedAt.localeCompare(b.updatedAt))
    .slice(0, 100)
    .map((d) => ({
      id: d.id,
      orderNo: d.orderNo,
      sellerId: d.sellerId,
      messageType: d.messageType,
      center: d.center,
      status: d.status,
      label: d.label,
      since: d.updatedAt,
      ageSeconds: Math.round((at.getTime() - Date.parse(d.updatedAt)) / 1000),
    }));
  return {
    generatedAt: at.toISOString(),
    windowMinutes: minutes,
    throughput: history.throughput,
    centers,
    stuck: { thresholdSeconds: stuckAfterSeconds, total: stuck.length, byStatus, items },
    rejections: history.rejections,
  };
}

function minuteBuckets(minutes: number, at: Date): Map<number, { accepted: number; final: number }> {
  const current = Math.floor(at.getTime() / 60_000);
  const buckets = new Map<number, { accepted: number; final: number }>();
  for (let m = current - minutes + 1; m <= current; m++) buckets.set(m, { accepted: 0, final: 0 });
  return buckets;
}

function emptyHistory(minutes: number, at: Date): Pick<Stats, 'throughput' | 'rejections'> {
  const perMinute = [...minuteBuckets(minutes, at)].map(([m, v]) => ({
    minute: new Date(m * 60_000).toISOString(),
    ...v,
  }));
  return { throughput: { perMinute, accepted: 0, final: 0, truncated: false }, rejections: { total: 0, reasons: [] } };
}

/** Throughput per minute and rejection reasons from the history entries of the last `minutes`. */
async function recentHistory(
  deps: StatsRouteDeps,
  filter: DeclarationFilter,
  minutes: number,
  at: Date,
): Promise<Pick<Stats, 'throughput' | 'rejections'>> {
  const maxEvents = deps.maxEvents ?? 50_000;
  const buckets = minuteBuckets(minutes, at);
  const first = Math.min(...buckets.keys());
  const reasons = new Map<string, { code: string; text: string; count: number }>();
  let cursor = eventIdFloor(first * 60_000);
  let read = 0;
  let truncated = false;
  const pageSize = 1000;
  for (;;) {
    const page = await deps.declarations.eventsSince(cursor, pageSize, filter);
    for (const { declaration, event } of page) {
      cursor = event.eventId;
      read += 1;
      const minute = Math.floor(new Date(event.at).getTime() / 60_000);
      const bucket = buckets.get(minute);
      if (bucket) {
        if (event.status === 'accepted') bucket.accepted += 1;
        if (isTerminal(event.status, declaration.messageType as MessageType)) bucket.final += 1;
      }
      if (event.status === '100' || isNegativeCode(event.status)) {
        const text = (event.info ?? '').slice(0, 300);
        const key = `${event.status}\u0000${text}`;
        const reason = reasons.get(key) ?? { code: event.status, text, count: 0 };
        reason.count += 1;
        reasons.set(key, reason);
      }
    }
    if (page.length < pageSize) break;
    if (read >= maxEvents) {
      truncated = true;
      break;
    }
  }
  const perMinute = [...buckets].map(([m, v]) => ({ minute: new Date(m * 60_000).toISOString(), ...v }));
  const sorted = [...reasons.values()].sort((a, b) => b.count - a.count || a.code.localeCompare(b.code)).slice(0, 50);
  return {
    throughput: {
      perMinute,
      accepted: perMinute.reduce((a, b) => a + b.accepted, 0),
      final: perMinute.reduce((a, b) => a + b.final, 0),
      truncated,
    },
    rejections: {
      total: sorted.reduce((a, b) => a + b.count, 0),
      reasons: sorted.map((r) => ({ ...r, label: statusLabel(r.code) })),
    },
  };
}

async function centerFigures(deps: StatsRouteDeps, at: Date): Promise<Stats['centers']> {
  const day = capacityDay(at);
  const codes = deps.centers.map((c) => c.code);
  const [used, states, depths] = await Promise.all([
    deps.capacity.usedOn(day, codes),
    listCenterStates(deps.centerStates, deps.centers),
    Promise.all(
      codes.map(async (code) => {
        try {
          const depth = await deps.queueDepth(code);
          return typeof depth === 'number'
            ? { messages: depth }
            : {
                messages: depth.messageCount,
                ...(depth.consumerCount !== undefined ? { consumers: depth.consumerCount } : {}),
              };
        } catch (err) {
          return { error: (err as Error)?.message ?? String(err) };
        }
      }),
    ),
  ]);
  return deps.centers.map((c, i) => {
    const state = states[i];
    const usedToday = used[c.code] ?? 0;
    return {
      center: c.code,
      ...(c.name ? { name: c.name } : {}),
      backlog: depths[i] ?? { error: 'not checked' },
      capacity: { day, daily: c.dailyCapacity, used: usedToday, remaining: Math.max(0, c.dailyCapacity - usedToday) },
      state:
        state && state.status !== 'unknown' && 'since' in state
          ? {
              status: state.status,
              ...(state.reason ? { reason: state.reason } : {}),
              since: new Date(state.since).toISOString(),
              checkedAt: new Date(state.checkedAt).toISOString(),
            }
          : { status: 'unknown' },
    };
  });
}

const label = z.object({ zh: z.string(), en: z.string() });

export const statsSchema = z.object({
  generatedAt: z.string(),
  windowMinutes: z.number().int(),
  throughput: z.object({
    perMinute: z.array(z.object({ minute: z.string(), accepted: z.number().int(), final: z.number().int() })),
    accepted: z.number().int(),
    final: z.number().int(),
    truncated: z.boolean(),
  }),
  centers: z.array(
    z.object({
      center: z.string(),
      name: label.optional(),
      backlog: z.union([
        z.object({ messages: z.number().int(), consumers: z.number().int().optional() }),
        z.object({ error: z.string() }),
      ]),
      capacity: z.object({
        day: z.string(),
        daily: z.number().int(),
        used: z.number().int(),
        remaining: z.number().int(),
      }),
      state: z.object({
        status: z.string(),
        reason: z.string().optional(),
        since: z.string().optional(),
        checkedAt: z.string().optional(),
      }),
    }),
  ),
  stuck: z.object({
    thresholdSeconds: z.number().int(),
    total: z.number().int(),
    byStatus: z.record(z.string(), z.number().int()),
    items: z.array(
      z.object({
        id: z.string(),
        orderNo: z.string(),
        sellerId: z.string(),
        messageType: z.string(),
        center: z.string(),
        status: z.string(),
        label,
        since: z.string(),
        ageSeconds: z.number(),
      }),
    ),
  }),
  rejections: z.object({
    total: z.number().int(),
    reasons: z.array(z.object({ code: z.string(), text: z.string(), count: z.number().int(), label })),
  }),
});

registerRoute({
  method: 'GET',
  path: '/v1/stats',
  summary: 'Throughput, center backlog/capacity/state, stuck declarations, rejection reasons',
  description:
    'Throughput counts declarations accepted and reaching a final status per minute over the last `minutes`. Centers: RabbitMQ backlog, capacity left today (China Standard Time) and interruption state. ' +
    "Stuck: non-final declarations without a change for `stuckAfter` seconds (default 600). Rejections: customs 100 and negative codes in the window, grouped by code and text. Declaration figures cover the caller's sellers only.",
  tags: ['broker'],
  roles: ['seller', 'broker', 'admin'],
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
