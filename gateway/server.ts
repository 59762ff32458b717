/**
 * The Credence gateway: Apollo Server on Fastify with @apollo/gateway serving a static
 * supergraph. Every stage a request passes, in order, is listed in gateway/pipeline.ts; this
 * module builds the hosts (Fastify, Apollo Server, @apollo/gateway and its data sources) and
 * hands each moment of a request to the pipeline. formatError lets only coded, intended errors
 * reach the consumer.
 */
import { readFileSync } from 'node:fs';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloGateway } from '@apollo/gateway';
import { fastifyApolloDrainPlugin } from '@as-integrations/fastify';
import type { FastifyInstance } from 'fastify';
import { createHttpApp, listen, mountGraphQL } from '../lib/http.ts';
import { safeErrorFormatter } from '../lib/graphql-errors.ts';
import { createLogger } from '../lib/logger.ts';
import type { SharedStore } from '../lib/stores/shared-store.ts';
import type { AssertionSigner } from '../lib/identity/assertion.ts';
import type { PolicyRuntime } from '../lib/policy/releases/policy-in-force.ts';
import { DEFAULT_LIST_SIZE, disableApolloTelemetry, type GatewayConfig } from './config.ts';
import { createOperationRegistry } from './persisted-operations.ts';
import { createRateLimits } from './rate-limits.ts';
import { DepartmentSource } from './department-source.ts';
import { DOCUMENT_CACHE_BYTES, withPipeline } from './policy-gateway.ts';
import type { GatewayContext } from './stages/stage.ts';
import { createPipeline, gatewayStages } from './pipeline.ts';
import { transportRefusals } from './stages/transport-refusals.ts';
import { boundedDocumentStore, boundedPlanStore } from '../lib/document-store.ts';
import { metricsPort, startMetricsListener, type MetricsListener } from '../lib/observability/metrics.ts';
import { createGatewayMetrics, NO_PURPOSE, UNAUTHENTICATED } from '../lib/observability/metrics-gateway.ts';
import { processStatus } from '../lib/observability/status.ts';
import type { ReadinessCheck } from '../lib/http.ts';
import { ObservedDepartmentSource } from './observed-department-source.ts';
import { createAccessRecorder } from './access-log.ts';
import type { AccessLogWriter } from '../lib/access-log/writer.ts';
import { mountExplorer } from './explorer/explorer.ts';
import { ATTRIBUTES, TRACERS, tracingPlugins } from '../lib/observability/tracing.ts';

export interface Gateway {
  url: string;
  graphqlUrl: string;
  /** The operator listener (`/metrics`, `/status`); undefined with metrics off. */
  metricsUrl: string | undefined;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** The query plans kept, as @apollo/gateway's own default store keeps them. */
const QUERY_PLAN_CACHE_BYTES = 30 * 1024 * 1024;

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
  return [...supergraphSdl.matchAll(/@join__graph\(name: "([^"]+)", url: "([^"]*)"\)/g)].map(
    ([, name = '', url = '']) => ({ name, url }),
  );
}

export async function startGateway(config: GatewayConfig, dependencies: GatewayDependencies): Promise<Gateway> {
  const log = createLogger('gateway');
  const supergraphSdl = readFileSync(config.supergraphPath, 'utf8');
  const subgraphs = supergraphSubgraphs(supergraphSdl).map(({ name, url }) => ({
    name,
    url: config.subgraphUrls[name] ?? url,
  }));
  const unknown = Object.keys(config.subgraphUrls).filter(
    (name) => !subgraphs.some((subgraph) => subgraph.name === name),
  );
  if (unknown.length > 0)
    throw new Error(`SUBGRAPH_URLS names subgraphs the supergraph does not have: ${unknown.join(', ')}.`);

  const { accessLog } = dependencies;
  // Metrics only where someone can read them: on, with an operator listener (lib/observability/metrics.ts).
  const operatorPort = metricsPort(config.metrics, config.port);
  const metrics = operatorPort === undefined ? undefined : createGatewayMetrics(dependencies.policies);
  const caches = metrics?.caches;
  const rateLimits = createRateLimits({ sharedStore: dependencies.sharedStore, namespace: config.redisNamespace, log });
  const pipeline = createPipeline(
    gatewayStages({
      policies: dependencies.policies,
      policiesDir: dependencies.policiesDir,
      signer: dependencies.signer,
      log,
      defaultLimits: config.defaultLimits,
      defaultListSize: DEFAULT_LIST_SIZE,
      rateLimits,
      operations: createOperationRegistry({ policiesDir: dependencies.policiesDir, log }),
      accessLog: accessLog ? createAccessRecorder(accessLog) : undefined,
      metrics,
      caches,
    }),
  );
  // Each department's source, so that /status can say whose circuit is open.
  const departmentSources = new Map<string, DepartmentSource>();
  disableApolloTelemetry();
  const gateway = withPipeline(
    new ApolloGateway({
      supergraphSdl,
      logger: log,
      // Apollo's own default store (30 MiB), one the metrics can read.
      queryPlannerConfig: { cache: boundedPlanStore(QUERY_PLAN_CACHE_BYTES, caches) },
      buildService: ({ name }) => {
        const options = {
          name,
          calls: pipeline,
          url: subgraphs.find((subgraph) => subgraph.name === name)?.url ?? '',
          timeoutMs: config.subgraphTimeoutMs,
          log,
          circuit: { failureThreshold: config.circuitFailureThreshold, cooldownMs: config.circuitCooldownMs },
        };
        const source = metrics ? new ObservedDepartmentSource(options, metrics) : new DepartmentSource(options);
        departmentSources.set(name, source);
        return source;
      },
    }),
    pipeline,
  );

  const circuits = (): Record<string, string> =>
    Object.fromEntries([...departmentSources].map(([name, source]) => [name, source.circuit.state]));
  metrics?.watchCircuits(() => [...departmentSources].map(([name, source]) => [name, source.circuit.state] as const));
  if (accessLog) metrics?.watchAccessLog(accessLog);
  const readiness: ReadinessCheck[] = [
    { name: 'sharedStore', check: () => dependencies.sharedStore.ping() },
    // While the log cannot be written nothing is answered: not ready, so traffic goes elsewhere.
    ...(accessLog ? [{ name: 'accessLog', check: () => accessLog.ping() }] : []),
    ...subgraphs.map(({ name, url }) => ({
      name: `subgraph:${name}`,
      check: async () => (await fetch(new URL('/readyz', url), { signal: AbortSignal.timeout(2000) })).ok,
    })),
  ];
  const status = processStatus({
    service: 'gateway',
    policies: dependencies.policies,
    readiness,
    stores: () => ({
      sharedStore: dependencies.sharedStore.redis?.status ?? dependencies.sharedStore.kind,
      accessLog: !accessLog ? 'off' : accessLog.writable === false ? 'broken' : 'writable',
    }),
    // The shared circuit of each department: open means the gateway answers its fields at once with DEPARTMENT_UNAVAILABLE.
    circuits,
  });
  const app = createHttpApp({
    log,
    bodyLimit: config.bodyLimitBytes,
    status,
    readiness,
    // Refused before the pipeline (malformed JSON, too large, a batch): counted like the pipeline's refusals.
    onRefused: metrics
      ? (code, seconds) =>
          metrics.requestEnded({
            consumer: UNAUTHENTICATED,
            purpose: NO_PURPOSE,
            operationName: undefined,
            answer: { errors: [{ extensions: { code } }] },
            started: performance.now() - seconds * 1000,
          })
      : undefined,
  });
  // The explorer (GraphiQL) is a page of the HTTP layer, not a stage: its queries come back through /graphql.
  if (config.explorer) mountExplorer(app);
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    // Introspection is answered per consumer, from its own schema (policy-gateway.ts).
    introspection: true,
    includeStacktraceInErrorResponses: false,
    hideSchemaDetailsFromClientErrors: true,
    formatError: safeErrorFormatter(log),
    // A browser can send a "simple" request cross-site without asking; these headers it cannot.
    csrfPrevention: {
      requestHeaders: [
        'x-api-key',
        'authorization',
        'x-credence-purpose',
        'apollo-require-preflight',
        'x-apollo-operation-name',
      ],
    },
    allowBatchedHttpRequests: false,
    // main.ts stops the process in order on SIGINT and SIGTERM (the access log's last records and
    // checkpoint, then the stores). Apollo's own handlers would stop the server and re-raise the
    // signal at once, killing the process before that order completes.
    stopOnTerminationSignals: false,
    // Parsed documents are kept by what they hold, not by Apollo's estimate (document-store.ts).
    documentStore: boundedDocumentStore(DOCUMENT_CACHE_BYTES, caches),
    // Only registered operations are persisted (persisted-operations.ts); nothing registers itself.
    persistedQueries: false,
    plugins: [
      fastifyApolloDrainPlugin(app),
      ApolloServerPluginLandingPageDisabled(),
      // Admission, and the answers Apollo Server produces without executing (refusals).
      pipeline.plugin(),
      // With tracing on: who asked under which policy, and the codes of the errors answered, on the request's span.
      ...tracingPlugins<GatewayContext>(({ identity }) => ({
        [ATTRIBUTES.consumer]: identity.consumer.id,
        [ATTRIBUTES.purpose]: identity.purpose,
        [ATTRIBUTES.policyVersion]: identity.policy.version,
      })),
    ],
  });
  await apollo.start();
  // Every refusal's HTTP body names its request id, refusals before any identity is known included.
  app.addHook('onSend', async (request, reply, payload) =>
    typeof payload === 'string' ? pipeline.httpAnswer(request, reply.statusCode, payload) : payload,
  );
  // Headers a stage sets on any answer (the RateLimit fields of a counted request, stages/rate-limiting.ts).
  app.addHook('onSend', async (request, reply) => {
    const headers = pipeline.httpHeaders(request);
    if (headers) void reply.headers(headers);
  });
  mountGraphQL(
    app,
    apollo,
    (request) => pipeline.context({ key: request, headers: request.headers, body: request.body, query: request.query }),
    transportRefusals.preHandler,
    // A consumer's traceparent is linked, never continued (docs/tracing.md).
    { scope: TRACERS.gateway, traceparent: 'link' },
  );
  const url = await listen(app, config.port, config.host);
  log.info({ url, subgraphs: subgraphs.map(({ name }) => name) }, 'gateway listening');
  const operator: MetricsListener | undefined =
    metrics && operatorPort !== undefined
      ? await startMetricsListener({
          registry: metrics.registry,
          port: operatorPort,
          host: config.metrics.host,
          log,
          status,
        })
      : undefined;
  dependencies.policies.reportAs({
    role: 'gateway',
    instance: config.accessLog.instance ?? `gateway@${new URL(url).host}`,
  });
  return {
    url,
    graphqlUrl: `${url}/graphql`,
    metricsUrl: operator?.url,
    app,
    close: async () => {
      await apollo.stop();
      await app.close();
      await operator?.close();
      rateLimits.close();
    },
  };
}
