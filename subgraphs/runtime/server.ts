/**
 * Runs one department as its own GraphQL subgraph service: its own database connection, its
 * schema from `schema/<name>.graphql`, fresh DataLoaders per request.
 */
import { readFileSync } from 'node:fs';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { fastifyApolloDrainPlugin } from '@as-integrations/fastify';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { FastifyInstance } from 'fastify';
import { parse } from 'graphql';
import type { Connection } from 'mongoose';
import { createHttpApp, listen, mountGraphQL } from '../../lib/http.ts';
import { safeErrorFormatter } from '../../lib/graphql-errors.ts';
import { createLogger } from '../../lib/logger.ts';
import { connectDatabase, departmentDatabaseName } from '../../lib/stores/mongo.ts';
import type { AnyDepartment, RequestContext } from './department.ts';
import { DateScalar } from './scalars.ts';

export interface SubgraphServer {
  name: string;
  url: string;
  /** The GraphQL endpoint the gateway calls. */
  graphqlUrl: string;
  app: FastifyInstance;
  connection: Connection;
  close(): Promise<void>;
}

export interface SubgraphOptions {
  mongoUri: string;
  /** Extra Apollo Server plugins (observers in tests, for example). */
  plugins?: ApolloServerPlugin[];
  port?: number;
  host?: string;
}

export function subgraphSdlPath(name: string): URL {
  return new URL(`../../schema/${name}.graphql`, import.meta.url);
}

export async function startSubgraph(department: AnyDepartment, options: SubgraphOptions): Promise<SubgraphServer> {
  const log = createLogger(`subgraph:${department.name}`);
  const connection = await connectDatabase(options.mongoUri, departmentDatabaseName(department.name));
  const models: unknown = department.defineModels(connection);
  // Indexes are declared on the models; building them here keeps a fresh database fast.
  await Promise.all(Object.values(connection.models).map((model) => model.createIndexes()));

  const schema = buildSubgraphSchema([{
    typeDefs: parse(readFileSync(subgraphSdlPath(department.name), 'utf8')),
    resolvers: { Date: DateScalar, ...department.resolvers },
  }]);
  const app = createHttpApp({
    log,
    readiness: [{ name: 'database', check: async () => (await connection.db?.admin().ping())?.ok === 1 }],
  });
  const apollo = new ApolloServer<RequestContext<unknown, unknown>>({
    schema,
    // The gateway composes from the checked-in supergraph; nobody needs to introspect a department.
    introspection: false,
    includeStacktraceInErrorResponses: false,
    formatError: safeErrorFormatter(log),
    // Inline traces are for Apollo's hosted usage reporting, which a government platform does not use.
    plugins: [fastifyApolloDrainPlugin(app), ApolloServerPluginInlineTraceDisabled(), ...(options.plugins ?? [])],
  });
  await apollo.start();
  mountGraphQL(app, apollo, async () => ({ models, loaders: department.createLoaders(models) as unknown }));
  const url = await listen(app, options.port ?? 0, options.host);
  log.info({ url }, `${department.title} subgraph listening`);
  return {
    name: department.name,
    url,
    graphqlUrl: `${url}/graphql`,
    app,
    connection,
    close: async () => {
      await app.close();
      await apollo.stop();
      await connection.close();
    },
  };
}
