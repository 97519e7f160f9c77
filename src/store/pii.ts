import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Config } from '../config';

/**
 * Personal data at rest: AES-256-GCM envelope encryption with a rotating key ring, and keyed hashes
 * (HMAC-SHA256) as blind indexes so that a buyer can be looked up without storing the ID number.
 *
 * Key ring (config PII_KEYS): "keyId:base64Key,…", newest first. New values are sealed with the first key;
 * a sealed value names its key (`k`), so values sealed before a rotation still open as long as their key
 * stays in the ring. `reencrypt` moves a value to the newest key (for a background rotation job).
 *
 * Every sealed value is bound to WHERE it is stored by the AAD (additional authenticated data), e.g.
 * "declarations/<id>/order": copying the ciphertext of one declaration into another fails authentication
 * instead of silently showing the wrong person's data.
 */

/**
 * A sealed value as stored: key id, 12-byte IV, 16-byte GCM tag, ciphertext, and `z: 'd'` when the
 * plaintext was deflated before encryption (large values: orders, manifests — smaller documents are
 * what makes FerretDB's table scans cheaper). The compression flag is covered by the AAD.
 */
export interface SealedValue {
  k: string;
  iv: Buffer;
  tag: Buffer;
  ct: Buffer;
  z?: 'd';
}

/** Values at least this long are deflated before encryption. */
const COMPRESS_FROM_BYTES = 512;

export class PiiError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PiiError';
  }
}

const AAD_PREFIX = 'baygate/pii/v1|';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface PiiKey {
  id: string;
  key: Buffer;
}

/** Parses "id:base64,id:base64" (newest first). Throws naming the bad entry. */
export function parseKeyRing(spec: string): PiiKey[] {
  const keys = spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((pair, index) => {
      const colon = pair.indexOf(':');
      const id = colon > 0 ? pair.slice(0, colon) : '';
      const key = Buffer.from(colon > 0 ? pair.slice(colon + 1) : '', 'base64');
      if (!/^[A-Za-z0-9_-]+$/.test(id))
        throw new PiiError(`PII_KEYS entry ${index + 1}: key id must match [A-Za-z0-9_-]+`);
      if (key.length !== 32)
        throw new PiiError(`PII_KEYS entry ${index + 1} ("${id}"): key must be 32 bytes in Base64`);
      return { id, key };
    });
  if (keys.length === 0) throw new PiiError('PII_KEYS: at least one key is required');
  const ids = new Set<string>();
  for (const k of keys) {
    if (ids.has(k.id)) throw new PiiError(`PII_KEYS: key id "${k.id}" appears twice`);
    ids.add(k.id);
  }
  return keys;
}

/** What a blind index is computed over; each kind has its own normalisation and its own HMAC domain. */
export type BlindIndexKind = 'idNumber' | 'phone' | 'name' | 'address';

export function normaliseForIndex(kind: BlindIndexKind, value: string): string {
  const v = value.normalize('NFKC').trim();
  switch (kind) {
    case 'idNumber':
      return v.replace(/[\s-]/g, '').toUpperCase(); // "11010519491231002x" and "…002X" are one person
    case 'phone':
      return v.replace(/[\s()-]/g, '').replace(/^\+?86(?=1\d{10}$)/, '');
    case 'name':
      return v.replace(/\s+/g, ' ').toLowerCase();
    case 'address':
      return v.replace(/\s+/g, '').toLowerCase();
  }
}

export class PiiVault {
  private readonly keys: Map<string, Buffer>;
  private readonly current: PiiKey;

  constructor(
    keys: PiiKey[],
    private readonly hashKey: Buffer,
  ) {
    if (keys.length === 0) throw new PiiError('PiiVault needs at least one key');
    for (const k of keys) if (k.key.length !== 32) throw new PiiError(`PII key "${k.id}" must be 32 bytes`);
    if (hashKey.length < 32) throw new PiiError('PII_HASH_KEY must be at least 32 bytes');
    this.keys = new Map(keys.map((k) => [k.id, k.key]));
    this.current = keys[0]!;
  }

  static fromConfig(config: Pick<Config, 'PII_KEYS' | 'PII_HASH_KEY'>): PiiVault {
    return new PiiVault(parseKeyRing(config.PII_KEYS), Buffer.from(config.PII_HASH_KEY, 'base64'));
  }

  /** Id of the key new values are sealed with. */
  get currentKeyId(): string {
    return this.current.id;
  }

  sealBytes(plain: Buffer, context: string): SealedValue {
    const compressed = plain.length >= COMPRESS_FROM_BYTES;
    const body = compressed ? deflateRawSync(plain, { level: 6 }) : plain;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad(context, compressed));
    const ct = Buffer.concat([cipher.update(body), cipher.final()]);
    const sealed: SealedValue = { k: this.current.id, iv, tag: cipher.getAuthTag(), ct };
    if (compressed) sealed.z = 'd';
    return sealed;
  }

  openBytes(sealed: unknown, context: string): Buffer {
    const value = asSealedValue(sealed);
    const key = this.keys.get(value.k);
    if (!key)
      throw new PiiError(`sealed value names key "${value.k}", which is not in PII_KEYS (rotated out too early?)`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, value.iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(aad(context, value.z === 'd'));
      decipher.setAuthTag(value.tag);
      const body = Buffer.concat([decipher.update(value.ct), decipher.final()]);
      return value.z === 'd' ? inflateRawSync(body, { maxOutputLength: 64 * 1024 * 1024 }) : body;
    } catch (err) {
      throw new PiiError(
        `sealed value for "${context}" failed authentication (tampered, or stored under another document/field)`,
        { cause: err },
      );
    }
  }

  sealText(text: string, context: string): SealedValue {
    return this.sealBytes(Buffer.from(text, 'utf8'), context);
  }

  openText(sealed: unknown, context: string): string {
    return this.openBytes(sealed, context).toString('utf8');
  }

  sealJson(value: unknown, context: string): SealedValue {
    return this.sealText(JSON.stringify(value), context);
  }

  openJson<T>(sealed: unknown, context: string): T {
    return JSON.parse(this.openText(sealed, context)) as T;
  }

  /** Whether the value is sealed with an older key than the current one. */
  needsRotation(sealed: unknown): boolean {
    return asSealedValue(sealed).k !== this.current.id;
  }

  /** Opens with whichever key the value names and seals again with the newest key (same context). */
  reencrypt(sealed: unknown, context: string): SealedValue {
    return this.sealBytes(this.openBytes(sealed, context), context);
  }

  /** Keyed hash of a normalised value (hex): equal inputs give equal hashes, nothing else can be learnt. */
  blindIndex(kind: BlindIndexKind, value: string): string {
    return createHmac('sha256', this.hashKey)
      .update(`${kind}\u0000${normaliseForIndex(kind, value)}`, 'utf8')
      .digest('hex');
  }
}

function aad(context: string, compressed: boolean): Buffer {
  if (!context) throw new PiiError('a sealed value needs a context (document/field) for its AAD');
  return Buffer.from(AAD_PREFIX + (compressed ? 'deflate|' : '') + context, 'utf8');
}

/** Accepts a SealedValue as read back from MongoDB (BSON Binary), from JSON (Base64) or as built here. */
export function asSealedValue(input: unknown): SealedValue {
  if (!input || typeof input !== 'object') throw new PiiError('not a sealed value');
  const o = input as Record<string, unknown>;
  if (typeof o.k !== 'string') throw new PiiError('sealed value has no key id');
  const iv = toBuffer(o.iv, 'iv');
  const tag = toBuffer(o.tag, 'tag');
  if (iv.length !== IV_BYTES) throw new PiiError(`sealed value iv must be ${IV_BYTES} bytes`);
  if (tag.length !== TAG_BYTES) throw new PiiError(`sealed value tag must be ${TAG_BYTES} bytes`);
  if (o.z !== undefined && o.z !== null && o.z !== 'd')
    throw new PiiError('sealed value has an unknown compression flag');
  const value: SealedValue = { k: o.k, iv, tag, ct: toBuffer(o.ct, 'ct') };
  if (o.z === 'd') value.z = 'd';
  return value;
}

function toBuffer(value: unknown, field: string): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (typeof value === 'string') return Buffer.from(value, 'base64');
  // BSON Binary (mongodb driver): { buffer: Uint8Array, sub_type }
  if (value && typeof value === 'object' && 'buffer' in value) {
    const inner = (value as { buffer: unknown }).buffer;
    if (inner instanceof Uint8Array) return Buffer.from(inner.buffer, inner.byteOffset, inner.byteLength);
  }
  throw new PiiError(`sealed value field "${field}" is not binary`);
}

/** One masking rule for every layer (the domain's). */
export { maskIdNumber } from '../domain/masking';
