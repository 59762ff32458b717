/**
 * The benchmark's reference department: the same resolvers, models and per-request DataLoaders
 * as `subgraphs/main.ts` runs (`departmentSchema(department)`), served by a plain Apollo Server
 * as its README sets one up, with nothing of Credence's own: no policy, no signed assertions, no
 * graphql-shield, no record filters or masks, no Fastify. Only the benchmark uses it, behind the
 * bare @apollo/gateway (bare-gateway.ts).
 *
 * `node test/bench/bare-subgraph.ts <department>` with MONGODB_URI and PORT (and
 * MONGODB_DB_PREFIX), as a real department takes them. It serves GraphQL on every path.
 */
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { connectDatabase, departmentDatabaseName } from '../../lib/stores/mongo.ts';
import { departmentNamed } from '../../subgraphs/departments.ts';
import type { RequestContext } from '../../subgraphs/runtime/department.ts';
import { departmentSchema } from '../../subgraphs/runtime/server.ts';

const name = process.argv[2];
if (!name) throw new Error('usage: node test/bench/bare-subgraph.ts <department>');
const mongoUri = process.env.MONGODB_URI;
if (!mongoUri) throw new Error('MONGODB_URI is required.');
const port = Number(process.env.PORT);
if (!Number.isInteger(port) || port <= 0) throw new Error('PORT must be set to the port to listen on.');

const department = departmentNamed(name);
const connection = await connectDatabase(mongoUri, departmentDatabaseName(department.name));
const models: unknown = department.defineModels(connection);
// The same indexes the real department builds at start (already there when it ran first).
await Promise.all(Object.values(connection.models).map((model) => model.createIndexes()));

// Reads only: a bare server gives its resolvers the models and loaders, none of the enforcement's context.
const server = new ApolloServer<Pick<RequestContext<unknown, unknown>, 'models' | 'loaders'>>({
  schema: departmentSchema(department),
});
const { url } = await startStandaloneServer(server, {
  listen: { port, host: '127.0.0.1' },
  // Fresh loaders per request, as in the real department: nothing is cached between requests.
  context: async () => ({ models, loaders: department.createLoaders?.(models) as unknown }),
});
console.log(`bare ${department.name} subgraph listening on ${url}`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void server
      .stop()
      .then(() => connection.close())
      .finally(() => process.exit(0));
  });
}
