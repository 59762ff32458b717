/**
 * The HTTP layer shared by the gateway and every subgraph: Fastify with errors shaped as GraphQL
 * responses (never Fastify's or Node's own error pages), liveness and readiness endpoints.
 */
import Fastify, { type FastifyInstance, type FastifyError } from 'fastify';
import type { ApolloServer, BaseContext } from '@apollo/server';
import { fastifyApolloHandler } from '@as-integrations/fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from './logger.ts';
import { ErrorCode } from './error-registry.ts';
import { tracedRoute, type ServerTracing } from './observability/tracing.ts';

export interface ReadinessCheck {
  name: string;
  check: () => Promise<boolean>;
}

export interface HttpAppOptions {
  log: Logger;
  /** Largest accepted request body in bytes. */
  bodyLimit?: number;
  readiness: ReadinessCheck[];
  /** What `/status` reports: the policy release this process enforces, readiness, stores (lib/observability/status.ts). */
  status: () => object | Promise<object>;
  /**
   * Told of each request to /graphql refused before GraphQL saw it (malformed JSON, a body too
   * large, a batch), with its code and how long it took: the gateway's metrics count these too.
   */
  onRefused?: (code: string, seconds: number) => void;
}

/** The code each request refused before GraphQL saw it was answered with, until its response is sent. */
const transportRefusals = new WeakMap<FastifyRequest, string>();

/** Runs every readiness check: each `ok` or `unavailable` (a check that throws is unavailable), and whether all passed. */
export async function checkReadiness(
  checks: readonly ReadinessCheck[],
): Promise<{ ready: boolean; checks: Record<string, 'ok' | 'unavailable'> }> {
  const results = await Promise.all(
    checks.map(async ({ name, check }) => {
      const ok = await check().catch(() => false);
      return [name, ok ? 'ok' : 'unavailable'] as const;
    }),
  );
  return { ready: results.every(([, state]) => state === 'ok'), checks: Object.fromEntries(results) };
}

function graphqlErrorBody(
  message: string,
  code: string,
): { errors: { message: string; extensions: { code: string } }[] } {
  return { errors: [{ message, extensions: { code } }] };
}

/** What a consumer is told about a request Fastify refused before GraphQL saw it. */
const CLIENT_ERROR_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'The request body is not valid JSON.',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'The request body is empty; send a JSON object with a "query".',
  FST_ERR_CTP_BODY_TOO_LARGE: 'The request body is too large.',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'Unsupported content type: send application/json.',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'The Content-Length header does not match the body.',
};

/**
 * Sent with every answer. Answers are JSON for programs, never pages: nothing may frame them,
 * sniff them into another type, run scripts from them, cache them (they carry personal data)
 * or pass the URL (GET queries carry variables) to another site.
 */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'cross-origin-resource-policy': 'same-origin',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
};

export function createHttpApp(options: HttpAppOptions): FastifyInstance {
  const app = Fastify({
    // Request logging is off: URLs of GET queries can carry variables, which may be personal data.
    logger: false,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    forceCloseConnections: true,
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) {
      options.log.error({ err: error }, 'unhandled HTTP error');
      transportRefusals.set(request, ErrorCode.INTERNAL_SERVER_ERROR);
      return reply.code(500).send(graphqlErrorBody('Internal server error.', ErrorCode.INTERNAL_SERVER_ERROR));
    }
    const message = CLIENT_ERROR_MESSAGES[error.code] ?? 'The request is malformed.';
    transportRefusals.set(request, ErrorCode.BAD_REQUEST);
    return reply.code(status).send(graphqlErrorBody(message, ErrorCode.BAD_REQUEST));
  });

  const { onRefused } = options;
  if (onRefused) {
    app.addHook('onResponse', async (request, reply) => {
      const code = transportRefusals.get(request);
      if (code !== undefined && request.routeOptions.url === '/graphql') onRefused(code, reply.elapsedTime / 1000);
    });
  }

  app.setNotFoundHandler((_request, reply) =>
    reply.code(404).send(graphqlErrorBody('Not found. GraphQL is served at /graphql.', ErrorCode.NOT_FOUND)),
  );

  app.addHook('onSend', async (_request, reply) => {
    void reply.headers(SECURITY_HEADERS);
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  // No addresses and no personal data: what a stale process looks like is its release number.
  app.get('/status', async () => options.status());
  app.get('/readyz', async (_request, reply) => {
    const { ready, checks } = await checkReadiness(options.readiness);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
  });
  return app;
}

/**
 * Serves an Apollo Server at /graphql (GET for queries, POST for everything). A batch (a JSON
 * array of operations) is refused whole: one request, one operation, one set of limits.
 */
export async function refuseBatches(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  if (!Array.isArray(request.body)) return undefined;
  transportRefusals.set(request, ErrorCode.BATCHING_NOT_ALLOWED);
  // Returning the reply tells Fastify the answer is sent and the handler must not run.
  return reply
    .code(400)
    .send(
      graphqlErrorBody(
        'Batched requests are not accepted; send one operation per request.',
        ErrorCode.BATCHING_NOT_ALLOWED,
      ),
    );
}

export function mountGraphQL<Context extends BaseContext>(
  app: FastifyInstance,
  apollo: ApolloServer<Context>,
  context: (request: FastifyRequest, reply: FastifyReply) => Promise<Context>,
  preHandler: typeof refuseBatches = refuseBatches,
  /** Each request in a server span, with tracing on (lib/observability/tracing.ts). */
  tracing?: ServerTracing,
): void {
  app.route({
    url: '/graphql',
    method: ['GET', 'POST', 'OPTIONS'],
    preHandler,
    handler: tracedRoute(app, fastifyApolloHandler(apollo, { context }), tracing),
  });
}

/** Listens and returns the base URL (port 0 picks a free port). */
export async function listen(app: FastifyInstance, port: number, host = '127.0.0.1'): Promise<string> {
  await app.listen({ port, host });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('server has no TCP address');
  return `http://${host}:${address.port}`;
}
