import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { MessageType } from '../mapping/message-types';
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
export type ManifestEncoder = (center: string, signedXml: string, meta: { messageGuid: string; messageType: MessageType }) => { body: Buffer; contentType: string };

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
  /** Hooks for metrics. */
  onSigned?: (ms: number, messageType: MessageType) => void;
  onPublished?: (ok: boolean, center: string) => void;
}

/** Errors that will fail the same way on every attempt: give up at once with the reason. */
export function isPermanentError(err: unknown): boolean {
  const name = (err as Error)?.name;
  return name === 'MessageBuildError' || name === 'SigningError' || name === 'MappingError';
}

export class Dispatcher {
  readonly owner: string;
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private readonly o: Required<Omit<DispatcherOptions, 'onSigned' | 'onPublished' | 'encode'>> & Pick<DispatcherOptions, 'onSigned' | 'onPublished' | 'encode'>;

  constructor(options: DispatcherOptions) {
    this.owner = options.owner ?? `worker-${process.pid}-${randomUUID().slice(0, 8)}`;
    this.o = {
      leaseMs: 30000,
      batchSize: 64,
      pollMs: 200,
      maxAttempts: 8,
      baseBackoffMs: 1000,
      maxBackoffMs: 60000,
      ...options,
      owner: this.owner,
    };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops claiming new work and waits for the batch in hand to finish. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /** Wakes the loop early (e.g. after a submission in the same process). */
  nudge(): void {
    this.wake?.();
  }

  private async run(): Promise<void> {
    while (this.running) {
      let handled = 0;
      try {
        handled = await this.runOnce();
      } catch (err) {
        this.o.logger.warn({ err: (err as Error).message }, 'dispatch cycle failed; retrying');
      }
      if (handled < this.o.batchSize && this.running) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, handled === 0 ? this.o.pollMs : 0);
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
    const claims = await this.o.store.claimDue(this.owner, this.o.leaseMs, this.o.batchSize, now);
    if (claims.length === 0) return 0;
    const confirmed = (await Promise.all(claims.map((claim) => this.dispatch(claim)))).filter((c): c is { id: string; leaseToken: string } => c !== null);
    if (confirmed.length > 0) await this.o.store.markQueued(confirmed);
    return claims.length;
  }

  private async dispatch(claim: ClaimedDeclaration): Promise<{ id: string; leaseToken: string } | null> {
    const log = this.o.logger.child({ declarationId: claim.id, messageType: claim.messageType, center: claim.center, requestId: claim.requestId });
    try {
      let manifest = claim.manifest;
      if (!manifest) {
        const started = process.hrtime.bigint();
        const built = this.o.builder.build(claim);
        const signer = this.o.signers.signerFor(claim.center, claim.messageType);
        const xml = await signer.sign(built.xml);
        this.o.onSigned?.(Number(process.hrtime.bigint() - started) / 1e6, claim.messageType);
        manifest = { xml, messageGuid: built.guid, digest: createHash('sha256').update(xml).digest('hex') };
        const stillOurs = await this.o.store.markSigned(claim.id, claim.leaseToken, { ...manifest, signer: { subject: signer.identity.subject, serialHex: signer.identity.serialHex } });
        if (!stillOurs) {
          log.warn('lease lost before the manifest was stored; another worker owns it now');
          return null;
        }
      }
      const encoded = this.o.encode
        ? this.o.encode(claim.center, manifest.xml, { messageGuid: manifest.messageGuid, messageType: claim.messageType })
        : { body: Buffer.from(manifest.xml, 'utf8'), contentType: 'application/xml' };
      await this.o.publisher.publish(claim.center, encoded.body, {
        messageGuid: manifest.messageGuid,
        declarationId: claim.id,
        messageType: claim.messageType,
        requestId: claim.requestId,
        contentType: encoded.contentType,
      });
      this.o.onPublished?.(true, claim.center);
      return { id: claim.id, leaseToken: claim.leaseToken };
    } catch (err) {
      this.o.onPublished?.(false, claim.center);
      const reason = (err as Error)?.message ?? String(err);
      const attempts = claim.attempts + 1; // claim.attempts counts the earlier attempts; this is one more
      if (isPermanentError(err) || attempts >= this.o.maxAttempts) {
        log.error({ attempts, reason }, 'declaration failed permanently');
        await this.o.store.recordFailure(claim.id, claim.leaseToken, reason, { permanent: true });
      } else {
        const backoff = Math.min(this.o.maxBackoffMs, this.o.baseBackoffMs * 2 ** Math.max(0, attempts - 1));
        const jittered = backoff * (0.8 + Math.random() * 0.4);
        log.warn({ attempts, reason, retryInMs: Math.round(jittered) }, 'dispatch failed; will retry');
        await this.o.store.recordFailure(claim.id, claim.leaseToken, reason, { retryAt: new Date(Date.now() + jittered) });
      }
      return null;
    }
  }
}
