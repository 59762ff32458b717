/** Runs the gateway as a process: `node gateway/main.ts` (its settings: gateway/config.ts, docs/configuration.md). */
import { startAccessLog } from '../lib/access-log/process.ts';
import { orExitOnConfigError } from '../lib/config/read.ts';
import { createAssertionSigner } from '../lib/identity/assertion.ts';
import { createLogger } from '../lib/logger.ts';
import { startPolicyRuntime } from '../lib/policy/releases/process-policy.ts';
import { connectSharedStore } from '../lib/stores/shared-store.ts';
import { startTracing } from '../lib/observability/tracing-sdk.ts';
import { readGatewayProcessConfig } from './config.ts';
import { startGateway } from './server.ts';

const {
  gateway: config,
  shared,
  assertionSigner,
  trustedReleaseKeys,
} = orExitOnConfigError(() => readGatewayProcessConfig());
// Before anything that makes spans is built (off unless configured: docs/tracing.md).
const tracing = startTracing({ service: 'credence-gateway', settings: shared.tracing });
const log = createLogger('gateway');
const signer = createAssertionSigner(assertionSigner);
const sharedStore = await connectSharedStore(log, { url: shared.redisUrl });
const policiesDir = shared.policiesDir;
const policies = await startPolicyRuntime({
  dir: policiesDir,
  sharedStore,
  log,
  supergraphPath: config.supergraphPath,
  trustedKeys: trustedReleaseKeys,
  namespace: shared.redisNamespace,
});
const accessLog = await startAccessLog(config.accessLog, { log, port: config.port });
const gateway = await startGateway(config, {
  sharedStore,
  policies,
  policiesDir,
  signer,
  accessLog: accessLog?.writer,
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void policies
      .close()
      .then(() => gateway.close())
      .then(() => accessLog?.close())
      .then(() => sharedStore.close())
      .then(() => tracing?.shutdown())
      .finally(() => process.exit(0));
  });
}
