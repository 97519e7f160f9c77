import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import type { RequestState } from '../middleware/request-context';
import { registerRoute } from '../openapi';

/**
 * The broker dashboard: three static files (src/api/dashboard/assets), read once at start-up and served
 * with a strict Content-Security-Policy — same-origin scripts, styles and fetches only, no inline code,
 * no framing. The page holds no secret: the broker logs in with an API key kept in sessionStorage.
 */
export const DASHBOARD_DIR = fileURLToPath(new URL('../dashboard/assets', import.meta.url));

const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

export function dashboardRoutes(options: { dir?: string } = {}): Router<RequestState> {
  const dir = options.dir ?? DASHBOARD_DIR;
  const files = new Map(
    Object.entries(FILES).map(([name, type]) => [name, { type, body: readFileSync(join(dir, name)) }]),
  );
  const router = new Router<RequestState>();
  const serve =
    (name: string): Middleware<RequestState> =>
    (ctx) => {
      const file = files.get(name);
      if (!file) return;
      for (const [header, value] of Object.entries(SECURITY_HEADERS)) ctx.set(header, value);
      ctx.set('Cache-Control', name === 'index.html' ? 'no-cache' : 'public, max-age=300');
      ctx.type = file.type;
      ctx.body = file.body;
    };
  router.get('/dashboard', serve('index.html'));
  router.get('/dashboard/', serve('index.html'));
  for (const name of Object.keys(FILES)) router.get(`/dashboard/${name}`, serve(name));
  return router;
}

registerRoute({
  method: 'GET',
  path: '/dashboard',
  summary: 'Broker dashboard (HTML; log in with an API key)',
  description:
    'Static page with its script and style at /dashboard/app.js and /dashboard/style.css. The page itself is public; every figure it shows is fetched with the key the user enters.',
  tags: ['broker'],
  access: 'public',
  responses: {
    200: {
      description: 'The dashboard page.',
      content: { 'text/html': { schema: z.string(), example: '<!doctype html>…' } },
    },
  },
});
for (const [name, type] of [
  ['index.html', 'text/html'],
  ['app.js', 'text/javascript'],
  ['style.css', 'text/css'],
] as const) {
  registerRoute({
    method: 'GET',
    path: `/dashboard/${name}`,
    summary: `Dashboard ${name === 'app.js' ? 'script' : name === 'style.css' ? 'style sheet' : 'page (same as /dashboard)'}`,
    tags: ['broker'],
    access: 'public',
    responses: {
      200: { description: `The ${name} of the dashboard.`, content: { [type]: { schema: z.string(), example: '…' } } },
    },
  });
}
registerRoute({
  method: 'GET',
  path: '/dashboard/',
  summary: 'Broker dashboard (same page as /dashboard)',
  tags: ['broker'],
  access: 'public',
  responses: {
    200: {
      description: 'The dashboard page.',
      content: { 'text/html': { schema: z.string(), example: '<!doctype html>…' } },
    },
  },
});
