import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { SoftwareXmlSigner } from '../../src/signing/signers/software';
import { pinnedCertificateCheck } from '../../src/signing/trust-check';
import { verifySignedXml } from '../../src/signing/verifier';
import { sm2SignatureToDer } from '../../src/signing/sm2';
import { sharedTempPki } from './support/temp-pki';
import { devIdentity, devTrustLists } from './support/dev-identities';

/**
 * Interop with independent implementations: Debian's xmlsec1 (libxmlsec1/OpenSSL) for RSA in both
 * directions, and the openssl CLI for SM2 (xmlsec1 has no SM2).
 */
const fixture = (name: string): string => readFileSync(new URL(`../fixtures/signing/${name}`, import.meta.url), 'utf8');
const unsignedImport = fixture('ceb311-unsigned.xml');
const unsignedExport = fixture('ceb303-unsigned.xml');
const NS_CONTEXT =
  'xmlns:ceb="http://www.chinaport.gov.cn/ceb" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"';

function run(cmd: string, args: string[]): { status: number | null; output: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('signing/interop with xmlsec1 and openssl', () => {
  const pki = sharedTempPki();
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'baygate-signing-interop-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const xmlsecVerify = (xml: string, name: string): { status: number | null; output: string } => {
    const file = join(dir, name);
    writeFileSync(file, xml);
    return run('xmlsec1', ['--verify', '--trusted-pem', pki.rsaCa.certPath, '--enabled-reference-uris', 'empty', file]);
  };

  for (const algorithm of ['rsa-sha1', 'rsa-sha256'] as const) {
    for (const [layout, unsigned] of [
      ['import', unsignedImport],
      ['export', unsignedExport],
    ] as const) {
      it(`our ${algorithm} ${layout} signature verifies with xmlsec1 --verify --trusted-pem <CA>`, async () => {
        const signer = await SoftwareXmlSigner.create({
          privateKey: createPrivateKey(pki.rsa.keyPem),
          certificate: pki.rsa.certPem,
          trust: pinnedCertificateCheck(pki.rsa.certPem),
          algorithm,
        });
        const result = xmlsecVerify(signer.signSync(unsigned, layout), `${algorithm}-${layout}.xml`);
        expect(result.status, result.output).to.equal(0);
        expect(result.output).to.include('OK');
      });
    }
  }

  it('xmlsec1 rejects our signature once the body is changed (the interop check can fail)', async () => {
    const signer = await SoftwareXmlSigner.create({
      privateKey: createPrivateKey(pki.rsa.keyPem),
      certificate: pki.rsa.certPem,
      trust: pinnedCertificateCheck(pki.rsa.certPem),
    });
    const tampered = signer
      .signSync(unsignedImport)
      .replace('<ceb:freight>10</ceb:freight>', '<ceb:freight>1</ceb:freight>');
    expect(xmlsecVerify(tampered, 'tampered.xml').status).to.not.equal(0);
  });

  it('our SM2 signature: SM3 of the canonical unsigned document (openssl dgst) equals DigestValue, and openssl pkeyutl -verify with distid 1234567812345678 accepts the SignatureValue over the canonical compact SignedInfo', async () => {
    const signer = await SoftwareXmlSigner.create({
      privateKey: createPrivateKey(pki.sm2.keyPem),
      certificate: pki.sm2.certPem,
      trust: pinnedCertificateCheck(pki.sm2.certPem),
    });
    const signed = signer.signSync(unsignedImport);
    const unsignedFile = join(dir, 'sm2-unsigned.xml');
    writeFileSync(unsignedFile, signed.replace(/<ds:Signature [\s\S]*<\/ds:Signature>/, ''));
    const sm3 = execFileSync('openssl', ['dgst', '-sm3', '-binary', unsignedFile]).toString('base64');
    expect(/<ds:DigestValue>([^<]+)</.exec(signed)?.[1]).to.equal(sm3);

    // The canonical SignedInfo, written out from the profile text: the compact element with the inherited namespaces.
    const compact = /<ds:SignedInfo>[\s\S]*<\/ds:SignedInfo>/.exec(signed)?.[0] ?? '';
    const signedInfoFile = join(dir, 'sm2-signedinfo.xml');
    writeFileSync(signedInfoFile, compact.replace('<ds:SignedInfo>', `<ds:SignedInfo ${NS_CONTEXT}>`));
    const raw = Buffer.from(/<ds:SignatureValue>([^<]+)</.exec(signed)?.[1] ?? '', 'base64');
    expect(raw).to.have.length(64);
    const sigFile = join(dir, 'sm2-signature.der');
    writeFileSync(sigFile, sm2SignatureToDer(raw));
    const pubFile = join(dir, 'sm2-pub.pem');
    writeFileSync(pubFile, execFileSync('openssl', ['x509', '-in', pki.sm2.certPath, '-pubkey', '-noout']));
    const verify = (extra: string[]): { status: number | null; output: string } =>
      run('openssl', [
        'pkeyutl',
        '-verify',
        '-pubin',
        '-inkey',
        pubFile,
        '-rawin',
        '-digest',
        'sm3',
        ...extra,
        '-in',
        signedInfoFile,
        '-sigfile',
        sigFile,
      ]);
    const withId = verify(['-pkeyopt', 'distid:1234567812345678']);
    expect(withId.status, withId.output).to.equal(0);
    expect(withId.output).to.include('Signature Verified Successfully');
    // Without the distinguishing ID openssl must refuse it: the signature really uses the standard ID.
    expect(verify([]).status).to.not.equal(0);
  });

  it('a document signed by xmlsec1 --sign from a template verifies with our verifier in strict mode (against the trust lists)', () => {
    const identity = devIdentity('seller-gd');
    const template = unsignedImport.replace(
      '</ceb:CEB311Message>',
      `<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
  <ds:SignedInfo>
    <ds:CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>
    <ds:SignatureMethod Algorithm="http://www.w3.org/2000/09/xmldsig#rsa-sha1"/>
    <ds:Reference URI="">
      <ds:Transforms>
        <ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>
      </ds:Transforms>
      <ds:DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"/>
      <ds:DigestValue/>
    </ds:Reference>
  </ds:SignedInfo>
  <ds:SignatureValue/>
  <ds:KeyInfo><ds:X509Data><ds:X509Certificate/></ds:X509Data></ds:KeyInfo>
</ds:Signature></ceb:CEB311Message>`,
    );
    const templateFile = join(dir, 'template.xml');
    const outFile = join(dir, 'xmlsec-signed.xml');
    writeFileSync(templateFile, template);
    const signing = run('xmlsec1', [
      '--sign',
      '--privkey-pem',
      `${identity.keyPath},${identity.certPath}`,
      '--output',
      outFile,
      templateFile,
    ]);
    expect(signing.status, signing.output).to.equal(0);
    const signedByXmlsec = readFileSync(outFile, 'utf8');
    return verifySignedXml(signedByXmlsec, { trustLists: devTrustLists() }).then((verified) => {
      expect(verified.signer).to.include({ serialHex: identity.serialHex, trustedBy: 'gd', algorithm: 'rsa-sha1' });
      expect(verified.signedXml).to.equal(unsignedImport);
      expect(createHash('sha1').update(verified.signedXml).digest('base64')).to.equal(
        /<ds:DigestValue>([^<]+)</.exec(signedByXmlsec)?.[1],
      );
    });
  });
});
