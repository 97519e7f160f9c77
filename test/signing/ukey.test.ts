import { readFileSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';
import { expect } from 'chai';
import WebSocket from 'ws';
import { startUKeySimulator, type UKeySimulator } from '../../src/signing/ukey-simulator';
import { UKeyClient, UKeyXmlSigner } from '../../src/signing/signers/ukey';
import { UKEY_METHOD } from '../../src/signing/signers/ukey-protocol';
import { pinnedCertificateCheck, trustListCheck, type CertificateTrustCheck } from '../../src/signing/trust-check';
import { verifySignedXml } from '../../src/signing/verifier';
import { SigningError } from '../../src/signing/errors';
import { sharedTempPki, type TempIdentity } from './support/temp-pki';
import { devIdentity, devTrustLists } from './support/dev-identities';

const unsigned = readFileSync(new URL('../fixtures/signing/ceb311-unsigned.xml', import.meta.url), 'utf8');
const PIN = '88888888';

async function errorOf(promise: Promise<unknown>): Promise<SigningError> {
  try {
    await promise;
  } catch (err) {
    expect(err).to.be.instanceOf(SigningError);
    return err as SigningError;
  }
  throw new Error('expected a rejection');
}

describe('signing/E-port USB-key signer against the simulated key client', () => {
  const pki = sharedTempPki();
  const running: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    while (running.length > 0) await running.pop()?.close();
  });

  async function simulator(
    identity: TempIdentity,
    options: { sm2Encoding?: 'raw' | 'der'; handshake?: boolean } = {},
  ): Promise<UKeySimulator> {
    const sim = await startUKeySimulator({
      privateKey: createPrivateKey(identity.keyPem),
      certificate: identity.certPem,
      password: PIN,
      ...options,
    });
    running.push(sim);
    return sim;
  }
  async function connect(
    sim: UKeySimulator,
    trust: CertificateTrustCheck,
    extra: { timeoutMs?: number; password?: string } = {},
  ): Promise<UKeyXmlSigner> {
    const signer = await UKeyXmlSigner.connect({
      url: sim.url,
      password: extra.password ?? PIN,
      trust,
      timeoutMs: extra.timeoutMs ?? 5000,
    });
    running.push(signer);
    return signer;
  }

  it('signs RSA through cus-sec_SpcSignDataAsPEM; the result verifies and the certificate comes from cus-sec_SpcGetSignCertAsPEM', async () => {
    const sim = await simulator(pki.rsa);
    const signer = await connect(sim, pinnedCertificateCheck(pki.rsa.certPem));
    expect(signer.algorithm).to.equal('rsa-sha1');
    expect(signer.identity.serialHex).to.equal('01691f7f');
    const signed = await signer.sign(unsigned);
    const verified = await verifySignedXml(signed, { pinnedCertificate: pki.rsa.certPem });
    expect(verified.signedXml).to.equal(unsigned);
    expect(sim.signCount).to.equal(1);
  });

  it('signs SM2 (raw r‖s answer) with the chinaport URIs', async () => {
    const sim = await simulator(pki.sm2);
    const signer = await connect(sim, pinnedCertificateCheck(pki.sm2.certPem));
    const signed = await signer.sign(unsigned);
    expect((await verifySignedXml(signed, { pinnedCertificate: pki.sm2.certPem })).signer.algorithm).to.equal(
      'sm2-sm3',
    );
  });

  it('converts a DER SM2 answer to the raw 64-byte SignatureValue', async () => {
    const sim = await simulator(pki.sm2, { sm2Encoding: 'der' });
    const signer = await connect(sim, pinnedCertificateCheck(pki.sm2.certPem));
    const signed = await signer.sign(unsigned);
    expect(Buffer.from(/<ds:SignatureValue>([^<]+)</.exec(signed)?.[1] ?? '', 'base64')).to.have.length(64);
    await verifySignedXml(signed, { pinnedCertificate: pki.sm2.certPem });
  });

  it('signs several messages concurrently over one connection, one request in flight', async () => {
    const sim = await simulator(pki.rsa, { handshake: false });
    const signer = await connect(sim, pinnedCertificateCheck(pki.rsa.certPem));
    const docs = await Promise.all(
      Array.from({ length: 8 }, (_, i) => signer.sign(unsigned.replace('BG20260315000001', `BG2026031500000${i}`))),
    );
    for (const [i, doc] of docs.entries()) {
      expect((await verifySignedXml(doc, { pinnedCertificate: pki.rsa.certPem })).signedXml).to.include(
        `BG2026031500000${i}`,
      );
    }
    expect(sim.signCount).to.equal(8);
  });

  it('matches answers by method when the key client omits _id', async () => {
    const sim = await simulator(pki.rsa);
    const signer = await connect(sim, pinnedCertificateCheck(pki.rsa.certPem));
    sim.behaviour = 'no-id';
    await verifySignedXml(await signer.sign(unsigned), { pinnedCertificate: pki.rsa.certPem });
  });

  it('reports a wrong PIN as UKEY_FAILED with the key client error text', async () => {
    const sim = await simulator(pki.rsa);
    const signer = await connect(sim, pinnedCertificateCheck(pki.rsa.certPem), { password: 'wrong' });
    const err = await errorOf(signer.sign(unsigned));
    expect(err.code).to.equal('UKEY_FAILED');
    expect(err.message).to.include('Err:Custom50005');
  });

  it('times out (UKEY_TIMEOUT) when the key does not answer, and recovers on the next call', async () => {
    const sim = await simulator(pki.rsa);
    const signer = await connect(sim, pinnedCertificateCheck(pki.rsa.certPem), { timeoutMs: 1000 });
    sim.behaviour = 'silent';
    expect((await errorOf(signer.sign(unsigned))).code).to.equal('UKEY_TIMEOUT');
    sim.behaviour = 'normal';
    await verifySignedXml(await signer.sign(unsigned), { pinnedCertificate: pki.rsa.certPem });
  });

  it('refuses a signature from the key that does not verify with its certificate (UKEY_BAD_SIGNATURE)', async () => {
    const sim = await simulator(pki.rsa);
    const signer = await connect(sim, pinnedCertificateCheck(pki.rsa.certPem));
    sim.behaviour = 'wrong-signature';
    expect((await errorOf(signer.sign(unsigned))).code).to.equal('UKEY_BAD_SIGNATURE');
  });

  it('reports an unreachable key client as UKEY_UNAVAILABLE', async () => {
    const err = await errorOf(
      UKeyXmlSigner.connect({
        url: 'ws://127.0.0.1:9',
        password: PIN,
        trust: pinnedCertificateCheck(pki.rsa.certPem),
        timeoutMs: 2000,
      }),
    );
    expect(err.code).to.equal('UKEY_UNAVAILABLE');
  });

  it('refuses a USB key whose certificate fails the relying-party check (SIGNER_CERT_UNTRUSTED)', async () => {
    const sim = await simulator(pki.rsa);
    const err = await errorOf(
      UKeyXmlSigner.connect({ url: sim.url, password: PIN, trust: trustListCheck(devTrustLists()), timeoutMs: 2000 }),
    );
    expect(err.code).to.equal('SIGNER_CERT_UNTRUSTED');
    expect(err.message).to.include('UNTRUSTED_ISSUER');
  });

  it('accepts a dev E-port operator key in the simulator against the trust lists', async () => {
    const identity = devIdentity('operator-sm2');
    const sim = await startUKeySimulator({
      privateKey: createPrivateKey(readFileSync(identity.keyPath)),
      certificate: readFileSync(identity.certPath),
      password: PIN,
    });
    running.push(sim);
    const signer = await connect(sim, trustListCheck(devTrustLists()));
    expect(signer.identity.trustedBy).to.equal('eport');
    expect(
      (await verifySignedXml(await signer.sign(unsigned), { trustLists: devTrustLists() })).signer.serialHex,
    ).to.equal(identity.serialHex);
  });

  it('speaks the documented frame format: {_method,_id,args} in, {_id,_method,_status,_args:{Result,Data,Error}} out', async () => {
    const sim = await simulator(pki.rsa, { handshake: false });
    const socket = new WebSocket(sim.url);
    await new Promise((resolve) => socket.once('open', resolve));
    const reply = new Promise<string>((resolve) => socket.once('message', (d) => resolve(d.toString())));
    socket.send(JSON.stringify({ _method: UKEY_METHOD.getCertNo, _id: 42, args: {} }));
    expect(JSON.parse(await reply)).to.deep.equal({
      _id: 42,
      _method: UKEY_METHOD.getCertNo,
      _status: '00',
      _args: { Result: true, Data: ['01691f7f'], Error: [] },
    });
    socket.close();
    const client = new UKeyClient(sim.url, 2000);
    running.push(client);
    const missing = await errorOf(client.call(UKEY_METHOD.signData, { passwd: PIN }));
    expect(missing.message).to.include('inData');
  });
});
