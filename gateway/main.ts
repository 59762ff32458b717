/** Runs the gateway as a process: `node gateway/main.ts`. */
import { createLogger } from '../lib/logger.ts';
import { connectSharedStore } from '../lib/stores/shared-store.ts';
import { readGatewayConfig } from './config.ts';
import { startGateway } from './server.ts';

const log = createLogger('gateway');
const sharedStore = await connectSharedStore(log);
const gateway = await startGateway(readGatewayConfig(), { sharedStore });

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void gateway.close().then(() => sharedStore.close()).finally(() => process.exit(0));
  });
}
