import { DomainError, type ErrorCategory } from '../domain/errors';

/**
 * Errors the store raises for its callers to classify. `transient: true` is what the API's problem handler
 * (src/api/middleware/problem-handler.ts, isDatabaseUnavailable) answers with 503 and Retry-After.
 */

/** The database went away while a write was in progress and part of it may not have happened: retry (503). */
export class StoreInterruptedError extends Error {
  readonly transient = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreInterruptedError';
  }
}

/** A page cursor the store did not make (or made for another filter): a caller error (400, `query.cursor`). */
export class InvalidCursorError extends DomainError {
  readonly category: ErrorCategory = 'malformed';
  constructor() {
    super('INVALID_CURSOR', 'cursor is not a cursor this API issued', 'query.cursor');
  }
}
