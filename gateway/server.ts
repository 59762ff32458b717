/**
 * The Credence gateway: Apollo Server on Fastify with @apollo/gateway serving a static
 * supergraph. The request pipeline, in order:
 *   1. HTTP (Fastify): body size limit, malformed bodies answered as GraphQL errors;
 *      batches refused; security headers on every answer;
 *   2. authentication (context function): API key or bearer token, declared purpose, the policy
 *      version in force, and a signed assertion of all three for the departments; then the
 *      consumer's rate limit and quota (rate-limits.ts);
 *   3. admission (admission.ts): persisted operations resolved or refused, size and tokens
 *      checked; Apollo Server parses and validates (no schema hints in errors); then depth,
 *      aliases, root fields and cost (operation-limits.ts);
 *   4. policy check before planning (policy-gateway.ts): reject, or filter denied fields out;
 *      introspection answered from the consumer's own schema;
 *   5. @apollo/gateway: plan and execute against the departments (keep-alive, timeouts, a
 *      circuit breaker per department), each call carrying the assertion;
 *   6. access log (access-log.ts): the request and what it was answered are recorded durably
 *      before the answer leaves; if they cannot be, no data leaves (ACCESS_LOG_UNAVAILABLE).
 *      A request refused or failed anywhere after authentication is recorded as well;
 *   7. formatError: only coded, intended errors reach the consumer.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ApolloServer } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloGateway } from '@apollo/gateway';
import { fastifyApolloDrainPlugin } from '@as-integrations/fastify';
import type { FastifyInstance } from 'fastify';
import { createHttpApp, listen, mountGraphQL } from '../lib/http.ts';
import { safeErrorFormatter } from '../lib/graphql-errors.ts';
import { createLogger, type Logger } from '../lib/logger.ts';
import type { SharedStore } from '../lib/stores/shared-store.ts';
import { requestError } from '../lib/errors.ts';
import { createAuthenticator, type Authenticator, type IdentityHeaders } from '../lib/identity/authenticate.ts';
import type { AssertionSigner } from '../lib/identity/assertion.ts';
import { IdentityError } from '../lib/identity/errors.ts';
import type { PolicyRuntime } from '../lib/policy/runtime.ts';
import { DEFAULT_LIST_SIZE, type GatewayConfig } from './config.ts';
import { admissionPlugin } from './admission.ts';
import { limitsFor } from './operation-limits.ts';
import { createOperationRegistry } from './persisted-operations.ts';
import { createRateLimits } from './rate-limits.ts';
import { rateLimitHeaders, type RateLimitState } from './rate-limit-headers.ts';
import { DepartmentSource } from './department-source.ts';
import { DOCUMENT_CACHE_BYTES, withPolicy, type GatewayContext, type RequestIdentity } from './policy-gateway.ts';
import { boundedDocumentStore } from '../lib/document-store.ts';
import { accessLogPlugin, createAccessRecorder, newRequestAccess, recordRefusal, type AccessRecorder } from './access-log.ts';
import type { AccessLogWriter } from '../lib/access-log/writer.ts';
import { mountExplorer } from './explorer/explorer.ts';

export interface Gateway {
  url: string;
  graphqlUrl: string;
  app: FastifyInstance;
  close(): Promise<void>;
}

export interface GatewayDependencies {
  sharedStore: SharedStore;
  /** The policy in force, kept current by hot reload. */
  policies: PolicyRuntime;
  /** The folder the policy was read from (issuers' key files are relative to it). */
  policiesDir: string;
  /** Signs the identity assertion the departments require. */
  signer: AssertionSigner;
  /** Where every answered request is recorded before its answer leaves; absent only with ACCESS_LOG=off. */
  accessLog: AccessLogWriter | undefined;
}

/** The subgraphs a supergraph names, with the URLs written in it. */
export function supergraphSubgraphs(supergraphSdl: string): { name: string; url: string }[] {
  return [...supergraphSdl.matchAll(/@join__graph\(name: "([^"]+)", url: "([^"]*)"\)/g)].map(([, name = '', url = '']) => ({ name, url }));
}

/**
 * Authentication for the policy version in force: the authenticator (key index, token
 * verifier) is built once per version, then each request costs lookups and one signature. A
 * purpose the authenticated consumer may not use is refused and recorded (`refused`).
 */
type Refuse = (identity: Parameters<typeof recordRefusal>[1], refusal: GraphQLError) => Promise<GraphQLError>;

function authenticatorFor(dependencies: GatewayDependencies, log: Logger): (headers: IdentityHeaders, requestId: string, refuse: Refuse) => Promise<RequestIdentity> {
  let built: Authenticator | undefined;
  return async (headers, requestId, refuse) => {
    const policy = dependencies.policies.current();
    if (built?.policyVersion !== policy.version) built = createAuthenticator({ policy, policiesDir: dependencies.policiesDir });
    let authentication;
    try {
      authentication = await built.authenticate(headers);
    } catch (error) {
      if (error instanceof IdentityError) {
        // The detail (which key, which check) is for operators; it never contains a credential.
        log.info({ code: error.code, detail: error.detail }, 'request refused by authentication');
        const refusal = requestError(error.message, error.code, error.httpStatus);
        // A purpose refused to a consumer whose credentials held: recorded like any refusal after authentication.
        if (error.authenticated) {
          const { consumer, purpose } = error.authenticated;
          throw await refuse({ consumer: { id: consumer }, purpose, policy, requestId }, refusal);
        }
        throw refusal;
      }
      throw error;
    }
    const view = policy.view(authentication.consumer.id, authentication.purpose);
    if (!view) {
      const refusal = requestError('The declared purpose is not allowed for this consumer.', 'PURPOSE_NOT_ALLOWED', 403);
      throw await refuse({ consumer: authentication.consumer, purpose: authentication.purpose, policy, requestId }, refusal);
    }
    const asserted = { consumer: authentication.consumer.id, purpose: authentication.purpose, policyVersion: policy.version, requestId };
    const { signer } = dependencies;
    return {
      consumer: authentication.consumer,
      purpose: authentication.purpose,
      policy,
      view,
      requestId,
      assertionFor: (department, request) => signer.sign(asserted, { audience: department, request }),
    };
  };
}

/** A refusal's JSON body with `extensions.credence.requestId`, as answered requests carry it. */
function withRequestId(payload: string, requestId: string): string {
  let body: unknown;
  try {
    body = JSON.parse(payload);
  } catch {
    return payload;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return payload;
  const { extensions } = body as { extensions?: { credence?: object } };
  if (extensions?.credence && 'requestId' in extensions.credence) return payload;
  return JSON.stringify({ ...body, extensions: { ...extensions, credence: { ...extensions?.credence, requestId } } });
}

export async function startGateway(config: GatewayConfig, dependencies: GatewayDependencies): Promise<Gateway> {
  const log = createLogger('gateway');
  const supergraphSdl = readFileSync(config.supergraphPath, 'utf8');
  const subgraphs = supergraphSubgraphs(supergraphSdl).map(({ name, url }) => ({ name, url: config.subgraphUrls[name] ?? url }));
  const unknown = Object.keys(config.subgraphUrls).filter((name) => !subgraphs.some((subgraph) => subgraph.name === name));
  if (unknown.length > 0) throw new Error(`SUBGRAPH_URLS names subgraphs the supergraph does not have: ${unknown.join(', ')}.`);

  const { accessLog } = dependencies;
  const recorder: AccessRecorder | undefined = accessLog ? createAccessRecorder(accessLog) : undefined;
  const gateway = withPolicy(new ApolloGateway({
    supergraphSdl,
    logger: log,
    buildService: ({ name }) => new DepartmentSource({
      name,
      url: subgraphs.find((subgraph) => subgraph.name === name)?.url ?? '',
      timeoutMs: config.subgraphTimeoutMs,
      log,
      circuit: { failureThreshold: config.circuitFailureThreshold, cooldownMs: config.circuitCooldownMs },
    }),
  }), { ...(recorder ? { accessLog: recorder } : {}) });
  const authenticate = authenticatorFor(dependencies, log);
  const rateLimits = createRateLimits({ sharedStore: dependencies.sharedStore, namespace: config.redisNamespace, log });
  const operations = createOperationRegistry({ policiesDir: dependencies.policiesDir, log });

  const app = createHttpApp({
    log,
    bodyLimit: config.bodyLimitBytes,
    status: () => ({ service: 'gateway', policy: dependencies.policies.status() }),
    readiness: [
      { name: 'sharedStore', check: () => dependencies.sharedStore.ping() },
      // While the log cannot be written nothing is answered: not ready, so traffic goes elsewhere.
      ...(accessLog ? [{ name: 'accessLog', check: () => accessLog.ping() }] : []),
      ...subgraphs.map(({ name, url }) => ({
        name: `subgraph:${name}`,
        check: async () => (await fetch(new URL('/readyz', url), { signal: AbortSignal.timeout(2000) })).ok,
      })),
    ],
  });
  if (config.explorer) mountExplorer(app);
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    // Introspection is answered per consumer, from its own schema (policy-gateway.ts).
    introspection: true,
    includeStacktraceInErrorResponses: false,
    hideSchemaDetailsFromClientErrors: true,
    formatError: safeErrorFormatter(log),
    // A browser can send a "simple" request cross-site without asking; these headers it cannot.
    csrfPrevention: { requestHeaders: ['x-api-key', 'authorization', 'x-credence-purpose', 'apollo-require-preflight', 'x-apollo-operation-name'] },
    allowBatchedHttpRequests: false,
    // Parsed documents are kept by what they hold, not by Apollo's estimate (document-store.ts).
    documentStore: boundedDocumentStore(DOCUMENT_CACHE_BYTES),
    // Only registered operations are persisted (persisted-operations.ts); nothing registers itself.
    persistedQueries: false,
    plugins: [
      fastifyApolloDrainPlugin(app),
      ApolloServerPluginLandingPageDisabled(),
      // Before admission, so that it sees the operation as received.
      ...(recorder ? [accessLogPlugin(recorder)] : []),
      admissionPlugin({ registry: operations, defaultListSize: DEFAULT_LIST_SIZE }),
    ],
  });
  await apollo.start();
  // Every answer names its request id, refusals before any identity is known included.
  const requestIds = new WeakMap<object, string>();
  app.addHook('onSend', async (request, reply, payload) => {
    const requestId = requestIds.get(request);
    if (!requestId || reply.statusCode < 400 || typeof payload !== 'string') return payload;
    return withRequestId(payload, requestId);
  });
  // Every answer to a counted request says what is left of the consumer's windows (IETF RateLimit fields).
  const rateLimitStates = new WeakMap<object, RateLimitState>();
  app.addHook('onSend', async (request, reply) => {
    const state = rateLimitStates.get(request);
    if (state) void reply.headers(rateLimitHeaders(state));
  });
  mountGraphQL(app, apollo, async (request) => {
    const requestId = randomUUID();
    requestIds.set(request, requestId);
    // A refusal after authentication is recorded, with the operation as far as it can be read.
    const refuse: Refuse = (identity, refusal) => recordRefusal(recorder, identity, { body: request.body, query: request.query }, refusal);
    const identity = await authenticate(request.headers, requestId, refuse);
    const limits = limitsFor(identity.consumer.limits, config.defaultLimits);
    try {
      rateLimitStates.set(request, await rateLimits.consume(identity.consumer, limits));
    } catch (error) {
      throw error instanceof GraphQLError ? await refuse(identity, error) : error;
    }
    return { identity, limits, access: newRequestAccess() };
  });
  const url = await listen(app, config.port, config.host);
  log.info({ url, subgraphs: subgraphs.map(({ name }) => name) }, 'gateway listening');
  dependencies.policies.reportAs({ role: 'gateway', instance: config.accessLog.instance ?? `gateway@${new URL(url).host}` });
  return {
    url,
    graphqlUrl: `${url}/graphql`,
    app,
    close: async () => {
      await apollo.stop();
      await app.close();
      rateLimits.close();
    },
  };
}
