import { sign as rsaSign, type KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { WebSocketServer, type WebSocket } from 'ws';
import { keyFamilyOf, loadCertificate } from './certificate';
import { loadKeyMaterial } from './signers/key-loader';
import { sm2Sign, sm2SignatureToDer, SM2_DEFAULT_ID } from './sm2';
import { UKEY_METHOD, ukeyRequestSchema, type UKeyResult } from './signers/ukey-protocol';

/**
 * A stand-in for the E-port USB-key client (see signers/ukey-protocol.ts for the wire format), for tests
 * and local development without a card. It holds a software key and answers the three methods the
 * gateway uses. `behaviour` lets tests simulate a silent or misbehaving key.
 */
export interface UKeySimulatorOptions {
  readonly privateKey: KeyObject;
  /** The card's certificate (PEM or DER). */
  readonly certificate: string | Buffer;
  /** Card PIN expected in `passwd`. */
  readonly password: string;
  /** Default 127.0.0.1 and an ephemeral port. */
  readonly host?: string;
  readonly port?: number;
  /** Push the `{"_method":"open"}` frame some client versions send on connect (default true). */
  readonly handshake?: boolean;
  /** How SM2 signatures are returned (real drivers vary); default raw r‖s. */
  readonly sm2Encoding?: 'raw' | 'der';
}

export type UKeySimulatorBehaviour = 'normal' | 'silent' | 'wrong-signature' | 'no-id';

export interface UKeySimulator {
  readonly url: string;
  /** Switch at runtime to simulate failures. */
  behaviour: UKeySimulatorBehaviour;
  /** Number of signature requests served. */
  readonly signCount: number;
  close(): Promise<void>;
}

export async function startUKeySimulator(options: UKeySimulatorOptions): Promise<UKeySimulator> {
  const cert = loadCertificate(options.certificate);
  const family = keyFamilyOf(options.privateKey);
  const server = new WebSocketServer({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const state = { behaviour: 'normal' as UKeySimulatorBehaviour, signCount: 0 };

  const signData = (inData: string): string => {
    const data = Buffer.from(inData, 'utf8');
    if (family === 'rsa') return rsaSign('sha1', data, options.privateKey).toString('base64');
    const raw = sm2Sign(options.privateKey, data, { id: SM2_DEFAULT_ID });
    return (options.sm2Encoding === 'der' ? sm2SignatureToDer(raw) : raw).toString('base64');
  };

  const answer = (request: { _method: string; args?: Record<string, unknown> }): UKeyResult => {
    const args = request.args ?? {};
    switch (request._method) {
      case UKEY_METHOD.getSignCert:
        return { Result: true, Data: [cert.derBase64], Error: [] };
      case UKEY_METHOD.getCertNo:
        return { Result: true, Data: [cert.serialHex], Error: [] };
      case UKEY_METHOD.signData: {
        if (typeof args.inData !== 'string' || args.inData.trim() === '')
          return {
            Result: false,
            Data: [],
            Error: ['参数检查失败,传入的args中必须包含必要的非空白参数:inData', 'Err:Base50000'],
          };
        if (args.passwd !== options.password)
          return { Result: false, Data: [], Error: ['口令验证失败', 'Err:Custom50005'] };
        state.signCount++;
        const value =
          state.behaviour === 'wrong-signature' ? signData(args.inData + ' tampered') : signData(args.inData);
        return { Result: true, Data: [value, cert.serialHex], Error: [] };
      }
      default:
        return { Result: false, Data: [], Error: [`未知的方法:${request._method}`, 'Err:Base60404'] };
    }
  };

  server.on('connection', (socket: WebSocket) => {
    if (options.handshake ?? true)
      socket.send(
        JSON.stringify({ _method: 'open', _status: '00', _args: { Result: true, Data: ['simulator'], Error: [] } }),
      );
    socket.on('message', (frame) => {
      if (state.behaviour === 'silent') return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(frame.toString());
      } catch {
        socket.send(
          JSON.stringify({
            _method: 'unknown',
            _status: '01',
            _args: { Result: false, Data: [], Error: ['数据格式非法', 'Err:Base60400'] },
          }),
        );
        return;
      }
      const request = ukeyRequestSchema.safeParse(parsed);
      if (!request.success) {
        socket.send(
          JSON.stringify({
            _method: 'unknown',
            _status: '01',
            _args: { Result: false, Data: [], Error: ['请求格式非法', 'Err:Base60400'] },
          }),
        );
        return;
      }
      const reply = {
        ...(state.behaviour === 'no-id' ? {} : { _id: request.data._id }),
        _method: request.data._method,
        _status: '00',
        _args: answer(request.data),
      };
      socket.send(JSON.stringify(reply));
    });
  });

  const port = (server.address() as AddressInfo).port;
  return {
    url: `ws://${options.host ?? '127.0.0.1'}:${port}`,
    get behaviour() {
      return state.behaviour;
    },
    set behaviour(b: UKeySimulatorBehaviour) {
      state.behaviour = b;
    },
    get signCount() {
      return state.signCount;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}

// Runnable for local development without a card:
//   node --import tsx src/signing/ukey-simulator.ts --key <key.pem|bundle.p12> [--cert <cert.pem>] [--password <p12 pw>] [--pin 88888888] [--port 61232]
// then: npx baygate sign --ukey --password 88888888 message.xml
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      key: { type: 'string' },
      cert: { type: 'string' },
      password: { type: 'string' },
      pin: { type: 'string', default: '88888888' },
      port: { type: 'string', default: '61232' },
    },
  });
  if (!values.key) {
    process.stderr.write(
      'usage: ukey-simulator --key <key.pem|bundle.p12> [--cert <cert.pem>] [--password <pw>] [--pin <pin>] [--port <port>]\n',
    );
    process.exit(2);
  }
  const material = loadKeyMaterial({
    keyPath: values.key,
    ...(values.cert ? { certPath: values.cert } : {}),
    ...(values.password ? { password: values.password } : {}),
  });
  const sim = await startUKeySimulator({
    privateKey: material.privateKey,
    certificate: material.certificate.der,
    password: values.pin ?? '88888888',
    port: Number(values.port),
  });
  process.stdout.write(
    `E-port USB-key simulator on ${sim.url} (certificate ${material.certificate.serialHex}, ${material.certificate.subject})\n`,
  );
}
