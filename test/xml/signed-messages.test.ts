import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXPORT_MESSAGE_TYPES } from '../../src/domain/message-types';
import { SoftwareXmlSigner } from '../../src/signing/signers/software';
import { pinnedCertificateCheck } from '../../src/signing/trust-check';
import { verifySignedXml } from '../../src/signing/verifier';
import { sharedTempPki, type TempPki } from '../signing/support/temp-pki';
import { buildGolden, GOLDEN_CASES } from './support/golden-orders';
import { validateBatch } from './support/xmllint';
import { noteOfficialMissing, officialCebAvailable, officialXsdPath } from './support/xsd-sequence';

/**
 * The builder's contract with the signing layer: its output is signed as it is (no re-canonicalisation),
 * and removing the Signature gives back exactly the bytes we built. Also: with a real signature in
 * place, CEB621/623/625/711 (which the schema requires to be signed) validate against the official XSD,
 * and every type's RSA signature verifies with xmlsec1, an independent implementation.
 */
describe('built messages through the signing layer', function () {
  this.timeout(60_000);
  let pki: TempPki;
  before(() => {
    pki = sharedTempPki();
  });

  for (const key of ['rsa', 'sm2'] as const) {
    it(`every message type signed with ${key.toUpperCase()} verifies strictly, and the signed bytes are our bytes`, async () => {
      const signer = await SoftwareXmlSigner.create({
        privateKey: createPrivateKey(pki[key].keyPem),
        certificate: pki[key].certPem,
        trust: pinnedCertificateCheck(pki[key].certPem),
      });
      const signedDocs: Array<{ name: string; xml: string; side: 'import' | 'export' }> = [];
      for (const c of GOLDEN_CASES) {
        const { xml } = buildGolden(c);
        const side = EXPORT_MESSAGE_TYPES.includes(c.type) ? 'export' : 'import';
        const signed = signer.signSync(xml, side);
        const verified = await verifySignedXml(signed, { pinnedCertificate: pki[key].certPem });
        expect(verified.signedXml, c.file).to.equal(xml);
        signedDocs.push({ name: c.file, xml: signed, side });
      }
      if (!officialCebAvailable()) {
        noteOfficialMissing();
        return;
      }
      for (const side of ['import', 'export'] as const) {
        const failures = validateBatch(
          officialXsdPath(side),
          signedDocs.filter((d) => d.side === side),
        );
        expect(failures, `signed ${side} messages fail the XSD`).to.deep.equal([]);
      }
    });
  }

  it('every message type signed with RSA verifies with xmlsec1 (--trusted-pem <CA>)', async () => {
    const signer = await SoftwareXmlSigner.create({
      privateKey: createPrivateKey(pki.rsa.keyPem),
      certificate: pki.rsa.certPem,
      trust: pinnedCertificateCheck(pki.rsa.certPem),
    });
    const dir = mkdtempSync(join(tmpdir(), 'baygate-xmlsec-family-'));
    try {
      for (const c of GOLDEN_CASES) {
        const file = join(dir, c.file);
        writeFileSync(file, signer.signSync(buildGolden(c).xml));
        const r = spawnSync(
          'xmlsec1',
          ['--verify', '--trusted-pem', pki.rsaCa.certPath, '--enabled-reference-uris', 'empty', file],
          { encoding: 'utf8' },
        );
        expect(r.status, `${c.file}: ${r.stdout}${r.stderr}`).to.equal(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
