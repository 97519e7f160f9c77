import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { CliError } from '../cli-error';
import { loadConfig } from '../../config';
import { checkCertificate, loadTrustLists, TrustListError, type CertificateVerdict } from '../../signing/trust';

/** `baygate certs check <cert>`: the relying-party (MR) verdict for one certificate; exit 0 trusted, 1 not. */
export function register(program: Command): void {
  const certs = program.command('certs').description('certificate and trust-list tools');
  certs
    .command('check')
    .description('check a certificate against the trust lists (GD/HK/MO mutual recognition, E-port)')
    .argument('<cert>', 'certificate file (PEM or DER)')
    .option('--trust <dir>', 'trust-list folder (default: $CERTS_DIR/trust-lists)')
    .option('--chain <file>', 'PEM bundle of intermediate CA certificates offered with the certificate')
    .option('--at <time>', 'check time, ISO 8601 (default: now)')
    .option('--purpose <purpose>', "'signature' (keyUsage must allow signing) or 'any'", 'signature')
    .option('--json', 'print the verdict as JSON')
    .action(
      (certPath: string, opts: { trust?: string; chain?: string; at?: string; purpose: string; json?: boolean }) => {
        const trustDir = opts.trust ?? join(loadConfig().CERTS_DIR, 'trust-lists');
        if (opts.purpose !== 'signature' && opts.purpose !== 'any')
          throw new CliError(`--purpose must be 'signature' or 'any', got '${opts.purpose}'`, 2);
        const at = opts.at === undefined ? undefined : new Date(opts.at);
        if (at && Number.isNaN(at.getTime())) throw new CliError(`--at: not a date: ${opts.at}`, 2);
        const cert = readOrFail(certPath, 'certificate');
        const intermediates = opts.chain
          ? (readOrFail(opts.chain, '--chain')
              .toString('latin1')
              .match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [])
          : [];
        let trustLists;
        try {
          trustLists = loadTrustLists(trustDir);
        } catch (err) {
          if (err instanceof TrustListError) throw new CliError(`trust lists: ${err.message}`, 1);
          throw err;
        }
        const verdict = checkCertificate(cert, trustLists, {
          ...(at ? { at } : {}),
          purpose: opts.purpose,
          intermediates,
        });
        process.stdout.write(opts.json ? JSON.stringify(verdict, null, 2) + '\n' : formatVerdict(certPath, verdict));
        process.exitCode = verdict.ok ? 0 : 1;
      },
    );
}

function readOrFail(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new CliError(
      `${what}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      1,
    );
  }
}

export function formatVerdict(certPath: string, v: CertificateVerdict): string {
  const lines = [
    `${certPath}: ${v.ok ? 'TRUSTED' : 'NOT TRUSTED'}${v.trustList ? ` (trust list ${v.trustList})` : ''}`,
    `  subject:   ${v.subject || '?'}`,
    `  serial:    ${v.serialHex || '?'}   algorithm: ${v.algorithm}`,
    ...(v.certificateTypeName ? [`  type name: ${v.certificateTypeName}`] : []),
    ...v.checks.map((c) => `  [${c.ok ? 'PASS' : 'FAIL'}] ${c.name.padEnd(21)} ${c.detail}`),
  ];
  if (v.reason) lines.push(`  reason: ${v.reason}`);
  return lines.join('\n') + '\n';
}
