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
  timeOf,
  toDer,
} from './der';

/** An X.509 CRL, read with forge's ASN.1 layer (works for RSA- and SM2-signed lists alike). */
export interface ParsedCrl {
  der: Buffer;
  tbs: Buffer;
  signatureAlgorithmOid: string;
  signature: Buffer;
  issuerDer: Buffer;
  thisUpdate: Date;
  nextUpdate: Date | null;
  /** serialHex (as in ParsedCertificate) → revocation. */
  revoked: Map<string, { revokedAt: Date; reasonCode: number | null }>;
}

const REASON_CODE_OID = '2.5.29.21';

export const CRL_REASONS: Record<number, string> = {
  0: 'unspecified',
  1: 'keyCompromise',
  2: 'cACompromise',
  3: 'affiliationChanged',
  4: 'superseded',
  5: 'cessationOfOperation',
  6: 'certificateHold',
  8: 'removeFromCRL',
  9: 'privilegeWithdrawn',
  10: 'aACompromise',
};

export function parseCrl(input: Buffer | string): ParsedCrl {
  const der = pemOrDerToDer(input, 'X509 CRL');
  const { tbs, algorithmOid, signature } = splitSigned(der, 'CRL');
  const tbsNode = fromDer(tbs);
  const fields = children(tbsNode, 'TBSCertList');
  let i = isUniversal(fields[0], asn1.Type.INTEGER) ? 1 : 0; // optional version
  i++; // signature AlgorithmIdentifier
  const issuerDer = toDer(child(tbsNode, i++, 'issuer'));
  const thisUpdate = timeOf(fields[i++], 'thisUpdate');
  let nextUpdate: Date | null = null;
  const maybeNext = fields[i];
  if (isUniversal(maybeNext, asn1.Type.UTCTIME) || isUniversal(maybeNext, asn1.Type.GENERALIZEDTIME)) {
    nextUpdate = timeOf(maybeNext, 'nextUpdate');
    i++;
  }
  const revoked = new Map<string, { revokedAt: Date; reasonCode: number | null }>();
  const list = fields[i];
  if (list && isUniversal(list, asn1.Type.SEQUENCE) && !isContext(list, 0)) {
    for (const entry of children(list, 'revokedCertificates')) {
      const parts = children(entry, 'revoked entry');
      let reasonCode: number | null = null;
      const extensions = parts[2];
      for (const ext of extensions ? children(extensions, 'crlEntryExtensions') : []) {
        const extParts = children(ext, 'extension');
        if (oidOf(extParts[0], 'extension id') === REASON_CODE_OID) {
          const value = fromDer(buf(primitive(extParts[extParts.length - 1], 'reasonCode')));
          reasonCode = buf(primitive(value, 'reasonCode'))[0] ?? null;
        }
      }
      revoked.set(integerHex(parts[0], 'userCertificate'), {
        revokedAt: timeOf(parts[1], 'revocationDate'),
        reasonCode,
      });
    }
  }
  return { der, tbs, signatureAlgorithmOid: algorithmOid, signature, issuerDer, thisUpdate, nextUpdate, revoked };
}
