import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import amqplib from 'amqplib';
import { expect } from 'chai';
import { exampleOrders } from '../support/pipeline';
import { requireMongo } from '../support/services';

const run = promisify(execFile);

/**
 * Issue 12, finding 5: signed manifests carry the buyer's ID number, name, phone and address; published
 * persistent to quorum queues, RabbitMQ's segments and WAL kept them in clear after consumption. Now a
 * center queue holds the manifest sealed with the center's key. This runs the whole development stack
 * (`npm run stack -- --exit`: gateway, workers, center simulators, every example order to its final
 * status) against a RabbitMQ of its own, stops the broker, and searches every file of its data directory
 * for the example buyers' ID numbers, phones, addresses and names. A control message published in clear
 * to the same broker must be found, so the search can fail.
 */
describe('security: buyers’ personal data never rests on the broker’s disk', function () {
  this.timeout(420_000);
  const dir = mkdtempSync(join(tmpdir(), 'baygate-broker-disk-'));
  const amqpPort = 30_000 + Math.floor(Math.random() * 9_000);
  const amqpUrl = `amqp://guest:guest@127.0.0.1:${amqpPort}`;
  const env = {
    ...process.env,
    AMQP_URL: amqpUrl,
    BAYGATE_SERVICES_DIR: dir,
    MONGO_URL: (process.env.MONGO_URL ?? 'mongodb://127.0.0.1:27017/baygate').replace(
      /\/[^/?]*(\?|$)/,
      '/baygate_test_security_broker_disk$1',
    ),
    LOG_LEVEL: 'warn',
  };
  const CONTROL = `baygate-disk-control-${Date.now().toString(36)}-不应出现的明文`;

  before(async () => {
    await requireMongo();
    await run('bash', ['scripts/services.sh', 'start', 'rabbitmq'], { env, timeout: 120_000 });
  });
  after(async () => {
    await run('bash', ['scripts/services.sh', 'stop', 'rabbitmq'], { env, timeout: 120_000 }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('after a full `npm run stack -- --exit`, no ID number, phone, address or name of an example buyer is in any broker file', async () => {
    const gatewayPort = 20_000 + Math.floor(Math.random() * 9_000);
    const child = spawn(
      'npm',
      ['run', 'stack', '--', '--exit', '--port', String(gatewayPort), '--profile', 'fast', '--timeout', '150'],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code, output).to.equal(0);
    const summary = /(\d+) orders accepted, (\d+) rejected; (\d+)\/(\d+) declarations final\./.exec(output);
    expect(summary?.slice(1).map(Number), output).to.deep.equal([7, 0, 27, 27]);

    // The control: clear text on a durable quorum queue of the same broker, as a clear manifest would be.
    const connection = await amqplib.connect(amqpUrl);
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue('security.disk-control', { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    channel.sendToQueue('security.disk-control', Buffer.from(`<control>${CONTROL}</control>`), { persistent: true });
    await channel.waitForConfirms();
    await connection.close();
    await run('bash', ['scripts/services.sh', 'stop', 'rabbitmq'], { env, timeout: 120_000 });

    const needles = new Map<string, string>();
    for (const { file, order } of exampleOrders()) {
      if (order.direction !== 'import') continue;
      // The stack gives each run's buyers fresh ID numbers that keep the first 14 characters (region and
      // birth date): a clear ID number on disk would contain them.
      needles.set(`${file} buyer ID`, String(order.buyerIdNumber).slice(0, 14));
      for (const field of ['buyerTelephone', 'consigneeTelephone', 'consigneeAddress', 'buyerName', 'consignee'])
        needles.set(`${file} ${field}`, String(order[field]));
    }
    expect(needles.size).to.equal(36);

    const files = walk(join(dir, 'rabbitmq'));
    expect(files.length).to.be.greaterThan(0);
    const found: string[] = [];
    let controlFound = false;
    // As UTF-8, and as Base64 at each of the three alignments (a DXP envelope carries the CEB message in Base64).
    const forms = [...needles].flatMap(([what, needle]) =>
      encodings(needle).map((bytes, i) => ({ what: `${what}${i === 0 ? '' : ` (base64 ${i - 1})`}`, bytes })),
    );
    for (const path of files) {
      const bytes = readFileSync(path);
      if (bytes.includes(Buffer.from(CONTROL, 'utf8'))) controlFound = true;
      for (const { what, bytes: needle } of forms) if (bytes.includes(needle)) found.push(`${what} in ${path}`);
    }
    expect(controlFound, 'the control message is on disk: the search would see clear text').to.equal(true);
    expect(found).to.deep.equal([]);
  });
});

/**
 * The needle's UTF-8 bytes, then the part of its Base64 that is the same wherever the needle sits in a
 * Base64-encoded document (3 alignments; the first and last characters, which depend on the neighbouring
 * bytes, are left out).
 */
function encodings(needle: string): Buffer[] {
  const raw = Buffer.from(needle, 'utf8');
  const out = [raw];
  for (let k = 0; k < 3; k++) {
    const encoded = Buffer.concat([Buffer.alloc(k), raw]).toString('base64');
    const stable = encoded.slice(k === 0 ? 0 : 4, Math.floor((k + raw.length) / 3) * 4);
    out.push(Buffer.from(stable, 'ascii'));
  }
  return out;
}

function walk(root: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(root)) {
    const path = join(root, name);
    const stat = statSync(path);
    if (stat.isDirectory()) out.push(...walk(path));
    else if (stat.isFile()) out.push(path);
  }
  return out;
}
