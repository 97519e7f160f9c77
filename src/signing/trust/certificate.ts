import { createHash, X509Certificate, type KeyObject } from 'node:crypto';
import {
  asn1,
  buf,
  child,
  children,
  fromDer,
  integerHex,
  isContext,
  isUniversal,
  oidOf,
  pemOrDerToDer,
  primitive,
  splitSigned,
  textOf,
  timeOf,
  toDer,
  type Asn1,
} from './der';
import { keyAlgorithm, verifySignedBytes, type KeyAlgorithm } from './algorithms';
import { KEY_USAGE_BITS, type KeyUsageName } from './x509-build';

/**
 * An X.509 certificate read for relying-party checks. Node's X509Certificate supplies the public key and
 * display names (it parses SM2 certificates); the extensions MR needs (certificatePolicies with user
 * notices, key identifiers) and the exact TBS bytes come from forge's ASN.1 layer.
 */
export interface ParsedCertificate {
  der: Buffer;
  tbs: Buffer;
  signatureAlgorithmOid: string;
  signature: Buffer;
  /** "C=HK, O=…, CN=…" */
  subject: string;
  issuer: string;
  /** Exact DER of the subject / issuer Name, compared byte for byte when linking a chain. */
  subjectDer: Buffer;
  issuerDer: Buffer;
  /** Lower-case hex of the serial's DER content bytes, leading zero bytes kept (what ds:KeyName carries). */
  serialHex: string;
  notBefore: Date;
  notAfter: Date;
  publicKey: KeyObject;
  algorithm: KeyAlgorithm;
  sha256: string;
  isCa: boolean;
  keyUsage: KeyUsageName[] | null;
  policies: { oid: string; noticeTexts: string[] }[];
  organizationalUnits: string[];
  subjectKeyId: string | null;
  authorityKeyId: string | null;
}

const EXT = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
  certificatePolicies: '2.5.29.32',
} as const;
const OU_OID = '2.5.4.11';
const USER_NOTICE_OID = '1.3.6.1.5.5.7.2.2';

export function parseCertificate(input: Buffer | string): ParsedCertificate {
  const der = pemOrDerToDer(input, 'CERTIFICATE');
  const { tbs, algorithmOid, signature } = splitSigned(der, 'certificate');
  const x509 = new X509Certificate(der);
  const tbsNode = fromDer(tbs);
  const fields = children(tbsNode, 'TBSCertificate');
  // version [0] is optional: shift indexes when it is absent (v1 certificate).
  const offset = isContext(fields[0], 0) ? 1 : 0;
  const serialHex = integerHex(fields[offset], 'serialNumber');
  const issuerNode = child(tbsNode, offset + 2, 'issuer');
  const validity = child(tbsNode, offset + 3, 'validity');
  const subjectNode = child(tbsNode, offset + 4, 'subject');

  const cert: ParsedCertificate = {
    der,
    tbs,
    signatureAlgorithmOid: algorithmOid,
    signature,
    subject: x509.subject.split('\n').join(', '),
    issuer: x509.issuer.split('\n').join(', '),
    subjectDer: toDer(subjectNode),
    issuerDer: toDer(issuerNode),
    serialHex,
    notBefore: timeOf(child(validity, 0, 'notBefore'), 'notBefore'),
    notAfter: timeOf(child(validity, 1, 'notAfter'), 'notAfter'),
    publicKey: x509.publicKey,
    algorithm: keyAlgorithm(x509.publicKey),
    sha256: createHash('sha256').update(der).digest('hex'),
    isCa: false,
    keyUsage: null,
    policies: [],
    organizationalUnits: organizationalUnits(subjectNode),
    subjectKeyId: null,
    authorityKeyId: null,
  };

  const extensionsWrapper = fields.find((f) => isContext(f, 3));
  for (const ext of extensionsWrapper ? children(child(extensionsWrapper, 0, 'extensions'), 'extensions') : []) {
    const parts = children(ext, 'extension');
    const id = oidOf(parts[0], 'extension id');
    const value = fromDer(buf(primitive(parts[parts.length - 1], `extension ${id}`)));
    switch (id) {
      case EXT.basicConstraints: {
        const first = children(value, 'basicConstraints')[0];
        cert.isCa = isUniversal(first, asn1.Type.BOOLEAN) && primitive(first, 'cA') !== '\x00';
        break;
      }
      case EXT.keyUsage:
        cert.keyUsage = keyUsageNames(buf(primitive(value, 'keyUsage')));
        break;
      case EXT.subjectKeyId:
        cert.subjectKeyId = buf(primitive(value, 'subjectKeyIdentifier')).toString('hex');
        break;
      case EXT.authorityKeyId: {
        const keyId = children(value, 'authorityKeyIdentifier').find((n) => isContext(n, 0));
        cert.authorityKeyId = keyId ? buf(primitive(keyId, 'keyIdentifier')).toString('hex') : null;
        break;
      }
      case EXT.certificatePolicies:
        cert.policies = children(value, 'certificatePolicies').map(policyInformation);
        break;
      default:
        break;
    }
  }
  return cert;
}

function organizationalUnits(name: Asn1): string[] {
  const units: string[] = [];
  for (const rdn of children(name, 'Name')) {
    for (const atv of children(rdn, 'RDN')) {
      if (oidOf(child(atv, 0, 'attribute type'), 'attribute type') === OU_OID) {
        const text = textOf(child(atv, 1, 'attribute value'));
        if (text !== null) units.push(text);
      }
    }
  }
  return units;
}

function keyUsageNames(bits: Buffer): KeyUsageName[] {
  const names: KeyUsageName[] = [];
  KEY_USAGE_BITS.forEach((name, i) => {
    const byte = bits[1 + (i >> 3)];
    if (byte !== undefined && byte & (0x80 >> (i & 7))) names.push(name);
  });
  return names;
}

function policyInformation(info: Asn1): { oid: string; noticeTexts: string[] } {
  const parts = children(info, 'PolicyInformation');
  const noticeTexts: string[] = [];
  const qualifiers = parts[1];
  for (const qualifier of qualifiers ? children(qualifiers, 'policyQualifiers') : []) {
    if (oidOf(child(qualifier, 0, 'policyQualifierId'), 'policyQualifierId') !== USER_NOTICE_OID) continue;
    // UserNotice ::= SEQUENCE { noticeRef NoticeReference OPTIONAL, explicitText DisplayText OPTIONAL }
    for (const part of children(child(qualifier, 1, 'UserNotice'), 'UserNotice')) {
      const text = textOf(part);
      if (text !== null) noticeTexts.push(text);
    }
  }
  return { oid: oidOf(parts[0], 'policyIdentifier'), noticeTexts };
}

/** True when `cert`'s signature verifies with `issuer`'s public key (SM2 with the standard ID). */
export function isSignedBy(
  cert: Pick<ParsedCertificate, 'tbs' | 'signatureAlgorithmOid' | 'signature'>,
  issuerKey: KeyObject,
): boolean {
  // A pure function of the bytes, asked again for every signed document by the same few certificates and
  // CRLs: remembered, since an SM2 check in JavaScript costs milliseconds (~10 ms of each receipt's
  // verification before, bench/verify).
  const key = createHash('sha256')
    .update(cert.tbs)
    .update(cert.signature)
    .update(cert.signatureAlgorithmOid)
    .update(keyId(issuerKey))
    .digest('base64');
  const known = signatureVerdicts.get(key);
  if (known !== undefined) return known;
  let ok: boolean;
  try {
    ok = verifySignedBytes(cert.tbs, cert.signatureAlgorithmOid, cert.signature, issuerKey);
  } catch {
    ok = false;
  }
  if (signatureVerdicts.size >= 4096) signatureVerdicts.delete(signatureVerdicts.keys().next().value!);
  signatureVerdicts.set(key, ok);
  return ok;
}

const signatureVerdicts = new Map<string, boolean>();
const keyIds = new WeakMap<KeyObject, string>();

/** The SHA-256 of the key's SubjectPublicKeyInfo, computed once per KeyObject. */
function keyId(key: KeyObject): string {
  let id = keyIds.get(key);
  if (!id) {
    id = createHash('sha256')
      .update(key.export({ type: 'spki', format: 'der' }))
      .digest('base64');
    keyIds.set(key, id);
  }
  return id;
}

/** True when `oid` equals `prefix` or lies under it, arc by arc (2.16.344.8.2.2008.810.20 is NOT under …810.2). */
export function oidIsUnder(oid: string, prefix: string): boolean {
  return oid === prefix || oid.startsWith(prefix + '.');
}
