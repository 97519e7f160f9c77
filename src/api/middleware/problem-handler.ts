import type { Middleware } from 'koa';
import { DomainError, type ErrorCategory } from '../../domain/errors';
import { ProblemError, problemType, type ProblemDetails } from '../problem';
import type { RequestState } from './request-context';

/**
 * The one error handler: every failure leaves as application/problem+json (RFC 9457), and this is the one
 * place that maps what went wrong to an HTTP status — the domain and the pipeline throw errors with a
 * code and a category (src/domain/errors.ts) and know nothing of HTTP. Unknown errors become a 500 whose
 * detail says nothing about internals; the log line carries the stack and the request id.
 */
export function problemHandler(): Middleware<RequestState> {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new ProblemError(404, 'not-found', 'Not Found', {
          detail: `No route for ${ctx.method} ${instanceOf(ctx)}.`,
        });
      }
      if (ctx.status === 405 && (ctx.body === undefined || typeof ctx.body === 'string')) {
        throw new ProblemError(405, 'method-not-allowed', 'Method Not Allowed', {
          detail: `${ctx.method} is not allowed on ${instanceOf(ctx)}.`,
        });
      }
    } catch (err) {
      const problem = toProblem(err);
      if (problem.status >= 500) {
        ctx.state.log?.error({ err }, 'request failed');
      }
      if (err instanceof ProblemError) {
        for (const [name, value] of Object.entries(err.headers)) ctx.set(name, value);
      }
      if (problem.status === 503 && !(err instanceof ProblemError)) ctx.set('Retry-After', '5');
      ctx.status = problem.status;
      ctx.type = 'application/problem+json';
      ctx.body = { ...problem, instance: problem.instance ?? instanceOf(ctx), requestId: ctx.state.requestId };
    }
  };
}

const HTTP_OF: Record<ErrorCategory, { status: number; title: string }> = {
  'not-found': { status: 404, title: 'Not Found' },
  forbidden: { status: 403, title: 'Forbidden' },
  conflict: { status: 409, title: 'Conflict' },
  unprocessable: { status: 422, title: 'Unprocessable Content' },
  malformed: { status: 400, title: 'Bad Request' },
};

const MAX_ECHOED_PATH = 200;

/**
 * The request path as a problem's `instance`: what the client sent is repeated back only while it is of
 * a sane length — past that, the route it matched (a 5,000-character "order number" is not echoed).
 */
function instanceOf(ctx: { path: string }): string {
  if (ctx.path.length <= MAX_ECHOED_PATH) return ctx.path;
  const route = (ctx as { _matchedRoute?: unknown })._matchedRoute;
  return typeof route === 'string' ? route : `${ctx.path.slice(0, MAX_ECHOED_PATH)}…`;
}

function toProblem(err: unknown): ProblemDetails {
  if (err instanceof ProblemError) return err.problem;
  if (err instanceof DomainError) {
    const { status, title } = HTTP_OF[err.category];
    return {
      type: problemType(err.code),
      title,
      status,
      detail: err.message,
      code: err.code,
      errors: [{ path: err.path ?? '', code: err.code, message: err.message }],
    };
  }
  const httpError = err as { status?: number; statusCode?: number; expose?: boolean; message?: string; type?: string };
  const status = httpError?.status ?? httpError?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Errors from koa/bodyparser (malformed JSON, too large): their messages are safe to show.
    return {
      type: `https://baygate.dev/problems/http-${status}`,
      title: httpError.type === 'entity.too.large' ? 'Content Too Large' : 'Bad Request',
      status,
      detail: httpError.expose ? httpError.message : undefined,
    };
  }
  if (isDatabaseUnavailable(err)) {
    // The request changed nothing we can vouch for and may simply be retried: 503, not a server bug.
    return {
      type: 'https://baygate.dev/problems/service-unavailable',
      title: 'Service Unavailable',
      status: 503,
      detail: 'The database is not reachable right now; retry shortly (an Idempotency-Key makes the retry safe).',
    };
  }
  return {
    type: 'https://baygate.dev/problems/internal',
    title: 'Internal Server Error',
    status: 500,
    detail: 'The gateway failed to handle this request; it has been logged.',
  };
}

const TRANSIENT_DRIVER_ERRORS = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongoPoolClearedError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
]);

/** Driver errors of a database that is away (restart, network), FerretDB's SQLite busy and shutdown answers. */
export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as {
    name?: string;
    message?: string;
    errorLabels?: unknown;
    hasErrorLabel?: (label: string) => boolean;
  } | null;
  if (!e || typeof e !== 'object') return false;
  if (e.name && TRANSIENT_DRIVER_ERRORS.has(e.name)) return true;
  if ((e as { transient?: unknown }).transient === true) return true; // e.g. StoreInterruptedError
  if (typeof e.hasErrorLabel === 'function' && (e.hasErrorLabel('RetryableWriteError') || e.hasErrorLabel('ResetPool')))
    return true;
  if (typeof e.message !== 'string') return false;
  // FerretDB being stopped answers the commands it was running with InternalError "context canceled".
  return (
    /SQLITE_BUSY|database is locked/.test(e.message) ||
    (e.name === 'MongoServerError' && /\bcontext canceled\b/.test(e.message))
  );
}
