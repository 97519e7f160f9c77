import type { Logger } from 'pino';
import type { AmqpClient } from '../queue/amqp';
import type { CenterAvailability, CenterState, CenterStateRepository } from '../store/center-states';

export type { CenterAvailability, CenterState, CenterStateRepository } from '../store/center-states';

/**
 * Clearance-center health: every `intervalMs` each center's queue is inspected (checkQueue: consumers and
 * ready messages). A center is marked interrupted when, for `consecutiveChecks` checks in a row, its
 * queue has no consumer, or its backlog is above the center's `interruptionBacklog` and not shrinking.
 * A missing queue marks it interrupted at once. It is available again as soon as a check sees a consumer
 * and a backlog at or below the threshold (or one that is draining).
 *
 * The state lives in the center-state repository (src/store/center-states.ts, one document per center),
 * so every gateway and worker copy routes with the same view and brokers can list it.
 */

export type QueueObservation = { consumerCount: number; messageCount: number } | { missing: true; error: string };

export interface HealthPolicy {
  /** Backlog threshold of this center (ready messages). */
  interruptionBacklog: number;
  consecutiveChecks: number;
}

/** Pure: the next state of a center from its previous state and one observation. */
export function assessCenter(
  center: string,
  previous: CenterState | undefined,
  observation: QueueObservation,
  policy: HealthPolicy,
  at: Date = new Date(),
): CenterState {
  const prevStatus: CenterAvailability = previous?.status ?? 'available';
  const changed = (status: CenterAvailability) => (status === prevStatus && previous ? previous.since : at);
  if ('missing' in observation) {
    return {
      center,
      status: 'interrupted',
      reason: `queue missing: ${observation.error}`,
      consumerCount: 0,
      messageCount: 0,
      noConsumerStreak: (previous?.noConsumerStreak ?? 0) + 1,
      backlogStreak: 0,
      since: changed('interrupted'),
      checkedAt: at,
    };
  }
  const { consumerCount, messageCount } = observation;
  const noConsumerStreak = consumerCount === 0 ? (previous?.noConsumerStreak ?? 0) + 1 : 0;
  const overThreshold = messageCount > policy.interruptionBacklog;
  const draining = previous !== undefined && messageCount < previous.messageCount;
  const backlogStreak = overThreshold && !draining ? (previous?.backlogStreak ?? 0) + 1 : 0;
  let status: CenterAvailability = 'available';
  let reason: string | undefined;
  if (noConsumerStreak >= policy.consecutiveChecks) {
    status = 'interrupted';
    reason = `no consumer on its queue for ${noConsumerStreak} consecutive checks`;
  } else if (backlogStreak >= policy.consecutiveChecks) {
    status = 'interrupted';
    reason = `backlog ${messageCount} above the threshold ${policy.interruptionBacklog} for ${backlogStreak} consecutive checks`;
  } else if (prevStatus === 'interrupted' && (consumerCount === 0 || (overThreshold && !draining))) {
    // Not recovered yet: stay interrupted until a check shows a consumer and a healthy backlog.
    status = 'interrupted';
    reason = previous?.reason;
  }
  return {
    center,
    status,
    ...(reason ? { reason } : {}),
    consumerCount,
    messageCount,
    noConsumerStreak,
    backlogStreak,
    since: changed(status),
    checkedAt: at,
  };
}

export interface MonitoredCenter {
  code: string;
  queue: string;
  interruptionBacklog: number;
}

export interface HealthMonitorOptions {
  amqp: AmqpClient;
  centers: readonly MonitoredCenter[];
  store: CenterStateRepository;
  logger: Logger;
  intervalMs?: number;
  consecutiveChecks?: number;
}

export interface CenterStateView extends CenterState {
  name?: { zh: string; en: string };
}

export class CenterHealthMonitor {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;

  constructor(private readonly options: HealthMonitorOptions) {}

  /** One round over every center. Skipped (returns []) while RabbitMQ is not connected: no news is not bad news. */
  async checkOnce(at: Date = new Date()): Promise<CenterState[]> {
    const { amqp, store, logger } = this.options;
    if (!amqp.isReady) return [];
    const out: CenterState[] = [];
    for (const center of this.options.centers) {
      let observation: QueueObservation;
      try {
        const q = await amqp.withChannel((ch) => ch.checkQueue(center.queue));
        observation = { consumerCount: q.consumerCount, messageCount: q.messageCount };
      } catch (err) {
        const message = (err as Error).message;
        if (!/NOT_FOUND|404/.test(message)) {
          logger.warn({ center: center.code, err: message }, 'center queue check failed; state unchanged');
          continue;
        }
        observation = { missing: true, error: message.replace(/^Operation failed: QueueDeclare; /, '') };
      }
      const previous = await store.get(center.code);
      const next = assessCenter(
        center.code,
        previous,
        observation,
        { interruptionBacklog: center.interruptionBacklog, consecutiveChecks: this.options.consecutiveChecks ?? 2 },
        at,
      );
      // Another monitor may have stored a newer check meanwhile: then this one is dropped, and not logged.
      if (!(await store.put(next))) continue;
      if (next.status !== (previous?.status ?? 'available')) {
        const log = next.status === 'interrupted' ? logger.warn.bind(logger) : logger.info.bind(logger);
        log(
          {
            center: center.code,
            status: next.status,
            reason: next.reason,
            consumers: next.consumerCount,
            backlog: next.messageCount,
          },
          `clearance center ${center.code} is now ${next.status}`,
        );
      }
      out.push(next);
    }
    return out;
  }

  start(): void {
    if (this.timer) return;
    const tick = () => {
      this.running = this.checkOnce().catch((err: unknown) =>
        this.options.logger.warn({ err: (err as Error).message }, 'center health check failed'),
      );
    };
    tick();
    this.timer = setInterval(tick, this.options.intervalMs ?? 5000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}

/** Every center of the registry with its stored state (centers never checked show as available, unchecked). */
export async function listCenterStates(
  store: CenterStateRepository,
  centers: readonly { code: string; name?: { zh: string; en: string } }[],
): Promise<(CenterStateView | { center: string; status: 'unknown'; name?: { zh: string; en: string } })[]> {
  const states = new Map((await store.list()).map((s) => [s.center, s]));
  return centers.map((c) => {
    const s = states.get(c.code);
    return s
      ? { ...s, ...(c.name ? { name: c.name } : {}) }
      : { center: c.code, status: 'unknown' as const, ...(c.name ? { name: c.name } : {}) };
  });
}
