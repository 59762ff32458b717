/**
 * Reading settings from an environment: each reader names the variable in its error, so that a
 * mistyped setting stops a process at start-up with a message an operator can act on, instead of
 * a default silently taking its place. Pure: the environment is passed in; only the configuration
 * modules (docs/configuration.md) pass the process's own.
 */

/** The variables of a process, or a test's stand-in for them. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** A setting that cannot be used: the message names the variable and what it must be. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(message);
    this.variable = variable;
  }
}

/** The value, or the fallback when the variable is unset or empty. */
export function text(env: Environment, name: string, fallback: string): string {
  const raw = env[name];
  return raw === undefined || raw === '' ? fallback : raw;
}

/** The value, or undefined when the variable is unset or empty. */
export function optional(env: Environment, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw === '' ? undefined : raw;
}

/** A whole number from `min` (0 unless given); a typo must not become NaN, which compares false to every limit. */
export function integer(env: Environment, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = /^\s*\d+\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new ConfigError(name, `${name} must be a whole number${min > 0 ? ` of at least ${min}` : ''}, got "${raw}".`);
  }
  return value;
}

/** A number from 0 to 1 (a ratio): a typo must not become NaN, nor a percentage be read as a ratio. */
export function fraction(env: Environment, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = /^\s*(?:0|1|0?\.\d+|[01]\.0*)\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= 0 && value <= 1))
    throw new ConfigError(name, `${name} must be a number from 0 to 1, got "${raw.slice(0, 64)}".`);
  return value;
}

/** A TCP port, 0 to 65535 (0 picks a free one). */
export function port(env: Environment, name: string, fallback: number): number {
  const value = integer(env, name, fallback);
  if (value > 65_535) throw new ConfigError(name, `${name} must be a port from 0 to 65535, got "${env[name]}".`);
  return value;
}

/** A TCP port (0 picks a free one), `off`, or undefined when unset (the caller derives a default). */
export function portOrOff(env: Environment, name: string): number | 'off' | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (raw.trim() === 'off') return 'off';
  if (!/^\s*\d+\s*$/.test(raw) || Number(raw) > 65_535)
    throw new ConfigError(name, `${name} must be a port from 0 to 65535 or off, got "${raw.slice(0, 64)}".`);
  return Number(raw);
}

/** One of the listed values. */
export function oneOf<const T extends string>(env: Environment, name: string, values: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(values as readonly string[]).includes(raw))
    throw new ConfigError(name, `${name} must be one of ${values.join(', ')}, got "${raw.slice(0, 64)}".`);
  return raw as T;
}

/** A URL of one of the given protocols (without the colon), or undefined when unset. */
export function optionalUrl(env: Environment, name: string, protocols: readonly string[]): string | undefined {
  const raw = optional(env, name);
  if (raw === undefined) return undefined;
  const parsed = URL.canParse(raw) ? new URL(raw) : undefined;
  if (!parsed || !protocols.includes(parsed.protocol.slice(0, -1))) {
    // The value may hold a password: it is not repeated.
    throw new ConfigError(name, `${name} must be a ${protocols.join(' or ')} URL.`);
  }
  return raw;
}

/** A date written YYYY-MM-DD, as midnight UTC. */
export function day(env: Environment, name: string, fallback: string): Date {
  const raw = text(env, name, fallback);
  const date = /^\d{4}-\d{2}-\d{2}$/.test(raw) ? new Date(`${raw}T00:00:00Z`) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime()))
    throw new ConfigError(name, `${name} must be a date written YYYY-MM-DD, got "${raw.slice(0, 64)}".`);
  return date;
}

/**
 * Runs a process's start-up reading of its configuration: a ConfigError ends the process with
 * exit code 78 (EX_CONFIG) and the message on stderr, without a stack trace.
 */
export function orExitOnConfigError<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`credence: configuration error: ${error.message}\n`);
    process.exit(EXIT_CONFIG);
  }
}

/** A parser that throws a plain Error (keys, lists) made to throw a ConfigError naming its variable. */
export function parsed<T>(name: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(name, (error as Error).message);
  }
}

/** sysexits.h's EX_CONFIG: the process was started with a configuration it cannot use. */
export const EXIT_CONFIG = 78;
