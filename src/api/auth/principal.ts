/**
 * Who is calling. Set on `ctx.state.principal` by the authentication middleware (src/api/auth/) from the
 * API key. What each role may see and do is decided by the access policy (./policy.ts) alone.
 */
export type Role = 'seller' | 'broker' | 'center' | 'admin';

interface PrincipalBase {
  /** Account id (seller id, broker id, center code, admin id). */
  id: string;
  name: string;
  /** Id of the API key used (for rate limits and audit), never the key itself. */
  keyId: string;
  /** Per-account rate limit override (requests per minute); the role's default applies when absent. */
  rateLimitPerMinute?: number;
}

export type Principal =
  /** A seller: declares for the e-commerce companies (ebcCode) it was given, and nothing else. */
  | (PrincipalBase & { role: 'seller'; ebcCodes: readonly string[] })
  /** A customs broker serving these sellers (its scope): reads their declarations. */
  | (PrincipalBase & { role: 'broker'; sellerIds: readonly string[] })
  /** A clearance center: answers (posts receipts) for the declarations routed to it. */
  | (PrincipalBase & { role: 'center'; centerCode: string })
  /** The gateway's operator. */
  | (PrincipalBase & { role: 'admin' });
