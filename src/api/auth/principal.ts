/**
 * Who is calling. Set on `ctx.state.principal` by the authentication middleware (src/api/auth/) from the
 * API key; every route decides with it alone.
 *
 * - seller: sees and submits only its own declarations (`sellerIds` = [its id]).
 * - broker: a customs broker serving a set of sellers (`sellerIds`); read-only on their declarations.
 * - center: a clearance center posting receipts (`centerCode`).
 * - admin: operations staff; sees everything (`sellerIds` = undefined means unrestricted).
 */
export type Role = 'seller' | 'broker' | 'center' | 'admin';

export interface Principal {
  role: Role;
  /** Account id (seller id, broker id, center code, admin id). */
  id: string;
  name: string;
  /** Sellers whose declarations this principal may see; undefined = all (admin). */
  sellerIds?: string[];
  /** For sellers: the e-commerce company codes (ebcCode) it may declare for ([] = no restriction). */
  ebcCodes?: string[];
  /** For centers: its center code. */
  centerCode?: string;
  /** Id of the API key used (for rate limits and audit), never the key itself. */
  keyId: string;
  /** Per-account rate limit override (requests per minute); the role's default applies when absent. */
  rateLimitPerMinute?: number;
}
