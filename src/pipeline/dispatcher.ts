import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { MessageType } from '../domain/message-types';
import { MessageBuildError } from '../mapping/message-builder';
import { SigningError } from '../signing/errors';
import type { XmlSigner } from '../signing/signers/types';
import type { ClaimedDeclaration, DeclarationStore } from '../store/contracts';

/**
 * The dispatch worker's loop: claim due declarations (atomic lease), build and sign each once, publish it
 * persistently on a confirm channel, and mark it queued only after the broker's ack.
 *
 * Why it cannot lose or duplicate a declaration:
 * - a declaration is claimed with a lease; a crashed worker's claims come back when the lease expires;
 * - the signed manifest is stored before the first publish, so a retry re-sends the very same bytes and
 *   guid (messageId), and the center de-duplicates by guid: a publish that happened but was not marked
 *   (crash between ack and mark) only causes a harmless duplicate delivery;
 * - "queued" is written after the confirm and only while this worker still holds the lease.
 *
 * Why it cannot stall: every await of a cycle is bounded by `stepTimeoutMs` (each store call, the signature,
 * the publish; the AMQP client fails an unconfirmed publish far earlier). A step that does not settle in
 * time fails like any other error: a declaration's sign, mark or publish goes to the normal retry path and
 * is NOT marked queued; a claim or the final markQueued fails the cycle, the loop backs off and goes on.
 * What the abandoned call may still do later is safe by the rules above: a late claim's lease expires, a
 * late signature is dropped (or, from a late markSigned, is the one every retry re-sends), a late publish is
 * a duplicate the center ignores, a late markQueued only marks what the broker confirmed.
 * `health()` tells how long ago a cycle ended and what the one in progress waits for; a cycle slower than
 * `slowCycleMs` (the lease by default: past it, other workers may claim the same declarations again) is
 * logged with the time each step took, and a progress line is logged every `progressLogMs`.
 */
export interface ManifestPublisher {
  /** Resolves after the broker's confirm; rejects (e.g. UnroutableError) otherwise. */
  publish(center: string, body: Buffer, meta: PublishMeta): Promise<void>;
}

export interface PublishMeta {
  messageGuid: string;
  declarationId: string;
  messageType: MessageType;
  requestId: string;
  contentType: string;
}

export interface ManifestBuilder {
  /** Builds the canonical unsigned CEB XML for a claimed declaration. */
  build(claim: ClaimedDeclaration): { xml: string; guid: string };
}

export interface SignerProvider {
  signerFor(center: string, messageType: MessageType): XmlSigner;
}

/** Turns a signed CEB into what goes on the wire for a center (plain XML, or a DXP envelope). */
export type ManifestEncoder = (
  center: string,
  signedXml: string,
  meta: { messageGuid: string; messageType: MessageType },
) => { body: Buffer; contentType: string };

export interface DispatcherOptions {
  store: DeclarationStore;
  builder: ManifestBuilder;
  signers: SignerProvider;
  publisher: ManifestPublisher;
  encode?: ManifestEncoder;
  logger: Logger;
  owner?: string;
  leaseMs?: number;
  batchSize?: number;
  /** Idle wait between empty polls. */
  pollMs?: number;
  /** Attempts before a declaration is given up into `failed`. */
  maxAttempts?: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** Bound on each awaited step: store call, signature, publish (default: 4 × the lease, at least 2 min). */
  stepTimeoutMs?: number;
  /** A cycle slower than this is logged with its step timings (default: the lease). */
  slowCycleMs?: number;
  /** Interval of the progress log line and of the stalled-cycle check (default 60 s; 0: no progress line). */
  progressLogMs?: number;
  /** Called once a declaration is given up into `failed` (gives the buyer's annual allowance back). */
  onFailed?: (claim: ClaimedDeclaration) => Promise<void>;
  /** Hooks for metrics. */
  onSigned?: (ms: number, messageType: MessageType) => void;
  onPublished?: (ok: boolean, center: string) => void;
}

/** One claim-build-sign-publish-mark cycle, as it ended. */
interface CycleReport {
  ok: boolean;
  ms: number;
  claimed: number;
  /** Declarations confirmed by the broker in this cycle. */
  confirmed: number;
  /** Declarations moved to "queued" (confirmed minus those whose lease was taken over meanwhile). */
  queued: number;
  /** Milliseconds spent claiming, dispatching (build, sign, mark signed, publish) and marking queued. */
  steps: { claim: number; dispatch: number; markQueued: number };
  error?: string;
}

/** The dispatch loop's liveness, for /readyz and the metrics. */
export interface DispatcherHealth {
  running: boolean;
  /** Cycles ended (successfully or not) since start. */
  cycles: number;
  lastCycleEndedAt?: Date;
  lastCycleMs?: number;
  lastCycleOk?: boolean;
  /** How long the cycle in progress has been running (undefined between cycles). */
  currentCycleMs?: number;
  /** What the cycle in progress is waiting for, e.g. "publish×12, markSigned×3". */
  waitingFor?: string;
  consecutiveFailures: number;
  lastError?: string;
}

/** A step of the dispatch cycle that did not settle within its bound. */
export class DispatchStepTimeoutError extends Error {
  constructor(
    readonly step: string,
    readonly ms: number,
  ) {
    super(`${step} did not settle within ${ms} ms`);
    this.name = 'DispatchStepTimeoutError';
  }
}

/** Errors that will fail the same way on every attempt: give up at once with the reason. */
/** A message that cannot be built or signed will not become buildable by retrying. */
export function isPermanentError(err: unknown): boolean {
  return err instanceof MessageBuildError || err instanceof SigningError;
}

type Hooks = 'onSigned' | 'onPublished' | 'onFailed' | 'encode';

export class Dispatcher {
  readonly owner: string;
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private watchdog?: NodeJS.Timeout;
  private readonly o: Required<Omit<DispatcherOptions, Hooks>> & Pick<DispatcherOptions, Hooks>;

  // Liveness
  private cycles = 0;
  private cycleStartedAt?: number;
  private lastCycle?: { endedAt: Date; ms: number; ok: boolean };
  /**
   * How many to claim next: at most batchSize, and no more than a cycle can finish in half the lease at the
   * pace of the last one. A cycle longer than the lease lets other workers claim the same declarations
   * again (seen on FerretDB: 256 claimed, 15–40 s per cycle, an 8 s lease, workers taking each other's work).
   */
  private claimLimit: number;
  private consecutiveFailures = 0;
  private lastError?: string;
  private readonly waiting = new Map<string, number>();
  private warnedAtMs = 0;
  /** Totals since the last progress line. */
  private progress = newProgress();
  private lastProgressAt = Date.now();

  constructor(options: DispatcherOptions) {
    this.owner = options.owner ?? `worker-${process.pid}-${randomUUID().slice(0, 8)}`;
    const leaseMs = options.leaseMs ?? 30000;
    this.o = {
      leaseMs,
      batchSize: 64,
      pollMs: 200,
      maxAttempts: 8,
      baseBackoffMs: 1000,
      maxBackoffMs: 60000,
      stepTimeoutMs: Math.max(120000, 4 * leaseMs),
      slowCycleMs: leaseMs,
      progressLogMs: 60000,
      ...options,
      owner: this.owner,
    };
    this.claimLimit = this.o.batchSize;
  }

  /** How many the next cycle will claim (see claimLimit). */
  get nextClaimLimit(): number {
    return this.claimLimit;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
    const every = Math.max(1000, Math.min(this.o.slowCycleMs, this.o.progressLogMs || Infinity, 10000));
    this.watchdog = setInterval(() => this.check(), every);
    this.watchdog.unref();
  }

  /** Stops claiming new work and waits for the batch in hand to finish (every step of it is bounded). */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = undefined;
  }

  /** The bound on one step of a cycle (a cycle running much longer than this is stalled). */
  get stepTimeoutMs(): number {
    return this.o.stepTimeoutMs;
  }

  health(now = Date.now()): DispatcherHealth {
    const h: DispatcherHealth = {
      running: this.running,
      cycles: this.cycles,
      consecutiveFailures: this.consecutiveFailures,
    };
    if (this.lastCycle) {
      h.lastCycleEndedAt = this.lastCycle.endedAt;
      h.lastCycleMs = this.lastCycle.ms;
      h.lastCycleOk = this.lastCycle.ok;
    }
    if (this.cycleStartedAt !== undefined) {
      h.currentCycleMs = now - this.cycleStartedAt;
      const waitingFor = this.waitingFor();
      if (waitingFor) h.waitingFor = waitingFor;
    }
    if (this.lastError !== undefined) h.lastError = this.lastError;
    return h;
  }

  /** Wakes the loop early (e.g. after a submission in the same process). */
  nudge(): void {
    this.wake?.();
  }

  private async run(): Promise<void> {
    while (this.running) {
      let handled = 0;
      let failed = false;
      try {
        handled = await this.runOnce();
      } catch (err) {
        failed = true;
        this.o.logger.warn(
          { err: (err as Error).message, consecutiveFailures: this.consecutiveFailures },
          'dispatch cycle failed; retrying',
        );
      }
      if (handled < this.claimLimit && this.running) {
        // After failed cycles (database or broker away), back off so the loop neither spins nor floods the log.
        const idle = failed
          ? Math.min(5000, this.o.pollMs * 2 ** Math.min(this.consecutiveFailures, 10))
          : handled === 0
            ? this.o.pollMs
            : 0;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, idle);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  }

  /** One claim-build-sign-publish-mark cycle. Returns how many declarations it claimed. */
  async runOnce(now = new Date()): Promise<number> {
    const started = Date.now();
    this.cycleStartedAt = started;
    this.warnedAtMs = 0;
    const report: CycleReport = {
      ok: false,
      ms: 0,
      claimed: 0,
      confirmed: 0,
      queued: 0,
      steps: { claim: 0, dispatch: 0, markQueued: 0 },
    };
    try {
      const limit = this.claimLimit;
      const claims = await this.step('claimDue', () => this.o.store.claimDue(this.owner, this.o.leaseMs, limit, now));
      report.claimed = claims.length;
      report.steps.claim = Date.now() - started;
      if (claims.length > 0) {
        const dispatchStarted = Date.now();
        const confirmed = (await Promise.all(claims.map((claim) => this.dispatch(claim)))).filter(
          (c): c is { id: string; leaseToken: string } => c !== null,
        );
        report.confirmed = confirmed.length;
        report.steps.dispatch = Date.now() - dispatchStarted;
        if (confirmed.length > 0) {
          const markStarted = Date.now();
          report.queued = await this.step('markQueued', () => this.o.store.markQueued(confirmed));
          report.steps.markQueued = Date.now() - markStarted;
        }
      }
      report.ok = true;
      return claims.length;
    } catch (err) {
      report.error = (err as Error)?.message ?? String(err);
      throw err;
    } finally {
      this.endCycle(report, started);
    }
  }

  private endCycle(report: CycleReport, started: number): void {
    const ended = Date.now();
    report.ms = ended - started;
    this.cycleStartedAt = undefined;
    this.cycles++;
    this.lastCycle = { endedAt: new Date(ended), ms: report.ms, ok: report.ok };
    if (report.ok && report.claimed > 0) {
      const fits = Math.floor(this.o.leaseMs / 2 / (report.ms / report.claimed));
      this.claimLimit = Math.max(1, Math.min(this.o.batchSize, fits, this.claimLimit * 2));
    }
    if (report.ok) this.consecutiveFailures = 0;
    else {
      this.consecutiveFailures++;
      this.lastError = report.error;
    }
    const p = this.progress;
    p.cycles++;
    if (!report.ok) p.failedCycles++;
    p.claimed += report.claimed;
    p.queued += report.queued;
    p.slowestMs = Math.max(p.slowestMs, report.ms);
    if (report.ms > this.o.slowCycleMs) {
      this.o.logger.warn(
        {
          cycleMs: report.ms,
          boundMs: this.o.slowCycleMs,
          leaseMs: this.o.leaseMs,
          claimed: report.claimed,
          confirmed: report.confirmed,
          queued: report.queued,
          steps: report.steps,
          ok: report.ok,
        },
        'dispatch cycle slower than its bound; past the lease other workers may claim and publish the same declarations again',
      );
    }
  }

  /** Periodic: warns about a cycle that is still running past its bound, and logs progress. */
  private check(now = Date.now()): void {
    if (this.cycleStartedAt !== undefined) {
      const runningMs = now - this.cycleStartedAt;
      // Once at the bound, then at every further multiple of it.
      if (runningMs > this.o.slowCycleMs && runningMs - this.warnedAtMs >= this.o.slowCycleMs) {
        this.warnedAtMs = runningMs;
        this.o.logger.warn(
          { runningMs, boundMs: this.o.slowCycleMs, waitingFor: this.waitingFor() },
          'dispatch cycle still running',
        );
      }
    }
    if (this.o.progressLogMs > 0 && now - this.lastProgressAt >= this.o.progressLogMs) {
      const p = this.progress;
      if (p.claimed > 0 || p.failedCycles > 0) {
        this.o.logger.info(
          { overMs: now - this.lastProgressAt, ...p, consecutiveFailures: this.consecutiveFailures },
          'dispatch progress',
        );
      }
      this.progress = newProgress();
      this.lastProgressAt = now;
    }
  }

  private waitingFor(): string {
    return [...this.waiting.entries()].map(([step, n]) => (n > 1 ? `${step}×${n}` : step)).join(', ');
  }

  /** Runs one awaited step of the cycle within `stepTimeoutMs`, keeping count of what the cycle is waiting for. */
  private async step<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.waiting.set(name, (this.waiting.get(name) ?? 0) + 1);
    try {
      return await bounded(fn(), this.o.stepTimeoutMs, name);
    } finally {
      const left = (this.waiting.get(name) ?? 1) - 1;
      if (left > 0) this.waiting.set(name, left);
      else this.waiting.delete(name);
    }
  }

  /** Never throws: a failure goes to the retry path (or, if even that fails, the lease simply expires). */
  private async dispatch(claim: ClaimedDeclaration): Promise<{ id: string; leaseToken: string } | null> {
    const log = this.o.logger.child({
      declarationId: claim.id,
      messageType: claim.messageType,
      center: claim.center,
      requestId: claim.requestId,
    });
    try {
      let manifest = claim.manifest;
      if (!manifest) {
        const started = process.hrtime.bigint();
        const built = this.o.builder.build(claim);
        const signer = this.o.signers.signerFor(claim.center, claim.messageType);
        const xml = await this.step('sign', () => signer.sign(built.xml));
        this.o.onSigned?.(Number(process.hrtime.bigint() - started) / 1e6, claim.messageType);
        manifest = { xml, messageGuid: built.guid, digest: createHash('sha256').update(xml).digest('hex') };
        const signed = manifest;
        const stillOurs = await this.step('markSigned', () =>
          this.o.store.markSigned(claim.id, claim.leaseToken, {
            ...signed,
            signer: { subject: signer.identity.subject, serialHex: signer.identity.serialHex },
          }),
        );
        if (!stillOurs) {
          log.warn('lease lost before the manifest was stored; another worker owns it now');
          return null;
        }
      }
      const encoded = this.o.encode
        ? this.o.encode(claim.center, manifest.xml, {
            messageGuid: manifest.messageGuid,
            messageType: claim.messageType,
          })
        : { body: Buffer.from(manifest.xml, 'utf8'), contentType: 'application/xml' };
      const meta: PublishMeta = {
        messageGuid: manifest.messageGuid,
        declarationId: claim.id,
        messageType: claim.messageType,
        requestId: claim.requestId,
        contentType: encoded.contentType,
      };
      await this.step('publish', () => this.o.publisher.publish(claim.center, encoded.body, meta));
      this.o.onPublished?.(true, claim.center);
      return { id: claim.id, leaseToken: claim.leaseToken };
    } catch (err) {
      this.o.onPublished?.(false, claim.center);
      const reason = (err as Error)?.message ?? String(err);
      const attempts = claim.attempts + 1; // claim.attempts counts the earlier attempts; this is one more
      try {
        if (isPermanentError(err) || attempts >= this.o.maxAttempts) {
          log.error({ attempts, reason }, 'declaration failed permanently');
          this.progress.failed++;
          await this.step('recordFailure', () =>
            this.o.store.recordFailure(claim.id, claim.leaseToken, reason, { permanent: true }),
          );
          const onFailed = this.o.onFailed;
          if (onFailed)
            await this.step('onFailed', () => onFailed(claim)).catch((hookErr: unknown) =>
              log.warn(
                { err: (hookErr as Error)?.message },
                'failed declaration: its follow-up (onFailed) did not run',
              ),
            );
        } else {
          const backoff = Math.min(this.o.maxBackoffMs, this.o.baseBackoffMs * 2 ** Math.max(0, attempts - 1));
          const jittered = backoff * (0.8 + Math.random() * 0.4);
          log.warn({ attempts, reason, retryInMs: Math.round(jittered) }, 'dispatch failed; will retry');
          this.progress.retried++;
          await this.step('recordFailure', () =>
            this.o.store.recordFailure(claim.id, claim.leaseToken, reason, {
              retryAt: new Date(Date.now() + jittered),
            }),
          );
        }
      } catch (recordErr) {
        // The database is away too: the lease expires and the declaration is claimed again then.
        log.warn(
          { err: (recordErr as Error)?.message, reason },
          'could not record the dispatch failure; the declaration is retried when its lease expires',
        );
      }
      return null;
    }
  }
}

function newProgress() {
  return { cycles: 0, failedCycles: 0, claimed: 0, queued: 0, retried: 0, failed: 0, slowestMs: 0 };
}

/**
 * Resolves or rejects like `promise`, or rejects with DispatchStepTimeoutError after `ms`. The promise
 * itself cannot be cancelled: it goes on, and its late outcome is ignored (and never unhandled).
 */
export function bounded<T>(promise: Promise<T>, ms: number, step: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new DispatchStepTimeoutError(step, ms)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
