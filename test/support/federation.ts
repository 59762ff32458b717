/**
 * A whole federation for a test file: the embedded store (or MONGODB_URI) with a fresh database
 * prefix, seed data, the five department subgraphs and the gateway, all real servers on port 0.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../lib/logger.ts';
import { startMongo, type MongoServer } from '../../lib/stores/mongo.ts';
import { connectSharedStore, type SharedStore } from '../../lib/stores/shared-store.ts';
import { readGatewayConfig } from '../../gateway/config.ts';
import { startGateway, type Gateway } from '../../gateway/server.ts';
import { departments } from '../../subgraphs/departments.ts';
import { startSubgraph, type SubgraphServer } from '../../subgraphs/runtime/server.ts';
import { seedAll } from '../../subgraphs/seed.ts';
import { dropDepartmentDatabases } from './databases.ts';

export interface GraphQLResponse {
  status: number;
  body: {
    data?: Record<string, unknown> | null;
    errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
  };
}

export interface Federation {
  mongo: MongoServer;
  gateway: Gateway;
  subgraphs: Map<string, SubgraphServer>;
  /** POSTs a GraphQL operation to the gateway. */
  query(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse>;
  close(): Promise<void>;
}

process.env.LOG_LEVEL ??= 'silent';

export interface FederationOptions {
  subjects: number;
  /** Extra Apollo Server plugins for a department's subgraph. */
  subgraphPlugins?: (department: string) => ApolloServerPlugin[];
}

export async function startFederation(options: FederationOptions): Promise<Federation> {
  const log = createLogger('test');
  const dataDir = await mkdtemp(join(tmpdir(), 'credence-test-'));
  // Each test file gets its own databases, also when MONGODB_URI points at a shared server.
  process.env.MONGODB_DB_PREFIX = `credence_test_${process.pid}_`;
  const mongo = await startMongo({ dataDir, log });
  await seedAll({ mongoUri: mongo.uri, subjects: options.subjects, log });
  const subgraphs = new Map<string, SubgraphServer>();
  for (const department of departments) {
    const plugins = options.subgraphPlugins?.(department.name) ?? [];
    subgraphs.set(department.name, await startSubgraph(department, { mongoUri: mongo.uri, plugins }));
  }
  const sharedStore: SharedStore = await connectSharedStore(log);
  const gateway = await startGateway({
    ...readGatewayConfig({}),
    port: 0,
    subgraphUrls: Object.fromEntries([...subgraphs].map(([name, subgraph]) => [name, subgraph.graphqlUrl])),
  }, { sharedStore });

  return {
    mongo,
    gateway,
    subgraphs,
    query: async (query, variables) => {
      const response = await fetch(gateway.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query, variables }),
      });
      return { status: response.status, body: (await response.json()) as GraphQLResponse['body'] };
    },
    close: async () => {
      await gateway.close();
      await sharedStore.close();
      // A subgraph a test stopped already is closed; closing it again is harmless to skip.
      for (const subgraph of subgraphs.values()) await subgraph.close().catch(() => {});
      await dropDepartmentDatabases(mongo.uri);
      await mongo.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
