/**
 * The console as its own process (`npm start` starts it): configuration from the environment,
 * the same variables the other processes and `npm run policy -- release` read.
 *
 *   CONSOLE_PORT (4100), CONSOLE_HOST (127.0.0.1), GATEWAY_URL (http://127.0.0.1:4000/graphql),
 *   POLICIES_DIR, POLICY_RELEASES_DIR, CREDENCE_RELEASE_PRIVATE_KEY (signs approved proposals),
 *   CREDENCE_RELEASE_PUBLIC_KEYS, REDIS_URL, CREDENCE_REDIS_NAMESPACE,
 *   ACCESS_LOG_MONGODB_URI or MONGODB_URI (verification), CONSOLE_SESSION_IDLE_MS,
 *   CONSOLE_SECURE_COOKIES=1 behind HTTPS, CONSOLE_PROCESS_HOSTS (comma-separated).
 */
import { readFileSync } from 'node:fs';
import { createLogger } from '../lib/logger.ts';
import { buildApiSchema } from '../lib/policy/api-schema.ts';
import { DEFAULT_SUPERGRAPH_PATH, policiesDirectory, redisNamespace } from '../lib/policy/process.ts';
import { RELEASE_ENV, releaseKeyFromPem, releasesDirectory, trustedReleaseKeys } from '../lib/policy/release.ts';
import { connectSharedStore } from '../lib/stores/shared-store.ts';
import { startConsole } from './server.ts';

const log = createLogger('console');
const env = process.env;
const privateKey = env[RELEASE_ENV.PRIVATE_KEY];
if (!privateKey?.trim()) {
  log.error(`${RELEASE_ENV.PRIVATE_KEY} is not set: the console signs approved proposals with the release key`);
  process.exit(1);
}
const policiesDir = policiesDirectory(env);
const sharedStore = await connectSharedStore(log, { url: env.REDIS_URL });
const server = await startConsole({
  port: Number(env.CONSOLE_PORT ?? 4100),
  host: env.CONSOLE_HOST ?? '127.0.0.1',
  gatewayUrl: env.GATEWAY_URL ?? 'http://127.0.0.1:4000/graphql',
  policiesDir,
  releasesDir: releasesDirectory(policiesDir, env),
  sharedStore,
  namespace: redisNamespace(env),
  releaseKey: releaseKeyFromPem(privateKey),
  trustedKeys: trustedReleaseKeys(env),
  schema: buildApiSchema(readFileSync(env.SUPERGRAPH_PATH ?? DEFAULT_SUPERGRAPH_PATH, 'utf8')),
  ...((env.ACCESS_LOG_MONGODB_URI || env.MONGODB_URI) ? { accessLogUri: env.ACCESS_LOG_MONGODB_URI || env.MONGODB_URI } : {}),
  ...(env.CONSOLE_SESSION_IDLE_MS ? { sessionIdleMs: Number(env.CONSOLE_SESSION_IDLE_MS) } : {}),
  secureCookies: env.CONSOLE_SECURE_COOKIES === '1',
  ...(env.CONSOLE_PROCESS_HOSTS ? { processHosts: env.CONSOLE_PROCESS_HOSTS.split(',').map((host) => host.trim()) } : {}),
  log,
});
log.info({ url: server.url }, 'privacy console listening');
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void server.close().then(() => sharedStore.close()).then(() => process.exit(0)));
}
