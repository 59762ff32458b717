/**
 * The gateway's configuration: every setting the gateway process reads, read once from the
 * environment at start-up and checked then (docs/configuration.md lists them). A setting that
 * cannot be used stops the start with a message naming the variable; the only other module that
 * reads the environment is lib/config/shared.ts, for the settings every process shares.
 */
import type { KeyObject } from 'node:crypto';
import type { AccessLogConfig } from '../lib/access-log/process.ts';
import { ACCESS_LOG_KEY_ENV } from '../lib/access-log/keys.ts';
import {
  ConfigError,
  integer,
  oneOf,
  optional,
  parsed,
  port,
  portOrOff,
  text,
  type Environment,
} from '../lib/config/read.ts';
import type { MetricsSettings } from '../lib/observability/metrics.ts';
import { DEFAULT_SUPERGRAPH_PATH, readSharedSettings, type SharedSettings } from '../lib/config/shared.ts';
import { ASSERTION_ENV, loadAssertionKeys, type AssertionSignerOptions } from '../lib/identity/assertion.ts';
import type { ConsumerLimits } from '../lib/policy/decision/model.ts';
import { RELEASE_ENV, trustedReleaseKeys } from '../lib/policy/releases/signed-release.ts';

export { DEFAULT_SUPERGRAPH_PATH };

export interface GatewayConfig {
  host: string;
  port: number;
  /** The composed supergraph the gateway serves. */
  supergraphPath: string;
  /** Subgraph URLs that replace those written in the supergraph, by subgraph name. */
  subgraphUrls: Record<string, string>;
  /** How long one subgraph call may take before it counts as unavailable. */
  subgraphTimeoutMs: number;
  /** Largest accepted request body in bytes. */
  bodyLimitBytes: number;
  accessLog: AccessLogConfig;
  /** Consecutive failed calls after which a department's circuit opens. */
  circuitFailureThreshold: number;
  /** How long an open circuit fails calls fast before one probe call is let through. */
  circuitCooldownMs: number;
  /** The limits of consumers whose policy entry sets none. */
  defaultLimits: Readonly<Required<ConsumerLimits>>;
  /** Prefix of the gateway's Redis keys (rate limits), so deployments sharing a Redis never mix. */
  redisNamespace: string;
  /** Serve the explorer (GraphiQL) at /explorer; GATEWAY_EXPLORER=off in production turns it off. */
  explorer: boolean;
  /** The operator listener for /metrics (CREDENCE_METRICS, GATEWAY_METRICS_PORT, GATEWAY_METRICS_HOST). */
  metrics: MetricsSettings;
}

/** What the gateway process needs besides `GatewayConfig` (which tests build for in-process gateways). */
export interface GatewayProcessConfig {
  gateway: GatewayConfig;
  shared: SharedSettings;
  /** CREDENCE_ASSERTION_PRIVATE_KEY (and CREDENCE_ASSERTION_KEY_ID): signs the identity assertions sent to departments. */
  assertionSigner: AssertionSignerOptions;
  /** CREDENCE_RELEASE_PUBLIC_KEYS: the policy release keys the gateway trusts. */
  trustedReleaseKeys: ReadonlyMap<string, KeyObject>;
}

/**
 * The limits of a consumer whose policy entry sets none (`limits:` in policies/consumers.yaml
 * overrides each). Sized for the schema: data is at most 4 levels deep, but the standard
 * introspection query that tools send is 15 (type references nest `ofType` 9 times); a full page
 * of 100 subjects with every department's records costs about 30,000.
 */
export const DEFAULT_CONSUMER_LIMITS: Readonly<Required<ConsumerLimits>> = Object.freeze({
  depth: 15,
  aliases: 30,
  rootFields: 20,
  cost: 50_000,
  tokens: 4_000,
  documentBytes: 32 * 1024,
  requestsPerMinute: 600,
  requestsPerDay: 200_000,
});

/** Items a list field is assumed to return, for cost, when no `first`/`limit` argument says. */
export const DEFAULT_LIST_SIZE = 5;

/** Parses `registry=http://host:4001/graphql,tax=http://host:4003/graphql`. */
export function parseSubgraphUrls(raw: string | undefined): Record<string, string> {
  if (!raw) return {};
  const entries = raw
    .split(',')
    .map((pair) => pair.trim())
    .filter(Boolean)
    .map((pair) => {
      const separator = pair.indexOf('=');
      const name = pair.slice(0, separator).trim();
      const url = pair.slice(separator + 1).trim();
      if (separator < 1 || !URL.canParse(url))
        throw new ConfigError(
          'SUBGRAPH_URLS',
          `SUBGRAPH_URLS entry "${pair}" is not of the form name=http://host:port/graphql.`,
        );
      return [name, url] as const;
    });
  return Object.fromEntries(entries);
}

export function readGatewayConfig(env: Environment = process.env): GatewayConfig {
  const shared = readSharedSettings(env);
  return {
    host: text(env, 'GATEWAY_HOST', '127.0.0.1'),
    port: port(env, 'GATEWAY_PORT', 4000),
    supergraphPath: text(env, 'SUPERGRAPH_PATH', DEFAULT_SUPERGRAPH_PATH),
    subgraphUrls: parseSubgraphUrls(env.SUBGRAPH_URLS),
    subgraphTimeoutMs: integer(env, 'SUBGRAPH_TIMEOUT_MS', 10_000),
    bodyLimitBytes: integer(env, 'GATEWAY_BODY_LIMIT_BYTES', 256 * 1024),
    circuitFailureThreshold: integer(env, 'GATEWAY_CIRCUIT_FAILURES', 5),
    circuitCooldownMs: integer(env, 'GATEWAY_CIRCUIT_COOLDOWN_MS', 5_000),
    defaultLimits: {
      ...DEFAULT_CONSUMER_LIMITS,
      requestsPerMinute: integer(env, 'GATEWAY_REQUESTS_PER_MINUTE', DEFAULT_CONSUMER_LIMITS.requestsPerMinute),
      requestsPerDay: integer(env, 'GATEWAY_REQUESTS_PER_DAY', DEFAULT_CONSUMER_LIMITS.requestsPerDay),
    },
    redisNamespace: shared.redisNamespace,
    explorer: oneOf(env, 'GATEWAY_EXPLORER', ['on', 'off'], 'on') === 'on',
    metrics: {
      enabled: shared.metrics,
      port: portOrOff(env, 'GATEWAY_METRICS_PORT'),
      host: text(env, 'GATEWAY_METRICS_HOST', '127.0.0.1'),
    },
    accessLog: {
      enabled: oneOf(env, 'ACCESS_LOG', ['on', 'off'], 'on') === 'on',
      mongoUri: optional(env, 'ACCESS_LOG_MONGODB_URI') ?? shared.mongoUri,
      instance: optional(env, 'CREDENCE_GATEWAY_INSTANCE'),
      checkpointKeyPem: optional(env, ACCESS_LOG_KEY_ENV),
      checkpointEvery: integer(env, 'ACCESS_LOG_CHECKPOINT_EVERY', 1000),
      checkpointIntervalMs: integer(env, 'ACCESS_LOG_CHECKPOINT_INTERVAL_MS', 5000),
      writeTimeoutMs: integer(env, 'ACCESS_LOG_WRITE_TIMEOUT_MS', 3000),
      journalDir: optional(env, 'ACCESS_LOG_JOURNAL_DIR'),
      shipIntervalMs: integer(env, 'ACCESS_LOG_SHIP_INTERVAL_MS', 100, 1),
      maxLagMs: integer(env, 'ACCESS_LOG_MAX_LAG_MS', 10_000, 1),
    },
  };
}

/** Everything the gateway process reads, for gateway/main.ts: stops the start on the first setting it cannot use. */
export function readGatewayProcessConfig(env: Environment = process.env): GatewayProcessConfig {
  return {
    gateway: readGatewayConfig(env),
    shared: readSharedSettings(env),
    assertionSigner: parsed(ASSERTION_ENV.PRIVATE_KEY, () => loadAssertionKeys(env, 'signer')),
    trustedReleaseKeys: parsed(RELEASE_ENV.PUBLIC_KEYS, () => trustedReleaseKeys(env)),
  };
}

/**
 * @apollo/gateway reports host facts (CPU count, OS, cloud vendor) to Apollo's servers every hour
 * unless APOLLO_TELEMETRY_DISABLED is set when it is constructed, and probes the cloud vendors'
 * metadata addresses to learn them. A credit platform sends nothing to a third party: the gateway
 * turns it off unless the operator has set the variable to something else on purpose.
 */
export function disableApolloTelemetry(env: NodeJS.ProcessEnv = process.env): void {
  env.APOLLO_TELEMETRY_DISABLED ??= 'true';
}
