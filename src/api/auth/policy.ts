import { problems } from '../problem';
import type { Principal, Role } from './principal';

/**
 * Baygate's access policy: who may see and do what, by role and tenant. Every route, the live stream,
 * the stats and the dashboard's API decide with these functions and nothing else; they fail closed (an
 * account without a seller or company list sees and declares nothing).
 *
 * The tenants:
 *  - platform (ebpCode): the marketplace an order was placed on. Customs knows an order by platform and
 *    order number, so an order number belongs to one seller per platform (first declared, first owned;
 *    docs/decisions/order-number-clashes.md).
 *  - seller: an account that declares orders and sees its own declarations, webhooks and figures.
 *  - e-commerce company (ebcCode): the company an order is declared for. A seller declares only for the
 *    companies it was explicitly given at provisioning.
 *  - broker: serves a list of sellers (its scope) and reads their declarations, timelines, stream and
 *    figures; it declares nothing.
 *  - center: a clearance center. It posts receipts, and a receipt moves only declarations routed to that
 *    center, signed with that center's certificate (src/pipeline/receipts.ts). It reads nothing.
 *  - admin: the operator: reads everything and resolves order-number clashes.
 * Another tenant's declaration, webhook or clash answers exactly like a missing one (404), never 403.
 */
export const ACTIONS = {
  'orders.submit': ['seller'],
  'declarations.read': ['seller', 'broker', 'admin'],
  'declarations.follow-up': ['seller'],
  'receipts.post': ['center'],
  'webhooks.manage': ['seller'],
  'clashes.read': ['seller', 'broker', 'admin'],
  'clashes.resolve': ['admin'],
} as const satisfies Record<string, readonly Role[]>;

export type Action = keyof typeof ACTIONS;

export function rolesFor(action: Action): Role[] {
  return [...ACTIONS[action]];
}

export function may(principal: Principal, action: Action): boolean {
  return (ACTIONS[action] as readonly Role[]).includes(principal.role);
}

/** Sellers whose declarations (and figures, events, clashes) the principal may read: 'all' for the operator. */
export function readableSellers(principal: Principal): 'all' | readonly string[] {
  switch (principal.role) {
    case 'admin':
      return 'all';
    case 'seller':
      return [principal.id];
    case 'broker':
      return principal.sellerIds;
    case 'center':
      return [];
  }
}

export function mayRead(principal: Principal, owner: { sellerId: string }): boolean {
  const sellers = readableSellers(principal);
  return sellers === 'all' || sellers.includes(owner.sellerId);
}

/**
 * The sellers a read is limited to: what the principal asked for (`requested`), which must all be
 * readable (asking for another tenant is 403, not a silently empty answer), else everything readable.
 * undefined = no seller restriction (the operator).
 */
export function sellerFilter(principal: Principal, requested?: readonly string[]): string[] | undefined {
  const sellers = readableSellers(principal);
  if (requested && requested.length > 0) {
    const foreign = sellers === 'all' ? [] : requested.filter((s) => !sellers.includes(s));
    if (foreign.length > 0) throw problems.forbidden(`Not one of your sellers: ${foreign.join(', ')}.`);
    return [...requested];
  }
  return sellers === 'all' ? undefined : [...sellers];
}

/** Cancel or return: only the seller whose inventory it is. */
export function mayFollowUp(principal: Principal, declaration: { sellerId: string }): boolean {
  return principal.role === 'seller' && declaration.sellerId === principal.id;
}

/** The e-commerce companies the principal declares for (explicit; none for any other role). */
export function declarableCompanies(principal: Principal): readonly string[] {
  return principal.role === 'seller' ? principal.ebcCodes : [];
}

/** The clearance center a principal answers for (posts receipts as), if it is one. */
export function answeringCenter(principal: Principal): string | undefined {
  return principal.role === 'center' ? principal.centerCode : undefined;
}

/** Webhooks belong to the seller that registered them. */
export function ownsWebhook(principal: Principal, webhook: { sellerId: string }): boolean {
  return principal.role === 'seller' && webhook.sellerId === principal.id;
}
