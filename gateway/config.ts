/** The gateway's configuration, read once from the environment (see the README's table). */
import { fileURLToPath } from 'node:url';
import type { AccessLogConfig } from '../lib/access-log/process.ts';
import type { ConsumerLimits } from '../lib/policy/model.ts';

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

export const DEFAULT_SUPERGRAPH_PATH = fileURLToPath(new URL('../schema/supergraph.graphql', import.meta.url));

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}".`);
  return value;
}

/** Parses `registry=http://host:4001/graphql,tax=http://host:4003/graphql`. */
export function parseSubgraphUrls(raw: string | undefined): Record<string, string> {
  if (!raw) return {};
  const entries = raw.split(',').map((pair) => pair.trim()).filter(Boolean).map((pair) => {
    const separator = pair.indexOf('=');
    const name = pair.slice(0, separator).trim();
    const url = pair.slice(separator + 1).trim();
    if (separator < 1 || !URL.canParse(url)) throw new Error(`SUBGRAPH_URLS entry "${pair}" is not of the form name=http://host:port/graphql.`);
    return [name, url] as const;
  });
  return Object.fromEntries(entries);
}

export function readGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return {
    host: env.GATEWAY_HOST ?? '127.0.0.1',
    port: integer(env, 'GATEWAY_PORT', 4000),
    supergraphPath: env.SUPERGRAPH_PATH ?? DEFAULT_SUPERGRAPH_PATH,
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
    redisNamespace: env.CREDENCE_REDIS_NAMESPACE ?? 'credence',
    explorer: env.GATEWAY_EXPLORER !== 'off',
    accessLog: {
      enabled: env.ACCESS_LOG !== 'off',
      mongoUri: env.ACCESS_LOG_MONGODB_URI || env.MONGODB_URI,
      instance: env.CREDENCE_GATEWAY_INSTANCE || undefined,
      checkpointEvery: integer(env, 'ACCESS_LOG_CHECKPOINT_EVERY', 1000),
      checkpointIntervalMs: integer(env, 'ACCESS_LOG_CHECKPOINT_INTERVAL_MS', 5000),
      writeTimeoutMs: integer(env, 'ACCESS_LOG_WRITE_TIMEOUT_MS', 3000),
    },
  };
}
