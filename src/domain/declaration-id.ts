import { createHash } from 'node:crypto';

/**
 * The id of a declaration follows from what makes it unique — platform, order number, message type —
 * so every attempt to submit the same order names the same declarations. A retry after a timeout, a
 * gateway killed mid-request, two gateways racing: all of them write the same ids, the store's primary
 * key refuses the second copy, and the ids a client was told always exist (docs/CHAOS.md, finding 1).
 *
 * Shaped as an RFC 9562 version-8 (custom) UUID: the first 122 bits of SHA-256 over the key.
 */
export function declarationIdFor(platformCode: string, orderNo: string, messageType: string): string {
  const digest = createHash('sha256')
    .update(`baygate/declaration\u0000${platformCode}\u0000${orderNo}\u0000${messageType}`, 'utf8')
    .digest();
  const b = Buffer.from(digest.subarray(0, 16));
  b[6] = (b[6]! & 0x0f) | 0x80; // version 8
  b[8] = (b[8]! & 0x3f) | 0x80; // RFC 9562 variant
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
