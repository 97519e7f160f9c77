/**
 * Generates the signature attack fixtures in test/fixtures/signing/attacks/ (one file per attack) and
 * the E-port compatibility fixtures, all derived from a validly signed CEB311.
 *
 * Usage: node --import tsx scripts/gen-attack-fixtures.ts
 *
 * The fixture signer (test/fixtures/signing/fixture-signer.*) and the attacker's self-signed look-alike
 * are development-only keys made once with openssl and committed; the script reuses them when present, so
 * regenerating gives the same RSA fixtures byte for byte (PKCS#1 v1.5 is deterministic). Each attack is
 * listed in attacks/manifest.json with the error code the verifier must reject it with.
 */
import { execFileSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { VerificationErrorCode } from '../src/signing/errors';
import { SoftwareXmlSigner } from '../src/signing/signers/software';
import { pinnedCertificateCheck } from '../src/signing/trust-check';
import { reindentLikeEport } from '../test/signing/support/reindent';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = join(root, 'test/fixtures/signing');
const attacksDir = join(fixtures, 'attacks');

export interface AttackFixture {
  /** Test name: the attack. */
  readonly attack: string;
  readonly file: string;
  readonly expectedCode: VerificationErrorCode;
  readonly description: string;
}

function ensureKeyPair(name: string, subject: string, serial: string): { key: string; cert: string } {
  const key = join(fixtures, `${name}.key.pem`);
  const cert = join(fixtures, `${name}.crt.pem`);
  if (!existsSync(key) || !existsSync(cert)) {
    execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', key], {
      stdio: 'ignore',
    });
    execFileSync(
      'openssl',
      [
        'req',
        '-new',
        '-x509',
        '-key',
        key,
        '-subj',
        subject,
        '-days',
        '7300',
        '-set_serial',
        serial,
        '-sha256',
        // End-entity signing certificates: `req -x509` would otherwise mark them CA:TRUE, and a CA
        // certificate may not sign messages (src/signing/trust/signer-usage.ts).
        '-addext',
        'basicConstraints=critical,CA:FALSE',
        '-addext',
        'keyUsage=critical,digitalSignature,nonRepudiation',
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
  }
  return { key, cert };
}

async function main(): Promise<void> {
  mkdirSync(attacksDir, { recursive: true });
  // Same subject and serial for both: KeyInfo alone cannot tell them apart, only the trust decision can.
  const subject = '/C=CN/O=Baygate Fixtures/CN=Baygate Fixture Signer (development only)';
  const legit = ensureKeyPair('fixture-signer', subject, '0x0c0ffee1');
  const attacker = ensureKeyPair('attacker-self-signed', subject, '0x0c0ffee1');

  const unsigned = readFileSync(join(fixtures, 'ceb311-unsigned.xml'), 'utf8');
  const signerFor = async (pair: { key: string; cert: string }): Promise<SoftwareXmlSigner> => {
    const certPem = readFileSync(pair.cert, 'utf8');
    return SoftwareXmlSigner.create({
      privateKey: createPrivateKey(readFileSync(pair.key)),
      certificate: certPem,
      trust: pinnedCertificateCheck(certPem),
    });
  };
  const legitSigner = await signerFor(legit);
  const attackerSigner = await signerFor(attacker);

  const signed = legitSigner.signSync(unsigned);
  writeFileSync(join(fixtures, 'ceb311-signed-rsa.xml'), signed);

  const sigStart = signed.indexOf('<ds:Signature ');
  const sigEnd = signed.indexOf('</ds:Signature>') + '</ds:Signature>'.length;
  const signature = signed.slice(sigStart, sigEnd);
  const bodyBefore = signed.slice(0, sigStart);
  const rootEnd = signed.slice(sigEnd);
  const signedInfo = signature.slice(
    signature.indexOf('<ds:SignedInfo>'),
    signature.indexOf('</ds:SignedInfo>') + '</ds:SignedInfo>'.length,
  );
  // The attacker's goal in most cases: a different amount paid, with a signature that still "verifies".
  const tamper = (xml: string): string =>
    xml.replace('<ceb:acturalPaid>202.16</ceb:acturalPaid>', '<ceb:acturalPaid>2.16</ceb:acturalPaid>');
  const tamperedUnsigned = tamper(unsigned);
  const forgedByAttacker = attackerSigner.signSync(tamperedUnsigned);
  const forgedSignature = forgedByAttacker.slice(
    forgedByAttacker.indexOf('<ds:Signature '),
    forgedByAttacker.indexOf('</ds:Signature>') + '</ds:Signature>'.length,
  );
  const forgedSignedInfo = forgedSignature.slice(
    forgedSignature.indexOf('<ds:SignedInfo>'),
    forgedSignature.indexOf('</ds:SignedInfo>') + '</ds:SignedInfo>'.length,
  );
  const withSignedInfo = (si: string): string => signed.replace(signedInfo, si);
  const replaceInSignedInfo = (from: string, to: string): string => {
    if (!signedInfo.includes(from)) throw new Error(`fixture generator: ${from} not found in SignedInfo`);
    return withSignedInfo(signedInfo.replace(from, to));
  };
  const originalDigest = /<ds:DigestValue>([^<]*)<\/ds:DigestValue>/.exec(signedInfo)?.[1] ?? '';
  const forgedDigest = /<ds:DigestValue>([^<]*)<\/ds:DigestValue>/.exec(forgedSignedInfo)?.[1] ?? '';

  const attacks: (AttackFixture & { xml: string })[] = [
    {
      attack: 'signature wrapping: the original Signature moved into another element of a tampered document',
      file: 'signature-wrapping.xml',
      expectedCode: 'SIG_WRAPPED',
      description:
        'XSW: body tampered, the untouched original Signature hidden inside ceb:BaseTransfer so a verifier that looks it up anywhere still finds a "valid" one.',
      xml: tamper(bodyBefore).replace('</ceb:BaseTransfer>', signature + '</ceb:BaseTransfer>') + rootEnd,
    },
    {
      attack: 'two signatures: an attacker signature next to the original one',
      file: 'two-signatures.xml',
      expectedCode: 'SIG_MULTIPLE',
      description:
        'Second ds:Signature (the attacker\'s, over the tampered body) placed before the original; a verifier checking "a" signature may pick either.',
      xml: tamper(bodyBefore) + forgedSignature + signature + rootEnd,
    },
    {
      attack: 'two SignedInfo elements in one Signature',
      file: 'two-signedinfo.xml',
      expectedCode: 'SIGNEDINFO_MULTIPLE',
      description:
        'CVE-2025-29774 shape: a forged SignedInfo (digest of the tampered body) before the original, which the SignatureValue covers.',
      xml: tamper(bodyBefore) + signature.replace('<ds:SignedInfo>', forgedSignedInfo + '<ds:SignedInfo>') + rootEnd,
    },
    {
      attack: 'comment inside DigestValue',
      file: 'comment-in-digestvalue.xml',
      expectedCode: 'DIGEST_VALUE_MALFORMED',
      description:
        'CVE-2025-29775 shape: DigestValue = forged digest + comment + original digest; canonical SignedInfo (comments removed) differs from what a naive reader compares.',
      xml:
        tamper(bodyBefore) +
        signature.replace(
          `<ds:DigestValue>${originalDigest}</ds:DigestValue>`,
          `<ds:DigestValue>${forgedDigest}<!---->${originalDigest}</ds:DigestValue>`,
        ) +
        rootEnd,
    },
    {
      attack: "attacker's self-signed certificate in KeyInfo",
      file: 'attacker-certificate.xml',
      expectedCode: 'CERT_UNTRUSTED',
      description:
        "CVE-2024-32962 shape: tampered body re-signed with the attacker's key; KeyInfo carries his self-signed certificate with the same subject and serial as the real one.",
      xml: forgedByAttacker,
    },
    {
      attack: 'DOCTYPE with an entity payload',
      file: 'doctype-entity.xml',
      expectedCode: 'XML_DOCTYPE_FORBIDDEN',
      description:
        'Internal subset with nested entities (billion laughs) and an external entity (XXE), in front of a validly signed message.',
      xml:
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE ceb:CEB311Message [\n<!ENTITY a "aaaaaaaaaa">\n<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">\n<!ENTITY xxe SYSTEM "file:///etc/passwd">\n]>\n' +
        signed.replace('<ceb:note>', '<ceb:note>&b;&xxe;'),
    },
    {
      attack: 'several root elements',
      file: 'several-roots.xml',
      expectedCode: 'XML_MULTIPLE_ROOTS',
      description:
        'A second, unsigned CEB311 root after the signed one; a lenient parser may hand the second one to the business logic.',
      xml: signed + tamperedUnsigned,
    },
    {
      attack: 'content added after signing',
      file: 'content-after-signing.xml',
      expectedCode: 'CONTENT_AFTER_SIGNING',
      description: 'An extra element appended after ds:Signature in an import message (the XSD puts Signature last).',
      xml: bodyBefore + signature + '<ceb:BaseSubscribe><ceb:status>ALL</ceb:status></ceb:BaseSubscribe>' + rootEnd,
    },
    {
      attack: 'reference URI not empty',
      file: 'reference-uri-not-empty.xml',
      expectedCode: 'REFERENCE_URI_NOT_EMPTY',
      description:
        'Reference points at a fragment instead of the whole document, so only part of the message would be covered.',
      xml: replaceInSignedInfo('<ds:Reference URI="">', '<ds:Reference URI="#order">'),
    },
    {
      attack: 'missing enveloped-signature transform',
      file: 'missing-enveloped-transform.xml',
      expectedCode: 'TRANSFORM_ENVELOPED_MISSING',
      description:
        'Transforms hold only C14N: the digest would then (impossibly) cover the signature itself, or a verifier would silently add the transform.',
      xml: replaceInSignedInfo(
        '<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"></ds:Transform>',
        '<ds:Transform Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"></ds:Transform>',
      ),
    },
    {
      attack: 'disallowed signature algorithm (HMAC-SHA1)',
      file: 'disallowed-algorithm-hmac.xml',
      expectedCode: 'ALG_NOT_ALLOWED',
      description: 'HMAC with the public certificate as "key" is the classic algorithm-confusion forgery.',
      xml: replaceInSignedInfo(
        'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
        'http://www.w3.org/2000/09/xmldsig#hmac-sha1',
      ),
    },
    {
      attack: 'disallowed digest algorithm (MD5)',
      file: 'disallowed-digest-md5.xml',
      expectedCode: 'ALG_NOT_ALLOWED',
      description: 'MD5 digests are collision-prone and outside the CEB profile.',
      xml: replaceInSignedInfo('http://www.w3.org/2000/09/xmldsig#sha1', 'http://www.w3.org/2001/04/xmldsig-more#md5'),
    },
    {
      attack: 'XPath transform',
      file: 'xpath-transform.xml',
      expectedCode: 'TRANSFORM_NOT_ALLOWED',
      description: 'An XPath filter that would exclude the business body from the digest.',
      xml: replaceInSignedInfo(
        '</ds:Transforms>',
        '<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"><ds:XPath>not(ancestor-or-self::ceb:Order)</ds:XPath></ds:Transform></ds:Transforms>',
      ),
    },
    {
      attack: 'XSLT transform',
      file: 'xslt-transform.xml',
      expectedCode: 'TRANSFORM_NOT_ALLOWED',
      description: 'XSLT transforms run attacker-supplied code inside the verifier.',
      xml: replaceInSignedInfo(
        '</ds:Transforms>',
        '<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xslt-19991116"></ds:Transform></ds:Transforms>',
      ),
    },
    {
      attack: 'two references',
      file: 'two-references.xml',
      expectedCode: 'REFERENCE_MULTIPLE',
      description: 'A second Reference lets a verifier be confused about which data is covered.',
      xml: replaceInSignedInfo(
        '</ds:Reference>',
        '</ds:Reference>' +
          signedInfo.slice(
            signedInfo.indexOf('<ds:Reference '),
            signedInfo.indexOf('</ds:Reference>') + '</ds:Reference>'.length,
          ),
      ),
    },
    {
      attack: 'body changed after signing',
      file: 'content-modified.xml',
      expectedCode: 'DIGEST_MISMATCH',
      description: 'The amount paid changed, original signature kept.',
      xml: tamper(signed),
    },
    {
      attack: 'SignatureValue replaced',
      file: 'signature-value-tampered.xml',
      expectedCode: 'SIGNATURE_INVALID',
      description: 'Body and SignedInfo untouched, SignatureValue taken from another signature.',
      xml: signed.replace(
        /<ds:SignatureValue>[^<]*<\/ds:SignatureValue>/,
        (/<ds:SignatureValue>[^<]*<\/ds:SignatureValue>/.exec(forgedSignature) ?? [''])[0],
      ),
    },
    {
      attack: 'signature removed',
      file: 'signature-missing.xml',
      expectedCode: 'SIG_MISSING',
      description: 'An unsigned (tampered) message.',
      xml: tamperedUnsigned,
    },
    {
      attack: 'ds:Object smuggled into the Signature',
      file: 'signature-object.xml',
      expectedCode: 'SIG_STRUCTURE',
      description: 'ds:Object carrying a second copy of business data a careless consumer might read.',
      xml:
        bodyBefore +
        signature.replace(
          '</ds:Signature>',
          '<ds:Object><ceb:acturalPaid>2.16</ceb:acturalPaid></ds:Object></ds:Signature>',
        ) +
        rootEnd,
    },
  ];

  for (const a of attacks) writeFileSync(join(attacksDir, a.file), a.xml);
  const manifest: AttackFixture[] = attacks.map(({ attack, file, expectedCode, description }) => ({
    attack,
    file,
    expectedCode,
    description,
  }));
  writeFileSync(join(attacksDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');

  // E-port compatibility: the same message re-indented after signing (pretty SignedInfo, whitespace
  // around the Signature). Strict XML-DSig must reject it; eport mode must accept it.
  const reindented = reindentLikeEport(signed);
  writeFileSync(join(fixtures, 'ceb311-signed-rsa-reindented.xml'), reindented);
  process.stdout.write(`wrote ${attacks.length} attack fixtures to ${attacksDir}\n`);
}

await main();
