/**
 * A department's configuration: every setting a department process reads, read once from the
 * environment at start-up and checked then (docs/configuration.md lists them). A setting that
 * cannot be used stops the start with a message naming the variable. The restoration settings
 * (R5, R6) are read here too, on first use rather than when a module is imported, so that
 * importing department code has no effect and a typo still stops the process that needs them.
 */
import type { KeyObject } from 'node:crypto';
import { ConfigError, parsed, port, portOrOff, text, type Environment } from '../../lib/config/read.ts';
import type { MetricsSettings } from '../../lib/observability/metrics.ts';
import { readSharedSettings, type SharedSettings } from '../../lib/config/shared.ts';
import { ASSERTION_ENV, loadAssertionKeys, type AssertionVerifierOptions } from '../../lib/identity/assertion.ts';
import { RELEASE_ENV, trustedReleaseKeys } from '../../lib/policy/releases/signed-release.ts';
import { readRestorationSettings, type RestorationSettings } from './restoration-settings.ts';

export interface DepartmentProcessConfig {
  shared: SharedSettings;
  /** The department's store (MONGODB_URI): required for a department run on its own. */
  mongoUri: string;
  /** PORT, else the department's port under `npm start` (4001, 4002, ...). */
  port: number;
  /** HOST, else 127.0.0.1. */
  host: string;
  /** CREDENCE_ASSERTION_PUBLIC_KEYS: the gateway's keys, which every request's assertion must be signed by. */
  assertionKeys: AssertionVerifierOptions;
  /** CREDENCE_RELEASE_PUBLIC_KEYS: the policy release keys the department trusts. */
  trustedReleaseKeys: ReadonlyMap<string, KeyObject>;
  restoration: RestorationSettings;
  /** The operator listener for /metrics (CREDENCE_METRICS, METRICS_PORT, METRICS_HOST). */
  metrics: MetricsSettings;
}

export function readDepartmentProcessConfig(
  defaultPort: number,
  env: Environment = process.env,
): DepartmentProcessConfig {
  const shared = readSharedSettings(env);
  if (!shared.mongoUri)
    throw new ConfigError(
      'MONGODB_URI',
      'MONGODB_URI is required to run a department on its own (npm start provides one).',
    );
  return {
    shared,
    mongoUri: shared.mongoUri,
    port: port(env, 'PORT', defaultPort),
    host: text(env, 'HOST', '127.0.0.1'),
    metrics: {
      enabled: shared.metrics,
      port: portOrOff(env, 'METRICS_PORT'),
      host: text(env, 'METRICS_HOST', '127.0.0.1'),
    },
    restoration: readRestorationConfig(env),
    assertionKeys: parsed(ASSERTION_ENV.PUBLIC_KEYS, () => loadAssertionKeys(env, 'verifier')),
    trustedReleaseKeys: parsed(RELEASE_ENV.PUBLIC_KEYS, () => trustedReleaseKeys(env)),
  };
}

/** The restoration settings, each error naming its variable. */
export function readRestorationConfig(env: Environment = process.env): RestorationSettings {
  try {
    return readRestorationSettings(env);
  } catch (error) {
    const variable = /\b(CREDENCE_[A-Z_]+)/.exec((error as Error).message)?.[1] ?? 'CREDENCE_NON_RESTORABLE_CATEGORIES';
    throw new ConfigError(variable, (error as Error).message);
  }
}

let restorationInForce: RestorationSettings | undefined;

/** The restoration settings in force in this process (read once, on first use). */
export function restorationSettings(): RestorationSettings {
  restorationInForce ??= readRestorationConfig();
  return restorationInForce;
}
