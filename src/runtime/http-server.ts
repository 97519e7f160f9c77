import { createServer, type Server } from 'node:http';
import type Koa from 'koa';

/**
 * Starts the HTTP server and returns a `close` that stops accepting new connections and waits for the
 * requests in flight (idle keep-alive sockets are closed so they do not hold the shutdown open).
 */
export async function listen(
  app: Koa<never> | Koa,
  port: number,
  host: string,
): Promise<{ server: Server; port: number; close: () => Promise<void> }> {
  const server = createServer(app.callback());
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  return {
    server,
    port: boundPort,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeIdleConnections();
      }),
  };
}
