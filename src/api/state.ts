import type { Logger } from 'pino';
import type { Principal } from './auth/principal';
import type { RequestBody } from './middleware/body';
import { problems } from './problem';

/**
 * What the middleware of a request leaves on `ctx.state`, each part set by exactly one middleware:
 *  - requestId, log: request-context (always);
 *  - principal: authenticate (routes behind auth.guard);
 *  - body: the body middleware (routes that take a body), already size-checked, typed and decoded.
 * Handlers read the optional parts through principalOf / bodyOf, never by casting.
 */
export interface RequestState {
  requestId: string;
  log: Logger;
  principal?: Principal;
  body?: RequestBody;
}

/** The authenticated principal; a route not behind authentication that asks is answered 401. */
export function principalOf(ctx: { state: RequestState }): Principal {
  const principal = ctx.state.principal;
  if (!principal) throw problems.unauthorized();
  return principal;
}
