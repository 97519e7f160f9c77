import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { AmqpClient } from '../../src/queue/amqp';
import { DEAD_LETTER_QUEUE, HEADER_CENTER, RECEIPT_ROUTING_KEY, RECEIPTS_EXCHANGE } from '../../src/queue/topology';
import type { SoftwareXmlSigner } from '../../src/signing/signers/software';
import { isProblem } from '../api/harness';
import { silentLogger } from '../support/logger';
import { waitFor } from '../support/rabbitmq';
import { AMQP_URL } from '../support/services';
import {
  orderOf,
  outcomes,
  receiptForSent,
  signerFor,
  startSecuritySystem,
  startSecurityWorker,
  type Caller,
  type SecuritySystem,
} from './support/system';

/**
 * Issue 12, finding 3: POST /v1/receipts checked only that the signing certificate was the one configured
 * for the declaration's center; the authenticated center was a label. With center GD's key a receipt
 * signed by center HK moved an HK declaration; GD's key and signature (GD and GD2 share the certificate)
 * moved a GD2 declaration; a refused signer came back 202 "duplicate" and was stored. Now the
 * authenticated center, the signer's certificate and the declaration's center must all agree, and a
 * refusal is a 4xx (HTTP) or a dead letter (AMQP) that stores nothing.
 */
describe('security: a receipt moves only declarations of the center that sent and signed it', function () {
  this.timeout(120000);
  let s: SecuritySystem;
  let worker: Awaited<ReturnType<typeof startSecurityWorker>>;
  const signers: Record<string, SoftwareXmlSigner> = {};
  /** A Guangdong order for district 5316, which GD2 alone serves, and an HK-region order routed to HK. */
  let gd: { ids: Record<string, string>; center: 'GD' | 'GD2' };
  let hk: { ids: Record<string, string> };

  const centerKey = (code: string): Caller => ({ GD: 'centerGd', GD2: 'centerGd2', HK: 'centerHk' })[code] as Caller;
  const status = async (id: string) => (await s.as('admin', 'GET', `/v1/declarations/${id}`)).body.status;
  const post = (caller: Caller, xml: string) =>
    s.as(caller, 'POST', '/v1/receipts', { body: xml, type: 'application/xml' });

  before(async () => {
    s = await startSecuritySystem('receipt_authority');
    worker = await startSecurityWorker(s);
    for (const id of ['center-gd', 'center-hk', 'seller-gd']) signers[id] = await signerFor(id);
    const submit = async (caller: Caller, order: Record<string, unknown>) => {
      const reply = await s.as(caller, 'POST', '/v1/orders', { json: order });
      const declarations = outcomes(reply)[0]!.declarations!;
      return {
        ids: Object.fromEntries(declarations.map((d) => [d.messageType, d.id])),
        center: declarations[0]!.center,
      };
    };
    gd = (await submit('sellerGd', { ...orderOf('GD'), customsCode: '5316', portCode: '5316' })) as typeof gd;
    hk = await submit('sellerHk', orderOf('HK'));
    expect(gd.center).to.equal('GD2');
  });
  after(async () => {
    for (const signer of Object.values(signers)) await signer.close();
    await worker?.stop();
    await worker?.purge();
    await s?.close();
  });

  describe('over HTTP (POST /v1/receipts)', () => {
    it("center GD's key with a receipt signed by center HK for an HK declaration: 403, nothing stored or moved", async () => {
      const before = await s.count('receipts');
      const r = await post('centerGd', await receiptForSent(s, hk.ids.CEB311!, '120', signers['center-hk']!));
      expect(isProblem(r, 403), r.text).to.equal(true);
      expect(r.body.code).to.equal('RECEIPT_SIGNER_NOT_OF_CENTER');
      expect(await s.count('receipts')).to.equal(before);
      expect(await status(hk.ids.CEB311!)).to.equal('queued');
    });

    it("center GD's key and the certificate GD shares with GD2, for a GD2 declaration: 403, nothing stored or moved", async () => {
      const other = gd.center === 'GD' ? 'GD2' : 'GD';
      const before = await s.count('receipts');
      const r = await post(centerKey(other), await receiptForSent(s, gd.ids.CEB311!, '800', signers['center-gd']!));
      expect(isProblem(r, 403), r.text).to.equal(true);
      expect(r.body.code).to.equal('RECEIPT_FOR_ANOTHER_CENTER');
      expect(await s.count('receipts')).to.equal(before);
      expect(await status(gd.ids.CEB311!)).to.equal('queued');
    });

    it('a trusted certificate that is no center’s: 422 with its code, nothing stored', async () => {
      const before = await s.count('receipts');
      const r = await post(centerKey(gd.center), await receiptForSent(s, gd.ids.CEB311!, '120', signers['seller-gd']!));
      expect(isProblem(r, 422), r.text).to.equal(true);
      expect(r.status).not.to.equal(202);
      expect(await s.count('receipts')).to.equal(before);
      expect(await status(gd.ids.CEB311!)).to.equal('queued');
    });

    it('the center the declaration was sent to, with its own certificate: 202 and the status moves (control)', async () => {
      const r = await post(centerKey(gd.center), await receiptForSent(s, gd.ids.CEB311!, '120', signers['center-gd']!));
      expect(r.status, r.text).to.equal(202);
      expect(await status(gd.ids.CEB311!)).to.equal('120');
    });

    it('the same receipt with an XML declaration or a trailing newline added is the same receipt (200, stored once)', async () => {
      const xml = await receiptForSent(s, hk.ids.CEB411!, '120', signers['center-hk']!);
      const first = await post('centerHk', xml);
      expect(first.status, first.text).to.equal(202);
      const before = await s.count('receipts');
      for (const variant of [`<?xml version="1.0" encoding="UTF-8"?>\n${xml}`, `${xml}\n`, `${xml}\r\n\r\n`]) {
        const again = await post('centerHk', variant);
        expect(again.status, again.text).to.equal(200);
        expect(again.body).to.include({ duplicate: true, receiptId: first.body.receiptId });
      }
      expect(await s.count('receipts')).to.equal(before);
    });
  });

  describe('over AMQP (the receipts queue)', () => {
    let amqp: AmqpClient;
    before(async () => {
      amqp = new AmqpClient({ url: AMQP_URL, logger: silentLogger(), connectionName: 'security-test-center' });
      await amqp.connect();
    });
    after(() => amqp?.close());

    /** Publishes a receipt as a center would; resolves once the worker dead-lettered it. */
    async function publishRefused(xml: string, headers: Record<string, string>, userId?: string): Promise<void> {
      const messageId = randomUUID();
      await amqp.publish(RECEIPTS_EXCHANGE, RECEIPT_ROUTING_KEY, Buffer.from(xml), {
        messageId,
        persistent: true,
        mandatory: true,
        contentType: 'application/xml',
        headers,
        ...(userId ? { userId } : {}),
      });
      await waitFor(
        async () => {
          const got = await amqp.withChannel((ch) => ch.get(DEAD_LETTER_QUEUE, { noAck: true }));
          return got !== false && got.properties.messageId === messageId;
        },
        20000,
        `receipt ${messageId} dead-lettered`,
      );
    }

    it('a receipt signed by center HK claiming center GD, for a GD declaration: dead-lettered, nothing stored or moved', async () => {
      const before = await s.count('receipts');
      await publishRefused(await receiptForSent(s, gd.ids.CEB411!, '120', signers['center-hk']!), {
        [HEADER_CENTER]: gd.center,
      });
      expect(await s.count('receipts')).to.equal(before);
      expect(await status(gd.ids.CEB411!)).to.equal('queued');
    });

    it('the shared GD/GD2 certificate claiming the other center, or no center: dead-lettered, nothing stored or moved', async () => {
      const other = gd.center === 'GD' ? 'GD2' : 'GD';
      const before = await s.count('receipts');
      const xml = await receiptForSent(s, gd.ids.CEB411!, '120', signers['center-gd']!);
      await publishRefused(xml, { [HEADER_CENTER]: other });
      await publishRefused(xml, {});
      expect(await s.count('receipts')).to.equal(before);
      expect(await status(gd.ids.CEB411!)).to.equal('queued');
    });
  });
});

/**
 * Outside development, a center that shares its receipt certificate is only believed over AMQP when
 * RabbitMQ authenticated it: the message's user-id (validated by the broker) is the center's configured
 * receiptsUser.
 */
describe('security: over AMQP in production, a shared receipt certificate needs the center’s RabbitMQ user', function () {
  this.timeout(120000);
  let s: SecuritySystem;
  let worker: Awaited<ReturnType<typeof startSecurityWorker>>;
  let amqp: AmqpClient;
  let signer: SoftwareXmlSigner;
  let dir: string;

  before(async () => {
    // The development registry, with GD2's receipts user set to the broker user these tests connect as.
    dir = mkdtempSync(join(tmpdir(), 'baygate-centers-'));
    const registry = JSON.parse(readFileSync('config/centers.json', 'utf8')) as {
      centers: { code: string; receiptsUser?: string }[];
    };
    for (const c of registry.centers) if (c.code === 'GD2') c.receiptsUser = new URL(AMQP_URL).username || 'guest';
    writeFileSync(join(dir, 'centers.json'), JSON.stringify(registry));
    s = await startSecuritySystem('receipt_authority_prod', {
      NODE_ENV: 'production',
      CENTERS_FILE: join(dir, 'centers.json'),
      // Production seals every center's manifests with a key of its own.
      CENTER_PAYLOAD_KEYS: registry.centers
        .map((c, i) => `${c.code}:prod1:${Buffer.alloc(32, 40 + i).toString('base64')}`)
        .join(','),
    });
    worker = await startSecurityWorker(s);
    amqp = new AmqpClient({ url: AMQP_URL, logger: silentLogger() });
    await amqp.connect();
    signer = await signerFor('center-gd');
  });
  after(async () => {
    await signer?.close();
    await amqp?.close();
    await worker?.stop();
    await worker?.purge();
    await s?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a GD-certificate receipt only claiming its center is refused; from GD2’s RabbitMQ user it is applied', async () => {
    // Customs district 5316 (Qianhai) is served by GD2 alone.
    const reply = await s.as('sellerGd', 'POST', '/v1/orders', {
      json: { ...orderOf('GD'), customsCode: '5316', portCode: '5316' },
    });
    const declaration = outcomes(reply)[0]!.declarations!.find((d) => d.messageType === 'CEB311');
    expect(declaration?.center).to.equal('GD2');
    const xml = await receiptForSent(s, declaration!.id, '120', signer);
    const publish = (userId?: string) =>
      amqp.publish(RECEIPTS_EXCHANGE, RECEIPT_ROUTING_KEY, Buffer.from(xml), {
        messageId: randomUUID(),
        persistent: true,
        mandatory: true,
        headers: { [HEADER_CENTER]: 'GD2' },
        ...(userId ? { userId } : {}),
      });
    const before = await s.count('receipts');
    const messageId = randomUUID();
    await amqp.publish(RECEIPTS_EXCHANGE, RECEIPT_ROUTING_KEY, Buffer.from(xml), {
      messageId,
      persistent: true,
      mandatory: true,
      headers: { [HEADER_CENTER]: 'GD2' },
    });
    await waitFor(
      async () => {
        const got = await amqp.withChannel((ch) => ch.get(DEAD_LETTER_QUEUE, { noAck: true }));
        return got !== false && got.properties.messageId === messageId;
      },
      20000,
      'the unauthenticated receipt dead-lettered',
    );
    expect(await s.count('receipts')).to.equal(before);

    await publish(new URL(AMQP_URL).username || 'guest');
    await waitFor(
      async () => (await s.gateway.core.stores.declarations.findById(declaration!.id))?.status === '120',
      20000,
      'the authenticated receipt applied',
    );
    expect(await s.count('receipts')).to.equal(before + 1);
  });
});
