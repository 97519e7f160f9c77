import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { GatewayClient, SseParser } from '../../src/cli/http-client';
import { watch } from '../../src/cli/commands/watch';
import { createBroker, createSeller, type TestKey } from '../support/accounts';
import { generateValidOrder } from '../support/order-generator';
import { waitFor } from '../support/rabbitmq';
import { advance, startBrokerHarness, type BrokerHarness } from '../api/broker-harness';

/** Runs the real CLI (bin/baygate.js) as a child process. */
function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/baygate.js', ...args],
      { env: { ...process.env, BAYGATE_URL: '', BAYGATE_API_KEY: '', ...env }, timeout: 60000 },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : 1
          : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('CLI for people: baygate submit / status / watch against a running gateway', function () {
  this.timeout(120000);
  let h: BrokerHarness;
  let seller: TestKey & { account: { id: string } };
  let broker: TestKey;
  let dir: string;
  const orderNos: string[] = [];

  before(async () => {
    h = await startBrokerHarness('cli_broker', { withOrders: true });
    seller = await createSeller(h.mongo);
    broker = await createBroker(h.mongo, [seller.account.id]);
    dir = mkdtempSync(join(tmpdir(), 'baygate-cli-'));
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await h?.close();
  });

  const order = (seed: number) => {
    const o = generateValidOrder(seed, {
      direction: 'import',
      tradeMode: '9610',
      sellerRegion: 'GD',
    }) as unknown as Record<string, unknown>;
    o.orderNo = `CLI${process.pid}${seed}`;
    return o;
  };

  it('submit: every order accepted → exit 0, one line per order and a summary; batches of --batch-size with plain progress lines off a TTY', async () => {
    const orders = [1, 2, 3].map((i) => order(9100 + i));
    orderNos.push(...orders.map((o) => String(o.orderNo)));
    const file = join(dir, 'orders.json');
    writeFileSync(file, JSON.stringify(orders));
    const res = await cli(['submit', file, '--url', h.base, '--key', seller.token, '--batch-size', '2']);
    expect(res.stderr).to.include('submitted 2/3 orders').and.include('submitted 3/3 orders');
    expect(res.code, res.stderr).to.equal(0);
    expect(res.stdout).to.match(
      new RegExp(`ACCEPTED #1 ${orders[0]!.orderNo} → CEB311@GD2?, CEB411@GD2?, CEB511@GD2?, CEB621@GD2?`),
    );
    expect(res.stdout).to.include('3 accepted, 0 already known, 0 rejected (of 3 orders)');
  });

  it('submit: NDJSON with an invalid order → exit 1 and the reason with its path; a resubmitted order is "already known"', async () => {
    const bad = order(9201);
    bad.buyerIdNumber = '440524188001010015'; // wrong GB 11643 check digit
    const again = order(9101); // submitted by the previous test
    const file = join(dir, 'orders.ndjson');
    writeFileSync(file, [JSON.stringify(again), JSON.stringify(bad)].join('\n') + '\n');
    const res = await cli(['submit', file, '--no-progress'], { BAYGATE_URL: h.base, BAYGATE_API_KEY: seller.token });
    expect(res.code, res.stderr).to.equal(1);
    expect(res.stdout).to.include(`DUPLICATE #1 ${again.orderNo}`);
    expect(res.stdout).to.include(`REJECTED #2 ${bad.orderNo}`);
    expect(res.stdout).to.match(/\/orders\/1\/buyerIdNumber: .+\[[A-Z0-9_.-]+\]/);
    expect(res.stdout).to.include('0 accepted, 1 already known, 1 rejected (of 2 orders)');
  });

  it('submit --source maps a source format; --atomic stores nothing when one order is invalid (exit 1, every order listed)', async () => {
    const mapped = await cli([
      'submit',
      'examples/sources/marketplace-flat.json',
      '--source',
      'marketplace-flat',
      '--url',
      h.base,
      '--key',
      seller.token,
      '--no-progress',
    ]);
    expect(mapped.code, mapped.stderr + mapped.stdout).to.equal(0);
    expect(mapped.stdout).to.match(/^ACCEPTED #1 \S+ → CEB311@/m);
    const good = order(9501);
    const bad = order(9502);
    bad.buyerIdNumber = '440524188001010015';
    const file = join(dir, 'atomic.json');
    writeFileSync(file, JSON.stringify([good, bad]));
    const res = await cli(['submit', file, '--atomic', '--url', h.base, '--key', seller.token, '--no-progress']);
    expect(res.code).to.equal(1);
    expect(res.stdout).to.include(`REJECTED #1 ${good.orderNo}`).and.include(`REJECTED #2 ${bad.orderNo}`);
    expect(res.stdout).to.include('0 accepted, 0 already known, 2 rejected (of 2 orders)');
    expect(await h.declarations.findByOrderNo(String(good.orderNo))).to.deep.equal([]);
  });

  it('submit: usage errors exit 2 with one line (no key, unreadable file, bad JSON line, bad batch size, --atomic over one batch)', async () => {
    const file = join(dir, 'one.json');
    writeFileSync(file, JSON.stringify(order(9301)));
    const broken = join(dir, 'broken.ndjson');
    writeFileSync(broken, '{"a":1}\n{not json}\n');
    const many = join(dir, 'many.json');
    writeFileSync(many, JSON.stringify([order(9302), order(9303), order(9304)]));
    // Independent runs, in parallel (each CLI start costs a TypeScript load).
    const [noKey, missing, badLine, badBatch, atomic] = await Promise.all([
      cli(['submit', file, '--url', h.base]),
      cli(['submit', join(dir, 'nope.json'), '--url', h.base, '--key', seller.token]),
      cli(['submit', broken, '--url', h.base, '--key', seller.token]),
      cli(['submit', file, '--url', h.base, '--key', seller.token, '--batch-size', '5000']),
      cli(['submit', many, '--url', h.base, '--key', seller.token, '--atomic', '--batch-size', '2']),
    ]);
    expect(noKey.code).to.equal(2);
    expect(noKey.stderr).to.equal('baygate: no API key: pass --key <keyId.secret> or set BAYGATE_API_KEY\n');
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.match(/cannot read .*nope\.json: ENOENT/);
    expect(badLine.code).to.equal(2);
    expect(badLine.stderr).to.match(/broken\.ndjson line 2: not valid JSON/);
    expect(badBatch.code).to.equal(2);
    expect(atomic.code).to.equal(2);
    expect(atomic.stderr).to.include('--atomic needs the whole file in one request');
  });

  it('submit: a wrong key or an unreachable gateway is exit 1 with the reason', async () => {
    const file = join(dir, 'another.json');
    writeFileSync(file, JSON.stringify(order(9401)));
    // A port nothing listens on (fetch refuses well-known ports such as 1 outright).
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const freePort = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    const [wrongKey, down] = await Promise.all([
      cli(['submit', file, '--url', h.base, '--key', 'bgk_nobody.secret', '--no-progress']),
      cli(['submit', file, '--url', `http://127.0.0.1:${freePort}`, '--key', seller.token, '--no-progress']),
    ]);
    expect(wrongKey.code).to.equal(1);
    expect(wrongKey.stderr).to.match(/gateway answered 401/);
    expect(down.code).to.equal(1);
    expect(down.stderr).to.equal(`baygate: cannot reach the gateway at http://127.0.0.1:${freePort}: ECONNREFUSED\n`);
  });

  it('status <orderNo> prints the declarations with status and labels; status <id> prints the timeline', async () => {
    const orderNo = orderNos[0]!;
    const table = await cli(['status', orderNo, '--url', h.base, '--key', broker.token]);
    expect(table.code, table.stderr).to.equal(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).to.match(/^ID\s+TYPE\s+CENTER\s+STATUS\s+LABEL\s+UPDATED$/);
    expect(lines).to.have.length(5);
    expect(table.stdout).to.include('CEB621').and.include('accepted').and.include('已受理 (accepted)');

    const [declaration] = await h.declarations.findByOrderNo(orderNo);
    await advance(h.declarations, declaration!.id, ['signed', 'queued', '120'], { info: '入库成功' });
    const timeline = await cli(['status', declaration!.id, '--url', h.base, '--key', broker.token]);
    expect(timeline.code, timeline.stderr).to.equal(0);
    expect(timeline.stdout).to.include(`${declaration!.messageType} ${orderNo} (${declaration!.id})`);
    expect(timeline.stdout).to.match(/status 120 海关入库/);
    expect(timeline.stdout).to.match(/\n\S+\s+120\s+海关入库\s+receipt\s+入库成功/);
  });

  it('status of something the key cannot see is exit 1; a broker never sees a seller it does not serve', async () => {
    const stranger = await createBroker(h.mongo, ['someone-else']);
    const res = await cli(['status', orderNos[0]!, '--url', h.base, '--key', stranger.token]);
    expect(res.code).to.equal(1);
    expect(res.stderr).to.include(`no declaration with order number "${orderNos[0]}" visible to this key`);
    const [declaration] = await h.declarations.findByOrderNo(orderNos[0]!);
    const byId = await cli(['status', declaration!.id, '--url', h.base, '--key', stranger.token]);
    expect(byId.code).to.equal(1);
  });

  it('watch --count prints each status change as a line and exits', async () => {
    const [declaration] = await h.declarations.findByOrderNo(orderNos[1]!);
    const running = cli(['watch', '--count', '2', '--url', h.base, '--key', broker.token]);
    await waitFor(() => h.live.subscriberCount > 0, 20000, 'watch subscribed');
    await advance(h.declarations, declaration!.id, ['signed', 'queued']);
    const res = await running;
    expect(res.code, res.stderr).to.equal(0);
    const lines = res.stdout.trim().split('\n');
    expect(lines).to.have.length(2);
    expect(lines[0]).to.match(
      new RegExp(
        `^\\S+  ${orderNos[1]}  ${declaration!.messageType}  GD2?  signed  已签名 \\(signed\\)  ${declaration!.id}$`,
      ),
    );
    expect(lines[1]).to.include('  queued  ');
  });

  it('watch reconnects after the stream drops and resumes with Last-Event-ID', async () => {
    // A stand-in gateway that ends the stream after each event and records the Last-Event-ID it gets.
    const seenHeaders: (string | undefined)[] = [];
    let n = 0;
    const server: Server = createServer((req, res) => {
      seenHeaders.push(req.headers['last-event-id'] as string | undefined);
      n += 1;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const id = `${'0'.repeat(23)}${n}`;
      res.end(
        `retry: 10\n\nid: ${id}\nevent: status\ndata: ${JSON.stringify({ declarationId: 'd1', orderNo: 'O1', messageType: 'CEB311', center: 'GD', status: String(n), label: { zh: 'x', en: 'x' }, at: '2026-11-28T00:00:00.000Z' })}\n\n`,
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const out: string[] = [];
      const client = new GatewayClient({ url: `http://127.0.0.1:${port}`, key: 'bgk_x.y' });
      const count = await watch(client, {
        count: 3,
        out: (l) => out.push(l),
        log: () => undefined,
        lastEventId: 'aaaaaaaaaaaaaaaaaaaaaaaa',
      });
      expect(count).to.equal(3);
      expect(seenHeaders).to.deep.equal(['aaaaaaaaaaaaaaaaaaaaaaaa', `${'0'.repeat(23)}1`, `${'0'.repeat(23)}2`]);
      expect(out.map((l) => l.split('  ')[4])).to.deep.equal(['1', '2', '3']);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('the SSE parser handles split chunks, CRLF, comments, multi-line data and retry', () => {
    const p = new SseParser();
    const out = [
      ...p.push(': hi\r\nretry: 42\r\nid: 1\r\nevent: status\r\ndata: {"a"'),
      ...p.push(':1}\r\n\r'),
      ...p.push('\ndata: x\ndata: y\n\n'),
    ];
    expect(out).to.deep.equal([
      { id: '1', event: 'status', data: '{"a":1}', retry: 42 },
      { id: '1', event: 'message', data: 'x\ny' },
    ]);
    expect(p.retryMs).to.equal(42);
  });
});
