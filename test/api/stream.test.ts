import { expect } from 'chai';
import type { Middleware } from 'koa';
import type { RequestState } from '../../src/api/state';
import { SseParser, type SseMessage } from '../../src/cli/http-client';
import { createAdmin, createBroker, createSeller, type TestKey } from '../support/accounts';
import { waitFor } from '../support/rabbitmq';
import { advance, seedDeclaration, startBrokerHarness, type BrokerHarness } from './broker-harness';

interface StatusData {
  declarationId: string;
  orderNo: string;
  messageType: string;
  center: string;
  status: string;
  label: { zh: string; en: string };
  at: string;
}

/** A test SSE client over fetch: collects events and the raw text (for comment lines). */
async function openStream(url: string, headers: Record<string, string>) {
  const controller = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
  const events: SseMessage[] = [];
  let raw = '';
  let ended = false;
  const parser = new SseParser();
  const reading = (async () => {
    if (!res.body || !res.ok) return;
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        const text = decoder.decode(chunk, { stream: true });
        raw += text;
        events.push(...parser.push(text));
      }
    } catch {
      // aborted by the test
    }
    ended = true;
  })();
  return {
    res,
    events,
    raw: () => raw,
    ended: () => ended,
    data: () =>
      events.filter((e) => e.event === 'status').map((e) => ({ id: e.id, ...(JSON.parse(e.data) as StatusData) })),
    close: async () => {
      controller.abort();
      await reading;
    },
  };
}

describe('live stream: GET /v1/stream (Server-Sent Events)', function () {
  this.timeout(60000);
  let h: BrokerHarness;
  let sellerA: TestKey & { account: { id: string } };
  let sellerB: TestKey & { account: { id: string } };
  let broker: TestKey;
  let admin: TestKey;

  before(async () => {
    h = await startBrokerHarness('stream_routes', { heartbeatMs: 300 });
    sellerA = await createSeller(h.mongo);
    sellerB = await createSeller(h.mongo);
    broker = await createBroker(h.mongo, [sellerA.account.id]);
    admin = await createAdmin(h.mongo);
  });
  after(() => h?.close());

  it('sends each status change as `event: status` with the history event id and the declaration fields', async () => {
    const { view } = await seedDeclaration(h.declarations, {
      sellerId: sellerA.account.id,
      center: 'HK',
      messageType: 'CEB621',
      orderNo: 'SSE-1',
    });
    const stream = await openStream(`${h.base}/v1/stream`, admin.headers);
    try {
      expect(stream.res.status).to.equal(200);
      expect(stream.res.headers.get('content-type')).to.match(/^text\/event-stream/);
      expect(stream.res.headers.get('cache-control')).to.match(/no-cache/);
      await waitFor(() => h.live.subscriberCount > 0, 5000, 'subscription');
      await advance(h.declarations, view.id, ['signed', 'queued', '120']);
      await waitFor(
        () => stream.data().filter((d) => d.declarationId === view.id && d.status !== 'accepted').length >= 3,
        10000,
        'three events',
      );
      // A client without Last-Event-ID may also get changes from the second it connected in (at least once).
      const mine = stream.data().filter((d) => d.declarationId === view.id && d.status !== 'accepted');
      expect(mine.map((d) => d.status)).to.deep.equal(['signed', 'queued', '120']);
      const last = mine[2]!;
      expect(last).to.include({
        declarationId: view.id,
        orderNo: 'SSE-1',
        messageType: 'CEB621',
        center: 'HK',
        status: '120',
      });
      expect(last.label).to.deep.equal({ zh: '海关入库', en: 'accepted into the customs system' });
      expect(last.at).to.match(/^\d{4}-\d{2}-\d{2}T/);
      const stored = await h.declarations.findById(view.id);
      expect(mine.map((d) => d.id)).to.deep.equal(stored!.history.slice(1).map((e) => e.eventId));
      expect(Object.keys(last).sort()).to.deep.equal([
        'at',
        'center',
        'declarationId',
        'id',
        'label',
        'messageType',
        'orderNo',
        'status',
      ]);
    } finally {
      await stream.close();
    }
  });

  it("filters by the principal: a broker gets only its sellers' events, a seller only its own", async () => {
    const a = await seedDeclaration(h.declarations, { sellerId: sellerA.account.id, orderNo: 'SSE-A' });
    const b = await seedDeclaration(h.declarations, { sellerId: sellerB.account.id, orderNo: 'SSE-B' });
    const brokerStream = await openStream(`${h.base}/v1/stream`, broker.headers);
    const sellerBStream = await openStream(`${h.base}/v1/stream`, sellerB.headers);
    const adminStream = await openStream(`${h.base}/v1/stream`, admin.headers);
    try {
      await waitFor(() => h.live.subscriberCount >= 3, 5000, 'three subscriptions');
      await advance(h.declarations, a.view.id, ['signed']);
      await advance(h.declarations, b.view.id, ['signed']);
      await waitFor(
        () =>
          adminStream.data().filter((d) => d.declarationId === a.view.id || d.declarationId === b.view.id).length >= 2,
        10000,
        'admin sees both',
      );
      await new Promise((r) => setTimeout(r, 300));
      const ids = (s: typeof adminStream) => new Set(s.data().map((d) => d.declarationId));
      expect(ids(brokerStream).has(a.view.id)).to.equal(true);
      expect(ids(brokerStream).has(b.view.id)).to.equal(false);
      expect(ids(sellerBStream).has(b.view.id)).to.equal(true);
      expect(ids(sellerBStream).has(a.view.id)).to.equal(false);
    } finally {
      await Promise.all([brokerStream.close(), sellerBStream.close(), adminStream.close()]);
    }
  });

  it('replays what a client missed after its Last-Event-ID, in order, then continues live', async () => {
    const { view } = await seedDeclaration(h.declarations, { sellerId: sellerA.account.id, orderNo: 'SSE-REPLAY' });
    const first = await openStream(`${h.base}/v1/stream`, broker.headers);
    await waitFor(() => h.live.subscriberCount > 0, 5000, 'subscription');
    await advance(h.declarations, view.id, ['signed']);
    await waitFor(
      () => first.data().some((d) => d.declarationId === view.id && d.status === 'signed'),
      10000,
      'first event',
    );
    const lastSeen = first
      .data()
      .filter((d) => d.declarationId === view.id && d.status === 'signed')
      .at(-1)!.id!;
    await first.close();

    // While disconnected: two more changes, plus one of a seller this broker does not serve.
    await advance(h.declarations, view.id, ['queued', '2']);
    const foreign = await seedDeclaration(h.declarations, { sellerId: sellerB.account.id, orderNo: 'SSE-FOREIGN' });
    await advance(h.declarations, foreign.view.id, ['signed']);

    const resumed = await openStream(`${h.base}/v1/stream`, { ...broker.headers, 'Last-Event-ID': lastSeen });
    try {
      await waitFor(
        () => resumed.data().filter((d) => d.declarationId === view.id).length >= 2,
        10000,
        'replayed events',
      );
      const replayed = resumed.data();
      expect(replayed.filter((d) => d.declarationId === view.id).map((d) => d.status)).to.deep.equal(['queued', '2']);
      expect(replayed.some((d) => d.declarationId === foreign.view.id)).to.equal(false);
      expect(replayed.every((d) => d.id! > lastSeen)).to.equal(true);
      // …and then live.
      await advance(h.declarations, view.id, ['3']);
      await waitFor(
        () => resumed.data().some((d) => d.declarationId === view.id && d.status === '3'),
        10000,
        'live event after replay',
      );
    } finally {
      await resumed.close();
    }
  });

  it('sends heartbeat comment lines while nothing happens', async () => {
    const stream = await openStream(`${h.base}/v1/stream`, admin.headers);
    try {
      await waitFor(() => /: heartbeat /.test(stream.raw()), 5000, 'a heartbeat');
      expect(stream.raw()).to.match(/^retry: \d+\n/);
    } finally {
      await stream.close();
    }
  });

  it('unsubscribes a client that disconnects, and stops polling when nobody listens', async () => {
    await waitFor(() => h.live.subscriberCount === 0, 5000, 'no subscribers left from earlier tests');
    const streams = await Promise.all([
      openStream(`${h.base}/v1/stream`, admin.headers),
      openStream(`${h.base}/v1/stream`, broker.headers),
    ]);
    await waitFor(() => h.live.subscriberCount === 2, 5000, 'two subscribers');
    await streams[0]!.close();
    await waitFor(() => h.live.subscriberCount === 1, 5000, 'one subscriber after a disconnect');
    await streams[1]!.close();
    await waitFor(() => h.live.subscriberCount === 0, 5000, 'none after both disconnected');
  });

  it('refuses a malformed Last-Event-ID (400) and a missing key (401)', async () => {
    const bad = await fetch(`${h.base}/v1/stream`, { headers: { ...admin.headers, 'Last-Event-ID': 'not-an-id' } });
    expect(bad.status).to.equal(400);
    expect(bad.headers.get('content-type')).to.match(/^application\/problem\+json/);
    const anonymous = await fetch(`${h.base}/v1/stream`);
    expect(anonymous.status).to.equal(401);
  });

  it('ends every open stream when the live hub closes (so a shutdown is not held open by clients)', async () => {
    const { LiveEvents } = await import('../../src/api/live-events');
    const hub = new LiveEvents({ store: h.declarations, logger: h.logger, pollMs: 50 });
    let closed = 0;
    hub.subscribe({ deliver: () => undefined, close: () => closed++ });
    hub.subscribe({ sellerIds: ['x'], deliver: () => undefined, close: () => closed++ });
    await hub.close();
    expect(closed).to.equal(2);
    expect(hub.subscriberCount).to.equal(0);
  });
});

describe('live stream: a client that stops reading', function () {
  this.timeout(60000);

  it('is disconnected once its buffer passes the bound, and its subscription is removed', async () => {
    const { createServer } = await import('node:http');
    const { request } = await import('node:http');
    const { createApp } = await import('../../src/api/app');
    const { LiveEvents } = await import('../../src/api/live-events');
    const { streamRoutes } = await import('../../src/api/routes/stream');
    const { silentLogger } = await import('../support/logger');
    type Entry = Awaited<ReturnType<BrokerHarness['declarations']['eventsSince']>>[number];

    // A store that produces a steady flood of status changes (ids: ObjectId-shaped, time-ordered).
    const entries: Entry[] = [];
    let counter = 0;
    const produce = setInterval(() => {
      if (entries.length >= 150_000) return; // ~45 MB of events: far beyond any socket buffer
      const seconds = Math.floor(Date.now() / 1000)
        .toString(16)
        .padStart(8, '0');
      for (let i = 0; i < 1000; i++) {
        const id = `${seconds}${(++counter).toString(16).padStart(16, '0')}`;
        entries.push({
          declaration: {
            id: 'd-' + counter,
            sellerId: 's1',
            orderNo: `FLOOD-${counter}`,
            messageType: 'CEB621',
            center: 'GD',
          } as Entry['declaration'],
          event: { eventId: id, status: 'signed', at: new Date(), source: 'worker' },
        });
      }
    }, 20);
    const store = {
      eventsSince: async (after: string | undefined, limit: number) => {
        let lo = 0;
        let hi = entries.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (after !== undefined && entries[mid]!.event.eventId <= after) lo = mid + 1;
          else hi = mid;
        }
        return entries.slice(lo, lo + limit);
      },
    };
    const logger = silentLogger();
    const live = new LiveEvents({ store, logger, pollMs: 10, batchSize: 2000, maxPagesPerPoll: 5 });
    const auth: Middleware<RequestState> = async (ctx, next) => {
      ctx.state.principal = { role: 'admin', id: 'ops', name: 'ops', keyId: 'k' };
      await next();
    };
    const app = createApp({
      logger,
      routers: [streamRoutes({ live, declarations: store, auth, maxBufferedBytes: 64 * 1024 })],
    });
    const server = createServer(app.callback());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    let closedByServer = false;
    try {
      const giveUp = new Promise<void>((resolve) => setTimeout(resolve, 15000).unref());
      const dropped = new Promise<void>((resolve) => {
        const req = request({ host: '127.0.0.1', port, path: '/v1/stream' }, (res) => {
          res.pause(); // never reads: the kernel buffers fill, then the server's
          res.on('close', () => {
            closedByServer = true;
            resolve();
          });
          res.on('error', () => undefined);
        });
        req.on('error', () => {
          closedByServer = true;
          resolve();
        });
        req.end();
      });
      await Promise.race([dropped, giveUp]);
      expect(closedByServer, 'the server kept the stalled stream open').to.equal(true);
      await waitFor(() => live.subscriberCount === 0, 5000, 'the slow subscriber removed');
    } finally {
      clearInterval(produce);
      await live.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
