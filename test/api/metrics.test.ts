import { expect } from 'chai';
import { createMetrics } from '../../src/api/metrics';
import { createAdmin, type TestKey } from '../support/accounts';
import { advance, seedDeclaration, startBrokerHarness, type BrokerHarness } from './broker-harness';

async function scrape(base: string): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(`${base}/metrics`);
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

/** The value of one sample line, e.g. sample(text, 'baygate_declarations', { status: 'queued', center: 'GD' }). */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    const m = /^([^{ ]+)(?:\{([^}]*)\})? (.+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const found = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describe('metrics: GET /metrics and the pipeline hooks', function () {
  this.timeout(60000);
  let h: BrokerHarness;
  let admin: TestKey;
  let declarationId = '';

  before(async () => {
    h = await startBrokerHarness('metrics_routes');
    admin = await createAdmin(h.mongo);
    const seeded = await Promise.all(
      [0, 1, 2].map((i) =>
        seedDeclaration(h.declarations, {
          sellerId: 'seller-metrics',
          center: i === 2 ? 'HK' : 'GD',
          orderNo: `MET-${i}`,
        }),
      ),
    );
    declarationId = seeded[0]!.view.id;
    await advance(h.declarations, seeded[0]!.view.id, ['signed', 'queued']);
  });
  after(() => h?.close());

  it('serves the Prometheus text format', async () => {
    const res = await scrape(h.base);
    expect(res.status).to.equal(200);
    expect(res.type).to.match(/^text\/plain; version=0\.0\.4/);
    expect(res.text).to.match(/# TYPE baygate_http_request_duration_seconds histogram/);
  });

  it('times HTTP requests by the matched route template, never the raw path', async () => {
    await fetch(`${h.base}/v1/declarations?orderNo=MET-1`, { headers: admin.headers });
    await fetch(`${h.base}/v1/declarations/${declarationId}/timeline`, { headers: admin.headers });
    await fetch(`${h.base}/v1/declarations/00000000-0000-4000-8000-000000000000/timeline`, { headers: admin.headers });
    await fetch(`${h.base}/no/such/path/${declarationId}`);
    const { text } = await scrape(h.base);
    expect(
      sample(text, 'baygate_http_request_duration_seconds_count', {
        method: 'GET',
        route: '/v1/declarations',
        status: '200',
      }),
    ).to.equal(1);
    expect(
      sample(text, 'baygate_http_request_duration_seconds_count', {
        method: 'GET',
        route: '/v1/declarations/:id/timeline',
        status: '200',
      }),
    ).to.equal(1);
    expect(
      sample(text, 'baygate_http_request_duration_seconds_count', {
        method: 'GET',
        route: '/v1/declarations/:id/timeline',
        status: '404',
      }),
    ).to.equal(1);
    expect(
      sample(text, 'baygate_http_request_duration_seconds_count', { method: 'GET', route: 'unmatched', status: '404' }),
    ).to.equal(1);
    expect(text).to.not.include(declarationId);
  });

  it('reports declarations by status and center, read from the store on scrape', async () => {
    const { text } = await scrape(h.base);
    expect(sample(text, 'baygate_declarations', { status: 'queued', center: 'GD' })).to.equal(1);
    expect(sample(text, 'baygate_declarations', { status: 'accepted', center: 'GD' })).to.equal(1);
    expect(sample(text, 'baygate_declarations', { status: 'accepted', center: 'HK' })).to.equal(1);
    const declaration = await seedDeclaration(h.declarations, {
      sellerId: 'seller-metrics',
      center: 'HK',
      orderNo: 'MET-3',
    });
    await advance(h.declarations, declaration.view.id, ['signed']);
    const after = await scrape(h.base);
    expect(sample(after.text, 'baygate_declarations', { status: 'signed', center: 'HK' })).to.equal(1);
  });

  it('counts publish confirms and failures, signing time and receipt lag from the hooks', async () => {
    const { hooks } = h.metrics;
    hooks.onSigned(12, 'CEB621');
    hooks.onSigned(30, 'CEB621');
    hooks.onPublished(true, 'GD');
    hooks.onPublished(true, 'GD');
    hooks.onPublished(false, 'HK');
    const view = (await h.declarations.findById(declarationId))!;
    const receivedAt = new Date(Date.now());
    hooks.onApplied(view, '120', receivedAt, new Date(receivedAt.getTime() - 4000));
    hooks.onApplied(view, '-621005', receivedAt, undefined);
    const { text } = await scrape(h.base);
    expect(sample(text, 'baygate_signing_duration_seconds_count', { message_type: 'CEB621' })).to.equal(2);
    expect(sample(text, 'baygate_signing_duration_seconds_sum', { message_type: 'CEB621' })).to.be.closeTo(0.042, 1e-9);
    expect(sample(text, 'baygate_manifest_publishes_total', { center: 'GD', outcome: 'confirmed' })).to.equal(2);
    expect(sample(text, 'baygate_manifest_publishes_total', { center: 'HK', outcome: 'failed' })).to.equal(1);
    expect(sample(text, 'baygate_receipt_lag_seconds_count', { center: 'GD' })).to.equal(1);
    expect(sample(text, 'baygate_receipt_lag_seconds_sum', { center: 'GD' })).to.be.closeTo(4, 1e-9);
    expect(sample(text, 'baygate_receipt_status_changes_total', { status: 'negative', center: 'GD' })).to.equal(1);
    expect(sample(text, 'baygate_status_delay_seconds_count', { status: '120', message_type: 'CEB311' })).to.equal(1);
  });

  it('keeps one registry per process object: two metric sets never collide', () => {
    const a = createMetrics({ defaultMetrics: false });
    const b = createMetrics({ defaultMetrics: false });
    a.hooks.onPublished(true, 'GD');
    expect(a.registry).to.not.equal(b.registry);
    return Promise.all([a.registry.metrics(), b.registry.metrics()]).then(([ta, tb]) => {
      expect(sample(ta, 'baygate_manifest_publishes_total', { center: 'GD', outcome: 'confirmed' })).to.equal(1);
      expect(sample(tb, 'baygate_manifest_publishes_total', { center: 'GD', outcome: 'confirmed' })).to.equal(
        undefined,
      );
    });
  });
});

describe('metrics server for processes without the HTTP API (workers)', () => {
  it('serves GET /metrics and nothing else', async () => {
    const { startMetricsServer } = await import('../../src/api/metrics');
    const m = createMetrics({ defaultMetrics: false });
    m.hooks.onPublished(false, 'MO');
    const server = await startMetricsServer(m.registry, 0);
    try {
      const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      expect(res.status).to.equal(200);
      expect(
        sample(await res.text(), 'baygate_manifest_publishes_total', { center: 'MO', outcome: 'failed' }),
      ).to.equal(1);
      expect((await fetch(`http://127.0.0.1:${server.port}/other`)).status).to.equal(404);
    } finally {
      await server.close();
    }
  });
});
