import Router from '@koa/router';
import { z } from 'zod';
import { rolesFor, type Action } from './auth/policy';
import type { Role } from './auth/principal';
import type { RequestState } from './state';
import { renderDocsPage } from './docs/page';

/**
 * OpenAPI 3.1 for every route of the gateway, built from the SAME zod schemas the routes validate with
 * (z.toJSONSchema), so the document cannot drift from the code. Each route module registers its docs next
 * to its handlers with `registerRoute` (at import time); the test walks the mounted routers and fails for
 * any route without docs, and validates every example against its schema.
 */

/** RFC 9457 problem details as the API sends them (application/problem+json). */
export const problemSchema = z.looseObject({
  type: z.string().describe('URI identifying the problem type'),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  instance: z.string().optional(),
  requestId: z.string().optional(),
  errors: z
    .array(
      z.object({
        path: z.string().describe('JSON Pointer into the request, e.g. /orders/3/items/0/price ("" = the whole order)'),
        code: z.string().describe('stable machine-readable rule code'),
        message: z.string().describe('English message'),
        messageZh: z.string().optional().describe('Chinese message'),
      }),
    )
    .optional(),
});

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface MediaDoc {
  schema?: z.ZodType;
  /** Validated against `schema` by the test (use `z.string()` for XML/NDJSON bodies). */
  example?: unknown;
}

export interface ResponseDoc {
  description: string;
  headers?: Record<string, string>;
  /** Content per media type; `problem: true` is shorthand for application/problem+json with the Problem schema. */
  content?: Record<string, MediaDoc>;
  problem?: boolean;
}

export interface RouteDoc {
  method: HttpMethod;
  /** Koa path, e.g. "/v1/declarations/:id" (rendered as /v1/declarations/{id}). */
  path: string;
  summary: string;
  description?: string;
  tags?: string[];
  /**
   * What the access policy calls this operation (src/api/auth/policy.ts), which decides the roles allowed;
   * 'public' = no API key. 401/403/429 responses are added for authenticated routes.
   */
  access: Action | 'public';
  params?: z.ZodObject;
  query?: z.ZodObject;
  headers?: { name: string; description: string; required?: boolean; schema?: z.ZodType }[];
  request?: { description?: string; required?: boolean; content: Record<string, MediaDoc> };
  responses: Record<number, ResponseDoc>;
}

const registry = new Map<string, RouteDoc>();

export function routeKey(method: string, path: string): string {
  return `${method.toUpperCase()} ${path}`;
}

/** Adds (or replaces) the documentation of one route. */
export function registerRoute(doc: RouteDoc): void {
  registry.set(routeKey(doc.method, doc.path), doc);
}

export function documentedRoutes(): RouteDoc[] {
  return [...registry.values()];
}

/** The roles the access policy allows on a documented route ('public': no key needed). */
export function rolesOf(doc: Pick<RouteDoc, 'access'>): Role[] | 'public' {
  return doc.access === 'public' ? 'public' : rolesFor(doc.access);
}

function toOpenApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const out = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    target: 'draft-2020-12',
    reused: 'inline',
  }) as Record<string, unknown>;
  delete out.$schema;
  return out;
}

const standardProblems: Record<number, string> = {
  401: 'No API key, or an unknown, revoked or expired one.',
  403: "The key's role may not use this operation.",
  429: 'Rate limit of this API key exceeded, or too many failed authentications from this address; see Retry-After.',
};

const rateLimitHeaders = {
  'RateLimit-Limit': 'Requests allowed per window for this key.',
  'RateLimit-Remaining': 'Requests left in the current window.',
  'RateLimit-Reset': 'Seconds until the window resets.',
};

function media(content: Record<string, MediaDoc>, io: 'input' | 'output'): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(content).map(([type, m]) => [
      type,
      {
        // The problem schema is shared by every error response: referenced once, not inlined ~70 times.
        ...(m.schema === problemSchema
          ? { schema: { $ref: '#/components/schemas/Problem' } }
          : m.schema
            ? { schema: jsonSchema(m.schema, io) }
            : {}),
        ...(m.example !== undefined ? { example: m.example } : {}),
      },
    ]),
  );
}

function response(doc: ResponseDoc, authenticated: boolean): Record<string, unknown> {
  const content = {
    ...(doc.content ?? {}),
    ...(doc.problem
      ? { 'application/problem+json': { schema: problemSchema, ...(doc.content?.['application/problem+json'] ?? {}) } }
      : {}),
  };
  const headers = { ...(authenticated ? rateLimitHeaders : {}), ...(doc.headers ?? {}) };
  return {
    description: doc.description,
    ...(Object.keys(headers).length > 0
      ? {
          headers: Object.fromEntries(
            Object.entries(headers).map(([name, description]) => [name, { description, schema: { type: 'string' } }]),
          ),
        }
      : {}),
    ...(Object.keys(content).length > 0 ? { content: media(content, 'output') } : {}),
  };
}

function parameters(doc: RouteDoc): unknown[] {
  const out: unknown[] = [];
  const add = (where: 'path' | 'query', shape: z.ZodObject) => {
    const schema = jsonSchema(shape, 'input') as {
      properties?: Record<string, Record<string, unknown>>;
      required?: string[];
    };
    for (const [name, prop] of Object.entries(schema.properties ?? {})) {
      const { description, ...rest } = prop;
      out.push({
        name,
        in: where,
        required: where === 'path' || (schema.required ?? []).includes(name),
        ...(description ? { description } : {}),
        schema: rest,
      });
    }
  };
  if (doc.params) add('path', doc.params);
  if (doc.query) add('query', doc.query);
  for (const h of doc.headers ?? [])
    out.push({
      name: h.name,
      in: 'header',
      required: h.required ?? false,
      description: h.description,
      schema: h.schema ? jsonSchema(h.schema, 'input') : { type: 'string' },
    });
  return out;
}

/** The OpenAPI 3.1 document of every registered route. */
export function buildOpenApiDocument(options: { serverUrl?: string } = {}): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const routes = documentedRoutes().sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
  for (const doc of routes) {
    const roles = rolesOf(doc);
    const authenticated = roles !== 'public';
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(doc.responses)) responses[status] = response(r, authenticated);
    if (authenticated) {
      for (const [status, description] of Object.entries(standardProblems)) {
        responses[status] ??= response(
          {
            description,
            problem: true,
            ...(status === '429' ? { headers: { 'Retry-After': 'Seconds to wait.' } } : {}),
          },
          authenticated,
        );
      }
    }
    const operation = {
      operationId: `${doc.method.toLowerCase()}${toOpenApiPath(doc.path)
        .replace(/[{}]/g, '')
        .split(/[/_.-]/)
        .map((p) => (p ? p[0]!.toUpperCase() + p.slice(1) : ''))
        .join('')}`,
      summary: doc.summary,
      ...(doc.description || authenticated
        ? {
            description: [doc.description, roles !== 'public' ? `Roles: ${roles.join(', ')}.` : undefined]
              .filter(Boolean)
              .join('\n\n'),
          }
        : {}),
      ...(doc.tags ? { tags: doc.tags } : {}),
      'x-roles': roles,
      ...(doc.access !== 'public' ? { 'x-access': doc.access } : {}),
      security: authenticated ? [{ bearerApiKey: [] }, { headerApiKey: [] }] : [],
      ...(parameters(doc).length > 0 ? { parameters: parameters(doc) } : {}),
      ...(doc.request
        ? {
            requestBody: {
              required: doc.request.required ?? true,
              ...(doc.request.description ? { description: doc.request.description } : {}),
              content: media(doc.request.content, 'input'),
            },
          }
        : {}),
      responses,
    };
    (paths[toOpenApiPath(doc.path)] ??= {})[doc.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Baygate API',
      version: '1.0.0',
      description:
        'Cross-border e-commerce customs clearance gateway for the Greater Bay Area. Sellers submit orders and follow their declarations; brokers watch their sellers; clearance centers post signed receipts.\n\n' +
        'Every error is RFC 9457 problem details (`application/problem+json`); field errors carry a JSON Pointer `path`, a stable `code` and messages in English and Chinese.',
    },
    ...(options.serverUrl ? { servers: [{ url: options.serverUrl }] } : {}),
    components: {
      securitySchemes: {
        bearerApiKey: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: '<keyId>.<secret>',
          description: 'API key as `Authorization: Bearer <keyId>.<secret>`.',
        },
        headerApiKey: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Api-Key',
          description: 'The same API key in `X-Api-Key`.',
        },
      },
      schemas: { Problem: jsonSchema(problemSchema, 'output') },
    },
    paths,
  };
}

registerRoute({
  method: 'GET',
  path: '/openapi.json',
  summary: 'This OpenAPI 3.1 document',
  tags: ['documentation'],
  access: 'public',
  responses: {
    200: {
      description: 'The OpenAPI document.',
      content: {
        'application/json': { schema: z.looseObject({ openapi: z.literal('3.1.0') }), example: { openapi: '3.1.0' } },
      },
    },
  },
});
registerRoute({
  method: 'GET',
  path: '/docs',
  summary: 'Readable API documentation (self-contained HTML, no external assets)',
  tags: ['documentation'],
  access: 'public',
  responses: {
    200: {
      description: 'HTML page rendering /openapi.json.',
      content: { 'text/html': { schema: z.string(), example: '<!doctype html>…' } },
    },
  },
});

// Health routes (src/api/routes/health.ts) are the composition root's; their docs live here.
registerRoute({
  method: 'GET',
  path: '/healthz',
  summary: 'Liveness: the process answers (never touches dependencies)',
  tags: ['operations'],
  access: 'public',
  responses: {
    200: {
      description: 'Alive.',
      content: { 'application/json': { schema: z.object({ status: z.literal('ok') }), example: { status: 'ok' } } },
    },
  },
});
registerRoute({
  method: 'GET',
  path: '/readyz',
  summary: 'Readiness: MongoDB and RabbitMQ answer now',
  tags: ['operations'],
  access: 'public',
  responses: {
    200: {
      description: 'Ready.',
      content: {
        'application/json': {
          schema: z.object({ status: z.literal('ready'), checks: z.record(z.string(), z.string()) }),
          example: { status: 'ready', checks: { mongodb: 'ok', rabbitmq: 'ok' } },
        },
      },
    },
    503: {
      description: 'A dependency does not answer; `checks` names it. Retry-After: 5.',
      problem: true,
      content: {
        'application/problem+json': {
          example: {
            type: 'https://baygate.dev/problems/service-unavailable',
            title: 'Service Unavailable',
            status: 503,
            detail: 'Not ready: rabbitmq.',
            checks: { mongodb: 'ok', rabbitmq: 'no open RabbitMQ channel' },
          },
        },
      },
    },
  },
});

/** "GET /path" of every route the routers mount (HEAD, implied by GET, left out). */
export function mountedRoutes(
  routers: readonly Router<never>[] | readonly { stack: { path: string | RegExp; methods: string[] }[] }[],
): string[] {
  const out = new Set<string>();
  for (const router of routers as readonly { stack: { path: string | RegExp; methods: string[] }[] }[]) {
    for (const layer of router.stack) {
      if (typeof layer.path !== 'string') continue;
      for (const method of layer.methods) if (method !== 'HEAD') out.add(routeKey(method, layer.path));
    }
  }
  return [...out].sort();
}

/** Routes mounted by these routers that have no registered docs (the composition root can assert on it). */
export function undocumentedRoutes(routers: Parameters<typeof mountedRoutes>[0]): string[] {
  return mountedRoutes(routers).filter((key) => !registry.has(key));
}

/** GET /openapi.json and GET /docs (public: the API's shape is not a secret, its data is). */
export function openApiRoutes(): Router<RequestState> {
  const router = new Router<RequestState>();
  let cached: { json: Record<string, unknown>; html: string } | undefined;
  const build = () => {
    // Built on first use, after every route module has registered its docs.
    if (!cached) {
      const json = buildOpenApiDocument();
      cached = { json, html: renderDocsPage(json) };
    }
    return cached;
  };
  router.get('/openapi.json', (ctx) => {
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = build().json;
  });
  router.get('/docs', (ctx) => {
    ctx.type = 'text/html; charset=utf-8';
    // The page has no scripts at all: none may run.
    ctx.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:");
    ctx.body = build().html;
  });
  return router;
}
