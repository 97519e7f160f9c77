import { readFileSync } from 'node:fs';
import { createPrivateKey, createHash } from 'node:crypto';
import { expect } from 'chai';
import { DOMParser } from '@xmldom/xmldom';
import { C14nCanonicalization } from 'xml-crypto';
import {
  readCanonicalDocument,
  layoutForRootName,
  signedInfoNamespaceContext,
  canonicalSignedInfo,
  compactSignedInfo,
} from '../../src/signing/eport-layout';
import { SIGNATURE_PROFILES } from '../../src/signing/algorithms';
import { SoftwareXmlSigner } from '../../src/signing/signers/software';
import { pinnedCertificateCheck } from '../../src/signing/trust-check';
import { SigningError } from '../../src/signing/errors';
import { sharedTempPki } from './support/temp-pki';

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/signing/${name}`, import.meta.url), 'utf8');
const SIGNATURE = /<ds:Signature [\s\S]*<\/ds:Signature>/;

async function rsaSigner(): Promise<SoftwareXmlSigner> {
  const pki = sharedTempPki();
  return SoftwareXmlSigner.create({
    privateKey: createPrivateKey(pki.rsa.keyPem),
    certificate: pki.rsa.certPem,
    trust: pinnedCertificateCheck(pki.rsa.certPem),
  });
}

describe('signing/E-port layout', () => {
  const unsignedImport = fixture('ceb311-unsigned.xml');
  const unsignedExport = fixture('ceb303-unsigned.xml');

  it('inserts the Signature as the last child of an import root, adding no whitespace', async () => {
    const signed = (await rsaSigner()).signSync(unsignedImport, 'import');
    expect(signed).to.match(
      /<\/ceb:BaseTransfer><ds:Signature xmlns:ds="http:\/\/www\.w3\.org\/2000\/09\/xmldsig#"><ds:SignedInfo>/,
    );
    expect(signed.endsWith('</ds:KeyInfo></ds:Signature></ceb:CEB311Message>')).to.equal(true);
  });

  it('gives back exactly the digested bytes when the Signature is removed (import and export)', async () => {
    const signer = await rsaSigner();
    for (const [xml, layout] of [
      [unsignedImport, 'import'],
      [unsignedExport, 'export'],
    ] as const) {
      const signed = signer.signSync(xml, layout);
      const without = signed.replace(SIGNATURE, '');
      expect(without).to.equal(xml);
      const digest = /<ds:DigestValue>([^<]+)</.exec(signed)?.[1];
      expect(digest).to.equal(createHash('sha1').update(without, 'utf8').digest('base64'));
    }
  });

  it('puts the Signature immediately before ExtendMessage in an export message', async () => {
    const signed = (await rsaSigner()).signSync(unsignedExport, 'export');
    expect(signed).to.match(/<\/ceb:BaseTransfer><ds:Signature [\s\S]*<\/ds:Signature><ceb:ExtendMessage>/);
  });

  it('puts the Signature before ExtendMessage in an indented export message too, keeping every byte', async () => {
    const indented = unsignedExport.replace(/></g, '>\n  <');
    const signed = (await rsaSigner()).signSync(indented, 'export');
    expect(signed).to.match(/<\/ds:Signature><ceb:ExtendMessage>/);
    expect(signed.replace(SIGNATURE, '')).to.equal(indented);
  });

  it('puts the Signature last in an export message without ExtendMessage', async () => {
    const noExtend = unsignedExport.replace(/<ceb:ExtendMessage>[\s\S]*<\/ceb:ExtendMessage>/, '');
    const signed = (await rsaSigner()).signSync(noExtend, 'export');
    expect(signed.endsWith('</ds:Signature></ceb:CEB303Message>')).to.equal(true);
  });

  it('derives the layout from the root element when none is given', async () => {
    expect(layoutForRootName('CEB303Message')).to.equal('export');
    expect(layoutForRootName('CEB311Message')).to.equal('import');
    expect(layoutForRootName('CEB621Message')).to.equal('import');
    for (const type of ['CEB403', 'CEB507', 'CEB509', 'CEB605', 'CEB607', 'CEB701', 'CEB213', 'CEB215'])
      expect(layoutForRootName(`${type}Message`), type).to.equal('export');
    for (const type of ['CEB513', 'CEB711', 'CEB508', 'CEB792'])
      expect(layoutForRootName(`${type}Message`), type).to.equal('import');
    const signed = await (await rsaSigner()).sign(unsignedExport);
    expect(signed).to.match(/<\/ds:Signature><ceb:ExtendMessage>/);
  });

  it('writes KeyName as the lower-case hex serial with leading zeros and X509Certificate as Base64 DER', async () => {
    const pki = sharedTempPki();
    const signed = (await rsaSigner()).signSync(unsignedImport);
    expect(/<ds:KeyName>([^<]+)</.exec(signed)?.[1]).to.equal('01691f7f');
    const certB64 = /<ds:X509Certificate>([^<]+)</.exec(signed)?.[1] ?? '';
    const pemBody = pki.rsa.certPem.replace(/-----[^-]+-----|\s/g, '');
    expect(certB64).to.equal(pemBody);
  });

  it('signs the canonical SignedInfo with the inherited ceb, ds and xsi namespaces — the same bytes a C14N library produces', async () => {
    const signed = (await rsaSigner()).signSync(unsignedImport);
    const doc = new DOMParser().parseFromString(signed, 'text/xml');
    const si = doc.getElementsByTagNameNS('http://www.w3.org/2000/09/xmldsig#', 'SignedInfo')[0];
    const ancestors = [
      { prefix: 'ceb', namespaceURI: 'http://www.chinaport.gov.cn/ceb' },
      { prefix: 'ds', namespaceURI: 'http://www.w3.org/2000/09/xmldsig#' },
      { prefix: 'xsi', namespaceURI: 'http://www.w3.org/2001/XMLSchema-instance' },
    ];
    const byLibrary = new C14nCanonicalization().process(si as never, { ancestorNamespaces: ancestors });
    const parsed = readCanonicalDocument(unsignedImport);
    const digest = /<ds:DigestValue>([^<]+)</.exec(signed)?.[1] ?? '';
    const ours = canonicalSignedInfo(
      compactSignedInfo(SIGNATURE_PROFILES['rsa-sha1'], digest),
      signedInfoNamespaceContext(parsed),
    );
    expect(ours).to.equal(byLibrary);
    expect(
      ours.startsWith(
        '<ds:SignedInfo xmlns:ceb="http://www.chinaport.gov.cn/ceb" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><ds:CanonicalizationMethod',
      ),
    ).to.equal(true);
  });

  it('keeps an XML declaration in the output but does not digest it', async () => {
    const signed = (await rsaSigner()).signSync('<?xml version="1.0" encoding="UTF-8"?>\n' + unsignedImport);
    expect(signed.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<ceb:CEB311Message')).to.equal(true);
    const digest = /<ds:DigestValue>([^<]+)</.exec(signed)?.[1];
    expect(digest).to.equal(createHash('sha1').update(unsignedImport, 'utf8').digest('base64'));
  });

  it('refuses input that is not a canonical document (leading comment, trailing content)', async () => {
    const signer = await rsaSigner();
    for (const bad of ['<!-- c -->' + unsignedImport, unsignedImport + '<x></x>', '  ' + unsignedImport]) {
      expect(() => signer.signSync(bad))
        .to.throw(SigningError)
        .with.property('code', 'INPUT_NOT_CANONICAL');
    }
  });

  it('refuses an unknown layout', async () => {
    const signer = await rsaSigner();
    expect(() => signer.signSync(unsignedExport, 'sideways' as never))
      .to.throw(SigningError)
      .with.property('code', 'LAYOUT_INVALID');
  });
});
