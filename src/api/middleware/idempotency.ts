import { createHash } from 'node:crypto';
import type { Middleware } from 'koa';
import type { IdempotencyKeyRepository } from '../../store/idempotency-keys';
import { ProblemError, problems } from '../problem';
import type { RequestState } from '../state';

/**
 * `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header), per account, kept by the idempotency-key
 * repository (src/store/idempotency-keys.ts, which says how a key is taken atomically):
 *
 *  - first request: the key is taken in flight with the request's fingerprint, the handler runs, then its
 *    status, body and Location are stored;
 *  - same key + same request (method, path, query, content type, body bytes) → the stored response again,
 *    with `Idempotent-Replayed: true`;
 *  - same key + a different request → 422; same key while the first is still running → 409;
 *  - a 5xx or crash releases the key (the client may retry); an in-flight record older than the
 *    repository's in-flight timeout is treated as crashed and taken over;
 *  - records expire after the repository's retention; `sweep()` deletes them (run by the middleware at
 *    most every few minutes, and callable from a worker).
 */
const KEY = /^[\x21-\x7e]{1,255}$/;

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
  store: IdempotencyKeyRepository,
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
