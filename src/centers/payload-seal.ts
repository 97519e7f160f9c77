import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/**
 * Sealed manifests on the broker (issue 12, finding 5; docs/decisions/sealed-manifests.md). A signed
 * manifest carries the buyer's ID number, name, phone and address; published persistent to quorum queues
 * it stays on RabbitMQ's disk (segments, WAL) after it is consumed. So the body a center queue holds is
 * sealed with AES-256-GCM under a key of THAT center — the consumer holds it: Baygate's HTTPS connector
 * and the simulator open it; a center consuming AMQP directly is given its key (or, by explicit
 * configuration, `"payload": "clear"`).
 *
 * Layout (every length fixed except the key id):
 *   "BGS1" | keyId length (1 byte) | keyId (ASCII) | nonce (12 bytes) | ciphertext | GCM tag (16 bytes)
 * The additional authenticated data binds the body to its center and message: "baygate-manifest/1",
 * the center code and the message id (the CEB guid), NUL-separated — a sealed manifest moved to another
 * center's queue, or under another message id, does not open.
 */
export const SEALED_CONTENT_TYPE = 'application/vnd.baygate.sealed';
const MAGIC = Buffer.from('BGS1', 'ascii');
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export interface PayloadKey {
  id: string;
  /** 32 bytes (AES-256). */
  key: Buffer;
}

/** A center's payload keys, newest first: the first seals, any opens (rotation). */
export interface CenterKeyring {
  center: string;
  keys: readonly PayloadKey[];
}

export class PayloadSealError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadSealError';
  }
}

function aad(center: string, messageId: string): Buffer {
  return Buffer.from(`baygate-manifest/1\u0000${center}\u0000${messageId}`, 'utf8');
}

export function isSealed(body: Buffer): boolean {
  return body.length > MAGIC.length && body.subarray(0, MAGIC.length).equals(MAGIC);
}

export function sealPayload(keyring: CenterKeyring, messageId: string, plaintext: Buffer): Buffer {
  const current = keyring.keys[0];
  if (!current) throw new PayloadSealError(`no payload key for center ${keyring.center}`);
  const id = Buffer.from(current.id, 'ascii');
  if (id.length === 0 || id.length > 255) throw new PayloadSealError('a payload key id is 1–255 ASCII characters');
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', current.key, nonce);
  cipher.setAAD(aad(keyring.center, messageId));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([MAGIC, Buffer.from([id.length]), id, nonce, ciphertext, cipher.getAuthTag()]);
}

export function openPayload(keyring: CenterKeyring, messageId: string, sealed: Buffer): Buffer {
  if (!isSealed(sealed)) throw new PayloadSealError('not a sealed payload');
  const idLength = sealed[MAGIC.length]!;
  const idStart = MAGIC.length + 1;
  const nonceStart = idStart + idLength;
  const bodyStart = nonceStart + NONCE_BYTES;
  if (sealed.length < bodyStart + TAG_BYTES) throw new PayloadSealError('sealed payload truncated');
  const id = sealed.subarray(idStart, nonceStart).toString('ascii');
  const key = keyring.keys.find((k) => k.id === id);
  if (!key) throw new PayloadSealError(`payload sealed with key "${id}", which center ${keyring.center} does not hold`);
  const decipher = createDecipheriv('aes-256-gcm', key.key, sealed.subarray(nonceStart, bodyStart));
  decipher.setAAD(aad(keyring.center, messageId));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(bodyStart, sealed.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new PayloadSealError(
      `sealed payload does not open for center ${keyring.center} and message ${messageId} (tampered, or another center's or message's)`,
    );
  }
}

/** The public development secret the development keys derive from: never a secret, never for production. */
const DEVELOPMENT_SECRET = 'baygate-development-center-payload-key-NOT-A-SECRET';

/**
 * Every center's keyring from CENTER_PAYLOAD_KEYS ("CODE:keyId:base64(32 bytes)[,…]", newest first per
 * center). A center without configured keys gets a development key derived from its code — refused in
 * production, where a center whose manifests are sealed must be given its own key.
 */
export function centerKeyrings(
  config: { CENTER_PAYLOAD_KEYS?: string; NODE_ENV: string },
  centers: readonly { code: string; payload: 'sealed' | 'clear' }[],
): Map<string, CenterKeyring> {
  const configured = new Map<string, PayloadKey[]>();
  for (const entry of (config.CENTER_PAYLOAD_KEYS ?? '').split(',').filter((e) => e.trim() !== '')) {
    const [code, id, base64, ...rest] = entry.trim().split(':');
    const key = Buffer.from(base64 ?? '', 'base64');
    if (!code || !id || rest.length > 0 || key.length !== 32)
      throw new PayloadSealError(
        `CENTER_PAYLOAD_KEYS: "${code ?? ''}:${id ?? ''}:…" must be CODE:keyId:base64(32 bytes)`,
      );
    configured.set(code, [...(configured.get(code) ?? []), { id, key }]);
  }
  const rings = new Map<string, CenterKeyring>();
  for (const c of centers) {
    const keys = configured.get(c.code);
    if (keys) rings.set(c.code, { center: c.code, keys });
    else if (c.payload === 'clear') continue;
    else if (config.NODE_ENV === 'production')
      throw new PayloadSealError(
        `center ${c.code} receives sealed manifests but CENTER_PAYLOAD_KEYS has no key for it (give it one, or set "payload": "clear" in the registry)`,
      );
    else
      rings.set(c.code, {
        center: c.code,
        keys: [{ id: 'dev1', key: createHmac('sha256', DEVELOPMENT_SECRET).update(c.code).digest() }],
      });
  }
  return rings;
}
