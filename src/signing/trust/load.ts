import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { z } from 'zod';
import { isSignedBy, parseCertificate, type ParsedCertificate } from './certificate';
import { parseCrl, type ParsedCrl } from './crl';
import { receiptSignersFileSchema, trustListFileSchema, type TrustListFile } from './schema';

export interface TrustedCa {
  id: string;
  name: string;
  certPath: string;
  cert: ParsedCertificate;
}

export interface DesignatedIssuingCa extends TrustedCa {
  certificateTypeNames: string[];
  mrPeriod: { from: Date; to: Date | null };
  crlPath: string | null;
  crl: ParsedCrl | null;
}

export interface TrustListEntry {
  name: string;
  root: TrustedCa;
  issuingCas: DesignatedIssuingCa[];
}

export interface TrustList {
  id: string;
  region: TrustListFile['region'];
  name: string;
  development: boolean;
  domain: TrustListFile['domain'];
  checks: TrustListFile['checks'];
  policyOidPrefix: string | null;
  entries: TrustListEntry[];
  /** The JSON file it came from. */
  file: string;
}

export interface ReceiptSigner {
  id: string;
  region: 'GD' | 'HK' | 'MO';
  trustList: string;
  certPath: string;
  cert: ParsedCertificate;
}

export interface TrustLists {
  dir: string;
  lists: TrustList[];
  receiptSigners: ReceiptSigner[];
}

/** A trust-list file that cannot be used; the message names the file and the JSON path. */
export class TrustListError extends Error {
  constructor(
    public readonly file: string,
    public readonly path: string,
    detail: string,
  ) {
    super(`${file}${path ? ` at ${path}` : ''}: ${detail}`);
    this.name = 'TrustListError';
  }
}

const pathOf = (segments: readonly PropertyKey[]): string =>
  segments
    .map((s) => (typeof s === 'number' ? `[${s}]` : `.${String(s)}`))
    .join('')
    .replace(/^\./, '');

function parseWith<T>(schema: z.ZodType<T>, data: unknown, file: string): T {
  const result = schema.safeParse(data);
  if (!result.success) {
    const first = result.error.issues[0];
    const more = result.error.issues.length > 1 ? ` (and ${result.error.issues.length - 1} more issue(s))` : '';
    throw new TrustListError(file, first ? pathOf(first.path) : '', `${first?.message ?? 'invalid'}${more}`);
  }
  return result.data;
}

/**
 * Loads every *.json in `dir`: trust lists (gd, hk, mo, eport …) and the receipt-signer pins (centers.json).
 * Certificates and CRLs are read relative to the JSON file, fingerprints compared, and each root's
 * self-signature and each issuing CA's signature by its root verified, so a loaded list is consistent.
 */
export function loadTrustLists(dir: string): TrustLists {
  const root = resolve(dir);
  let files: string[];
  try {
    files = readdirSync(root)
      .filter((f) => f.endsWith('.json'))
      .sort();
  } catch (err) {
    throw new TrustListError(root, '', `cannot read trust-list folder (${(err as Error).message})`);
  }
  if (files.length === 0) throw new TrustListError(root, '', 'no trust-list *.json files found');

  const lists: TrustList[] = [];
  const receiptSigners: ReceiptSigner[] = [];
  for (const name of files) {
    const file = join(root, name);
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new TrustListError(file, '', `invalid JSON (${(err as Error).message})`);
    }
    const base = dirname(file);
    if (typeof data === 'object' && data !== null && (data as { kind?: unknown }).kind === 'receipt-signers') {
      const parsed = parseWith(receiptSignersFileSchema, data, file);
      parsed.signers.forEach((s, i) => {
        const certPath = resolve(base, s.certPath);
        const cert = readCertificate(file, `signers[${i}].certPath`, certPath);
        if (cert.sha256 !== s.sha256)
          throw new TrustListError(
            file,
            `signers[${i}].sha256`,
            `fingerprint does not match ${s.certPath} (file has ${cert.sha256})`,
          );
        receiptSigners.push({ id: s.id, region: s.region, trustList: s.trustList, certPath, cert });
      });
      continue;
    }
    const parsed = parseWith(trustListFileSchema, data, file);
    if (lists.some((l) => l.id === parsed.id))
      throw new TrustListError(file, 'id', `duplicate trust-list id "${parsed.id}"`);
    lists.push({
      id: parsed.id,
      region: parsed.region,
      name: parsed.name,
      development: parsed.development,
      domain: parsed.domain,
      checks: parsed.checks,
      policyOidPrefix: parsed.policyOidPrefix,
      file,
      entries: parsed.entries.map((entry, e) => {
        const at = `entries[${e}]`;
        const rootCa = loadCa(file, base, `${at}.root`, entry.root);
        if (
          !bytesEqual(rootCa.cert.subjectDer, rootCa.cert.issuerDer) ||
          !isSignedBy(rootCa.cert, rootCa.cert.publicKey)
        ) {
          throw new TrustListError(file, `${at}.root`, `${entry.root.certPath} is not a self-signed root certificate`);
        }
        return {
          name: entry.name,
          root: rootCa,
          issuingCas: entry.issuingCas.map((ca, c) => {
            const where = `${at}.issuingCas[${c}]`;
            const loaded = loadCa(file, base, where, ca);
            if (
              !bytesEqual(loaded.cert.issuerDer, rootCa.cert.subjectDer) ||
              !isSignedBy(loaded.cert, rootCa.cert.publicKey)
            ) {
              throw new TrustListError(
                file,
                where,
                `${ca.certPath} is not issued by the entry's root ${entry.root.certPath}`,
              );
            }
            let crl: ParsedCrl | null = null;
            const crlPath = ca.crlPath === null ? null : resolve(base, ca.crlPath);
            if (crlPath) {
              try {
                crl = parseCrl(readFileSync(crlPath));
              } catch (err) {
                throw new TrustListError(
                  file,
                  `${where}.crlPath`,
                  `cannot read CRL ${ca.crlPath} (${(err as Error).message})`,
                );
              }
            }
            return {
              ...loaded,
              certificateTypeNames: ca.certificateTypeNames,
              mrPeriod: {
                from: new Date(ca.mrPeriod.from),
                to: ca.mrPeriod.to === null ? null : new Date(ca.mrPeriod.to),
              },
              crlPath,
              crl,
            };
          }),
        };
      }),
    });
  }
  if (lists.length === 0) throw new TrustListError(root, '', 'no trust lists found (only receipt-signer files)');
  for (const signer of receiptSigners) {
    if (!lists.some((l) => l.id === signer.trustList)) {
      throw new TrustListError(
        join(root, 'centers.json'),
        `signers(${signer.id}).trustList`,
        `unknown trust list "${signer.trustList}"`,
      );
    }
  }
  return { dir: root, lists, receiptSigners };
}

function readCertificate(file: string, path: string, certPath: string): ParsedCertificate {
  let bytes: Buffer;
  try {
    bytes = readFileSync(certPath);
  } catch (err) {
    throw new TrustListError(
      file,
      path,
      `cannot read ${basename(certPath)} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  try {
    return parseCertificate(bytes);
  } catch (err) {
    throw new TrustListError(
      file,
      path,
      `${basename(certPath)} is not a readable X.509 certificate (${(err as Error).message})`,
    );
  }
}

function loadCa(
  file: string,
  base: string,
  path: string,
  ref: { id: string; name: string; certPath: string; sha256: string },
): TrustedCa {
  const certPath = resolve(base, ref.certPath);
  const cert = readCertificate(file, `${path}.certPath`, certPath);
  if (cert.sha256 !== ref.sha256)
    throw new TrustListError(
      file,
      `${path}.sha256`,
      `fingerprint does not match ${ref.certPath} (file has ${cert.sha256})`,
    );
  if (!cert.isCa)
    throw new TrustListError(
      file,
      `${path}.certPath`,
      `${ref.certPath} is not a CA certificate (basicConstraints cA is not true)`,
    );
  return { id: ref.id, name: ref.name, certPath, cert };
}

export const bytesEqual = (a: Buffer, b: Buffer): boolean => a.length === b.length && a.equals(b);
