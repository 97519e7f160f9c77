import { expect } from 'chai';
import type { Middleware } from 'koa';
import { Registry } from 'prom-client';
import { z } from 'zod';
import type { AuthDeps } from '../../src/api/auth';
import { baygateOrderSchema } from '../../src/domain/order';
import { documentedRoutes, mountedRoutes, problemSchema, undocumentedRoutes } from '../../src/api/openapi';
import { dashboardRoutes } from '../../src/api/routes/dashboard';
import { declarationsRoutes } from '../../src/api/routes/declarations';
import { healthRoutes } from '../../src/api/routes/health';
import { metricsRoutes } from '../../src/api/routes/metrics';
import { openApiRoutes } from '../../src/api/openapi';
import { orderClashesRoutes } from '../../src/api/routes/order-clashes';
import { ordersRoutes } from '../../src/api/routes/orders';
import { receiptsRoutes } from '../../src/api/routes/receipts';
import { statsRoutes } from '../../src/api/routes/stats';
import { streamRoutes } from '../../src/api/routes/stream';
import { webhooksRoutes } from '../../src/api/routes/webhooks';
import { call, startApiHarness, type ApiHarness } from './harness';

/**
 * Every router the gateway mounts, built with inert dependencies: only their route tables are read here
 * (handlers never run), so the list cannot miss a route a router adds.
 */
function gatewayRouters() {
  const inert = {} as never;
  const pass: Middleware = (_ctx, next) => next();
  const auth = {
    authenticate: pass,
    guard: () => pass,
    accounts: inert,
  } as unknown as AuthDeps;
  return [
    healthRoutes({}),
    metricsRoutes(new Registry()),
    openApiRoutes(),
    ordersRoutes({ submission: inert, declarations: inert, auth, idempotency: inert }),
    declarationsRoutes({ declarations: inert, receipts: inert, submission: inert, auth, idempotency: inert }),
    receiptsRoutes({ ingestor: inert, auth }),
    orderClashesRoutes({ orderNumbers: inert, declarations: inert, auth }),
    webhooksRoutes({ webhooks: inert, auth, targets: { allowed: [] } }),
    streamRoutes({ live: inert, declarations: inert, auth: pass }),
    statsRoutes({
      declarations: inert,
      centers: [],
      queueDepth: inert,
      capacity: inert,
      centerStates: inert,
      auth: pass,
    }),
    dashboardRoutes(),
  ];
}

describe('OpenAPI 3.1 document and /docs', function () {
  this.timeout(30000);
  let h: ApiHarness;
  let doc: {
    openapi: string;
    paths: Record<
      string,
      Record<
        string,
        {
          security: unknown[];
          responses: Record<string, unknown>;
          'x-roles': unknown;
          requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
        }
      >
    >;
    components: { securitySchemes: Record<string, unknown> };
  };

  before(async () => {
    h = await startApiHarness('api_openapi');
    const r = await call(h.base, 'GET', '/openapi.json');
    expect(r.status).to.equal(200);
    doc = r.body as unknown as typeof doc;
  });
  after(() => h?.close());

  it('is served at /openapi.json without a key, as OpenAPI 3.1.0 with both API-key security schemes', () => {
    expect(doc.openapi).to.equal('3.1.0');
    expect(doc.components.securitySchemes).to.have.keys(['bearerApiKey', 'headerApiKey']);
  });

  it("documents every route mounted on the gateway (walking the routers' stacks)", () => {
    const routers = gatewayRouters();
    const mounted = mountedRoutes(routers);
    expect(mounted.length).to.be.greaterThan(15);
    expect(undocumentedRoutes(routers), 'routes without registerRoute(...) docs').to.deep.equal([]);
  });

  it('lists in the served document every documented route, under its OpenAPI path', () => {
    for (const route of documentedRoutes()) {
      const path = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      expect(doc.paths[path]?.[route.method.toLowerCase()], `${route.method} ${path}`).to.be.an('object');
    }
  });

  it('every authenticated operation declares security and 401/403/429 problem responses; public ones declare none', () => {
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        if (op['x-roles'] === 'public') {
          expect(op.security, `${method} ${path}`).to.deep.equal([]);
          continue;
        }
        expect(op.security, `${method} ${path}`).to.have.length(2);
        for (const status of ['401', '403', '429']) {
          const response = op.responses[status] as { content?: Record<string, unknown> } | undefined;
          expect(response?.content, `${method} ${path} ${status}`).to.have.property('application/problem+json');
        }
      }
    }
  });

  it('every documented example validates against its zod schema (requests and responses)', () => {
    let checked = 0;
    for (const route of documentedRoutes()) {
      const media = [
        ...Object.entries(route.request?.content ?? {}).map(([type, m]) => ({
          where: `request ${type}`,
          schema: m.schema,
          example: m.example,
          io: 'input' as const,
        })),
        ...Object.entries(route.responses).flatMap(([status, r]) => [
          ...Object.entries(r.content ?? {}).map(([type, m]) => ({
            where: `${status} ${type}`,
            schema: type === 'application/problem+json' ? (m.schema ?? problemSchema) : m.schema,
            example: m.example,
            io: 'output' as const,
          })),
        ]),
      ];
      for (const m of media) {
        if (m.example === undefined || !m.schema) continue;
        const result = m.schema.safeParse(m.example);
        expect(
          result.success,
          `${route.method} ${route.path} ${m.where}: ${result.success ? '' : z.prettifyError(result.error)}`,
        ).to.equal(true);
        checked++;
      }
    }
    expect(checked).to.be.greaterThan(15);
  });

  it('a broken example would be caught: the order example without orderNo fails the same schema', () => {
    const route = documentedRoutes().find((r) => r.method === 'POST' && r.path === '/v1/orders')!;
    const media = route.request!.content['application/json']!;
    const broken = { ...(media.example as Record<string, unknown>) };
    delete broken.orderNo;
    expect(media.schema!.safeParse(broken).success).to.equal(false);
  });

  it('the order request schema is generated from the zod order schema (same lengths and enums)', () => {
    const schema = JSON.stringify(doc.paths['/v1/orders']!.post!.requestBody!.content['application/json']!.schema);
    const generated = JSON.stringify(
      z.toJSONSchema(baygateOrderSchema, {
        io: 'input',
        unrepresentable: 'any',
        target: 'draft-2020-12',
        reused: 'inline',
      }).oneOf,
    );
    expect(schema).to.include(generated);
    expect(schema).to.include('"buyerIdNumber"');
  });

  it('/docs is a self-contained HTML page rendering every operation, with no external assets', async () => {
    const r = await call(h.base, 'GET', '/docs');
    expect(r.status).to.equal(200);
    expect(r.headers.get('content-type')).to.match(/^text\/html/);
    expect(r.text).to.match(/^<!doctype html>/);
    expect(r.text).not.to.match(/(src|href)=["']https?:/i);
    expect(r.text).not.to.match(/@import|url\(/);
    for (const path of Object.keys(doc.paths)) expect(r.text, path).to.include(path);
    expect(r.headers.get('content-security-policy')).to.match(/default-src 'none'/);
  });
});
