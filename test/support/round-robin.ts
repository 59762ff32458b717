/**
 * A plain HTTP round-robin load balancer for scale-out tests: each request (not each connection,
 * so keep-alive clients cannot pin themselves to one backend) goes to the next backend in turn,
 * body and headers as received, and the answer comes back as the backend gave it, with an
 * `x-balanced-to` header naming the backend's index. It stands for the load balancer in front of
 * the gateways and the Service in front of a department's pods in docs/deployment.md.
 *
 * It counts the GraphQL requests each backend answered, and keeps the last one it forwarded to
 * each (headers and body), so that a test can replay what an attacker reading the traffic saw.
 */
import { Agent, createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';

export const BALANCED_TO_HEADER = 'x-balanced-to';

export interface ForwardedRequest {
  headers: IncomingHttpHeaders;
  body: string;
}

export interface RoundRobin {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** GraphQL requests (`/graphql`) each backend answered, by backend index. */
  answered(): number[];
  /** What went wrong on the way to a backend (connection errors, answers of HTTP 400 and above), as `<index>: <what>`. */
  failures(): string[];
  /** The last GraphQL request forwarded to a backend. */
  lastForwarded(backend: number): ForwardedRequest | undefined;
  close(): Promise<void>;
}

/** Headers a proxy does not pass on (hop by hop); the length is recomputed from the body. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'host',
  'content-length',
]);

function forwardable(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name.toLowerCase())));
}

/** Balances over `backends` (base URLs such as `http://127.0.0.1:4001`). */
export async function startRoundRobin(backends: readonly string[]): Promise<RoundRobin> {
  if (backends.length === 0) throw new Error('a balancer needs at least one backend');
  const targets = backends.map((backend) => new URL(backend));
  // A new connection to the backend for every request, for the same reason (below).
  const agent = new Agent({ keepAlive: false });
  const answered = targets.map(() => 0);
  const last = new Map<number, ForwardedRequest>();
  const failures: string[] = [];
  let next = 0;

  const server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const index = next;
      next = (next + 1) % targets.length;
      const target = targets[index] as URL;
      const body = Buffer.concat(chunks);
      const isGraphQL = (incoming.url ?? '').startsWith('/graphql');
      if (isGraphQL) last.set(index, { headers: incoming.headers, body: body.toString('utf8') });
      const upstream = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          method: incoming.method,
          path: incoming.url,
          headers: { ...forwardable(incoming.headers), host: target.host, 'content-length': String(body.length) },
          agent,
        },
        (answer) => {
          const status = answer.statusCode ?? 502;
          // Each answer closes its client connection. A balancer that keeps idle client connections
          // closes them after its own timeout, sometimes just as the client reuses one; department
          // calls are never retried, so the gateway would answer DEPARTMENT_UNAVAILABLE ("read
          // ECONNRESET", seen with Node's 5 s default; docs/deployment.md). Closing after each answer
          // leaves no idle connection to race on, and balances per request as well.
          outgoing.writeHead(status, {
            ...forwardable(answer.headers),
            connection: 'close',
            [BALANCED_TO_HEADER]: String(index),
          });
          const refused: Buffer[] = [];
          if (status >= 400) answer.on('data', (chunk: Buffer) => refused.push(chunk));
          answer.pipe(outgoing);
          answer.on('end', () => {
            if (isGraphQL) answered[index] = (answered[index] ?? 0) + 1;
            if (status >= 400)
              failures.push(`${index}: HTTP ${status} ${Buffer.concat(refused).toString('utf8').slice(0, 500)}`);
          });
        },
      );
      upstream.on('error', (error) => {
        failures.push(`${index}: ${error.message}`);
        if (outgoing.headersSent) return void outgoing.destroy();
        outgoing.writeHead(502, {
          'content-type': 'application/json',
          connection: 'close',
          [BALANCED_TO_HEADER]: String(index),
        });
        outgoing.end(
          JSON.stringify({ errors: [{ message: 'The backend is unreachable.', extensions: { code: 'BAD_GATEWAY' } }] }),
        );
      });
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the balancer has no TCP address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    answered: () => [...answered],
    failures: () => [...failures],
    lastForwarded: (backend) => last.get(backend),
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      agent.destroy();
      await closed;
    },
  };
}
