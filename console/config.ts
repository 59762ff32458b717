/**
 * The console's configuration: every setting it reads, checked when it starts, with a message
 * naming the variable when one cannot be used (docs/configuration.md). The release, policy and
 * store variables are the ones the other processes and `npm run policy -- release` read.
 */
import { AUDIT_PUBLIC_KEY_ENV, loadAuditKey } from '../lib/access-log/keys.ts';
import { integer, optional, optionalUrl, parsed, port, text, type Environment } from '../lib/config/read.ts';
import { DEFAULT_SUPERGRAPH_PATH } from '../lib/config/shared.ts';
import { RELEASE_ENV } from '../lib/policy/releases/signed-release.ts';
import type { VerificationSettings } from './status.ts';

export interface ConsoleConfig {
  port: number;
  host: string;
  /** The gateway's GraphQL URL: the access log is read through it, as the officer. */
  gatewayUrl: string;
  /** The release key approved proposals are signed with (CREDENCE_RELEASE_PRIVATE_KEY), required. */
  releasePrivateKey: string;
  supergraphPath: string;
  redisUrl: string | undefined;
  /** ACCESS_LOG_MONGODB_URI, else MONGODB_URI: the store verification reads. */
  accessLogUri: string | undefined;
  sessionIdleMs: number | undefined;
  /** CONSOLE_SECURE_COOKIES=1 behind HTTPS. */
  secureCookies: boolean;
  /** CONSOLE_PROCESS_HOSTS: the hosts whose processes' status pages the console may read. */
  processHosts: string[] | undefined;
  verification: VerificationSettings;
  /** What the shared policy and release readers are given (they read their own variables). */
  env: Environment;
}

export function readConsoleConfig(env: Environment = process.env): ConsoleConfig {
  const releasePrivateKey = optional(env, RELEASE_ENV.PRIVATE_KEY);
  if (!releasePrivateKey?.trim())
    throw new Error(
      `${RELEASE_ENV.PRIVATE_KEY} is not set: the console signs approved proposals with the release key.`,
    );
  const idle = optional(env, 'CONSOLE_SESSION_IDLE_MS');
  const hosts = optional(env, 'CONSOLE_PROCESS_HOSTS');
  return {
    port: port(env, 'CONSOLE_PORT', 4100),
    host: text(env, 'CONSOLE_HOST', '127.0.0.1'),
    gatewayUrl: optionalUrl(env, 'GATEWAY_URL', ['http', 'https']) ?? 'http://127.0.0.1:4000/graphql',
    releasePrivateKey,
    supergraphPath: text(env, 'SUPERGRAPH_PATH', DEFAULT_SUPERGRAPH_PATH),
    redisUrl: optional(env, 'REDIS_URL'),
    accessLogUri: optional(env, 'ACCESS_LOG_MONGODB_URI') ?? optional(env, 'MONGODB_URI'),
    sessionIdleMs: idle === undefined ? undefined : integer(env, 'CONSOLE_SESSION_IDLE_MS', 0, 1),
    secureCookies: optional(env, 'CONSOLE_SECURE_COOKIES') === '1',
    processHosts: hosts?.split(',').map((host) => host.trim()),
    verification: {
      auditKey: parsed(AUDIT_PUBLIC_KEY_ENV, () => loadAuditKey(env)),
      retentionDays: integer(env, 'ACCESS_LOG_RETENTION_DAYS', 1095, 1),
    },
    env,
  };
}
