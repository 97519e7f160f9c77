import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { CliError } from '../cli-error';
import { loadConfig } from '../../config';
import { VerificationError } from '../../signing/errors';
import { loadTrustLists, TrustListError } from '../../signing/trust';
import { verifySignedXml, type VerifyOptions } from '../../signing/verifier';

/**
 * `baygate verify [--trust <dir> | --cert <cert.pem>] [--mode strict|eport] <signed.xml>`: exit 0 with one
 * line naming the signer, exit 1 with the reason (error code first) on stderr.
 */
export function register(program: Command): void {
  program
    .command('verify')
    .description('verify the XML-DSig signature of a CEB message against the trust lists or a pinned certificate')
    .argument('<signed.xml>', "signed message ('-' reads stdin)")
    .option('--trust <dir>', 'trust-list folder (default: $CERTS_DIR/trust-lists)')
    .option('--cert <file>', 'accept only this certificate (PEM/DER) instead of the trust lists')
    .option('--mode <mode>', "'strict' XML-DSig or 'eport' compatibility for re-indented messages", 'strict')
    .action(async (input: string, opts: { trust?: string; cert?: string; mode: string }) => {
      if (opts.trust !== undefined && opts.cert !== undefined)
        throw new CliError('use either --trust or --cert, not both', 2);
      if (opts.mode !== 'strict' && opts.mode !== 'eport')
        throw new CliError(`--mode must be 'strict' or 'eport', got '${opts.mode}'`, 2);
      const xml = read(input, 'message').toString('utf8');
      let options: VerifyOptions;
      if (opts.cert !== undefined) {
        options = { pinnedCertificate: read(opts.cert, '--cert'), mode: opts.mode };
      } else {
        try {
          options = {
            trustLists: loadTrustLists(opts.trust ?? join(loadConfig().CERTS_DIR, 'trust-lists')),
            mode: opts.mode,
          };
        } catch (err) {
          if (err instanceof TrustListError) throw new CliError(`trust lists: ${err.message}`, 1);
          throw err;
        }
      }
      try {
        const { signer } = await verifySignedXml(xml, options);
        process.stdout.write(
          `verified: signer="${signer.subject}" serial=${signer.serialHex} algorithm=${signer.algorithm} ${signer.pinned ? 'pinned' : `trust-list=${signer.trustedBy}`}\n`,
        );
      } catch (err) {
        if (err instanceof VerificationError) throw new CliError(`verification failed: ${err.message}`, 1);
        throw err;
      }
    });
}

function read(path: string, what: string): Buffer {
  try {
    return readFileSync(path === '-' ? 0 : path);
  } catch (err) {
    throw new CliError(
      `${what}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      1,
    );
  }
}
