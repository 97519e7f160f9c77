import { randomUUID } from 'node:crypto';
import type { BaygateOrder } from '../../../src/domain/order';
import { generateValidOrder } from '../order-generator';

/**
 * Steady load for the chaos tests: generated VALID orders (each a unique orderNo and its own buyer, so
 * neither the idempotency key nor the buyers' limits interfere) posted over HTTP at a fixed rate, the way a
 * careful seller's client would: an order whose request failed without an answer (connection refused or
 * reset, timeout) or was answered 429/503/409 is sent again later with the same content, half of them with
 * an Idempotency-Key. Every answer is recorded per phase; every 202's declaration ids are kept for the
 * checker.
 */
export const IMPORT_TYPES = ['CEB311', 'CEB411', 'CEB511', 'CEB621'] as const;
export const EXPORT_TYPES = ['CEB303', 'CEB505', 'CEB603'] as const;

export type AttemptOutcome = number | 'refused' | 'reset' | 'timeout';

export interface OrderRecord {
  orderNo: string;
  platformCode: string;
  direction: 'import' | 'export';
  expectedTypes: readonly string[];
  idempotencyKey?: string;
  attempts: { phase: string; outcome: AttemptOutcome }[];
  /** 'accepted' or 'duplicate' once a 202 listed it, 'rejected' on a 4xx for it, 'gave-up' after the last retry. */
  result?: 'accepted' | 'duplicate' | 'rejected' | 'gave-up';
  declarations: { id: string; messageType: string }[];
  rejection?: string;
}

export interface PhaseStats {
  requests: number;
  byStatus: Record<string, number>;
  refused: number;
  reset: number;
  timeout: number;
  /** Answers that break the contract: 5xx other than 503, non-problem error bodies, 2xx without declarations. */
  violations: string[];
  latenciesMs: number[];
}

export interface LoadOptions {
  base: string;
  authorization: string;
  ordersPerSecond: number;
  seedBase: number;
  /** Requests in flight at most; beyond that the tick waits (the rate is then what the system takes). */
  maxInFlight?: number;
  requestTimeoutMs?: number;
  maxAttempts?: number;
  retryDelayMs?: number;
}

const RETRIABLE_STATUS = new Set([409, 429, 503]);

function connectionFailure(err: unknown): 'refused' | 'reset' | 'timeout' {
  const e = err as { name?: string; cause?: { code?: string; name?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || e.cause?.name === 'TimeoutError') return 'timeout';
  if (e.cause?.code === 'ECONNREFUSED') return 'refused';
  return 'reset';
}

export class LoadGenerator {
  readonly orders = new Map<string, OrderRecord>();
  readonly phases = new Map<string, PhaseStats>();
  phase = 'warm-up';
  private next = 0;
  private inFlight = 0;
  private timer?: NodeJS.Timeout;
  private readonly pending = new Set<Promise<void>>();
  private readonly retryQueue: { record: OrderRecord; order: BaygateOrder; due: number }[] = [];
  private started = 0;
  private launched = 0;
  private stopping = false;

  constructor(private readonly options: LoadOptions) {}

  private stats(): PhaseStats {
    let s = this.phases.get(this.phase);
    if (!s) {
      s = { requests: 0, byStatus: {}, refused: 0, reset: 0, timeout: 0, violations: [], latenciesMs: [] };
      this.phases.set(this.phase, s);
    }
    return s;
  }

  start(): void {
    this.started = Date.now();
    this.timer = setInterval(() => this.tick(), 20);
  }

  /** Stops new orders; keeps retrying the ones in the retry queue until `drainMs` has passed. */
  async stop(drainMs = 30000): Promise<void> {
    this.stopping = true;
    const deadline = Date.now() + drainMs;
    while ((this.retryQueue.length > 0 || this.pending.size > 0) && Date.now() < deadline) {
      this.tick();
      await new Promise((r) => setTimeout(r, 100));
    }
    if (this.timer) clearInterval(this.timer);
    await Promise.allSettled([...this.pending]);
    for (const r of this.retryQueue.splice(0)) r.record.result ??= 'gave-up';
  }

  private tick(): void {
    const max = this.options.maxInFlight ?? 64;
    const now = Date.now();
    while (this.retryQueue.length > 0 && (this.retryQueue[0]?.due ?? Infinity) <= now && this.inFlight < max) {
      const retry = this.retryQueue.shift();
      if (retry) this.launch(retry.record, retry.order);
    }
    if (this.stopping) return;
    const due = Math.floor(((now - this.started) / 1000) * this.options.ordersPerSecond);
    while (this.launched < due && this.inFlight < max) {
      this.launched++;
      const order = this.generate();
      const record: OrderRecord = {
        orderNo: order.orderNo,
        platformCode: order.ebpCode,
        direction: order.direction,
        expectedTypes: order.direction === 'import' ? IMPORT_TYPES : EXPORT_TYPES,
        ...(this.next % 2 === 0 ? { idempotencyKey: `chaos-${randomUUID()}` } : {}),
        attempts: [],
        declarations: [],
      };
      this.orders.set(record.orderNo, record);
      this.launch(record, order);
    }
    // When the system is slower than the rate, do not build up an unbounded debt of orders.
    if (this.launched < due - this.options.ordersPerSecond * 2) this.launched = due - this.options.ordersPerSecond * 2;
  }

  private generate(): BaygateOrder {
    for (;;) {
      const order = generateValidOrder(this.options.seedBase + this.next++);
      if (!this.orders.has(order.orderNo)) return order;
    }
  }

  private launch(record: OrderRecord, order: BaygateOrder): void {
    this.inFlight++;
    const p = this.send(record, order).finally(() => {
      this.inFlight--;
      this.pending.delete(p);
    });
    this.pending.add(p);
  }

  private async send(record: OrderRecord, order: BaygateOrder): Promise<void> {
    const stats = this.stats();
    const phase = this.phase;
    stats.requests++;
    const started = Date.now();
    let outcome: AttemptOutcome;
    try {
      const res = await fetch(`${this.options.base}/v1/orders`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: this.options.authorization,
          ...(record.idempotencyKey ? { 'idempotency-key': record.idempotencyKey } : {}),
        },
        body: JSON.stringify(order),
        signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 30000),
      });
      const text = await res.text();
      stats.latenciesMs.push(Date.now() - started);
      outcome = res.status;
      stats.byStatus[res.status] = (stats.byStatus[res.status] ?? 0) + 1;
      record.attempts.push({ phase, outcome });
      this.judge(record, res, text, stats);
    } catch (err) {
      outcome = connectionFailure(err);
      stats[outcome]++;
      record.attempts.push({ phase, outcome });
    }
    const answered = typeof outcome === 'number';
    if (
      record.result === undefined &&
      (!answered || RETRIABLE_STATUS.has(outcome as number) || (outcome as number) >= 500)
    ) {
      if (record.attempts.length >= (this.options.maxAttempts ?? 40)) record.result = 'gave-up';
      else this.retryQueue.push({ record, order, due: Date.now() + (this.options.retryDelayMs ?? 1000) });
    }
  }

  private judge(record: OrderRecord, res: Response, text: string, stats: PhaseStats): void {
    const type = res.headers.get('content-type') ?? '';
    if (res.status === 202) {
      let body: {
        orders?: {
          orderNo?: string;
          outcome?: string;
          declarations?: { id: string; messageType: string }[];
          errors?: unknown[];
        }[];
      };
      try {
        body = JSON.parse(text) as typeof body;
      } catch {
        stats.violations.push(`202 with a body that is not JSON: ${text.slice(0, 120)}`);
        return;
      }
      const mine = body.orders?.find((o) => o.orderNo === record.orderNo) ?? body.orders?.[0];
      if (!mine || (mine.outcome !== 'accepted' && mine.outcome !== 'duplicate') || !mine.declarations?.length) {
        stats.violations.push(`202 without declarations for ${record.orderNo}: ${text.slice(0, 200)}`);
        return;
      }
      record.result = mine.outcome;
      record.declarations = mine.declarations.map((d) => ({ id: d.id, messageType: d.messageType }));
      return;
    }
    if (res.status >= 400 && !/^application\/problem\+json/.test(type))
      stats.violations.push(`${res.status} answered as ${type || 'no content type'}: ${text.slice(0, 120)}`);
    if (res.status >= 500 && res.status !== 503)
      stats.violations.push(`${res.status} for ${record.orderNo}: ${text.slice(0, 300)}`);
    if (res.status >= 200 && res.status < 300)
      stats.violations.push(`unexpected ${res.status} for an order: ${text.slice(0, 120)}`);
    if (res.status >= 400 && res.status < 500 && !RETRIABLE_STATUS.has(res.status)) {
      record.result = 'rejected';
      record.rejection = `${res.status} ${text.slice(0, 300)}`;
    }
  }

  /** One line per phase: requests, answers by status, connection failures, p50/p99 latency. */
  summary(): string[] {
    return [...this.phases.entries()].map(([name, s]) => {
      const sorted = [...s.latenciesMs].sort((a, b) => a - b);
      const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
      const statuses = Object.entries(s.byStatus)
        .map(([k, v]) => `${k}:${v}`)
        .join(' ');
      return `${name.padEnd(16)} requests=${s.requests} ${statuses} refused=${s.refused} reset=${s.reset} timeout=${s.timeout} p50=${q(0.5)}ms p99=${q(0.99)}ms violations=${s.violations.length}`;
    });
  }

  violations(): string[] {
    return [...this.phases.entries()].flatMap(([name, s]) => s.violations.map((v) => `[${name}] ${v}`));
  }
}
