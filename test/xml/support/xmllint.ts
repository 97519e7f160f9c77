import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DS_NS } from '../../../src/xml/ceb-namespaces';

/** Test helpers around libxml2's xmllint (Debian libxml2-utils), the reference we check our bytes against. */

export function xmllintAvailable(): boolean {
  return spawnSync('xmllint', ['--version']).status === 0;
}

/** `xmllint --c14n` (inclusive C14N 1.0 without comments) of the given document bytes. */
export function xmllintC14n(xml: string): string {
  return execFileSync('xmllint', ['--c14n', '-'], { input: xml, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

export interface SchemaFailure {
  file: string;
  detail: string;
}

/**
 * Validates many documents with ONE xmllint process (starting xmllint and compiling the 10k-line XSD
 * costs more than validating hundreds of messages). Returns the failures; [] means all valid.
 */
export function validateBatch(xsdPath: string, docs: ReadonlyArray<{ name: string; xml: string }>): SchemaFailure[] {
  if (docs.length === 0) return [];
  const dir = mkdtempSync(join(tmpdir(), 'baygate-xsd-'));
  try {
    const files = docs.map((d, i) => {
      const file = join(dir, `${String(i).padStart(5, '0')}-${d.name.replace(/[^\w.-]+/g, '_')}.xml`);
      writeFileSync(file, d.xml);
      return file;
    });
    const r = spawnSync('xmllint', ['--noout', '--schema', xsdPath, ...files], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    const out = (r.stderr ?? '') + (r.stdout ?? '');
    if (r.status !== 0 && !/fails to validate/.test(out)) throw new Error(`xmllint failed: ${out.slice(0, 2000)}`);
    const failures: SchemaFailure[] = [];
    for (const file of files) {
      if (out.includes(`${file} fails to validate`)) {
        const detail = out
          .split('\n')
          .filter((l) => l.startsWith(file + ':'))
          .join('\n');
        failures.push({ file, detail });
      }
    }
    return failures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The import schema REQUIRES ds:Signature in CEB621/623/625, while the builder's output is unsigned by
 * design (src/signing signs it). To check everything else the schema says, we append a structurally
 * valid placeholder Signature exactly where the signer puts it (last child of the root).
 */
export function withPlaceholderSignature(xml: string): string {
  const sig =
    `<ds:Signature xmlns:ds="${DS_NS}"><ds:SignedInfo>` +
    '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"></ds:CanonicalizationMethod>' +
    '<ds:SignatureMethod Algorithm="http://www.w3.org/2000/09/xmldsig#rsa-sha1"></ds:SignatureMethod>' +
    '<ds:Reference URI=""><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"></ds:Transform></ds:Transforms>' +
    '<ds:DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"></ds:DigestMethod><ds:DigestValue>AAAA</ds:DigestValue></ds:Reference>' +
    '</ds:SignedInfo><ds:SignatureValue>AAAA</ds:SignatureValue></ds:Signature>';
  const close = xml.lastIndexOf('</');
  return xml.slice(0, close) + sig + xml.slice(close);
}

/** Message types whose schema requires the signature. */
export const SIGNATURE_REQUIRED = new Set(['CEB621', 'CEB623', 'CEB625', 'CEB711']);
