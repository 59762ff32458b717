/**
 * The command-line tools' configuration (`npm start`, `npm run seed`, `npm run audit`,
 * `npm run policy`): every setting they read, checked when the tool starts, with a message
 * naming the variable when one cannot be used (docs/configuration.md lists them). Settings
 * shared with the servers come from lib/config/shared.ts.
 */
import { resolve } from 'node:path';
import {
  AUDIT_PRIVATE_KEY_ENV,
  AUDIT_PUBLIC_KEY_ENV,
  loadAuditKey,
  loadAuditSigner,
  type AuditKey,
  type CheckpointSigner,
} from '../lib/access-log/keys.ts';
import { WITNESS_FILE_ENV } from '../lib/access-log/witness.ts';
import {
  ConfigError,
  day,
  integer,
  optional,
  parsed,
  port,
  portOrOff,
  text,
  type Environment,
} from '../lib/config/read.ts';
import { DEFAULT_SUPERGRAPH_PATH, readSharedSettings, type SharedSettings } from '../lib/config/shared.ts';
import { DEFAULT_SUBJECT_COUNT } from '../subgraphs/seed.ts';

/** The day seed dates are relative to unless SEED_REFERENCE_DATE says another, so demo data is identical whenever generated. */
export const DEFAULT_SEED_REFERENCE_DATE = '2026-11-01';
export const DEFAULT_RETENTION_DAYS = 1095;

export interface ToolSettings {
  shared: SharedSettings;
  /** `npm start`: the gateway's port (GATEWAY_PORT, which the gateway it starts reads too). */
  gatewayPort: number;
  /** `npm start`: the privacy office's console's port (CONSOLE_PORT, which the console reads too). */
  consolePort: number;
  /** `npm start`: the gateway's operator listener (GATEWAY_METRICS_PORT, which the gateway reads too); unset, its port + 5400. */
  gatewayMetricsPort: number | 'off' | undefined;
  /** `npm start`, `npm run seed`: the embedded FerretDB's port. */
  embeddedMongoPort: number;
  /** `npm start`: departments listen on DEPARTMENT_BASE_PORT + 0..4 when it is set, else on 4001..4005. */
  departmentBasePort: number | undefined;
  /** `npm start`: how many demo subjects an empty store is seeded with (SEED_SUBJECTS). */
  seedSubjects: number;
  seedReferenceDate: Date;
  /** The supergraph the policy tools and the local releaser check policies against. */
  supergraphPath: string;
  /** `npm run audit`: the access log's store, ACCESS_LOG_MONGODB_URI else MONGODB_URI. */
  accessLogMongoUri: string | undefined;
  /** Which variable named it, for the tool to say. */
  accessLogMongoUriFrom: 'ACCESS_LOG_MONGODB_URI' | 'MONGODB_URI' | undefined;
  /** `npm run audit`: how long records are kept, unless --retention-days says. */
  retentionDays: number;
  /** `npm run audit`: the witness file, unless --witness names one. */
  witnessFile: string | undefined;
  /** `npm run policy`, `npm run conformance`: where the command was typed (npm runs scripts from the package root). */
  invocationDir: string | undefined;
  /** `npm run conformance`: how long the federation audit waits for a gateway to start (GATEWAY_TIMEOUT, ms; the audit's own default of 5 s is too short on a loaded machine). */
  conformanceGatewayTimeoutMs: number;
}

/**
 * `npm start`: whether METRICS_PORT turns the departments' operator listeners off. One port cannot
 * serve the six departments it runs, so a number stops it, naming the variable (the other tools
 * ignore METRICS_PORT and do not read it).
 */
export function departmentMetricsOff(env: Environment = process.env): boolean {
  const setting = portOrOff(env, 'METRICS_PORT');
  if (setting === undefined || setting === 'off') return setting === 'off';
  throw new ConfigError(
    'METRICS_PORT',
    "METRICS_PORT under npm start can only be off: each department's operator listener is its port + 5400.",
  );
}

export function readToolSettings(env: Environment = process.env): ToolSettings {
  const shared = readSharedSettings(env);
  return {
    shared,
    gatewayPort: port(env, 'GATEWAY_PORT', 4000),
    consolePort: port(env, 'CONSOLE_PORT', 4100),
    gatewayMetricsPort: portOrOff(env, 'GATEWAY_METRICS_PORT'),
    embeddedMongoPort: port(env, 'EMBEDDED_MONGO_PORT', 27018),
    departmentBasePort:
      optional(env, 'DEPARTMENT_BASE_PORT') === undefined ? undefined : port(env, 'DEPARTMENT_BASE_PORT', 4001),
    seedSubjects: integer(env, 'SEED_SUBJECTS', DEFAULT_SUBJECT_COUNT),
    seedReferenceDate: day(env, 'SEED_REFERENCE_DATE', DEFAULT_SEED_REFERENCE_DATE),
    supergraphPath: text(env, 'SUPERGRAPH_PATH', DEFAULT_SUPERGRAPH_PATH),
    accessLogMongoUri: optional(env, 'ACCESS_LOG_MONGODB_URI') ?? shared.mongoUri,
    accessLogMongoUriFrom:
      optional(env, 'ACCESS_LOG_MONGODB_URI') !== undefined
        ? 'ACCESS_LOG_MONGODB_URI'
        : shared.mongoUri !== undefined
          ? 'MONGODB_URI'
          : undefined,
    retentionDays: integer(env, 'ACCESS_LOG_RETENTION_DAYS', DEFAULT_RETENTION_DAYS),
    witnessFile: optional(env, WITNESS_FILE_ENV),
    invocationDir: optional(env, 'INIT_CWD'),
    conformanceGatewayTimeoutMs: integer(env, 'GATEWAY_TIMEOUT', 60_000),
  };
}

/** The privacy office's audit key's public half (or null), for `npm run audit -- verify`. */
export function auditKey(env: Environment = process.env): AuditKey | null {
  return parsed(AUDIT_PUBLIC_KEY_ENV, () => loadAuditKey(env));
}

/** The privacy office's audit key, for `npm run audit -- prune` and `witness` (required there). */
export function auditSigner(env: Environment = process.env): CheckpointSigner {
  return parsed(AUDIT_PRIVATE_KEY_ENV, () => loadAuditSigner(env));
}

/**
 * The environment `npm run policy` and `npm run schema` hand their commands: they read the release
 * variables (CREDENCE_RELEASE_*, POLICY_RELEASES_DIR, SUPERGRAPH_PATH) and POLICIES_DIR through
 * their own parsers or readToolSettings, and tests hand them another.
 */
export function policyCommandEnvironment(): Environment {
  return process.env;
}

/** The environment of a process a tool starts (`npm start`): this one's, with the given settings on top. */
export function childEnvironment(settings: Readonly<Record<string, string>>): Record<string, string | undefined> {
  return { ...process.env, ...settings };
}

/** `npm start`'s local state folder when CREDENCE_DATA_DIR names one (resolved from where the tool runs), else undefined for the default `.data/`. */
export function dataDirectory(env: Environment = process.env): string | undefined {
  const configured = optional(env, 'CREDENCE_DATA_DIR');
  return configured === undefined ? undefined : resolve(configured);
}
