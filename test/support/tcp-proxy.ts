import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a server (e.g. the database), for tests that cut connections: every client
 * connection is piped to `target`; `cut()` destroys every connection and refuses new ones, as a server that
 * died or a network that went away would. `onClientBytes` sees each chunk a client sends, before it is
 * forwarded (a test can cut in the middle of a command).
 */
export interface TcpProxy {
  port: number;
  /** Bytes clients have sent through the proxy so far. */
  readonly clientBytes: number;
  /** Destroys every connection and stops accepting (connections are refused from now on). */
  cut(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(
  target: { host: string; port: number },
  options: { onClientBytes?: (total: number, proxy: TcpProxy) => void } = {},
): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let clientBytes = 0;
  let cut = false;
  const server: Server = createServer((client) => {
    if (cut) return client.destroy();
    const upstream = createConnection(target);
    sockets.add(client).add(upstream);
    const drop = () => {
      sockets.delete(client);
      sockets.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.on('data', (chunk: Buffer) => {
      if (cut) return;
      clientBytes += chunk.length;
      options.onClientBytes?.(clientBytes, proxy);
      if (!cut) upstream.write(chunk);
    });
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('tcp proxy: no port');
  const proxy: TcpProxy = {
    port: address.port,
    get clientBytes() {
      return clientBytes;
    },
    cut() {
      cut = true;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        proxy.cut();
        server.close(() => resolve());
      }),
  };
  return proxy;
}
