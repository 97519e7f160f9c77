import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ZodError } from 'zod';
import { CliError } from '../cli-error';
import { loadConfig } from '../../config';
import { isSignatureAlgorithmId, SIGNATURE_ALGORITHM_IDS } from '../../signing/algorithms';
import { SigningError, VerificationError } from '../../signing/errors';
import { canonicalizeForSigning } from '../../signing/safe-xml';
import { createXmlSigner, type SignerConfig } from '../../signing/signer-factory';
import { UKEY_DEFAULT_URL } from '../../signing/signers/ukey-protocol';
import { loadTrustLists, TrustListError } from '../../signing/trust';

/**
 * `baygate sign --key <key.pem|bundle.p12> [--cert <cert.pem>] [--password <pw>] [--alg …] [--layout …] <in.xml>`
 * writes the signed message to stdout. `--ukey [url]` signs with an E-port USB key instead (`--password`
 * is then the card PIN). The input is canonicalised first (files from elsewhere are rarely C14N); the
 * signer refuses a certificate the trust lists reject.
 */
export function register(program: Command): void {
  program
    .command('sign')
    .description('sign a CEB message with the E-port enveloped XML-DSig profile (signed XML on stdout)')
    .argument('<in.xml>', "message to sign ('-' reads stdin)")
    .option('--key <file>', 'private key: PEM (optionally with the certificate) or PKCS#12 bundle')
    .option(
      '--ukey [url]',
      `sign with an E-port USB key through its local client (default ${UKEY_DEFAULT_URL}); --password is the PIN`,
    )
    .option('--cert <file>', 'certificate (PEM/DER) when the key file does not contain it')
    .option('--password <pw>', 'key / PKCS#12 password (or set BAYGATE_KEY_PASSWORD)')
    .option(
      '--alg <alg>',
      `signature profile: ${SIGNATURE_ALGORITHM_IDS.join(' | ')} (default: rsa-sha1 for RSA keys, sm2-sm3 for SM2)`,
    )
    .option(
      '--layout <layout>',
      "'import' (Signature last) or 'export' (Signature before ExtendMessage); default from the root element",
    )
    .option('--trust <dir>', 'trust-list folder the signer certificate must pass (default: $CERTS_DIR/trust-lists)')
    .action(
      async (
        input: string,
        opts: {
          key?: string;
          ukey?: string | true;
          cert?: string;
          password?: string;
          alg?: string;
          layout?: string;
          trust?: string;
        },
      ) => {
        if ((opts.key === undefined) === (opts.ukey === undefined))
          throw new CliError('give exactly one of --key <file> or --ukey [url]', 2);
        if (opts.alg !== undefined && !isSignatureAlgorithmId(opts.alg))
          throw new CliError(`--alg must be one of ${SIGNATURE_ALGORITHM_IDS.join(', ')}, got '${opts.alg}'`, 2);
        if (opts.layout !== undefined && opts.layout !== 'import' && opts.layout !== 'export')
          throw new CliError(`--layout must be 'import' or 'export', got '${opts.layout}'`, 2);
        const xml = readInput(input);
        const trustDir = opts.trust ?? join(loadConfig().CERTS_DIR, 'trust-lists');
        try {
          const trustLists = loadTrustLists(trustDir);
          const password = opts.password ?? process.env.BAYGATE_KEY_PASSWORD;
          const config: SignerConfig =
            opts.key !== undefined
              ? {
                  kind: 'software',
                  keyPath: opts.key,
                  ...(opts.cert ? { certPath: opts.cert } : {}),
                  ...(password !== undefined ? { password } : {}),
                  ...(opts.alg ? { algorithm: opts.alg } : {}),
                }
              : {
                  kind: 'ukey',
                  url: opts.ukey === true || opts.ukey === undefined ? UKEY_DEFAULT_URL : opts.ukey,
                  password: password ?? '',
                  ...(opts.alg ? { algorithm: opts.alg } : {}),
                };
          const canonical = canonicalizeForSigning(xml);
          const signer = await createXmlSigner(config, { trustLists });
          try {
            process.stdout.write(await signer.sign(canonical, opts.layout as 'import' | 'export' | undefined));
          } finally {
            await signer.close();
          }
        } catch (err) {
          if (err instanceof TrustListError) throw new CliError(`trust lists: ${err.message}`, 1);
          if (err instanceof SigningError || err instanceof VerificationError)
            throw new CliError(`sign ${input}: ${err.message}`, 1);
          if (err instanceof ZodError)
            throw new CliError(`sign: ${err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, 2);
          throw err;
        }
      },
    );
}

function readInput(path: string): string {
  try {
    return readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, 1);
  }
}
