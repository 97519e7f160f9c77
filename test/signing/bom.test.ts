import { spawnSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { buildReceipt } from '../../src/centers/simulator/receipt-builder';
import { ReceiptIngestor } from '../../src/pipeline/receipts';
import { canonicalizeForSigning } from '../../src/signing/safe-xml';
import { SoftwareXmlSigner } from '../../src/signing/signers/software';
import { pinnedCertificateCheck } from '../../src/signing/trust-check';
import { verifySignedXml } from '../../src/signing/verifier';
import type { DeclarationStore, DeclarationSubject, ReceiptStore } from '../../src/store/contracts';
import { parseReceipt } from '../../src/xml/receipts/parse-receipt';
import { silentLogger } from '../support/logger';
import { sharedTempPki } from './support/temp-pki';

/**
 * A UTF-8 byte-order mark in front of a message is an encoding signature, not content (issue 13 §3: signing,
 * verification and receipt intake refused it as "text outside the root element" while xmlsec1 verifies the
 * same file). Accepted everywhere XML comes in; never part of the signed bytes.
 */
const BOM = '\uFEFF';
const BOM_BYTES = Buffer.from([0xef, 0xbb, 0xbf]);
const fixture = (name: string): string => readFileSync(new URL(`../fixtures/signing/${name}`, import.meta.url), 'utf8');

describe('signing/UTF-8 byte-order mark on incoming XML', function () {
  this.timeout(30_000);
  const pki = sharedTempPki();
  let dir: string;
  let signer: SoftwareXmlSigner;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'baygate-bom-'));
    signer = await SoftwareXmlSigner.create({
      privateKey: createPrivateKey(pki.rsa.keyPem),
      certificate: pki.rsa.certPem,
      trust: pinnedCertificateCheck(pki.rsa.certPem),
    });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('verifies a signed message that starts with a BOM (strict mode), as xmlsec1 does', async () => {
    const signed = signer.signSync(fixture('ceb311-unsigned.xml'));
    const withBom = BOM + signed;
    const file = join(dir, 'bom-signed.xml');
    writeFileSync(file, Buffer.concat([BOM_BYTES, Buffer.from(signed, 'utf8')]));
    const xmlsec = spawnSync(
      'xmlsec1',
      ['--verify', '--trusted-pem', pki.rsaCa.certPath, '--enabled-reference-uris', 'empty', file],
      { encoding: 'utf8' },
    );
    expect(xmlsec.status, `${xmlsec.stdout}${xmlsec.stderr}`).to.equal(0);
    const verified = await verifySignedXml(withBom, { pinnedCertificate: pki.rsa.certPem });
    expect(verified.signedXml.startsWith('<ceb:CEB311Message')).to.equal(true);
    const fromFile = await verifySignedXml(readFileSync(file).toString('utf8'), { pinnedCertificate: pki.rsa.certPem });
    expect(fromFile.signedXml).to.equal(verified.signedXml);
  });

  it('signs a message that starts with a BOM (canonical input and input to canonicalise); the BOM is not signed', async () => {
    const unsigned = fixture('ceb311-unsigned.xml');
    const direct = signer.signSync(BOM + unsigned);
    expect(direct.startsWith(BOM)).to.equal(false);
    const verified = await verifySignedXml(direct, { pinnedCertificate: pki.rsa.certPem });
    expect(verified.signedXml).to.equal(unsigned);
    expect(canonicalizeForSigning(BOM + unsigned)).to.equal(canonicalizeForSigning(unsigned));
  });

  it('takes in a correctly signed center receipt with a BOM instead of dead-lettering it', async () => {
    const guid = 'A1B2C3D4-0000-4000-8000-000000000001';
    const receipt = buildReceipt(
      {
        type: 'CEB311',
        guid,
        headGuid: 'A1B2C3D4-0000-4000-8000-000000000002',
        head: { orderNo: 'BOM-1', ebpCode: 'E1', ebcCode: 'C1' },
        lines: [],
      },
      [{ status: '2', info: '电子口岸申报中', at: new Date('2026-11-29T02:30:00Z') }],
    );
    const signed = signer.signSync(receipt.xml);
    const subject: DeclarationSubject = {
      id: 'decl-1',
      messageType: 'CEB311',
      status: 'delivered',
      orderNo: 'BOM-1',
      center: 'GD',
    } as DeclarationSubject;
    const applied: string[] = [];
    const stored: unknown[] = [];
    const declarations = {
      subjectsByGuids: async (guids: string[]) => new Map(guids.filter((g) => g === guid).map((g) => [g, subject])),
      findByOrderNos: async () => [],
      applyStatus: async (_key: unknown, status: string) => {
        applied.push(status);
        return { applied: true, subject };
      },
    } as unknown as DeclarationStore;
    const receipts = {
      insert: async (r: unknown) => {
        stored.push(r);
        return { receipt: { id: 'r1', signer: { subject: 'x', serialHex: '01' } }, duplicate: false };
      },
      markMatched: async () => undefined,
    } as unknown as ReceiptStore;
    const ingestor = new ReceiptIngestor({
      declarations,
      receipts,
      verify: (xml) => verifySignedXml(xml, { pinnedCertificate: pki.rsa.certPem }),
      centersSignedBy: () => ['GD'],
      trustClaimedCenter: false,
      logger: silentLogger(),
    });
    const result = await ingestor.ingest(Buffer.concat([BOM_BYTES, Buffer.from(signed, 'utf8')]), {
      via: 'amqp',
      center: 'GD',
      authenticated: true,
    });
    expect(result.returns.map((r) => [r.status, r.applied])).to.deep.equal([['2', true]]);
    expect(applied).to.deep.equal(['2']);
    expect(stored).to.have.length(1);
    expect(parseReceipt(BOM + receipt.xml).returns[0]!.status).to.equal('2');
  });
});
