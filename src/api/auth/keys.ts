import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API keys: `<keyId>.<secret>`. The key id is public (it names the key in logs, rate limits and the CLI);
 * the secret is 32 random bytes (base64url) and is shown exactly once, when the key is created.
 *
 * We store SHA-256(secret), not a slow password hash (bcrypt/scrypt/argon2): those exist to make guessing
 * LOW-entropy human passwords expensive. A 256-bit random secret cannot be guessed or brute-forced from its
 * hash whatever the hash speed, and a fast hash keeps authentication at microseconds per request, which
 * matters at ≥ 1,000 orders/s across stateless gateway copies.
 */
export const KEY_ID_PREFIX = 'bgk_';
const KEY_ID = /^bgk_[A-Za-z0-9_-]{6,64}$/;
const SECRET = /^[A-Za-z0-9_-]{16,128}$/;

export interface GeneratedKey {
  keyId: string;
  secret: string;
  /** What the client sends: `Authorization: Bearer <token>`. */
  token: string;
  hash: string;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function generateKey(): GeneratedKey {
  const keyId = KEY_ID_PREFIX + randomBytes(9).toString('base64url');
  const secret = randomBytes(32).toString('base64url');
  return { keyId, secret, token: `${keyId}.${secret}`, hash: hashSecret(secret) };
}

/** Splits a presented token; undefined when it is not shaped like one of ours (no database lookup then). */
export function parseToken(token: string): { keyId: string; secret: string } | undefined {
  const dot = token.indexOf('.');
  if (dot <= 0) return undefined;
  const keyId = token.slice(0, dot);
  const secret = token.slice(dot + 1);
  if (!KEY_ID.test(keyId) || !SECRET.test(secret)) return undefined;
  return { keyId, secret };
}

export function isValidKeyId(keyId: string): boolean {
  return KEY_ID.test(keyId);
}

export function isValidSecret(secret: string): boolean {
  return SECRET.test(secret);
}

/** Constant-time comparison of the presented secret's hash with the stored hash (both hex SHA-256). */
export function secretMatches(secret: string, storedHash: string): boolean {
  const presented = createHash('sha256').update(secret, 'utf8').digest();
  const stored = Buffer.from(storedHash, 'hex');
  if (stored.length !== presented.length) {
    // Still do the comparison so a malformed stored hash does not answer faster.
    timingSafeEqual(presented, presented);
    return false;
  }
  return timingSafeEqual(presented, stored);
}

/** Burns the same time as a real comparison when the key id is unknown, so ids cannot be probed by timing. */
export function dummyCompare(secret: string): void {
  secretMatches(secret, '0'.repeat(64));
}
