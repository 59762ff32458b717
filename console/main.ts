/**
 * The console as its own process (`npm start` starts it), configured by console/config.ts: the
 * same variables the other processes and `npm run policy -- release` read, and its own
 * (docs/configuration.md).
 */
import { readFileSync } from 'node:fs';
import { createLogger } from '../lib/logger.ts';
import { buildApiSchema } from '../lib/policy/decision/api-schema.ts';
import { orExitOnConfigError } from '../lib/config/read.ts';
import { policiesDirectory, redisNamespace } from '../lib/policy/releases/process-policy.ts';
import { releaseKeyFromPem, releasesDirectory, trustedReleaseKeys } from '../lib/policy/releases/signed-release.ts';
import { readConsoleConfig } from './config.ts';
import { connectSharedStore } from '../lib/stores/shared-store.ts';
import { startConsole } from './server.ts';

const config = orExitOnConfigError(() => readConsoleConfig());
const { env } = config;
const log = createLogger('console');
const policiesDir = policiesDirectory(env);
const sharedStore = await connectSharedStore(log, { url: config.redisUrl });
const server = await startConsole({
  port: config.port,
  host: config.host,
  gatewayUrl: config.gatewayUrl,
  policiesDir,
  releasesDir: releasesDirectory(policiesDir, env),
  sharedStore,
  namespace: redisNamespace(env),
  releaseKey: releaseKeyFromPem(config.releasePrivateKey),
  trustedKeys: trustedReleaseKeys(env),
  schema: buildApiSchema(readFileSync(config.supergraphPath, 'utf8')),
  ...(config.accessLogUri ? { accessLogUri: config.accessLogUri } : {}),
  ...(config.sessionIdleMs !== undefined ? { sessionIdleMs: config.sessionIdleMs } : {}),
  secureCookies: config.secureCookies,
  ...(config.processHosts ? { processHosts: config.processHosts } : {}),
  verification: config.verification,
  log,
});
log.info({ url: server.url }, 'privacy console listening');
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(
    signal,
    () =>
      void server
        .close()
        .then(() => sharedStore.close())
        .then(() => process.exit(0)),
  );
}
