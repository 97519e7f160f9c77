/**
 * Errors of the domain and the pipeline say WHAT went wrong in the caller's terms — a stable `code` and a
 * `category` — never how an entry point answers it. The HTTP problem handler is the one place that maps a
 * category to a status (src/api/middleware/problem-handler.ts); a CLI would map it to an exit code.
 *
 *  - not-found: the thing does not exist, or the caller may not know that it does (tenants are walls:
 *    another tenant's declaration is "not found", never "forbidden").
 *  - forbidden: the caller is known and the thing is not theirs to act on.
 *  - conflict: the request is valid but the current state does not allow it.
 *  - unprocessable: the request is well formed but refused on its content (a receipt, a follow-up).
 *  - malformed: the request itself cannot be read (a cursor this API never issued).
 */
export type ErrorCategory = 'not-found' | 'forbidden' | 'conflict' | 'unprocessable' | 'malformed';

export abstract class DomainError extends Error {
  abstract readonly category: ErrorCategory;

  constructor(
    /** Stable, machine-readable: clients and tests branch on it, never on the message. */
    readonly code: string,
    message: string,
    /** Where in the request the problem is (e.g. "query.cursor", "/reason"), when it is one field. */
    readonly path?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}
