import { spawnSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { buildFromInput, buildMessage, type MessageInput } from '../../src/mapping/message-builder';
import { messageTypesFor, MESSAGE_INPUT } from '../../src/domain/message-types';
import { SoftwareXmlSigner } from '../../src/signing/signers/software';
import { pinnedCertificateCheck } from '../../src/signing/trust-check';
import { verifySignedXml } from '../../src/signing/verifier';
import { generateValidOrder } from '../support/order-generator';
import { fixedContext, goldenShipment, goldenSummary } from '../xml/support/golden-orders';
import { sharedTempPki } from './support/temp-pki';

/**
 * Signed messages of every type the builder makes still validate against the official schemas: the
 * Signature sits where the XSD sequence wants it (import: last; export: before ExtendMessage) and its
 * content is valid XML-DSig. The schemas are read from ../shared/ceb-2022 when present.
 */
const repo = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const xsdDir = resolve(repo, '../shared/ceb-2022/xsd');
const fixture = (name: string): string => readFileSync(new URL(`../fixtures/signing/${name}`, import.meta.url), 'utf8');
// Return every line in full: the golden request names lines of the golden order, not of the generated one.
const { items: _lines, ...wholeReturn } = fixedContext().exportReturn!;
const ctx = fixedContext({ guid: undefined, headGuid: undefined, now: undefined, exportReturn: wholeReturn });
/** The shipment and summary messages, built from the golden inputs. */
function nonOrderInput(type: keyof typeof MESSAGE_INPUT): MessageInput {
  if (MESSAGE_INPUT[type] === 'summary') return { kind: 'summary', summary: goldenSummary() };
  return {
    kind: 'shipment',
    shipment: goldenShipment(type === 'CEB711' ? 'import-arrival' : 'export-consolidation'),
  };
}

function validate(xsd: string, docs: { name: string; xml: string }[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'baygate-signed-xsd-'));
  try {
    const files = docs.map((d) => {
      const file = join(dir, `${d.name}.xml`);
      writeFileSync(file, d.xml);
      return file;
    });
    const r = spawnSync('xmllint', ['--noout', '--schema', xsd, ...files], { encoding: 'utf8' });
    return r.status === 0 ? '' : `${r.stdout}${r.stderr}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('signing/signed messages against the official XSD', function () {
  this.timeout(60000);
  const pki = sharedTempPki();
  const schemasPresent = existsSync(join(xsdDir, 'ceb-import-2022.xsd'));
  if (!schemasPresent) {
    it('official CEB schemas not found at ../shared/ceb-2022: XSD conformance checks not run', () => {
      console.log('official CEB schemas not found at ../shared/ceb-2022: XSD conformance checks not run');
    });
    return;
  }

  for (const [label, identity, algorithm] of [
    ['RSA', pki.rsa, 'rsa-sha1'],
    ['SM2', pki.sm2, 'sm2-sm3'],
  ] as const) {
    it(`every import and export message type, signed with ${label}, validates (Signature placed per the XSD) and verifies`, async () => {
      const signer = await SoftwareXmlSigner.create({
        privateKey: createPrivateKey(identity.keyPem),
        certificate: identity.certPem,
        trust: pinnedCertificateCheck(identity.certPem),
        algorithm,
      });
      const importOrder = generateValidOrder(7, { direction: 'import', itemCount: 3 });
      const exportOrder = generateValidOrder(8, { direction: 'export', itemCount: 2 });
      const others = (direction: 'import' | 'export') =>
        [...messageTypesFor(direction, 'shipment'), ...messageTypesFor(direction, 'summary')].map((t) => ({
          name: t,
          xml: signer.signSync(buildFromInput(t, nonOrderInput(t), ctx).xml),
        }));
      const imports = [
        { name: 'fixture-CEB311', xml: signer.signSync(fixture('ceb311-unsigned.xml')) },
        ...messageTypesFor('import', 'order').map((t) => ({
          name: t,
          xml: signer.signSync(buildMessage(t, importOrder, ctx).xml),
        })),
        ...others('import'),
      ];
      const exports = [
        { name: 'fixture-CEB303-with-ExtendMessage', xml: signer.signSync(fixture('ceb303-unsigned.xml')) },
        ...messageTypesFor('export', 'order').map((t) => ({
          name: t,
          xml: signer.signSync(buildMessage(t, exportOrder, ctx).xml),
        })),
        ...others('export'),
      ];
      expect(imports.length + exports.length).to.equal(2 + 19);
      expect(validate(join(xsdDir, 'ceb-import-2022.xsd'), imports)).to.equal('');
      expect(validate(join(xsdDir, 'ceb-export-2022.xsd'), exports)).to.equal('');
      for (const doc of [...imports, ...exports]) {
        const verified = await verifySignedXml(doc.xml, { pinnedCertificate: identity.certPem });
        expect(verified.signedXml, doc.name).to.equal(doc.xml.replace(/<ds:Signature [\s\S]*<\/ds:Signature>/, ''));
      }
    });
  }

  it('the schema check can fail: an export message signed with the import layout (Signature after ExtendMessage) is invalid', async () => {
    const signer = await SoftwareXmlSigner.create({
      privateKey: createPrivateKey(pki.rsa.keyPem),
      certificate: pki.rsa.certPem,
      trust: pinnedCertificateCheck(pki.rsa.certPem),
    });
    const wrong = signer.signSync(fixture('ceb303-unsigned.xml'), 'import');
    expect(validate(join(xsdDir, 'ceb-export-2022.xsd'), [{ name: 'wrong-layout', xml: wrong }])).to.include(
      'fails to validate',
    );
  });
});
