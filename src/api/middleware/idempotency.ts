import { createHash } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Connection } from 'mongoose';
import { ProblemError, problems } from '../problem';
import type { RequestState } from '../state';

/**
 * `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header), per account, stored in MongoDB
 * (`idempotency_keys`, `_id` "<account>\u0000<key>" so {sellerId, key} is unique on FerretDB too):
 *
 *  - first request: a document {status: 'in-flight', bodyHash} is inserted (the insert IS the lock: only
 *    one of two concurrent requests can create it), the handler runs, then its status, body and Location
 *    are stored with status 'done';
 *  - same key + same request (method, path, query, content type, body bytes) → the stored response again,
 *    with `Idempotent-Replayed: true`;
 *  - same key + a different request → 422; same key while the first is still running → 409;
 *  - a 5xx or crash releases the key (the client may retry); an in-flight record older than
 *    `inFlightTimeoutMs` is treated as crashed and taken over;
 *  - records expire after `retainMs`; FerretDB v1 has no TTL indexes, so `sweep()` deletes them (run by
 *    the middleware at most every few minutes, and callable from a worker).
 */
export const IDEMPOTENCY_COLLECTION = 'idempotency_keys';
const KEY = /^[\x21-\x7e]{1,255}$/;

export interface StoredResponse {
  status: number;
  body: unknown;
  type: string;
  location?: string;
}

interface IdempotencyDoc {
  _id: string;
  sellerId: string;
  key: string;
  bodyHash: string;
  status: 'in-flight' | 'done';
  response?: StoredResponse;
  createdAt: Date;
  expiresAt: Date;
}

export type BeginResult =
  { state: 'new' } | { state: 'replay'; response: StoredResponse } | { state: 'mismatch' } | { state: 'in-flight' };

export class IdempotencyStore {
  private indexed?: Promise<void>;

  constructor(
    private readonly connection: Connection,
    private readonly options: { retainMs?: number; inFlightTimeoutMs?: number } = {},
  ) {}

  private collection() {
    const db = this.connection.db;
    if (!db) throw new Error('mongodb not connected');
    return db.collection<IdempotencyDoc>(IDEMPOTENCY_COLLECTION);
  }

  private ensureIndexes(): Promise<void> {
    this.indexed ??= this.collection()
      .createIndex({ sellerId: 1, key: 1 }, { unique: true })
      .then(() => undefined)
      .catch(() => undefined); // the composite _id already guarantees uniqueness
    return this.indexed;
  }

  async begin(sellerId: string, key: string, bodyHash: string, now = new Date()): Promise<BeginResult> {
    await this.ensureIndexes();
    const _id = `${sellerId}\u0000${key}`;
    // Past a client's usual 30 s timeout the first request is presumed dead (a killed gateway never
    // releases its keys); taking over early is safe: a submission names its declarations by the order.
    const inFlightTimeoutMs = this.options.inFlightTimeoutMs ?? 45_000;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.collection().insertOne({
          _id,
          sellerId,
          key,
          bodyHash,
          status: 'in-flight',
          createdAt: now,
          expiresAt: new Date(now.getTime() + (this.options.retainMs ?? 86_400_000)),
        });
        return { state: 'new' };
      } catch (err) {
        if ((err as { code?: number }).code !== 11000) throw err;
      }
      const existing = await this.collection().findOne({ _id });
      if (!existing) continue; // expired and swept between insert and read: try again
      if (existing.expiresAt.getTime() <= now.getTime()) {
        await this.collection().deleteOne({ _id, expiresAt: existing.expiresAt });
        continue;
      }
      if (existing.bodyHash !== bodyHash) return { state: 'mismatch' };
      if (existing.status === 'done' && existing.response) return { state: 'replay', response: existing.response };
      if (now.getTime() - existing.createdAt.getTime() > inFlightTimeoutMs) {
        // The first request's process died: take the key over (conditional, so only one taker wins).
        const taken = await this.collection().updateOne(
          { _id, status: 'in-flight', createdAt: existing.createdAt },
          { $set: { createdAt: now } },
        );
        if (taken.modifiedCount === 1) return { state: 'new' };
      }
      return { state: 'in-flight' };
    }
    return { state: 'in-flight' };
  }

  async complete(sellerId: string, key: string, response: StoredResponse, now = new Date()): Promise<void> {
    await this.collection().updateOne(
      { _id: `${sellerId}\u0000${key}` },
      {
        $set: { status: 'done', response, expiresAt: new Date(now.getTime() + (this.options.retainMs ?? 86_400_000)) },
      },
    );
  }

  async release(sellerId: string, key: string): Promise<void> {
    await this.collection().deleteOne({ _id: `${sellerId}\u0000${key}`, status: 'in-flight' });
  }

  /** Deletes expired records; returns how many. */
  async sweep(now = new Date()): Promise<number> {
    const result = await this.collection().deleteMany({ expiresAt: { $lt: now } });
    return result.deletedCount;
  }
}

/** Fingerprint of the request the key was first used with. */
export function requestHash(parts: {
  method: string;
  path: string;
  query: string;
  contentType: string;
  body: Buffer;
}): string {
  return createHash('sha256')
    .update(`${parts.method}\n${parts.path}\n${parts.query}\n${parts.contentType}\n`)
    .update(parts.body)
    .digest('hex');
}

/**
 * Wraps a handler. Needs `ctx.state.principal` (authenticate first) and `ctx.state.body` (the body
 * middleware first); requests without the header pass straight through.
 */
export function idempotency(
  store: IdempotencyStore,
  options: { sweepEveryMs?: number } = {},
): Middleware<RequestState> {
  const sweepEveryMs = options.sweepEveryMs ?? 10 * 60_000;
  let lastSweep = 0;
  return async (ctx, next) => {
    const key = ctx.get('Idempotency-Key');
    if (!key) return next();
    if (!KEY.test(key))
      throw problems.badRequest('Idempotency-Key must be 1–255 visible ASCII characters.', [
        {
          path: 'header:Idempotency-Key',
          code: 'IDEMPOTENCY_KEY_INVALID',
          message: 'must be 1–255 visible ASCII characters',
          messageZh: '幂等键必须是 1–255 个可见 ASCII 字符',
        },
      ]);
    const principal = ctx.state.principal;
    if (!principal) throw problems.unauthorized();
    const hash = requestHash({
      method: ctx.method,
      path: ctx.path,
      query: ctx.querystring,
      contentType: ctx.get('Content-Type'),
      body: ctx.state.body?.raw ?? Buffer.alloc(0),
    });
    if (Date.now() - lastSweep > sweepEveryMs) {
      lastSweep = Date.now();
      void store.sweep().catch(() => undefined);
    }
    const begun = await store.begin(principal.id, key, hash);
    if (begun.state === 'mismatch') {
      throw new ProblemError(422, 'idempotency-key-reused', 'Idempotency-Key reused', {
        detail: `Idempotency-Key "${key}" was already used with a different request; use a new key for a new request.`,
      });
    }
    if (begun.state === 'in-flight') {
      throw new ProblemError(
        409,
        'idempotency-key-in-flight',
        'Request in progress',
        { detail: `A request with Idempotency-Key "${key}" is still being processed; retry later.` },
        { 'Retry-After': '1' },
      );
    }
    if (begun.state === 'replay') {
      ctx.status = begun.response.status;
      ctx.type = begun.response.type;
      if (begun.response.location) ctx.set('Location', begun.response.location);
      ctx.set('Idempotent-Replayed', 'true');
      ctx.body = begun.response.body;
      return;
    }
    try {
      await next();
    } catch (err) {
      if (err instanceof ProblemError && err.problem.status < 500) {
        // A client error is an answer to this exact request: replay it too.
        await store.complete(principal.id, key, {
          status: err.problem.status,
          type: 'application/problem+json',
          body: { ...err.problem, instance: err.problem.instance ?? ctx.path },
        });
      } else {
        await store.release(principal.id, key).catch(() => undefined);
      }
      throw err;
    }
    if (ctx.status >= 500) {
      await store.release(principal.id, key).catch(() => undefined);
      return;
    }
    const location = ctx.response.get('Location');
    await store.complete(principal.id, key, {
      status: ctx.status,
      type: ctx.response.type || 'application/json',
      body: ctx.body as unknown,
      ...(location ? { location } : {}),
    });
  };
}
