/** Runs one department as a process: `node subgraphs/main.ts <name>` (its settings: subgraphs/runtime/config.ts, docs/configuration.md). */
import { ConfigError, orExitOnConfigError } from '../lib/config/read.ts';
import { createAssertionVerifier } from '../lib/identity/assertion.ts';
import { createReplayGuard } from '../lib/identity/replay-guard.ts';
import { createLogger } from '../lib/logger.ts';
import { startPolicyRuntime } from '../lib/policy/releases/process-policy.ts';
import { connectSharedStore } from '../lib/stores/shared-store.ts';
import { startTracing } from '../lib/observability/tracing-sdk.ts';
import { departmentNamed, defaultSubgraphPort } from './departments.ts';
import { readDepartmentProcessConfig } from './runtime/config.ts';
import { startSubgraph } from './runtime/server.ts';

const name = process.argv[2] ?? '';
const { department, config } = orExitOnConfigError(() => {
  if (!name) throw new ConfigError('argv', 'usage: node subgraphs/main.ts <department>');
  try {
    departmentNamed(name);
  } catch (error) {
    throw new ConfigError('argv', (error as Error).message);
  }
  return { department: departmentNamed(name), config: readDepartmentProcessConfig(defaultSubgraphPort(name)) };
});

// Before anything that makes spans is built (off unless configured: docs/tracing.md).
const tracing = startTracing({ service: `credence-${name}`, settings: config.shared.tracing });
const log = createLogger(`subgraph:${name}`);
const assertions = createAssertionVerifier(config.assertionKeys);
const sharedStore = await connectSharedStore(log, { url: config.shared.redisUrl });
const policies = await startPolicyRuntime({
  dir: config.shared.policiesDir,
  sharedStore,
  log,
  trustedKeys: config.trustedReleaseKeys,
  namespace: config.shared.redisNamespace,
});
const subgraph = await startSubgraph(department, {
  mongoUri: config.mongoUri,
  port: config.port,
  host: config.host,
  metrics: config.metrics,
  policies,
  assertions,
  replayGuard: createReplayGuard(sharedStore, config.shared.redisNamespace),
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void policies
      .close()
      .then(() => subgraph.close())
      .then(() => sharedStore.close())
      .then(() => tracing?.shutdown())
      .finally(() => process.exit(0));
  });
}
