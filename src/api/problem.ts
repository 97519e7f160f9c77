/**
 * RFC 9457 problem details. Every error response of the API is one of these, with
 * `Content-Type: application/problem+json`.
 */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  /** Field-level problems: where in the request, what rule, and a message. */
  errors?: { path: string; code: string; message: string; messageZh?: string }[];
  [extension: string]: unknown;
}

const TYPE_BASE = 'https://baygate.dev/problems/';

/** The problem type URI of a stable error code: RECEIPT_SIGNER_NOT_OF_CENTER → …/receipt-signer-not-of-center. */
export function problemType(code: string): string {
  return TYPE_BASE + code.toLowerCase().replace(/_/g, '-');
}

export class ProblemError extends Error {
  readonly problem: ProblemDetails;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    slug: string,
    title: string,
    extra: Omit<Partial<ProblemDetails>, 'status' | 'type' | 'title'> = {},
    headers: Record<string, string> = {},
  ) {
    super(typeof extra.detail === 'string' ? extra.detail : title);
    this.name = 'ProblemError';
    this.problem = { type: TYPE_BASE + slug, title, status, ...extra };
    this.headers = headers;
  }
}

export const problems = {
  notFound: (detail = 'No such resource.') => new ProblemError(404, 'not-found', 'Not Found', { detail }),
  badRequest: (detail: string, errors?: ProblemDetails['errors']) =>
    new ProblemError(400, 'bad-request', 'Bad Request', { detail, errors }),
  validation: (detail: string, errors: ProblemDetails['errors'], extra: Record<string, unknown> = {}) =>
    new ProblemError(422, 'validation-failed', 'Unprocessable Content', { detail, errors, ...extra }),
  unauthorized: (detail = 'Missing or invalid credentials.') =>
    new ProblemError(401, 'unauthorized', 'Unauthorized', { detail }, { 'WWW-Authenticate': 'Bearer realm="baygate"' }),
  forbidden: (detail = 'Not allowed for this account.') => new ProblemError(403, 'forbidden', 'Forbidden', { detail }),
  conflict: (detail: string) => new ProblemError(409, 'conflict', 'Conflict', { detail }),
  unavailable: (detail: string, extra: Record<string, unknown> = {}) =>
    new ProblemError(503, 'service-unavailable', 'Service Unavailable', { detail, ...extra }, { 'Retry-After': '5' }),
  payloadTooLarge: (detail: string) => new ProblemError(413, 'payload-too-large', 'Content Too Large', { detail }),
  unsupportedMediaType: (detail: string) =>
    new ProblemError(415, 'unsupported-media-type', 'Unsupported Media Type', { detail }),
};
