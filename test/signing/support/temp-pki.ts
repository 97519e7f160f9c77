import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A throw-away PKI made with the openssl CLI for signing tests: an RSA CA and an SM2 CA, one end-entity
 * certificate under each, and an attacker's self-signed certificates. Independent of certs-dev/ so the
 * signing tests exercise real openssl-made material (interop) and never depend on other areas' files.
 */
export interface TempIdentity {
  readonly keyPath: string;
  readonly certPath: string;
  readonly p12Path: string;
  readonly keyPem: string;
  readonly certPem: string;
}

export interface TempPki {
  readonly dir: string;
  readonly password: string;
  readonly rsaCa: TempIdentity;
  readonly sm2Ca: TempIdentity;
  readonly rsa: TempIdentity;
  readonly sm2: TempIdentity;
  readonly attackerRsa: TempIdentity;
  readonly attackerSm2: TempIdentity;
  cleanup(): void;
}

const openssl = (args: string[], cwd: string): void => {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
};

export function createTempPki(): TempPki {
  const dir = mkdtempSync(join(tmpdir(), 'baygate-signing-pki-'));
  const password = 'test-password';
  writeFileSync(join(dir, 'ee.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n');
  writeFileSync(join(dir, 'ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');

  const rsaKey = (name: string): void =>
    openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', `${name}.key`], dir);
  const sm2Key = (name: string): void =>
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:SM2', '-out', `${name}.key`], dir);
  const sm2Opts = ['-sm3', '-sigopt', 'distid:1234567812345678'];
  const selfSigned = (name: string, cn: string, sm2: boolean, ext: string, serial: string): void =>
    openssl(
      [
        'req',
        '-new',
        '-x509',
        '-key',
        `${name}.key`,
        '-subj',
        `/C=CN/O=Baygate Test/CN=${cn}`,
        '-days',
        '3650',
        '-set_serial',
        serial,
        '-extensions',
        'v3',
        '-config',
        configFile(dir, ext),
        ...(sm2 ? sm2Opts : ['-sha256']),
        '-out',
        `${name}.crt`,
      ],
      dir,
    );
  const issued = (name: string, cn: string, ca: string, sm2: boolean, serial: string): void => {
    openssl(
      [
        'req',
        '-new',
        '-key',
        `${name}.key`,
        '-subj',
        `/C=CN/O=Baygate Test/CN=${cn}`,
        ...(sm2 ? sm2Opts : []),
        '-out',
        `${name}.csr`,
      ],
      dir,
    );
    openssl(
      [
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        `${ca}.crt`,
        '-CAkey',
        `${ca}.key`,
        '-set_serial',
        serial,
        '-days',
        '825',
        '-extfile',
        'ee.ext',
        ...(sm2 ? ['-sm3', '-sigopt', 'distid:1234567812345678', '-vfyopt', 'distid:1234567812345678'] : ['-sha256']),
        '-out',
        `${name}.crt`,
      ],
      dir,
    );
  };
  const p12 = (name: string): void =>
    openssl(
      [
        'pkcs12',
        '-export',
        '-inkey',
        `${name}.key`,
        '-in',
        `${name}.crt`,
        '-passout',
        `pass:${password}`,
        '-out',
        `${name}.p12`,
      ],
      dir,
    );

  rsaKey('rsa-ca');
  selfSigned('rsa-ca', 'Baygate Test RSA CA', false, 'ca', '0x01');
  sm2Key('sm2-ca');
  selfSigned('sm2-ca', 'Baygate Test SM2 CA', true, 'ca', '0x02');
  rsaKey('rsa');
  issued('rsa', 'Baygate Test RSA Signer', 'rsa-ca', false, '0x01691f7f');
  sm2Key('sm2');
  issued('sm2', 'Baygate Test SM2 Signer', 'sm2-ca', true, '0x00a1b2');
  rsaKey('attacker-rsa');
  selfSigned('attacker-rsa', 'Baygate Test RSA Signer', false, 'ee', '0x01691f7f');
  sm2Key('attacker-sm2');
  selfSigned('attacker-sm2', 'Baygate Test SM2 Signer', true, 'ee', '0x00a1b2');
  for (const n of ['rsa', 'sm2', 'attacker-rsa']) p12(n);

  const identity = (name: string): TempIdentity => ({
    keyPath: join(dir, `${name}.key`),
    certPath: join(dir, `${name}.crt`),
    p12Path: join(dir, `${name}.p12`),
    keyPem: readFileSync(join(dir, `${name}.key`), 'utf8'),
    certPem: readFileSync(join(dir, `${name}.crt`), 'utf8'),
  });
  return {
    dir,
    password,
    rsaCa: identity('rsa-ca'),
    sm2Ca: identity('sm2-ca'),
    rsa: identity('rsa'),
    sm2: identity('sm2'),
    attackerRsa: identity('attacker-rsa'),
    attackerSm2: identity('attacker-sm2'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

function configFile(dir: string, ext: 'ca' | 'ee' | string): string {
  const path = join(dir, `req-${ext}.cnf`);
  const v3 =
    ext === 'ca'
      ? 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n'
      : 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n';
  writeFileSync(path, `[req]\ndistinguished_name=dn\n[dn]\n[v3]\n${v3}`);
  return path;
}

let shared: TempPki | undefined;
/** One temporary PKI per test process (key generation costs seconds); removed when the process exits. */
export function sharedTempPki(): TempPki {
  if (!shared) {
    const pki = createTempPki();
    shared = pki;
    process.once('exit', () => pki.cleanup());
  }
  return shared;
}
