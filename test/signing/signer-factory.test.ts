import { readFileSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';
import { expect } from 'chai';
import { createXmlSigner, verifySignedXml } from '../../src/signing';
import { startUKeySimulator } from '../../src/signing/ukey-simulator';
import { devIdentity, devP12Password, devTrustLists } from './support/dev-identities';

const unsigned = readFileSync(new URL('../fixtures/signing/ceb311-unsigned.xml', import.meta.url), 'utf8');

describe('signing/createXmlSigner (configuration → signer)', () => {
  it('builds a software signer from a PKCS#12 configuration, checked against the trust lists', async () => {
    const identity = devIdentity('operator-rsa');
    const signer = await createXmlSigner(
      { kind: 'software', keyPath: identity.p12Path, password: devP12Password() },
      { trustLists: devTrustLists() },
    );
    expect(signer.algorithm).to.equal('rsa-sha1');
    const verified = await verifySignedXml(await signer.sign(unsigned), { trustLists: devTrustLists() });
    expect(verified.signer.trustedBy).to.equal('eport');
    await signer.close();
  });

  it('builds a USB-key signer from a ukey configuration', async () => {
    const identity = devIdentity('operator-sm2');
    const sim = await startUKeySimulator({
      privateKey: createPrivateKey(readFileSync(identity.keyPath)),
      certificate: readFileSync(identity.certPath),
      password: '12345678',
    });
    try {
      const signer = await createXmlSigner(
        { kind: 'ukey', url: sim.url, password: '12345678' },
        { trustLists: devTrustLists() },
      );
      expect(signer.algorithm).to.equal('sm2-sm3');
      expect(
        (await verifySignedXml(await signer.sign(unsigned), { trustLists: devTrustLists() })).signer.serialHex,
      ).to.equal(identity.serialHex);
      await signer.close();
    } finally {
      await sim.close();
    }
  });

  it('rejects an invalid configuration naming the field', async () => {
    let message = '';
    try {
      await createXmlSigner(
        { kind: 'ukey', url: 'http://127.0.0.1:61232', password: 'x' },
        { trustLists: devTrustLists() },
      );
    } catch (err) {
      message = String(err);
    }
    expect(message).to.include('url');
  });
});
