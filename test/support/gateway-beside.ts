/**
 * A second gateway in front of a test federation's departments, with the federation's policy,
 * assertion key and access log: for tests of several gateway instances, or of a gateway whose
 * path to one department a test controls (a proxy, a server of its own).
 */
import { createAssertionSigner } from '../../lib/identity/assertion.ts';
import type { SharedStore } from '../../lib/stores/shared-store.ts';
import { readGatewayConfig, type GatewayConfig } from '../../gateway/config.ts';
import { startGateway, type Gateway } from '../../gateway/server.ts';
import type { Federation } from './federation.ts';

export function startGatewayBeside(
  federation: Federation,
  sharedStore: SharedStore,
  configure: (config: GatewayConfig) => Partial<GatewayConfig> = () => ({}),
): Promise<Gateway> {
  // The same Redis namespace as the federation's gateway, so that the two share their rate limits.
  const config = readGatewayConfig({ CREDENCE_REDIS_NAMESPACE: process.env.CREDENCE_REDIS_NAMESPACE });
  const changes = configure(config);
  return startGateway(
    {
      ...config,
      port: 0,
      ...changes,
      subgraphUrls: {
        ...Object.fromEntries([...federation.subgraphs].map(([name, subgraph]) => [name, subgraph.graphqlUrl])),
        ...changes.subgraphUrls,
      },
    },
    {
      sharedStore,
      policies: federation.policies,
      policiesDir: federation.policiesDir,
      signer: createAssertionSigner({
        privateKey: federation.assertionKeys.privateKeyPem,
        keyId: federation.assertionKeys.keyId,
      }),
      accessLog: federation.accessLog.writer,
    },
  );
}
