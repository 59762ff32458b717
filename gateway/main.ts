/** Runs the gateway as a process: `node gateway/main.ts` (configuration in the README's table). */
import { startAccessLog } from '../lib/access-log/process.ts';
import { createAssertionSigner, loadAssertionKeys } from '../lib/identity/assertion.ts';
import { createLogger } from '../lib/logger.ts';
import { policiesDirectory, startPolicyRuntime } from '../lib/policy/releases/process-policy.ts';
import { connectSharedStore } from '../lib/stores/shared-store.ts';
import { readGatewayConfig } from './config.ts';
import { startGateway } from './server.ts';

const log = createLogger('gateway');
const config = readGatewayConfig();
const signer = createAssertionSigner(loadAssertionKeys(process.env, 'signer'));
const sharedStore = await connectSharedStore(log);
const policiesDir = policiesDirectory();
const policies = await startPolicyRuntime({ dir: policiesDir, sharedStore, log, supergraphPath: config.supergraphPath });
const accessLog = await startAccessLog(config.accessLog, { log, port: config.port });
const gateway = await startGateway(config, { sharedStore, policies, policiesDir, signer, accessLog: accessLog?.writer });

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void policies.close().then(() => gateway.close()).then(() => accessLog?.close()).then(() => sharedStore.close()).finally(() => process.exit(0));
  });
}
