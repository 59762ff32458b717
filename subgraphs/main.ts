/** Runs one department as a process: `node subgraphs/main.ts <name>` (MONGODB_URI, PORT and the assertion keys from the environment). */
import { createAssertionVerifier, loadAssertionKeys } from '../lib/identity/assertion.ts';
import { createReplayGuard } from '../lib/identity/replay-guard.ts';
import { createLogger } from '../lib/logger.ts';
import { policiesDirectory, startPolicyRuntime } from '../lib/policy/releases/process-policy.ts';
import { connectSharedStore } from '../lib/stores/shared-store.ts';
import { departmentNamed, defaultSubgraphPort } from './departments.ts';
import { startSubgraph } from './runtime/server.ts';

const name = process.argv[2];
if (!name) throw new Error('usage: node subgraphs/main.ts <department>');
const mongoUri = process.env.MONGODB_URI;
if (!mongoUri) throw new Error('MONGODB_URI is required to run a subgraph on its own (npm start provides one).');
const port = process.env.PORT ? Number(process.env.PORT) : defaultSubgraphPort(name);

const log = createLogger(`subgraph:${name}`);
const assertions = createAssertionVerifier(loadAssertionKeys(process.env, 'verifier'));
const sharedStore = await connectSharedStore(log);
const policies = await startPolicyRuntime({ dir: policiesDirectory(), sharedStore, log });
const subgraph = await startSubgraph(departmentNamed(name), { mongoUri, port, host: process.env.HOST ?? '127.0.0.1', policies, assertions,
  replayGuard: createReplayGuard(sharedStore, process.env.CREDENCE_REDIS_NAMESPACE ?? 'credence'),
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void policies.close().then(() => subgraph.close()).then(() => sharedStore.close()).finally(() => process.exit(0));
  });
}
