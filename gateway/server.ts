/**
 * The Credence gateway: Apollo Server on Fastify with @apollo/gateway serving a static
 * supergraph. The request pipeline, in order:
 *   1. HTTP (Fastify): body size limit, malformed bodies answered as GraphQL errors;
 *   2. Apollo Server: parse, validate (no schema hints in errors), plan;
 *   3. @apollo/gateway: execute the plan against the departments (keep-alive, timeouts);
 *   4. formatError: only coded, intended errors reach the consumer.
 */
import { readFileSync } from 'node:fs';
import { ApolloServer } from '@apollo/server';
import { ApolloGateway } from '@apollo/gateway';
import { fastifyApolloDrainPlugin } from '@as-integrations/fastify';
import type { FastifyInstance } from 'fastify';
import { createHttpApp, listen, mountGraphQL } from '../lib/http.ts';
import { safeErrorFormatter } from '../lib/graphql-errors.ts';
import { createLogger } from '../lib/logger.ts';
import type { SharedStore } from '../lib/stores/shared-store.ts';
import type { GatewayConfig } from './config.ts';
import { DepartmentSource } from './department-source.ts';

export interface Gateway {
  url: string;
  graphqlUrl: string;
  app: FastifyInstance;
  close(): Promise<void>;
}

export interface GatewayDependencies {
  sharedStore: SharedStore;
}

/** The subgraphs a supergraph names, with the URLs written in it. */
export function supergraphSubgraphs(supergraphSdl: string): { name: string; url: string }[] {
  return [...supergraphSdl.matchAll(/@join__graph\(name: "([^"]+)", url: "([^"]*)"\)/g)].map(([, name = '', url = '']) => ({ name, url }));
}

export async function startGateway(config: GatewayConfig, dependencies: GatewayDependencies): Promise<Gateway> {
  const log = createLogger('gateway');
  const supergraphSdl = readFileSync(config.supergraphPath, 'utf8');
  const subgraphs = supergraphSubgraphs(supergraphSdl).map(({ name, url }) => ({ name, url: config.subgraphUrls[name] ?? url }));
  const unknown = Object.keys(config.subgraphUrls).filter((name) => !subgraphs.some((subgraph) => subgraph.name === name));
  if (unknown.length > 0) throw new Error(`SUBGRAPH_URLS names subgraphs the supergraph does not have: ${unknown.join(', ')}.`);

  const gateway = new ApolloGateway({
    supergraphSdl,
    logger: log,
    buildService: ({ name }) => new DepartmentSource({
      name,
      url: subgraphs.find((subgraph) => subgraph.name === name)?.url ?? '',
      timeoutMs: config.subgraphTimeoutMs,
      log,
    }),
  });

  const app = createHttpApp({
    log,
    bodyLimit: config.bodyLimitBytes,
    readiness: [
      { name: 'sharedStore', check: () => dependencies.sharedStore.ping() },
      ...subgraphs.map(({ name, url }) => ({
        name: `subgraph:${name}`,
        check: async () => (await fetch(new URL('/readyz', url), { signal: AbortSignal.timeout(2000) })).ok,
      })),
    ],
  });
  const apollo = new ApolloServer({
    gateway,
    includeStacktraceInErrorResponses: false,
    hideSchemaDetailsFromClientErrors: true,
    formatError: safeErrorFormatter(log),
    plugins: [fastifyApolloDrainPlugin(app)],
  });
  await apollo.start();
  mountGraphQL(app, apollo, async () => ({}));
  const url = await listen(app, config.port, config.host);
  log.info({ url, subgraphs: subgraphs.map(({ name }) => name) }, 'gateway listening');
  return {
    url,
    graphqlUrl: `${url}/graphql`,
    app,
    close: async () => {
      await apollo.stop();
      await app.close();
    },
  };
}
