import { verify as rsaVerify } from 'node:crypto';
import WebSocket from 'ws';
import { SIGNATURE_PROFILES, type SignatureAlgorithmId, type SignatureProfile } from '../algorithms';
import { loadCertificate, type CertificateInfo } from '../certificate';
import type { MessageLayout } from '../eport-layout';
import { SigningError } from '../errors';
import { sm2SignatureToRaw, sm2Verify, SM2_DEFAULT_ID } from '../sm2';
import type { CertificateTrustCheck } from '../trust-check';
import { prepareSignature } from './enveloped';
import type { SignerIdentity, XmlSigner } from './types';
import { UKEY_DEFAULT_URL, UKEY_METHOD, ukeyResponseSchema, type UKeyResult } from './ukey-protocol';

/** Talks to the E-port USB-key client: one connection, one request in flight, lazy reconnect. */
export class UKeyClient {
  private socket: WebSocket | undefined;
  private connecting: Promise<WebSocket> | undefined;
  private nextId = 1;
  private queue: Promise<unknown> = Promise.resolve();
  private pending:
    { id: number; method: string; resolve: (r: UKeyResult) => void; reject: (e: Error) => void } | undefined;

  constructor(
    readonly url: string = UKEY_DEFAULT_URL,
    private readonly timeoutMs = 30_000,
  ) {}

  /** Calls `method`; resolves with `_args` when the key reports Result=true, otherwise throws UKEY_FAILED. */
  call(method: string, args: Record<string, unknown> = {}): Promise<UKeyResult> {
    const run = (): Promise<UKeyResult> => this.callNow(method, args);
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    const socket = this.socket ?? (await this.connecting?.catch(() => undefined));
    this.socket = undefined;
    this.connecting = undefined;
    if (socket && socket.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.close();
      });
    }
  }

  private async callNow(method: string, args: Record<string, unknown>): Promise<UKeyResult> {
    const socket = await this.connect();
    const id = this.nextId++;
    return new Promise<UKeyResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        reject(
          new SigningError('UKEY_TIMEOUT', `${method} got no answer from ${this.url} within ${this.timeoutMs} ms`),
        );
        // A late answer must not be taken for the next request's: start over on a fresh connection.
        socket.terminate();
      }, this.timeoutMs);
      this.pending = {
        id,
        method,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      socket.send(JSON.stringify({ _method: method, _id: id, args }), (err) => {
        if (err)
          this.failPending(
            new SigningError('UKEY_UNAVAILABLE', `cannot send to ${this.url}: ${err.message}`, { cause: err }),
          );
      });
    });
  }

  private connect(): Promise<WebSocket> {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) return Promise.resolve(this.socket);
    this.connecting ??= new Promise<WebSocket>((resolve, reject) => {
      const socket = new WebSocket(this.url, { handshakeTimeout: this.timeoutMs });
      socket.once('open', () => {
        this.socket = socket;
        this.connecting = undefined;
        resolve(socket);
      });
      socket.once('error', (err) => {
        this.connecting = undefined;
        reject(
          new SigningError('UKEY_UNAVAILABLE', `cannot reach the E-port key client at ${this.url}: ${err.message}`, {
            cause: err,
          }),
        );
      });
      socket.on('message', (data) => this.onMessage(data.toString()));
      socket.on('close', () => {
        if (this.socket === socket) this.socket = undefined;
        this.failPending(new SigningError('UKEY_UNAVAILABLE', `connection to ${this.url} closed`));
      });
    });
    return this.connecting;
  }

  private onMessage(text: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      this.failPending(new SigningError('UKEY_PROTOCOL', `non-JSON frame from ${this.url}: ${text.slice(0, 80)}`));
      return;
    }
    if (typeof parsed === 'object' && parsed !== null && (parsed as { _method?: unknown })._method === 'open') return; // handshake push
    const response = ukeyResponseSchema.safeParse(parsed);
    const pending = this.pending;
    if (!pending) return; // nothing asked: stale or unsolicited
    if (!response.success) {
      this.failPending(new SigningError('UKEY_PROTOCOL', `unexpected frame from ${this.url}: ${text.slice(0, 120)}`));
      return;
    }
    const r = response.data;
    const sameRequest = r._id !== undefined ? String(r._id) === String(pending.id) : r._method === pending.method;
    if (!sameRequest) return;
    this.pending = undefined;
    if (r._status !== undefined && r._status !== '00') {
      pending.reject(
        new SigningError(
          'UKEY_PROTOCOL',
          `${pending.method}: client status ${r._status}: ${r._args.Error.map(String).join('; ')}`,
        ),
      );
    } else if (!r._args.Result) {
      pending.reject(
        new SigningError(
          'UKEY_FAILED',
          `${pending.method} failed on the USB key: ${r._args.Error.map(String).join('; ') || 'no reason given'}`,
        ),
      );
    } else {
      pending.resolve(r._args);
    }
  }

  private failPending(err: Error): void {
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(err);
  }
}

export interface UKeySignerOptions {
  /** Default ws://127.0.0.1:61232. */
  readonly url?: string;
  /** Card PIN, sent as `passwd` with each signature request. */
  readonly password: string;
  /** Default from the card's certificate: 'rsa-sha1' or 'sm2-sm3'. The key hashes itself, so rsa-sha256 is not possible. */
  readonly algorithm?: SignatureAlgorithmId;
  readonly trust: CertificateTrustCheck;
  readonly at?: Date;
  readonly timeoutMs?: number;
}

/**
 * Signer backed by an E-port USB key. The digest and the SignedInfo are computed here (software); only
 * the canonical SignedInfo goes to the key, as `inData`. Every returned signature is checked against the
 * card's certificate before it is embedded, so a key swap or a garbled answer cannot leave the gateway.
 */
export class UKeyXmlSigner implements XmlSigner {
  private constructor(
    readonly algorithm: SignatureAlgorithmId,
    readonly identity: SignerIdentity,
    private readonly profile: SignatureProfile,
    private readonly certificate: CertificateInfo,
    private readonly client: UKeyClient,
    private readonly password: string,
  ) {}

  static async connect(options: UKeySignerOptions): Promise<UKeyXmlSigner> {
    const client = new UKeyClient(options.url ?? UKEY_DEFAULT_URL, options.timeoutMs);
    try {
      const certResult = await client.call(UKEY_METHOD.getSignCert, {});
      const certText = certResult.Data[0];
      if (typeof certText !== 'string')
        throw new SigningError('UKEY_PROTOCOL', `${UKEY_METHOD.getSignCert} returned no certificate`);
      let certificate: CertificateInfo;
      try {
        certificate = loadCertificate(certText);
      } catch (err) {
        throw new SigningError(
          'UKEY_PROTOCOL',
          `the USB key returned an unreadable certificate: ${(err as Error).message}`,
          { cause: err },
        );
      }
      const algorithm = options.algorithm ?? (certificate.keyFamily === 'rsa' ? 'rsa-sha1' : 'sm2-sm3');
      const profile = SIGNATURE_PROFILES[algorithm];
      if (profile.keyFamily !== certificate.keyFamily)
        throw new SigningError(
          'ALG_KEY_MISMATCH',
          `algorithm ${algorithm} needs an ${profile.keyFamily.toUpperCase()} key, the USB key holds ${certificate.keyFamily.toUpperCase()}`,
        );
      if (algorithm === 'rsa-sha256')
        throw new SigningError(
          'ALG_KEY_MISMATCH',
          'the E-port USB key signs RSA with SHA-1 only; rsa-sha256 needs a software key',
        );
      const decision = await options.trust(certificate, options.at);
      if (!decision.ok) {
        throw new SigningError(
          'SIGNER_CERT_UNTRUSTED',
          `USB-key certificate ${certificate.serialHex} (${certificate.subject}) fails the relying-party check: ${decision.reason ?? 'rejected'}`,
        );
      }
      const identity: SignerIdentity = {
        subject: certificate.subject,
        serialHex: certificate.serialHex,
        trustedBy: decision.trustedBy ?? 'trust-list',
        notAfter: new Date(certificate.x509.validTo),
      };
      return new UKeyXmlSigner(algorithm, identity, profile, certificate, client, options.password);
    } catch (err) {
      await client.close();
      throw err;
    }
  }

  async sign(canonicalUnsignedXml: string, layout?: MessageLayout): Promise<string> {
    const prepared = prepareSignature(canonicalUnsignedXml, layout, this.profile, this.certificate);
    const result = await this.client.call(UKEY_METHOD.signData, { inData: prepared.toBeSigned, passwd: this.password });
    const value = result.Data[0];
    if (typeof value !== 'string' || !/^[A-Za-z0-9+/\s]+={0,2}\s*$/.test(value))
      throw new SigningError('UKEY_PROTOCOL', `${UKEY_METHOD.signData} returned no Base64 signature`);
    let signature: Buffer = Buffer.from(value.replace(/\s+/g, ''), 'base64');
    const data = Buffer.from(prepared.toBeSigned, 'utf8');
    if (this.profile.keyFamily === 'sm2') {
      // Some key drivers answer in DER; the SignatureValue must be raw r‖s.
      const raw = sm2SignatureToRaw(signature);
      if (!raw || !sm2Verify(this.certificate.publicKey, data, raw, { id: SM2_DEFAULT_ID }))
        throw new SigningError(
          'UKEY_BAD_SIGNATURE',
          'the USB key returned an SM2 signature that does not verify with its certificate',
        );
      signature = raw;
    } else if (!safeRsaVerify(data, this.certificate, signature)) {
      throw new SigningError(
        'UKEY_BAD_SIGNATURE',
        'the USB key returned an RSA signature that does not verify with its certificate',
      );
    }
    return prepared.finish(signature.toString('base64'));
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

function safeRsaVerify(data: Buffer, certificate: CertificateInfo, signature: Buffer): boolean {
  try {
    return rsaVerify('sha1', data, certificate.publicKey, signature);
  } catch {
    return false;
  }
}
