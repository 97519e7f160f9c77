import { X509Certificate } from 'node:crypto';
import { isSignedBy, oidIsUnder, parseCertificate, type ParsedCertificate } from './certificate';
import { CRL_REASONS } from './crl';
import { bytesEqual, type DesignatedIssuingCa, type TrustList, type TrustListEntry, type TrustLists } from './load';
import type { KeyAlgorithm } from './algorithms';
import { endEntityProblem, keyUsageProblem } from './signer-usage';

/**
 * Relying-party check of a signer certificate against Baygate's trust lists.
 *
 * For the Guangdong–Hong Kong–Macao mutual-recognition lists a certificate is MR only when all five MR
 * checks pass — (1) the issuing CA's MR period on the list, (2) a recognised root, (3) the issuing CA
 * designated for MR certificates, (4) the certificate-type name in the certificate, (5) the MR policy OID
 * under 2.16.344.8.2.2008.810.2 — plus chain signatures, validity and CRL revocation. The E-port list is a
 * separate CPS domain: its file switches the MR-only checks off.
 */

export type CheckName =
  | 'mr-period'
  | 'recognised-root'
  | 'designated-issuer'
  | 'certificate-type-name'
  | 'mr-policy'
  | 'chain-signature'
  | 'validity'
  | 'revocation'
  | 'key-usage'
  | 'end-entity';

export interface CertificateCheck {
  name: CheckName;
  ok: boolean;
  detail: string;
}

export interface CertificateVerdict {
  ok: boolean;
  checks: CertificateCheck[];
  /** `CODE: detail` of the most fundamental failed check; absent when ok. */
  reason?: string;
  /** Id of the trust list the certificate was checked against (absent when no list knows its issuer). */
  trustList?: string;
  issuingCa?: string;
  certificateTypeName?: string;
  subject: string;
  serialHex: string;
  algorithm: KeyAlgorithm;
}

export interface CheckOptions {
  /** Time of the check (e.g. the signing time of a message); default now. */
  at?: Date;
  /**
   * 'signature' (default): the certificate must be able to sign messages: an end-entity certificate
   * (not CA:TRUE) whose keyUsage allows digitalSignature or nonRepudiation (signer-usage.ts).
   * 'any': both checks are skipped (e.g. to inspect a CA certificate).
   */
  purpose?: 'signature' | 'any';
  /** Extra CA certificates (PEM/DER) offered with the certificate, e.g. from a chain file or X509Data. */
  intermediates?: (Buffer | string)[];
}

/** Display order: the five MR checks as numbered in the MR rules, then the ordinary PKI checks. */
const DISPLAY_ORDER: CheckName[] = [
  'mr-period',
  'recognised-root',
  'designated-issuer',
  'certificate-type-name',
  'mr-policy',
  'chain-signature',
  'validity',
  'revocation',
  'key-usage',
  'end-entity',
];
/** Which failure is *the* reason: the most fundamental one first. */
const REASON_ORDER: CheckName[] = [
  'recognised-root',
  'designated-issuer',
  'chain-signature',
  'end-entity',
  'mr-period',
  'validity',
  'revocation',
  'certificate-type-name',
  'mr-policy',
  'key-usage',
];

interface Result {
  ok: boolean;
  detail: string;
  code?: string;
}

const day = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

interface Anchor {
  list: TrustList;
  entry: TrustListEntry;
  /** The designated issuing CA, when the certificate's issuer is one. */
  designated: DesignatedIssuingCa | null;
  /** The certificate's actual issuer (designated CA, an offered intermediate, or the root itself). */
  issuer: { name: string; cert: ParsedCertificate };
}

export function checkCertificate(
  certPemOrDer: Buffer | string | X509Certificate,
  trustLists: TrustLists,
  options: CheckOptions = {},
): CertificateVerdict {
  const at = options.at ?? new Date();
  let cert: ParsedCertificate;
  try {
    cert = parseCertificate(certPemOrDer instanceof X509Certificate ? certPemOrDer.raw : certPemOrDer);
  } catch (err) {
    const detail = `not a readable X.509 certificate (${(err as Error).message})`;
    return {
      ok: false,
      checks: [],
      reason: `CERT_UNPARSEABLE: ${detail}`,
      subject: '',
      serialHex: '',
      algorithm: 'OTHER',
    };
  }

  const anchor = findAnchor(cert, trustLists, options.intermediates ?? []);
  const results = new Map<CheckName, Result>();
  const notEvaluated: Result = {
    ok: false,
    detail: 'not evaluated: the issuer is on no trust list',
    code: 'NOT_EVALUATED',
  };

  if (!anchor) {
    const listIds = trustLists.lists.map((l) => l.id).join(', ');
    results.set('recognised-root', {
      ok: false,
      code: 'UNTRUSTED_ISSUER',
      detail: `issuer "${cert.issuer}" is neither a designated issuing CA nor a recognised root on any trust list (${listIds})`,
    });
    for (const name of DISPLAY_ORDER) if (!results.has(name)) results.set(name, notEvaluated);
    results.set('validity', validity(cert, [], at));
    results.set('key-usage', keyUsage(cert, options.purpose ?? 'signature'));
    results.set('end-entity', endEntity(cert, options.purpose ?? 'signature'));
    return verdict(cert, results);
  }

  const { list, entry, designated } = anchor;
  const required = list.checks;
  const notRequired = (what: string): Result => ({
    ok: true,
    detail: `not required by trust list ${list.id} (${list.domain})` + (what ? `: ${what}` : ''),
  });

  results.set('recognised-root', {
    ok: true,
    detail: `chains to recognised root "${entry.root.cert.subject}" on trust list ${list.id}`,
  });

  if (designated) {
    results.set('designated-issuer', {
      ok: true,
      detail: `issued by "${designated.cert.subject}", designated on trust list ${list.id}`,
    });
  } else if (!required.designatedIssuer) {
    results.set('designated-issuer', notRequired(`issued by "${anchor.issuer.cert.subject}"`));
  } else {
    const code = list.domain === 'mutual-recognition' ? 'MR_ISSUER_NOT_DESIGNATED' : 'ISSUER_NOT_DESIGNATED';
    results.set('designated-issuer', {
      ok: false,
      code,
      detail: `issuer "${anchor.issuer.cert.subject}" chains to recognised root "${entry.root.cert.subject}" but is not designated on trust list ${list.id}`,
    });
  }

  results.set('chain-signature', chainSignature(cert, anchor));

  if (!required.mrPeriod) results.set('mr-period', notRequired(''));
  else if (!designated)
    results.set('mr-period', {
      ok: false,
      code: 'MR_PERIOD_UNKNOWN',
      detail: `issuer "${anchor.issuer.cert.subject}" has no MR period on trust list ${list.id}`,
    });
  else results.set('mr-period', mrPeriod(designated, list, at));

  const caCerts = [
    ...(designated ? [designated.cert] : anchor.issuer.cert === entry.root.cert ? [] : [anchor.issuer.cert]),
    entry.root.cert,
  ];
  results.set('validity', validity(cert, caCerts, at));

  if (designated) results.set('revocation', revocation(cert, designated, at));
  else
    results.set('revocation', {
      ok: false,
      code: 'CRL_MISSING',
      detail: `trust list ${list.id} publishes no CRL for "${anchor.issuer.cert.subject}"`,
    });

  let certificateTypeName: string | undefined;
  if (!required.certificateTypeName) results.set('certificate-type-name', notRequired(''));
  else {
    const names = designated?.certificateTypeNames ?? entry.issuingCas.flatMap((c) => c.certificateTypeNames);
    const found = findTypeName(cert, names);
    certificateTypeName = found?.name;
    results.set(
      'certificate-type-name',
      found
        ? { ok: true, detail: `"${found.name}" in ${found.where}` }
        : {
            ok: false,
            code: 'MR_CERT_TYPE_MISSING',
            detail: `certificate carries none of the certificate-type names ${names.map((n) => `"${n}"`).join(', ')} (looked in subject OU and certificatePolicies user notices)`,
          },
    );
  }

  if (!required.mrPolicy || !list.policyOidPrefix) results.set('mr-policy', notRequired(''));
  else {
    const prefix = list.policyOidPrefix;
    const match = cert.policies.find((p) => oidIsUnder(p.oid, prefix));
    const present = cert.policies.length ? cert.policies.map((p) => p.oid).join(', ') : 'none';
    results.set(
      'mr-policy',
      match
        ? { ok: true, detail: `policy ${match.oid} is under ${prefix}` }
        : {
            ok: false,
            code: 'MR_POLICY_MISSING',
            detail: `certificatePolicies has no OID under ${prefix} (present: ${present})`,
          },
    );
  }

  results.set('key-usage', keyUsage(cert, options.purpose ?? 'signature'));
  results.set('end-entity', endEntity(cert, options.purpose ?? 'signature'));

  const v = verdict(cert, results);
  v.trustList = list.id;
  v.issuingCa = anchor.issuer.cert.subject;
  if (certificateTypeName) v.certificateTypeName = certificateTypeName;
  return v;
}

function verdict(cert: ParsedCertificate, results: Map<CheckName, Result>): CertificateVerdict {
  const checks = DISPLAY_ORDER.map((name) => {
    const r = results.get(name) as Result;
    return { name, ok: r.ok, detail: r.detail };
  });
  const failed = REASON_ORDER.find((name) => !(results.get(name) as Result).ok);
  const base = { checks, subject: cert.subject, serialHex: cert.serialHex, algorithm: cert.algorithm };
  if (!failed) return { ok: true, ...base };
  const r = results.get(failed) as Result;
  return { ok: false, ...base, reason: `${r.code ?? 'CHECK_FAILED'}: ${r.detail}` };
}

const linked = (child: ParsedCertificate, issuer: ParsedCertificate): boolean =>
  bytesEqual(child.issuerDer, issuer.subjectDer) &&
  (!child.authorityKeyId || !issuer.subjectKeyId || child.authorityKeyId === issuer.subjectKeyId);

/**
 * Finds where the certificate attaches to a trust list. Prefers a designated issuing CA whose key verifies
 * the signature; then any designated CA with the issuer's name (the signature check then fails visibly);
 * then the root itself or an offered intermediate under a recognised root (not designated).
 */
function findAnchor(cert: ParsedCertificate, trustLists: TrustLists, offered: (Buffer | string)[]): Anchor | null {
  const designatedMatches: Anchor[] = [];
  for (const list of trustLists.lists) {
    for (const entry of list.entries) {
      for (const ca of entry.issuingCas) {
        if (linked(cert, ca.cert))
          designatedMatches.push({ list, entry, designated: ca, issuer: { name: ca.name, cert: ca.cert } });
      }
    }
  }
  const verified = designatedMatches.find((a) =>
    isSignedBy(cert, a.designated?.cert.publicKey ?? a.issuer.cert.publicKey),
  );
  if (verified) return verified;
  if (designatedMatches[0]) return designatedMatches[0];

  for (const list of trustLists.lists) {
    for (const entry of list.entries) {
      if (linked(cert, entry.root.cert))
        return { list, entry, designated: null, issuer: { name: entry.root.name, cert: entry.root.cert } };
    }
  }
  for (const raw of offered) {
    let intermediate: ParsedCertificate;
    try {
      intermediate = parseCertificate(raw);
    } catch {
      continue;
    }
    if (!intermediate.isCa || !linked(cert, intermediate) || !isSignedBy(cert, intermediate.publicKey)) continue;
    for (const list of trustLists.lists) {
      for (const entry of list.entries) {
        if (linked(intermediate, entry.root.cert) && isSignedBy(intermediate, entry.root.cert.publicKey)) {
          return { list, entry, designated: null, issuer: { name: intermediate.subject, cert: intermediate } };
        }
      }
    }
  }
  return null;
}

function chainSignature(cert: ParsedCertificate, anchor: Anchor): Result {
  const issuer = anchor.issuer.cert;
  const how = cert.algorithm === 'SM2' || issuer.algorithm === 'SM2' ? ' (SM2 with SM3, ID 1234567812345678)' : '';
  if (!isSignedBy(cert, issuer.publicKey)) {
    return {
      ok: false,
      code: 'SIGNATURE_INVALID',
      detail: `certificate signature does not verify with the key of "${issuer.subject}"${how}`,
    };
  }
  // The designated CA → root link was verified when the trust list was loaded; an offered intermediate
  // was verified by findAnchor.
  const rootPart =
    issuer === anchor.entry.root.cert ? '' : `; "${issuer.subject}" signed by root "${anchor.entry.root.cert.subject}"`;
  return { ok: true, detail: `signed by "${issuer.subject}"${how}${rootPart}` };
}

function mrPeriod(ca: DesignatedIssuingCa, list: TrustList, at: Date): Result {
  const { from, to } = ca.mrPeriod;
  const period = `${day(from)} – ${to ? day(to) : 'until further notice'}`;
  if (at < from)
    return {
      ok: false,
      code: 'MR_PERIOD_NOT_STARTED',
      detail: `MR period of "${ca.cert.subject}" on trust list ${list.id} (${period}) has not started at ${day(at)}`,
    };
  if (to && at > to)
    return {
      ok: false,
      code: 'MR_PERIOD_ENDED',
      detail: `MR period of "${ca.cert.subject}" on trust list ${list.id} (${period}) ended before ${day(at)}`,
    };
  return { ok: true, detail: `${day(at)} is within the MR period ${period}` };
}

function validity(cert: ParsedCertificate, caCerts: ParsedCertificate[], at: Date): Result {
  if (at < cert.notBefore)
    return {
      ok: false,
      code: 'CERT_NOT_YET_VALID',
      detail: `certificate is not valid before ${day(cert.notBefore)} (checked at ${day(at)})`,
    };
  if (at > cert.notAfter)
    return {
      ok: false,
      code: 'CERT_EXPIRED',
      detail: `certificate expired on ${day(cert.notAfter)} (checked at ${day(at)})`,
    };
  for (const ca of caCerts) {
    if (at < ca.notBefore || at > ca.notAfter) {
      return {
        ok: false,
        code: 'CA_CERT_NOT_VALID',
        detail: `CA certificate "${ca.subject}" is valid only ${day(ca.notBefore)} – ${day(ca.notAfter)} (checked at ${day(at)})`,
      };
    }
  }
  return {
    ok: true,
    detail: `valid ${day(cert.notBefore)} – ${day(cert.notAfter)}${caCerts.length ? ', CA certificates valid too' : ''}`,
  };
}

function revocation(cert: ParsedCertificate, ca: DesignatedIssuingCa, at: Date): Result {
  const crl = ca.crl;
  if (!crl) return { ok: false, code: 'CRL_MISSING', detail: `trust list names no CRL for "${ca.cert.subject}"` };
  if (!bytesEqual(crl.issuerDer, ca.cert.subjectDer))
    return { ok: false, code: 'CRL_INVALID', detail: `CRL ${ca.crlPath} is not issued by "${ca.cert.subject}"` };
  if (!isSignedBy(crl, ca.cert.publicKey))
    return {
      ok: false,
      code: 'CRL_INVALID',
      detail: `CRL signature does not verify with the key of "${ca.cert.subject}"`,
    };
  // A CRL issued after `at` is still authoritative for `at`: entries carry their revocation dates.
  if (crl.nextUpdate && at > crl.nextUpdate)
    return {
      ok: false,
      code: 'CRL_STALE',
      detail: `CRL nextUpdate ${day(crl.nextUpdate)} has passed (checked at ${day(at)})`,
    };
  const entry = crl.revoked.get(cert.serialHex);
  if (entry && entry.revokedAt <= at) {
    const reason = entry.reasonCode === null ? '' : `, reason ${CRL_REASONS[entry.reasonCode] ?? entry.reasonCode}`;
    return {
      ok: false,
      code: 'CERT_REVOKED',
      detail: `serial ${cert.serialHex} is on the CRL of "${ca.cert.subject}" (revoked ${day(entry.revokedAt)}${reason})`,
    };
  }
  const later = entry ? ` (revoked later, on ${day(entry.revokedAt)})` : '';
  return {
    ok: true,
    detail: `serial ${cert.serialHex} not revoked at ${day(at)}${later}; CRL of "${ca.cert.subject}" signature valid, thisUpdate ${day(crl.thisUpdate)}`,
  };
}

function findTypeName(cert: ParsedCertificate, names: string[]): { name: string; where: string } | null {
  for (const name of names) {
    if (cert.organizationalUnits.includes(name)) return { name, where: 'subject OU' };
    const policy = cert.policies.find((p) => p.noticeTexts.includes(name));
    if (policy) return { name, where: `user notice of policy ${policy.oid}` };
  }
  return null;
}

function keyUsage(cert: ParsedCertificate, purpose: 'signature' | 'any'): Result {
  if (purpose === 'any') return { ok: true, detail: 'not checked (purpose any)' };
  const problem = keyUsageProblem(cert);
  if (problem) return { ok: false, code: problem.code, detail: problem.detail };
  return { ok: true, detail: `keyUsage ${(cert.keyUsage ?? []).join(', ')}` };
}

function endEntity(cert: ParsedCertificate, purpose: 'signature' | 'any'): Result {
  if (purpose === 'any') return { ok: true, detail: 'not checked (purpose any)' };
  const problem = endEntityProblem(cert);
  if (problem) return { ok: false, code: problem.code, detail: problem.detail };
  return { ok: true, detail: 'end-entity certificate (basicConstraints CA:FALSE or absent)' };
}
