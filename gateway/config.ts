/** The gateway's configuration, read once from the environment (see the README's table). */
import { fileURLToPath } from 'node:url';
import type { AccessLogConfig } from '../lib/access-log/process.ts';

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
}

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
