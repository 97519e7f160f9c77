import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqplib, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { expect } from 'chai';
import { startHttpsConnector, type HttpsConnector } from '../../src/centers/https-connector';
import { centerKeyrings, sealPayload } from '../../src/centers/payload-seal';
import { startSimulator, type Simulator } from '../../src/centers/simulator';
import { loadSimulatorProfile } from '../../src/centers/simulator/profiles';
import { devTrustLists } from '../signing/support/dev-identities';
import { centerQueueName, MANIFESTS_EXCHANGE, RECEIPTS_EXCHANGE } from '../../src/queue/topology';
import { CERTS_DEV } from '../signing/support/dev-identities';
import { silentLogger } from '../support/logger';
import { waitFor } from '../support/rabbitmq';
import { AMQP_URL, requireRabbitMQ } from '../support/services';
import {
  allFour,
  publishManifest,
  ReceiptCollector,
  signedManifest,
  freshImportOrder,
  uniqueCenterCode,
} from './support';

/**
 * The HTTPS push connector against a local HTTPS server that demands a client certificate: the server's
 * own certificate comes from a throw-away CA made with openssl here; the connector's client certificate
 * is the dev E-port operator (certs-dev/eport/operator-rsa), which the server checks against the E-port CA.
 */
interface Seen {
  body: string;
  clientCn: string;
  headers: Record<string, string | string[] | undefined>;
}

function makeServerPki(dir: string, name: string): { ca: string; key: string; cert: string } {
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    `${name}-ca.key`,
    '-out',
    `${name}-ca.pem`,
    '-days',
    '2',
    '-subj',
    `/CN=Baygate test ${name} CA`,
  ]);
  run([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    '/CN=127.0.0.1',
  ]);
  writeFileSync(join(dir, `${name}.ext`), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  run([
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${name}-ca.pem`,
    '-CAkey',
    `${name}-ca.key`,
    '-CAcreateserial',
    '-out',
    `${name}.pem`,
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
  ]);
  return {
    ca: readFileSync(join(dir, `${name}-ca.pem`), 'utf8'),
    key: readFileSync(join(dir, `${name}.key`), 'utf8'),
    cert: readFileSync(join(dir, `${name}.pem`), 'utf8'),
  };
}

describe('centers/https-connector (mutual TLS push)', function () {
  this.timeout(30000);
  const run = randomBytes(4).toString('hex');
  let dir: string;
  let trusted: { ca: string; key: string; cert: string };
  let rogue: { ca: string; key: string; cert: string };
  let connection: ChannelModel;
  let channel: ConfirmChannel;
  let collector: ReceiptCollector;
  const servers: Server[] = [];
  const simulators: Simulator[] = [];
  const connectors: HttpsConnector[] = [];
  const codes: string[] = [];
  const operatorKey = readFileSync(join(CERTS_DEV, 'eport/operator-rsa.key.pem'));
  const operatorCert =
    readFileSync(join(CERTS_DEV, 'eport/operator-rsa.cert.pem'), 'utf8') +
    readFileSync(join(CERTS_DEV, 'eport/operator-rsa.chain.pem'), 'utf8');
  const eportCas = readFileSync(join(CERTS_DEV, 'eport/eport-rsa-ca.chain.pem'), 'utf8');

  before(async () => {
    await requireRabbitMQ();
    dir = mkdtempSync(join(tmpdir(), 'baygate-tls-'));
    trusted = makeServerPki(dir, 'center');
    rogue = makeServerPki(dir, 'rogue');
    connection = await amqplib.connect(AMQP_URL);
    channel = await connection.createConfirmChannel();
    collector = await ReceiptCollector.open(RECEIPTS_EXCHANGE, run);
  });

  after(async () => {
    for (const c of connectors) await c.stop().catch(() => undefined);
    for (const s of simulators) await s.stop().catch(() => undefined);
    for (const s of servers) s.close();
    const cleanup = await connection.createChannel();
    for (const code of codes) await cleanup.deleteQueue(centerQueueName(code)).catch(() => undefined);
    await connection.close().catch(() => undefined);
    await collector?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A center endpoint; `answer` picks the HTTP status per request (1-based). */
  async function centerServer(
    pki: { key: string; cert: string },
    answer: (n: number) => number,
  ): Promise<{ url: string; seen: Seen[] }> {
    const seen: Seen[] = [];
    const server = createServer(
      { key: pki.key, cert: pki.cert, ca: eportCas, requestCert: true, rejectUnauthorized: true },
      (req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate();
          seen.push({
            body: Buffer.concat(chunks).toString('utf8'),
            clientCn: String(peer.subject?.CN ?? ''),
            headers: req.headers,
          });
          res.statusCode = answer(seen.length);
          res.end('ok');
        });
      },
    );
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/ceb/manifests`, seen };
  }

  /** A center queue of our own, without dead-lettering (a refused test message must not reach the shared dead-letter queue). */
  async function connector(
    url: string,
    serverCa: string,
    code = uniqueCenterCode(),
    timeoutMs = 3000,
  ): Promise<{ code: string; connector: HttpsConnector }> {
    codes.push(code);
    const ch = await connection.createChannel();
    await ch.assertExchange(MANIFESTS_EXCHANGE, 'direct', { durable: true });
    await ch.assertQueue(centerQueueName(code), { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await ch.bindQueue(centerQueueName(code), MANIFESTS_EXCHANGE, code);
    await ch.close();
    const c = await startHttpsConnector({
      center: {
        code,
        queue: centerQueueName(code),
        https: { url, clientIdentity: 'operator-rsa', caPath: 'unused', timeoutMs },
      },
      amqpUrl: AMQP_URL,
      logger: silentLogger(),
      tls: { key: operatorKey, cert: operatorCert, ca: serverCa },
      backoff: { initialMs: 50, maxMs: 200 },
      receipts: { deliveryKey: collector.deliveryKey },
      declareTopology: false,
    });
    connectors.push(c);
    return { code, connector: c };
  }

  async function queueDepth(code: string): Promise<number> {
    const ch = await connection.createChannel();
    try {
      return (await ch.checkQueue(centerQueueName(code))).messageCount;
    } finally {
      await ch.close();
    }
  }

  it('POSTs the manifest bytes with our client certificate, acks after 2xx and publishes the delivery notice', async () => {
    const server = await centerServer(trusted, () => 202);
    const { code, connector: c } = await connector(server.url, trusted.ca);
    const m = await signedManifest('CEB621', freshImportOrder());
    await publishManifest(channel, code, m, m.signed);
    await waitFor(() => c.stats().notices === 1, 10000, 'delivery notice');
    expect(server.seen).to.have.length(1);
    expect(server.seen[0]?.body).to.equal(m.signed);
    expect(server.seen[0]?.clientCn).to.equal('Baygate Dev Operator (RSA)');
    expect(server.seen[0]?.headers['x-baygate-message-id']).to.equal(m.guid);
    expect(server.seen[0]?.headers['x-baygate-message-type']).to.equal('CEB621');
    await waitFor(
      () => collector.notices().some((n) => n.messageGuid === m.guid && n.center === code),
      5000,
      'notice on the receipts exchange',
    );
    expect(await queueDepth(code)).to.equal(0);
  });

  it('opens a manifest sealed for its center and pushes the clear XML; one sealed for another center is dead-lettered, not pushed', async () => {
    const server = await centerServer(trusted, () => 202);
    const { code, connector: c } = await connector(server.url, trusted.ca);
    const ring = centerKeyrings({ NODE_ENV: 'test' }, [{ code, payload: 'sealed' }]).get(code)!;
    const m = await signedManifest('CEB621', freshImportOrder());
    await publishManifest(channel, code, m, sealPayload(ring, m.guid, Buffer.from(m.signed, 'utf8')));
    await waitFor(() => c.stats().delivered === 1, 10000, 'sealed manifest delivered');
    expect(server.seen[0]?.body).to.equal(m.signed);
    expect(server.seen[0]?.headers['content-type']).to.equal('application/xml');

    const other = centerKeyrings({ NODE_ENV: 'test' }, [{ code: 'ZZ', payload: 'sealed' }]).get('ZZ')!;
    const n = await signedManifest('CEB311', freshImportOrder());
    await publishManifest(channel, code, n, sealPayload(other, n.guid, Buffer.from(n.signed, 'utf8')));
    await waitFor(() => c.stats().refused === 1, 10000, 'foreign sealed manifest refused');
    expect(server.seen).to.have.length(1);
    expect(await queueDepth(code)).to.equal(0);
  });

  it('retries with backoff while the center answers 503, then delivers once', async () => {
    const server = await centerServer(trusted, (n) => (n <= 2 ? 503 : 200));
    const { code, connector: c } = await connector(server.url, trusted.ca);
    const m = await signedManifest('CEB311', freshImportOrder());
    await publishManifest(channel, code, m, m.signed);
    await waitFor(() => c.stats().delivered === 1, 10000, 'delivery after retries');
    expect(c.stats()).to.include({ retried: 2, delivered: 1, refused: 0 });
    expect(server.seen.map((s) => s.body === m.signed)).to.deep.equal([true, true, true]);
    expect(await queueDepth(code)).to.equal(0);
  });

  it('drops (dead-letters) a manifest the center refuses with 400 instead of retrying it forever', async () => {
    const server = await centerServer(trusted, () => 400);
    const { code, connector: c } = await connector(server.url, trusted.ca);
    const m = await signedManifest('CEB311', freshImportOrder());
    await publishManifest(channel, code, m, m.signed);
    await waitFor(() => c.stats().refused === 1, 10000, 'refusal');
    expect(server.seen).to.have.length(1);
    expect(c.stats().delivered).to.equal(0);
    expect(await queueDepth(code)).to.equal(0);
  });

  /** A simulated https center: no queue consumer, manifests arrive by POST through the connector. */
  async function httpsCenter(faults?: string): Promise<{ code: string; sim: Simulator }> {
    const code = uniqueCenterCode();
    const sim = await startSimulator({
      center: { code, queue: centerQueueName(code), receiptSigner: 'center-hk', transport: 'https' },
      amqpUrl: AMQP_URL,
      logger: silentLogger(),
      profile: loadSimulatorProfile('fast'),
      trustLists: devTrustLists(),
      declareTopology: false,
      receipts: { receiptKey: collector.receiptKey, deliveryKey: collector.deliveryKey },
      httpsIntake: { port: 0, key: trusted.key, cert: trusted.cert, clientCa: eportCas },
      ...(faults ? { faults } : {}),
    });
    simulators.push(sim);
    return { code, sim };
  }

  it('end to end: queue → connector → simulated https center → signed receipts, the center never consuming the queue itself', async () => {
    const { code, sim } = await httpsCenter();
    await connector(sim.httpsUrl as string, trusted.ca, code);
    const m = await allFour(freshImportOrder());
    for (const type of ['CEB311', 'CEB411', 'CEB511', 'CEB621'] as const)
      await publishManifest(channel, code, m[type], m[type].signed);
    expect(await collector.waitForStatuses(m.CEB621.guid, 5)).to.deep.equal(['2', '120', '399', '800', '899']);
    const receipt = (await collector.receiptsFor(m.CEB621.guid))[0];
    expect(receipt?.trustedBy).to.equal('hk');
    // Both the connector and the center announce the delivery.
    await waitFor(
      () => collector.notices().filter((n) => n.messageGuid === m.CEB621.guid).length === 2,
      5000,
      'two notices',
    );
    const q = await (await connection.createChannel()).checkQueue(centerQueueName(code));
    expect(q.consumerCount).to.equal(1); // the connector only
  });

  it('a center that takes a POST but never answers (no-ack): the connector times out, retries, and the retry is a harmless duplicate', async () => {
    const { code, sim } = await httpsCenter('no-ack=1');
    const { connector: c } = await connector(sim.httpsUrl as string, trusted.ca, code, 400);
    const m = await signedManifest('CEB311', freshImportOrder());
    await publishManifest(channel, code, m, m.signed);
    await waitFor(() => c.stats().delivered === 1, 10000, 'delivery after the timeout');
    expect(c.stats().retried).to.equal(1);
    expect(sim.stats()).to.include({ taken: 2, duplicatesIgnored: 1 });
    await sim.idle();
    expect(await collector.statusesFor(m.guid)).to.deep.equal(['2', '120']);
  });

  it('refuses to talk to a server whose certificate is not from the configured CA: nothing is POSTed, the manifest stays queued', async () => {
    const server = await centerServer(rogue, () => 200);
    const { code, connector: c } = await connector(server.url, trusted.ca);
    const m = await signedManifest('CEB311', freshImportOrder());
    await publishManifest(channel, code, m, m.signed);
    await waitFor(() => c.stats().retried >= 1, 10000, 'a failed attempt');
    expect(server.seen).to.have.length(0);
    expect(c.stats().delivered).to.equal(0);
    await c.stop();
    await waitFor(async () => (await queueDepth(code)) === 1, 5000, 'manifest back in the queue');
  });
});
