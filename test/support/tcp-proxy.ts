/**
 * A TCP proxy a test can cut and restore, to make a real server unreachable for one client
 * (the gateway's access-log store) without stopping it for everyone else.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  /** `mongodb://127.0.0.1:<proxy port>/` for a target `mongodb://127.0.0.1:<port>/`. */
  through(uri: string): string;
  /** Refuses new connections and cuts open ones, as a store that went away. */
  cut(): Promise<void>;
  /** Accepts connections again, on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;

  const listen = (): Promise<void> => new Promise((resolve, reject) => {
    const next = createServer((client) => {
      const upstream = connect(target.port, target.host);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    next.once('error', reject);
    next.listen(port, '127.0.0.1', () => {
      const address = next.address();
      if (address && typeof address === 'object') port = address.port;
      server = next;
      resolve();
    });
  });

  const cut = async (): Promise<void> => {
    const closing = server;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    if (closing) await new Promise<void>((resolve) => closing.close(() => resolve()));
  };

  await listen();
  return {
    get port() {
      return port;
    },
    through: (uri) => uri.replace(/:\d+\//, `:${port}/`),
    cut,
    restore: () => (server ? Promise.resolve() : listen()),
    close: cut,
  };
}
