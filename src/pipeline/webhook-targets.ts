import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import ipaddr from 'ipaddr.js';

/**
 * Where a webhook may point (issue 12, finding 7; docs/decisions/webhook-targets.md). The gateway and the
 * workers sit inside the operator's network: a webhook must never make them reach it (their own service
 * ports, a cloud metadata endpoint, a private range). So, in every mode:
 *  - https only, to a host whose every address is public unicast: IPv4 outside loopback, private,
 *    link-local (169.254/16), CGNAT (100.64/10), 0.0.0.0/8, benchmarking (198.18/15), documentation,
 *    multicast, broadcast and reserved ranges; IPv6 in global unicast (2000::/3) and outside NAT64
 *    (64:ff9b::/96), 6to4, Teredo, documentation and the other special ranges — which also refuses
 *    IPv4-compatible (::127.0.0.1), IPv4-mapped, link-local (fe80::/10, so fe90::) and unique-local;
 *  - checked when the webhook is registered AND at every delivery, on the addresses the name resolves to
 *    then, and the delivery connects to the address that was checked (a name that resolves to a public
 *    address for the check and to 127.0.0.1 for the connection — DNS rebinding — gets nowhere);
 *  - unless an explicit development allow-list (WEBHOOK_ALLOWED_TARGETS, refused in production) names the
 *    target: "host" or "host:port"; such a target may also be plain http.
 */
export interface WebhookTargetPolicy {
  /** Development allow-list: "host" or "host:port" entries (lower-case, IPv6 without brackets). */
  allowed: readonly string[];
  /** Resolves a host name to all its addresses (default: the system resolver). */
  lookup?: (host: string) => Promise<{ address: string; family: number }[]>;
}

/** The address a delivery connects to, checked. */
export interface ResolvedTarget {
  url: URL;
  address: string;
  family: 4 | 6;
}

export type TargetVerdict = { ok: true; target: ResolvedTarget } | { ok: false; reason: string };

/** Whether an IP address is public unicast (see above). Not an address: false. */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const ip = ipaddr.parse(address);
  if (ip.kind() === 'ipv4') return ip.range() === 'unicast';
  const v6 = ip as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return false;
  return v6.range() === 'unicast' && v6.match(ipaddr.IPv6.parse('2000::'), 3);
}

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
}

function portOf(url: URL): string {
  return url.port || (url.protocol === 'https:' ? '443' : '80');
}

function allowListed(url: URL, allowed: readonly string[]): boolean {
  const host = hostOf(url);
  return allowed.some((entry) => entry === host || entry === `${host}:${portOf(url)}`);
}

/**
 * Checks a webhook URL now: its scheme, and every address its host resolves to. The verdict carries the
 * address to connect to (the first one; all were checked).
 */
export async function checkWebhookTarget(url: URL, policy: WebhookTargetPolicy): Promise<TargetVerdict> {
  const listed = allowListed(url, policy.allowed);
  if (url.protocol !== 'https:' && !(listed && url.protocol === 'http:'))
    return { ok: false, reason: 'must be an https URL' };
  if (url.username || url.password) return { ok: false, reason: 'must not carry credentials' };
  const host = hostOf(url);
  let addresses: { address: string; family: number }[];
  if (ipaddr.isValid(host)) addresses = [{ address: host, family: ipaddr.parse(host).kind() === 'ipv4' ? 4 : 6 }];
  else {
    try {
      addresses = await (policy.lookup ?? ((h) => dnsLookup(h, { all: true, verbatim: true })))(host);
    } catch {
      return { ok: false, reason: `${host} does not resolve` };
    }
  }
  if (addresses.length === 0) return { ok: false, reason: `${host} does not resolve` };
  if (!listed && !addresses.every((a) => isPublicAddress(a.address)))
    return { ok: false, reason: `${host} resolves to an address that is not public` };
  const first = addresses[0]!;
  return { ok: true, target: { url, address: first.address, family: first.family === 6 ? 6 : 4 } };
}

/** WEBHOOK_ALLOWED_TARGETS → normalised entries. */
export function parseAllowedTargets(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) =>
      s
        .trim()
        .toLowerCase()
        .replace(/^\[([^\]]+)\]/, '$1'),
    )
    .filter(Boolean);
}

/**
 * POSTs to a checked target, connecting to the checked address (a custom `lookup` pins it) while the
 * Host header and the TLS server name stay the URL's host, so the certificate is verified against the
 * name. Redirects are not followed. Resolves with the status code; rejects on a network error or timeout.
 */
export function postToTarget(
  target: ResolvedTarget,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<number> {
  const { url, address, family } = target;
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const pinned = (
    _host: string,
    options: { all?: boolean },
    callback: (err: Error | null, address: string | { address: string; family: number }[], family?: number) => void,
  ) => {
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) },
        lookup: pinned as never,
        agent: false,
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          clearTimeout(timer);
          resolve(res.statusCode ?? 0);
        });
        res.on('error', reject);
      },
    );
    // The whole exchange, not an idle socket: a receiver that answers a byte a second is cut off too.
    const timer = setTimeout(() => req.destroy(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(body);
  });
}
