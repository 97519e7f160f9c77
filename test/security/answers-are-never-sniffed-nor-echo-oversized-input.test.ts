import { expect } from 'chai';
import { isProblem } from '../api/harness';
import { headersOf, startSecuritySystem, type SecuritySystem } from './support/system';

/**
 * Issue 12, finding 8: JSON answers lacked `X-Content-Type-Options: nosniff` (a browser could sniff a
 * JSON answer echoing a seller's text as HTML), and `GET /v1/orders/{orderNo}/declarations` accepted and
 * echoed 5,000-character order numbers (the documented maximum is 60). Now every answer carries nosniff,
 * and oversized input is refused without being repeated back.
 */
describe('security: answers are never sniffed, and oversized input is not echoed', function () {
  this.timeout(120000);
  let s: SecuritySystem;
  let paths: { method: string; path: string }[];

  before(async () => {
    s = await startSecuritySystem('answers');
    const doc = (await s.as('anonymous', 'GET', '/openapi.json')).body as {
      paths: Record<string, Record<string, unknown>>;
    };
    paths = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => ({ method: method.toUpperCase(), path: path.replace(/\{[^}]+\}/g, 'x') })),
    );
  });
  after(() => s?.close());

  it('every route in /openapi.json, and an unknown one, answers with X-Content-Type-Options: nosniff', async () => {
    expect(paths.length).to.be.greaterThan(20);
    for (const { method, path } of [...paths, { method: 'GET', path: '/no/such/route' }]) {
      for (const caller of ['anonymous', 'sellerGd'] as const) {
        // Headers only: the event stream stays open.
        const controller = new AbortController();
        const res = await fetch(s.base + path, {
          method,
          signal: controller.signal,
          headers: {
            ...headersOf(caller),
            ...(method === 'GET' ? {} : { 'Content-Type': 'application/json' }),
          },
          ...(method === 'GET' ? {} : { body: '{}' }),
        });
        expect(res.headers.get('x-content-type-options'), `${method} ${path} as ${caller}: ${res.status}`).to.equal(
          'nosniff',
        );
        controller.abort();
      }
    }
  });

  it('a 5,000-character order number is 400 naming params.orderNo, and is not repeated in the answer', async () => {
    const long = 'A'.repeat(4990) + 'ZQXJ7';
    for (const caller of ['sellerGd', 'brokerGba'] as const) {
      const r = await s.as(caller, 'GET', `/v1/orders/${long}/declarations`);
      expect(isProblem(r, 400), r.text).to.equal(true);
      expect((r.body.errors as { path: string }[]).map((e) => e.path)).to.deep.equal(['params.orderNo']);
      expect(r.text).not.to.contain('ZQXJ7');
      expect(r.text.length).to.be.lessThan(1000);
      const listed = await s.as(caller, 'GET', `/v1/declarations?orderNo=${long}`);
      expect(isProblem(listed, 400), listed.text).to.equal(true);
      expect(listed.text).not.to.contain('ZQXJ7');
    }
  });
});
