/**
 * The HTTP client of department calls: node:http (or https) on a keep-alive agent, with a time
 * limit on the whole call. @apollo/gateway's data source asks the client for a status, headers
 * and the body as JSON or text, nothing more. make-fetch-happen, the data source's default
 * client, runs every call through cache, retry and stream layers that department calls never
 * use, and its agent (agent-base) builds a stack trace per call to learn the protocol: together
 * about 0.1 ms of gateway CPU per call, five calls per partner query (measured).
 *
 * One retry, for one case only: a query sent on a kept-alive connection that the department (or a
 * balancer in front of it) closed as idle just as the call went out. Node reports it as a reset
 * on a reused socket before any answer (the race its http docs describe); the department never
 * read the call, and it is sent again on a new connection. Anything else is not retried, and a
 * mutation never is: it must not run twice.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { RemoteGraphQLDataSource } from '@apollo/gateway';

type Fetcher = NonNullable<NonNullable<ConstructorParameters<typeof RemoteGraphQLDataSource>[0]>['fetcher']>;
type FetcherResponse = Awaited<ReturnType<Fetcher>>;

/** An answer read whole: what the data source reads of a response. */
function answered(url: string, status: number, statusText: string, headers: Headers, body: Buffer): FetcherResponse {
  const text = (): string => body.toString('utf8');
  return {
    url,
    status,
    statusText,
    headers,
    ok: status >= 200 && status < 300,
    redirected: false,
    bodyUsed: false,
    text: async () => text(),
    json: async () => JSON.parse(text()) as unknown,
    arrayBuffer: async () => body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer,
    clone: () => answered(url, status, statusText, new Headers(headers), body),
  };
}

function headersOf(response: IncomingMessage): Headers {
  const headers = new Headers();
  const raw = response.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i] ?? '', raw[i + 1] ?? '');
  return headers;
}

/** A call that got no whole answer within its time: the department is slow for this operation, not known to be down. */
export class DepartmentTimeout extends Error {
  constructor(timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
  }
}

/** A call the department cannot have read: its kept-alive connection was closed before any answer. */
class StaleConnection extends Error {
  readonly original: Error;
  constructor(original: Error) {
    super(original.message, { cause: original });
    this.original = original;
  }
}

const STALE_CONNECTION_CODES = new Set(['ECONNRESET', 'EPIPE']);

/**
 * Whether a call's body is a query, read from the text @apollo/gateway sends (`{"query":"query …`
 * or `{"query":"{ …`). Anything it does not recognise counts as not a query, and is not retried.
 */
export function isQueryBody(body: unknown): boolean {
  return typeof body === 'string' && (body.startsWith('{"query":"query') || body.startsWith('{"query":"{'));
}

/** A fetcher for the department at `url`: one keep-alive agent, every call over within `timeoutMs`. */
export function departmentFetcher(url: string, timeoutMs: number): Fetcher {
  const secure = url.startsWith('https:');
  const agent = secure ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  const send = secure ? httpsRequest : httpRequest;
  const call: Fetcher = (target, init = {}) =>
    new Promise<FetcherResponse>((resolve, reject) => {
      const request = send(target, { method: init.method ?? 'GET', headers: init.headers, agent });
      // The whole call, answer included: a department that answers slowly is as unavailable as one that does not.
      const timer = setTimeout(() => request.destroy(new DepartmentTimeout(timeoutMs)), timeoutMs);
      let answering = false;
      const fail = (error: Error): void => {
        clearTimeout(timer);
        const code = (error as NodeJS.ErrnoException).code;
        const stale = request.reusedSocket && !answering && code !== undefined && STALE_CONNECTION_CODES.has(code);
        reject(stale ? new StaleConnection(error) : error);
      };
      request.on('error', fail);
      request.on('response', (response) => {
        answering = true;
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', fail);
        response.on('close', () => {
          if (!response.complete) fail(new Error('the answer was cut off'));
        });
        response.on('end', () => {
          clearTimeout(timer);
          resolve(
            answered(
              target,
              response.statusCode ?? 0,
              response.statusMessage ?? '',
              headersOf(response),
              Buffer.concat(chunks),
            ),
          );
        });
      });
      request.end(init.body);
    });
  return async (target, init) => {
    try {
      return await call(target, init);
    } catch (error) {
      if (!(error instanceof StaleConnection)) throw error;
      if (!isQueryBody(init?.body)) throw error.original;
      // Once: a second stale connection is reported as the failure it is.
      return call(target, init).catch((again: unknown) => {
        throw again instanceof StaleConnection ? again.original : again;
      });
    }
  };
}
