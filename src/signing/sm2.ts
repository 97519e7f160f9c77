import { createECDH, createHash, createPublicKey, randomBytes, type ECDH, type KeyObject } from 'node:crypto';

/**
 * SM2 signatures (GB/T 32918.2) with SM3 and a distinguishing ID.
 *
 * Why not `crypto.sign('sm3', data, key)`: Node 20 signs with an EMPTY distinguishing ID, so its
 * signatures only verify with `openssl pkeyutl -digest sm3` when no `distid` is given, and customs
 * (and every standard verifier) use the default ID `1234567812345678`. Here we compute
 * Z_A = SM3(ENTL‖ID‖a‖b‖xG‖yG‖xA‖yA) and e = SM3(Z_A‖M) ourselves.
 *
 * Speed: the expensive step of signing is k·G. OpenSSL does it natively behind `createECDH('SM2')`
 * (setPrivateKey(k) computes k·G), so signing costs one native scalar multiplication plus a few BigInt
 * multiplications — about as fast as `openssl speed sm2`. Verification needs s·G + t·P_A: s·G is native
 * the same way; t·P_A uses BigInt Jacobian arithmetic with a per-key precomputed window table (Node
 * exposes no native general-point multiplication that returns both coordinates).
 */

export const SM2_DEFAULT_ID = '1234567812345678';

/** OID of the SM2 curve (namedCurve in SPKI / PKCS#8 of SM2 keys). */
export const SM2_CURVE_OID = '1.2.156.10197.1.301';

// Curve parameters (GB/T 32918.5). a ≡ −3 (mod p), which the doubling formula below relies on.
const P = 0xfffffffeffffffffffffffffffffffffffffffff00000000ffffffffffffffffn;
const A = 0xfffffffeffffffffffffffffffffffffffffffff00000000fffffffffffffffcn;
const B = 0x28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93n;
const N = 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123n;
const GX = 0x32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7n;
const GY = 0xbc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0n;

export function sm3(data: Buffer | string): Buffer {
  return createHash('sm3').update(data).digest();
}

// ---------------------------------------------------------------------------------------------
// Small conversions

const toBigInt = (buf: Buffer): bigint => (buf.length === 0 ? 0n : BigInt('0x' + buf.toString('hex')));
const to32 = (n: bigint): Buffer => Buffer.from(n.toString(16).padStart(64, '0'), 'hex');
const mod = (a: bigint, m: bigint): bigint => {
  const r = a % m;
  return r < 0n ? r + m : r;
};

/** Modular inverse by the extended Euclidean algorithm (m prime, a ≠ 0 mod m). */
function modInv(a: bigint, m: bigint): bigint {
  let [oldR, r] = [mod(a, m), m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  if (oldR !== 1n) throw new Error('sm2: value has no modular inverse');
  return mod(oldS, m);
}

// ---------------------------------------------------------------------------------------------
// Point arithmetic over GF(p), Jacobian coordinates (X/Z², Y/Z³). Infinity is Z = 0.

interface Affine {
  x: bigint;
  y: bigint;
}
interface Jacobian {
  X: bigint;
  Y: bigint;
  Z: bigint;
}
const INFINITY: Jacobian = { X: 1n, Y: 1n, Z: 0n };

function isOnCurve({ x, y }: Affine): boolean {
  if (x < 0n || x >= P || y < 0n || y >= P) return false;
  return mod(y * y - (x * x * x + A * x + B), P) === 0n;
}

/** dbl-2001-b (a = −3). */
function jDouble(p: Jacobian): Jacobian {
  if (p.Z === 0n || p.Y === 0n) return INFINITY;
  const delta = (p.Z * p.Z) % P;
  const gamma = (p.Y * p.Y) % P;
  const beta = (p.X * gamma) % P;
  const alpha = (3n * (p.X - delta) * (p.X + delta)) % P;
  const X3 = mod(alpha * alpha - 8n * beta, P);
  const Z3 = mod((p.Y + p.Z) * (p.Y + p.Z) - gamma - delta, P);
  const Y3 = mod(alpha * (4n * beta - X3) - 8n * ((gamma * gamma) % P), P);
  return { X: X3, Y: Y3, Z: Z3 };
}

/** madd-2007-bl: Jacobian + affine. */
function jAddAffine(p: Jacobian, q: Affine): Jacobian {
  if (p.Z === 0n) return { X: q.x, Y: q.y, Z: 1n };
  const z1z1 = (p.Z * p.Z) % P;
  const u2 = (q.x * z1z1) % P;
  const s2 = (((q.y * p.Z) % P) * z1z1) % P;
  const h = mod(u2 - p.X, P);
  const rr = mod(2n * (s2 - p.Y), P);
  if (h === 0n) return rr === 0n ? jDouble(p) : INFINITY;
  const hh = (h * h) % P;
  const i = (4n * hh) % P;
  const j = (h * i) % P;
  const v = (p.X * i) % P;
  const X3 = mod(rr * rr - j - 2n * v, P);
  const Y3 = mod(rr * (v - X3) - 2n * ((p.Y * j) % P), P);
  const Z3 = mod((p.Z + h) * (p.Z + h) - z1z1 - hh, P);
  return { X: X3, Y: Y3, Z: Z3 };
}

function toAffine(p: Jacobian): Affine | null {
  if (p.Z === 0n) return null;
  const zi = modInv(p.Z, P);
  const zi2 = (zi * zi) % P;
  return { x: (p.X * zi2) % P, y: (((p.Y * zi2) % P) * zi) % P };
}

const WINDOW_BITS = 4;

/** [1·Q, 2·Q, …, 15·Q] in affine form, so the main loop can use the cheaper mixed addition. */
function windowTable(q: Affine): Affine[] {
  const table: Affine[] = [q];
  let acc: Jacobian = { X: q.x, Y: q.y, Z: 1n };
  for (let i = 2; i < 1 << WINDOW_BITS; i++) {
    acc = jAddAffine(acc, q);
    const a = toAffine(acc);
    if (!a) throw new Error('sm2: public key has small order');
    table.push(a);
  }
  return table;
}

/** k·Q with a fixed 4-bit window over a precomputed table. Not constant-time: used only with public scalars. */
function multiplyWithTable(table: Affine[], k: bigint): Jacobian {
  const hex = k.toString(16);
  let acc = INFINITY;
  for (const digit of hex) {
    for (let i = 0; i < WINDOW_BITS; i++) acc = jDouble(acc);
    const w = parseInt(digit, 16);
    if (w !== 0) acc = jAddAffine(acc, table[w - 1] as Affine);
  }
  return acc;
}

// ---------------------------------------------------------------------------------------------
// Native k·G through OpenSSL's ECDH on the SM2 curve.

let nativeEcdh: ECDH | undefined;
function nativeBaseMultiply(k: bigint): Affine {
  nativeEcdh ??= createECDH('SM2');
  nativeEcdh.setPrivateKey(to32(k));
  const pub = nativeEcdh.getPublicKey(); // 04 ‖ x ‖ y
  return { x: toBigInt(pub.subarray(1, 33)), y: toBigInt(pub.subarray(33, 65)) };
}

// Random scalars come from a pooled buffer: one randomBytes call per 256 signatures keeps signing cheap.
let randomPool = Buffer.alloc(0);
let randomOffset = 0;
function randomScalar(): bigint {
  for (;;) {
    if (randomOffset + 32 > randomPool.length) {
      randomPool = randomBytes(32 * 256);
      randomOffset = 0;
    }
    const k = toBigInt(randomPool.subarray(randomOffset, randomOffset + 32));
    randomPool.fill(0, randomOffset, randomOffset + 32);
    randomOffset += 32;
    if (k > 0n && k < N) return k;
  }
}

// ---------------------------------------------------------------------------------------------
// Keys

interface PublicMaterial {
  point: Affine;
  table?: Affine[];
  za: Map<string, Buffer>;
}
interface PrivateMaterial {
  d: bigint;
  /** (1 + d)⁻¹ mod n, the only inversion signing needs; computed once per key. */
  inv1PlusD: bigint;
  pub: PublicMaterial;
}

const publicCache = new WeakMap<KeyObject, PublicMaterial>();
/**
 * Second-level cache by public point: X509Certificate.publicKey and createPublicKey() hand out a new
 * KeyObject each time, and rebuilding the verification window table costs more than a verification.
 */
const publicByPoint = new Map<string, PublicMaterial>();
const PUBLIC_BY_POINT_LIMIT = 1024;
const privateCache = new WeakMap<KeyObject, PrivateMaterial>();

const SM2_CURVE_OID_DER = Buffer.from('06082a811ccf5501822d', 'hex');

function assertSm2(der: Buffer, what: string): void {
  // Node reports SM2 keys either as type 'ec' with namedCurve 'SM2' (keys it generated) or with an
  // undefined type (keys OpenSSL 3 loads as EVP_PKEY_SM2); the curve OID in the DER settles it.
  if (!der.includes(SM2_CURVE_OID_DER))
    throw new Error(`sm2: ${what} is not an SM2 key (curve OID ${SM2_CURVE_OID} not found)`);
}

function publicMaterial(key: KeyObject): PublicMaterial {
  const cached = publicCache.get(key);
  if (cached) return cached;
  const spki = key.export({ format: 'der', type: 'spki' });
  assertSm2(spki, 'public key');
  // The SPKI of an EC key ends with the BIT STRING holding the uncompressed point 04 ‖ x ‖ y.
  const raw = spki.subarray(spki.length - 65);
  if (raw[0] !== 0x04) throw new Error('sm2: public key is not an uncompressed point');
  const pointHex = raw.toString('hex');
  let material = publicByPoint.get(pointHex);
  if (!material) {
    const point = { x: toBigInt(raw.subarray(1, 33)), y: toBigInt(raw.subarray(33, 65)) };
    if (!isOnCurve(point)) throw new Error('sm2: public key point is not on the SM2 curve');
    material = { point, za: new Map() };
    if (publicByPoint.size >= PUBLIC_BY_POINT_LIMIT) publicByPoint.delete(publicByPoint.keys().next().value as string);
    publicByPoint.set(pointHex, material);
  }
  publicCache.set(key, material);
  return material;
}

/** Reads the 32-byte private scalar from PKCS#8 → ECPrivateKey (RFC 5915): `02 01 01 04 20 <d>`. */
function privateScalar(pkcs8: Buffer): bigint {
  const marker = Buffer.from('0201010420', 'hex');
  const at = pkcs8.indexOf(marker);
  if (at < 0) throw new Error('sm2: private key is not an RFC 5915 ECPrivateKey with a 32-byte scalar');
  return toBigInt(pkcs8.subarray(at + marker.length, at + marker.length + 32));
}

function privateMaterial(key: KeyObject): PrivateMaterial {
  const cached = privateCache.get(key);
  if (cached) return cached;
  if (key.type !== 'private') throw new Error(`sm2: signing needs a private key, got a ${key.type} key`);
  const pkcs8 = key.export({ format: 'der', type: 'pkcs8' });
  assertSm2(pkcs8, 'private key');
  const d = privateScalar(pkcs8);
  if (d <= 0n || d >= N - 1n) throw new Error('sm2: private scalar out of range');
  const material: PrivateMaterial = { d, inv1PlusD: modInv(1n + d, N), pub: publicMaterial(createPublicKey(key)) };
  privateCache.set(key, material);
  return material;
}

function za(pub: PublicMaterial, id: string): Buffer {
  let z = pub.za.get(id);
  if (!z) {
    const idBytes = Buffer.from(id, 'utf8');
    const entlBits = idBytes.length * 8;
    if (entlBits > 0xffff) throw new Error('sm2: distinguishing ID longer than 8191 bytes');
    const entl = Buffer.from([entlBits >> 8, entlBits & 0xff]);
    z = sm3(Buffer.concat([entl, idBytes, to32(A), to32(B), to32(GX), to32(GY), to32(pub.point.x), to32(pub.point.y)]));
    pub.za.set(id, z);
  }
  return z;
}

function messageDigest(pub: PublicMaterial, message: Buffer | string, id: string): bigint {
  const m = typeof message === 'string' ? Buffer.from(message, 'utf8') : message;
  return toBigInt(createHash('sm3').update(za(pub, id)).update(m).digest());
}

/** Z_A for a key and ID (exported for tests and for callers that pre-hash). */
export function sm2Za(key: KeyObject, id: string = SM2_DEFAULT_ID): Buffer {
  return Buffer.from(za(key.type === 'private' ? privateMaterial(key).pub : publicMaterial(key), id));
}

// ---------------------------------------------------------------------------------------------
// Signature encodings

/** Raw r‖s (64 bytes) → DER SEQUENCE { INTEGER r, INTEGER s } (what OpenSSL and X.509 use). */
export function sm2SignatureToDer(raw: Buffer): Buffer {
  if (raw.length !== 64) throw new Error(`sm2: raw signature must be 64 bytes, got ${raw.length}`);
  const int = (b: Buffer): Buffer => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    let v = b.subarray(i);
    if ((v[0] as number) & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
    return Buffer.concat([Buffer.from([0x02, v.length]), v]);
  };
  const body = Buffer.concat([int(raw.subarray(0, 32)), int(raw.subarray(32))]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

/** Accepts raw r‖s (64 bytes) or DER; returns null when the bytes are neither. */
export function sm2SignatureToRaw(signature: Buffer): Buffer | null {
  const rs = parseSignature(signature, 'either');
  return rs ? Buffer.concat([to32(rs.r), to32(rs.s)]) : null;
}

/**
 * How a signature value may be encoded: `raw` r‖s (64 bytes: the E-port XML-DSig profile), `der`
 * SEQUENCE { r, s } (X.509 certificates and CRLs, OpenSSL), or `either` (what some E-port clients send).
 */
export type Sm2SignatureEncoding = 'raw' | 'der' | 'either';

function parseSignature(sig: Buffer, encoding: Sm2SignatureEncoding): { r: bigint; s: bigint } | null {
  if (sig.length === 64 && encoding !== 'der')
    return { r: toBigInt(sig.subarray(0, 32)), s: toBigInt(sig.subarray(32)) };
  if (encoding === 'raw') return null;
  // Strict DER: 30 len 02 lenR r 02 lenS s, short-form lengths only (an SM2 signature is ≤ 72 bytes).
  if (sig.length < 8 || sig[0] !== 0x30 || sig[1] !== sig.length - 2) return null;
  const readInt = (at: number): { value: bigint; next: number } | null => {
    if (sig[at] !== 0x02) return null;
    const len = sig[at + 1];
    if (len === undefined || len === 0 || len > 33 || at + 2 + len > sig.length) return null;
    const bytes = sig.subarray(at + 2, at + 2 + len);
    if ((bytes[0] as number) & 0x80) return null; // negative
    if (len > 1 && bytes[0] === 0 && !((bytes[1] as number) & 0x80)) return null; // non-minimal
    return { value: toBigInt(bytes), next: at + 2 + len };
  };
  const r = readInt(2);
  if (!r) return null;
  const s = readInt(r.next);
  if (!s || s.next !== sig.length) return null;
  return { r: r.value, s: s.value };
}

// ---------------------------------------------------------------------------------------------
// Sign / verify

/** SM2 signature of `message` (SM3, distinguishing ID default `1234567812345678`) as raw r‖s, 64 bytes. */
export function sm2Sign(privateKey: KeyObject, message: Buffer | string, opts: { id?: string } = {}): Buffer {
  const key = privateMaterial(privateKey);
  const e = messageDigest(key.pub, message, opts.id ?? SM2_DEFAULT_ID);
  for (;;) {
    const k = randomScalar();
    const x1 = nativeBaseMultiply(k).x;
    const r = (e + x1) % N;
    if (r === 0n || r + k === N) continue;
    const s = (key.inv1PlusD * mod(k - r * key.d, N)) % N;
    if (s === 0n) continue;
    return Buffer.concat([to32(r), to32(s)]);
  }
}

/**
 * Verifies an SM2 signature with SM3 and the distinguishing ID. Malformed input → false. `encoding` says
 * which encodings of the signature value are acceptable (default `either`; the XML verifier asks for
 * `raw` in strict mode, certificate chains for `der`).
 */
export function sm2Verify(
  publicKey: KeyObject,
  message: Buffer | string,
  signature: Buffer,
  opts: { id?: string; encoding?: Sm2SignatureEncoding } = {},
): boolean {
  const rs = parseSignature(signature, opts.encoding ?? 'either');
  if (!rs) return false;
  const { r, s } = rs;
  if (r < 1n || r >= N || s < 1n || s >= N) return false;
  const t = (r + s) % N;
  if (t === 0n) return false;
  const pub = publicKey.type === 'private' ? privateMaterial(publicKey).pub : publicMaterial(publicKey);
  const e = messageDigest(pub, message, opts.id ?? SM2_DEFAULT_ID);
  pub.table ??= windowTable(pub.point);
  const sum = toAffine(jAddAffine(multiplyWithTable(pub.table, t), nativeBaseMultiply(s)));
  if (!sum) return false;
  return (e + sum.x) % N === r;
}
