/**
 * A second reference point for the benchmark: The Guild's Hive Gateway runtime
 * (`@graphql-hive/gateway-runtime`, the engine the `hive-gateway` CLI serves), as its
 * documentation sets it up, in front of the same bare departments as the bare @apollo/gateway.
 * Development dependencies (the runtime, and the HTTP transport it loads by name for each
 * subgraph, `@graphql-mesh/transport-http`, as the `hive-gateway` CLI bundles it): only the
 * benchmark runs them.
 *
 * `node test/bench/hive-gateway.ts` with GATEWAY_PORT and SUBGRAPH_URLS, as the real gateway
 * takes them. It serves GraphQL at /graphql.
 */
import { readFileSync } from 'node:fs';
import { createServer, type RequestListener } from 'node:http';
import { DEFAULT_SUPERGRAPH_PATH, parseSubgraphUrls } from '../../gateway/config.ts';
import { withSubgraphUrls } from './supergraph-urls.ts';

const port = Number(process.env.GATEWAY_PORT);
if (!Number.isInteger(port) || port <= 0) throw new Error('GATEWAY_PORT must be set to the port to listen on.');

const supergraph = withSubgraphUrls(
  readFileSync(process.env.SUPERGRAPH_PATH ?? DEFAULT_SUPERGRAPH_PATH, 'utf8'),
  parseSubgraphUrls(process.env.SUBGRAPH_URLS),
);
// Imported by a name TypeScript does not follow: the runtime's types (GraphQL Yoga's) declare
// GraphQLError's `http` extension differently from Apollo Server's, and would fail the project's
// type check wherever Credence sets one. Only this script uses the runtime, through this shape.
interface HiveGatewayRuntime extends RequestListener {
  dispose(): Promise<void> | void;
}
const runtimeModule = '@graphql-hive/gateway-runtime';
const { createGatewayRuntime } = (await import(runtimeModule)) as {
  createGatewayRuntime: (options: { supergraph: string; logging: boolean }) => HiveGatewayRuntime;
};
const gateway = createGatewayRuntime({ supergraph, logging: false });
const server = createServer(gateway);
server.listen(port, '127.0.0.1', () => console.log(`Hive Gateway listening on http://127.0.0.1:${port}/graphql`));

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close();
    void Promise.resolve(gateway.dispose()).finally(() => process.exit(0));
  });
}
