import { z } from 'zod';
import { listCenterStates, type CenterStateRepository } from '../../centers/health';
import { capacityDay, type CapacityLedger } from '../../centers/routing';
import type { MessageType } from '../../domain/message-types';
import { isNegativeCode, isTerminal, statusLabel } from '../../domain/status';
import type { DeclarationFilter, DeclarationStore } from '../../store/contracts';
import { eventIdFloor } from '../live-events';
import { toSummary } from './declaration';

/**
 * The figures of GET /v1/stats. Every one comes from single-collection queries (history entries via
 * eventsSince, stuck declarations, the capacity counters, center states) plus RabbitMQ queue depths — no
 * joins, so it runs on FerretDB v1. Declaration figures cover the sellers given (the caller's, by the
 * access policy); center figures (backlog, capacity, interruption) are operational and the same for
 * everyone.
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

/** Where the figures come from. */
export interface StatsSources {
  declarations: Pick<DeclarationStore, 'eventsSince' | 'stuck'>;
  centers: readonly StatsCenter[];
  /** Ready messages (and consumers) on a center's queue, e.g. amqp.withChannel(ch => ch.checkQueue(queue)). */
  queueDepth: (center: string) => Promise<QueueDepth | number>;
  capacity: Pick<CapacityLedger, 'usedOn'>;
  centerStates: CenterStateRepository;
  /** Most history entries one stats request reads for throughput and rejections. */
  maxEvents?: number;
}

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

export async function computeStats(
  deps: StatsSources,
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
  deps: StatsSources,
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

async function centerFigures(deps: StatsSources, at: Date): Promise<Stats['centers']> {
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
