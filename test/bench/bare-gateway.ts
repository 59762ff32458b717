/**
 * The benchmark's reference point: @apollo/gateway as its README sets it up, with nothing of
 * Credence's own (no Fastify, no custom fetcher or timeouts, no error formatting, no readiness
 * checks). Whatever Credence costs on top of federation itself shows up as the difference.
 *
 * `node test/bench/bare-gateway.ts` with GATEWAY_PORT and SUBGRAPH_URLS, as the real gateway
 * takes them, so the benchmark starts both the same way. It serves GraphQL on every path.
 */
import { readFileSync } from 'node:fs';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { DEFAULT_SUPERGRAPH_PATH, parseSubgraphUrls } from '../../gateway/config.ts';
import { supergraphSubgraphs } from '../../gateway/server.ts';

const port = Number(process.env.GATEWAY_PORT);
if (!Number.isInteger(port) || port <= 0) throw new Error('GATEWAY_PORT must be set to the port to listen on.');

const supergraphSdl = readFileSync(process.env.SUPERGRAPH_PATH ?? DEFAULT_SUPERGRAPH_PATH, 'utf8');
const overrides = parseSubgraphUrls(process.env.SUBGRAPH_URLS);
// A misspelt name would silently send that department's calls to the supergraph's URL instead.
const known = new Set(supergraphSubgraphs(supergraphSdl).map(({ name }) => name));
const unknown = Object.keys(overrides).filter((name) => !known.has(name));
if (unknown.length > 0)
  throw new Error(`SUBGRAPH_URLS names subgraphs the supergraph does not have: ${unknown.join(', ')}.`);

const server = new ApolloServer({
  gateway: new ApolloGateway({
    supergraphSdl,
    buildService: ({ name, url }) => new RemoteGraphQLDataSource({ url: overrides[name] ?? url }),
  }),
});
const { url } = await startStandaloneServer(server, { listen: { port, host: '127.0.0.1' } });
console.log(`bare @apollo/gateway listening on ${url}`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void server.stop().finally(() => process.exit(0));
  });
}
