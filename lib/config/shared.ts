/**
 * The settings every kind of Credence process reads (gateway, department, command-line tools):
 * logging, the stores, the policy folder and its releases, the national catalog. Defined once
 * here so that no two modules read the same variable; the per-process configuration modules
 * (gateway/config.ts, subgraphs/runtime/config.ts, scripts/config.ts) add their own.
 *
 * Read at each call rather than once at import: a process reads them at start-up, and tests that
 * run several departments in one process set them before starting each.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, fraction, oneOf, optional, optionalUrl, text, type Environment } from './read.ts';

export const DEFAULT_POLICIES_DIR = fileURLToPath(new URL('../../policies', import.meta.url));
export const DEFAULT_CATALOG_PATH = fileURLToPath(new URL('../../schema/catalog.yaml', import.meta.url));
export const DEFAULT_SUPERGRAPH_PATH = fileURLToPath(new URL('../../schema/supergraph.graphql', import.meta.url));

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface SharedSettings {
  logLevel: LogLevel;
  /** A MongoDB-compatible server; unset, an embedded one is started (where a process starts one). */
  mongoUri: string | undefined;
  /** Each department's database is `<prefix><department>`. */
  mongoDbPrefix: string;
  /** A Redis that must work; unset, local Redis if it answers, else memory. */
  redisUrl: string | undefined;
  /** Prefix of Redis keys and channels, so deployments sharing a Redis never mix. */
  redisNamespace: string;
  policiesDir: string;
  /** Where signed releases are kept, when not `releases/` in the policies folder. */
  releasesDir: string | undefined;
  /** The national catalog edition in force. */
  catalogPath: string;
  /** Where the FerretDB binary (and CI's Node builds) are cached. */
  cacheDir: string;
  /** CREDENCE_METRICS: on (default) or off; off, no metric is recorded and no metrics listener opens. */
  metrics: boolean;
  /** The embedded FerretDB's backend: a PostgreSQL URL, or SQLite forced. */
  ferretdb: { postgresqlUrl: string | undefined; handler: 'postgresql' | 'sqlite' | undefined };
  /** OpenTelemetry traces (docs/tracing.md): off unless an OTLP endpoint or CREDENCE_TRACING says otherwise. */
  tracing: TracingSettings;
}

export const TRACE_EXPORTERS = ['off', 'otlp', 'discard'] as const;

export interface TracingSettings {
  /**
   * `off`: no tracer provider, the API's no-op tracer; `otlp`: spans sent to `endpoint` over
   * OTLP/HTTP; `discard`: spans made, batched and dropped (benchmarks: the cost of tracing
   * without a collector).
   */
  exporter: (typeof TRACE_EXPORTERS)[number];
  /** The OTLP/HTTP traces URL (…/v1/traces). */
  endpoint: string | undefined;
  /** The share of requests whose traces are recorded, from 0 to 1: a gateway decision departments follow. */
  sampleRatio: number;
}

/** The tracing settings: the standard OTEL_* variables where there are some, Credence's own for the rest. */
export function readTracingSettings(env: Environment): TracingSettings {
  const tracesEndpoint = optionalUrl(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', ['http', 'https']);
  const baseEndpoint = optionalUrl(env, 'OTEL_EXPORTER_OTLP_ENDPOINT', ['http', 'https']);
  // As the OTLP specification says: the traces endpoint is used as it is, the base one gets /v1/traces.
  const endpoint = tracesEndpoint ?? (baseEndpoint ? `${baseEndpoint.replace(/\/+$/, '')}/v1/traces` : undefined);
  const disabled = oneOf(env, 'OTEL_SDK_DISABLED', ['true', 'false'], 'false') === 'true';
  const exporter = disabled ? 'off' : oneOf(env, 'CREDENCE_TRACING', TRACE_EXPORTERS, endpoint ? 'otlp' : 'off');
  if (exporter === 'otlp' && !endpoint)
    throw new ConfigError(
      'CREDENCE_TRACING',
      'CREDENCE_TRACING=otlp needs OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT.',
    );
  return { exporter, endpoint, sampleRatio: fraction(env, 'CREDENCE_TRACE_SAMPLE_RATIO', 1) };
}

export function readSharedSettings(env: Environment = process.env): SharedSettings {
  const handler = optional(env, 'FERRETDB_HANDLER');
  return {
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    mongoUri: optionalUrl(env, 'MONGODB_URI', ['mongodb', 'mongodb+srv']),
    mongoDbPrefix: text(env, 'MONGODB_DB_PREFIX', 'credence_'),
    redisUrl: optionalUrl(env, 'REDIS_URL', ['redis', 'rediss']),
    redisNamespace: text(env, 'CREDENCE_REDIS_NAMESPACE', 'credence'),
    policiesDir: text(env, 'POLICIES_DIR', DEFAULT_POLICIES_DIR),
    releasesDir: optional(env, 'POLICY_RELEASES_DIR'),
    catalogPath: text(env, 'CREDENCE_CATALOG_PATH', DEFAULT_CATALOG_PATH),
    cacheDir: text(env, 'CREDENCE_CACHE_DIR', join(text(env, 'XDG_CACHE_HOME', join(homedir(), '.cache')), 'credence')),
    metrics: oneOf(env, 'CREDENCE_METRICS', ['on', 'off'], 'on') === 'on',
    ferretdb: {
      postgresqlUrl: optionalUrl(env, 'FERRETDB_POSTGRESQL_URL', ['postgres', 'postgresql']),
      handler:
        handler === undefined ? undefined : oneOf(env, 'FERRETDB_HANDLER', ['postgresql', 'sqlite'], 'postgresql'),
    },
    tracing: readTracingSettings(env),
  };
}

/** This process's shared settings. */
export const sharedSettings = (): SharedSettings => readSharedSettings(process.env);
