import { execFileSync } from 'node:child_process';

/**
 * `openssl speed -seconds N <alg>`: sign/s and verify/s per CPU-second of one core (openssl's own divisor),
 * the baseline the benchmarks print their figures beside.
 *   rsa  2048 bits 0.000686s 0.000019s   1457.4  52396.5
 *   256 bits SM2 (CurveSM2)   0.0005s   0.0004s   2081.2   2489.6
 */
export function opensslSpeed(alg: 'rsa2048' | 'sm2', seconds: number): { signPerS: number; verifyPerS: number } {
  const out = execFileSync('openssl', ['speed', '-seconds', String(seconds), alg], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const line =
    alg === 'rsa2048'
      ? out.split('\n').find((l) => /^rsa\s+2048 bits/.test(l.trim()))
      : out.split('\n').find((l) => /SM2 \(CurveSM2\)/.test(l));
  const numbers = line?.match(/(\d+(?:\.\d+)?)\s+(\d+(?:\.\d+)?)\s*$/);
  if (!numbers) throw new Error(`cannot read openssl speed ${alg} output:\n${out}`);
  return { signPerS: Number(numbers[1]), verifyPerS: Number(numbers[2]) };
}
