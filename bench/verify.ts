/**
 * Receipt verification per core: the strict check every incoming receipt gets (XML-DSig against the
 * clearance centers' trust list, certificate chain, CRL, signer is a center) for a one-return CEB622
 * signed by a center with RSA-2048 and with SM2, printed beside `openssl speed` verify/s of the same
 * machine and the ratio. No target of its own: it shows what a worker spends per receipt (the chaos runs
 * send three to four receipts per declaration).
 *
 * Run: npm run bench:verify   (a script, not a test: ~20 s; its numbers depend on the machine)
 */
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { identityFiles } from '../src/centers/identities';
import { buildReceipt } from '../src/centers/simulator/receipt-builder';
import { createReceiptVerifier } from '../src/runtime/signing';
import { SoftwareXmlSigner } from '../src/signing/signers/software';
import { loadTrustLists } from '../src/signing/trust';
import { trustListCheck } from '../src/signing/trust-check';
import { generateValidOrder } from '../test/support/order-generator';
import { opensslSpeed } from './support/openssl-speed';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

/** Operations per CPU-second of this process, awaiting each (the verifier is async). */
async function rate(seconds: number, fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 50; i++) await fn(); // warm-up
  const start = process.cpuUsage();
  let n = 0;
  let used = 0;
  while (used < seconds) {
    for (let i = 0; i < 20; i++) await fn();
    n += 20;
    const u = process.cpuUsage(start);
    used = (u.user + u.system) / 1e6;
  }
  return n / used;
}

async function main(): Promise<void> {
  const trustLists = loadTrustLists(join(root, 'certs-dev', 'trust-lists'));
  const verify = createReceiptVerifier(trustLists);
  const order = generateValidOrder(42, { direction: 'import' });
  const head: Record<string, string> = {
    orderNo: order.orderNo,
    ebpCode: order.ebpCode,
    ebcCode: order.ebcCode,
    customsCode: order.customsCode,
    copNo: 'C20261129001',
    agentCode: order.agentCode,
    logisticsCode: order.logistics.logisticsCode,
    logisticsNo: order.logistics.logisticsNo,
    appTime: '20261129101500',
  };
  const manifest = {
    type: 'CEB621' as const,
    guid: randomUUID().toUpperCase(),
    headGuid: randomUUID().toUpperCase(),
    head,
    lines: [],
  };
  const rows: { name: string; ours: number; openssl: number; bytes: number }[] = [];
  for (const [name, id, alg] of [
    ['RSA-2048 (center-hk)', 'center-hk', 'rsa2048'],
    ['SM2 (center-gd)', 'center-gd', 'sm2'],
  ] as const) {
    const files = identityFiles(id);
    const signer = await SoftwareXmlSigner.fromFiles(
      { keyPath: files.keyPath, certPath: files.certPath },
      { trust: trustListCheck(trustLists) },
    );
    const xml = await signer.sign(buildReceipt(manifest, [{ status: '120', info: '已入库', at: new Date() }]).xml);
    const best = { ours: 0, openssl: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      best.openssl = Math.max(best.openssl, opensslSpeed(alg, SECONDS).verifyPerS);
      best.ours = Math.max(best.ours, await rate(SECONDS, () => verify(xml)));
    }
    rows.push({ name, ...best, bytes: Buffer.byteLength(xml) });
  }
  process.stdout.write(
    `strict receipt verification (CEB622, one return), one core, best of ${ROUNDS} rounds (openssl speed -seconds ${SECONDS})\n`,
  );
  process.stdout.write(
    `${'signer'.padEnd(24)}${'bytes'.padStart(7)}${'verify/s'.padStart(10)}${'ms each'.padStart(9)}${'openssl verify/s'.padStart(18)}${'ratio'.padStart(8)}\n`,
  );
  for (const r of rows) {
    process.stdout.write(
      `${r.name.padEnd(24)}${String(r.bytes).padStart(7)}${r.ours.toFixed(0).padStart(10)}${(1000 / r.ours).toFixed(2).padStart(9)}${r.openssl.toFixed(0).padStart(18)}${((r.ours / r.openssl) * 100).toFixed(1).padStart(7)}%\n`,
    );
  }
}

await main();
