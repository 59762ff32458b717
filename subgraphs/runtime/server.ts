/**
 * Runs one department as its own GraphQL subgraph service: its own database connection, its
 * schema from `schema/<name>.graphql`, fresh DataLoaders per request, and the policy enforced
 * on every request (enforcement.ts): only the gateway's signed assertion is accepted.
 */
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
} from '@apollo/server/plugin/disabled';
import { fastifyApolloDrainPlugin } from '@as-integrations/fastify';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { FastifyInstance } from 'fastify';
import type { GraphQLSchema } from 'graphql';
import type { Connection } from 'mongoose';
import { createHttpApp, listen, mountGraphQL } from '../../lib/http.ts';
import { safeErrorFormatter } from '../../lib/graphql-errors.ts';
import { createLogger } from '../../lib/logger.ts';
import { connectDatabase, departmentDatabaseName, limitQueryTime } from '../../lib/stores/mongo.ts';
import type { AssertionVerifier } from '../../lib/identity/assertion.ts';
import type { ReplayGuard } from '../../lib/identity/replay-guard.ts';
import { catalogItemsByRecordType, loadCatalog } from '../../lib/policy/reference/catalog.ts';
import type { PolicyRuntime } from '../../lib/policy/releases/policy-in-force.ts';
import type { AnyDepartment, RequestContext } from './department.ts';
import { callIdentityOf, departmentStages, enforceOnSchema, policyPlugin } from './enforcement.ts';
import { boundedDocumentStore } from '../../lib/document-store.ts';
import { servedSubjectsPlugin } from './served-subjects.ts';
import { DateScalar } from './scalars.ts';
import { subgraphSdl } from './sdl.ts';
import {
  connectionState,
  metricsPort,
  startMetricsListener,
  type MetricsListener,
  type MetricsSettings,
} from '../../lib/observability/metrics.ts';
import { createDepartmentMetrics } from '../../lib/observability/metrics-department.ts';
import { processStatus } from '../../lib/observability/status.ts';
import type { ReadinessCheck } from '../../lib/http.ts';
import { ATTRIBUTES, TRACERS, tracingOn, tracingPlugins } from '../../lib/observability/tracing.ts';
import { timeModelCommands } from '../../lib/observability/store-commands.ts';
import { traceStoreCommands } from '../../lib/observability/tracing-store.ts';

type SubgraphContext = RequestContext<unknown, unknown>;

export interface SubgraphServer {
  name: string;
  url: string;
  /** The GraphQL endpoint the gateway calls. */
  graphqlUrl: string;
  /** The operator listener (`/metrics`, `/status`); undefined with metrics off. */
  metricsUrl: string | undefined;
  app: FastifyInstance;
  connection: Connection;
  close(): Promise<void>;
}

export interface SubgraphOptions {
  mongoUri: string;
  /** The policy in force (and its recent versions). */
  policies: PolicyRuntime;
  /** Checks the gateway's signed identity assertion. */
  assertions: AssertionVerifier;
  /** Accepts each assertion once (through the shared store, so across instances). */
  replayGuard: ReplayGuard;
  /** Extra Apollo Server plugins (observers in tests, for example). */
  plugins?: ApolloServerPlugin[];
  /** The store driver emits command events (tests that count a department's store commands). */
  monitorCommands?: boolean;
  port?: number;
  host?: string;
  /** The operator listener (subgraphs/runtime/config.ts); unset: on, on the port + 5400 (a free port when `port` is 0). */
  metrics?: MetricsSettings;
}

/**
 * The most entities one call may ask a department for: a page of subjects (500 at most) with
 * room to spare. More is one operation's work a department refuses rather than does.
 */
const DOCUMENT_STORE_BYTES = 32 * 1024 * 1024;

/** A department's subgraph schema with its resolvers, before enforcement is applied. */
export function departmentSchema(department: AnyDepartment): GraphQLSchema {
  return buildSubgraphSchema([
    {
      typeDefs: department.sdl ?? subgraphSdl(department.name),
      resolvers: { Date: DateScalar, ...department.resolvers },
    },
  ]);
}

export async function startSubgraph(department: AnyDepartment, options: SubgraphOptions): Promise<SubgraphServer> {
  const log = createLogger(`subgraph:${department.name}`);
  const metricsSettings = options.metrics ?? { enabled: true, port: undefined, host: '127.0.0.1' };
  // The driver's command events cost CPU on every store query: emitted only for tests that count commands.
  const connection = await connectDatabase(options.mongoUri, departmentDatabaseName(department.name), {
    log,
    monitorCommands: options.monitorCommands === true,
  });
  // One operation's store query cannot hold the department: each read has a time limit.
  limitQueryTime(connection);
  // Store commands are timed where they are sent, for what reads them (the store latency
  // metric, store spans); the models' hooks only in a process that has either.
  if (metricsSettings.enabled || tracingOn()) timeModelCommands(connection);
  // With tracing on, a span per store command of a request.
  traceStoreCommands(connection);
  const models: unknown = department.defineModels(connection);
  // Indexes are declared on the models; building them here keeps a fresh database fast.
  await Promise.all(Object.values(connection.models).map((model) => model.createIndexes()));

  // One list of enforcement stages: its middleware wraps the resolvers, its hooks form the plugin.
  const operatorPort = metricsPort(metricsSettings, options.port ?? 0);
  const metrics =
    operatorPort === undefined
      ? undefined
      : createDepartmentMetrics({ department: department.name, policies: options.policies, connection });
  const unenforced = departmentSchema(department);
  const stages = departmentStages(unenforced, {
    caches: metrics?.caches,
    identity: {
      department: department.name,
      assertions: options.assertions,
      replayGuard: options.replayGuard,
      policies: options.policies,
    },
  });
  const identify = callIdentityOf(stages);
  const schema = enforceOnSchema(unenforced, stages);
  const catalogItems = catalogItemsByRecordType(loadCatalog());
  const readiness: ReadinessCheck[] = [
    { name: 'database', check: async () => (await connection.db?.admin().ping())?.ok === 1 },
  ];
  const status = processStatus({
    service: department.name,
    policies: options.policies,
    readiness,
    stores: () => ({ database: connectionState(connection) }),
  });
  const app = createHttpApp({ log, readiness, status });
  const apollo = new ApolloServer<SubgraphContext>({
    schema,
    // The gateway composes from the checked-in supergraph; nobody needs to introspect a department.
    introspection: false,
    // Parsed documents are kept by what they hold, not by Apollo's estimate (document-store.ts).
    documentStore: boundedDocumentStore(DOCUMENT_STORE_BYTES, metrics?.caches),
    includeStacktraceInErrorResponses: false,
    hideSchemaDetailsFromClientErrors: true,
    formatError: safeErrorFormatter(log),
    // main.ts stops the process in order on SIGINT and SIGTERM; Apollo's own handlers would stop
    // the server and re-raise the signal at once, before the stores are closed.
    stopOnTerminationSignals: false,
    // Inline traces are for Apollo's hosted usage reporting, which a government platform does not use.
    // Cache hints neither: answers are never cached (cache-control: no-store, lib/http.ts), and
    // the cache-control plugin wraps every field resolver to compute one per field.
    plugins: [
      fastifyApolloDrainPlugin(app),
      ApolloServerPluginInlineTraceDisabled(),
      ApolloServerPluginCacheControlDisabled(),
      policyPlugin(schema, stages),
      servedSubjectsPlugin(),
      ...(metrics ? [metrics.plugin()] : []),
      ...tracingPlugins(),
      ...(options.plugins ?? []),
    ],
  });
  await apollo.start();
  mountGraphQL(
    app,
    apollo,
    async (request): Promise<SubgraphContext> => {
      // The identity stage first: nothing below runs for a call it refuses.
      const { view, policyVersion, competence } = await identify(request);
      return {
        models,
        loaders: department.createLoaders?.(models),
        catalogItems,
        competence,
        view,
        policyVersion,
        now: new Date(),
        servedSubjects: new Set<string>(),
      };
    },
    undefined,
    // The gateway's traceparent is the parent of this department's span: not trusted for identity, only for placing spans.
    { scope: TRACERS.department, traceparent: 'continue', attributes: { [ATTRIBUTES.department]: department.name } },
  );
  const url = await listen(app, options.port ?? 0, options.host);
  log.info({ url }, `${department.title} subgraph listening`);
  const operator: MetricsListener | undefined =
    metrics && operatorPort !== undefined
      ? await startMetricsListener({
          registry: metrics.registry,
          port: operatorPort,
          host: metricsSettings.host,
          log,
          status,
        })
      : undefined;
  options.policies.reportAs({ role: department.name, instance: `${department.name}@${new URL(url).host}` });
  return {
    name: department.name,
    url,
    graphqlUrl: `${url}/graphql`,
    metricsUrl: operator?.url,
    app,
    connection,
    close: async () => {
      await operator?.close();
      await app.close();
      await apollo.stop();
      await connection.close();
    },
  };
}
