/**
 * One typed configuration module per kind of process: a mistyped setting stops the start of the
 * gateway, a department and the tools with a message naming the variable and exit code 78
 * (EX_CONFIG), before anything is connected or listened on; the readers refuse what they cannot
 * use and name the variable; and importing department code reads nothing from the environment.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ConfigError, EXIT_CONFIG } from '../lib/config/read.ts';
import { readSharedSettings } from '../lib/config/shared.ts';
import { readGatewayConfig, readGatewayProcessConfig } from '../gateway/config.ts';
import { ACCESS_LOG_KEY_ENV, AUDIT_PRIVATE_KEY_ENV, AUDIT_PUBLIC_KEY_ENV } from '../lib/access-log/keys.ts';
import { WITNESS_FILE_ENV } from '../lib/access-log/witness.ts';
import { ASSERTION_ENV } from '../lib/identity/assertion.ts';
import { RELEASE_ENV } from '../lib/policy/releases/signed-release.ts';
import { readDepartmentProcessConfig } from '../subgraphs/runtime/config.ts';
import { departmentMetricsOff, readToolSettings } from '../scripts/config.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

/** Starts `script` with `env` on top of a clean environment and returns its exit code and stderr. */
async function start(
  script: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string }> {
  const base = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn' };
  try {
    const { stderr } = await run(process.execPath, [script, ...args], {
      cwd: root,
      env: { ...base, ...env },
      timeout: 60_000,
    });
    return { code: 0, stderr };
  } catch (error) {
    const failed = error as { code: number | null; stderr: string };
    return { code: failed.code, stderr: failed.stderr };
  }
}

function assertStopsNaming(result: { code: number | null; stderr: string }, variable: string): void {
  assert.equal(result.code, EXIT_CONFIG, result.stderr);
  assert.match(result.stderr, new RegExp(`^credence: configuration error: .*\\b${variable}\\b`, 'm'));
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
}

describe('a mistyped setting stops start-up with a message naming the variable', () => {
  it('gateway: GATEWAY_PORT=eighty exits 78 naming GATEWAY_PORT', async () => {
    assertStopsNaming(await start('gateway/main.ts', [], { GATEWAY_PORT: 'eighty' }), 'GATEWAY_PORT');
  });

  it('gateway: a shared setting (LOG_LEVEL=verbose) exits 78 naming LOG_LEVEL', async () => {
    assertStopsNaming(await start('gateway/main.ts', [], { LOG_LEVEL: 'verbose' }), 'LOG_LEVEL');
  });

  it('gateway: ACCESS_LOG=of (a typo of off) exits 78 rather than run with or without the access log', async () => {
    assertStopsNaming(await start('gateway/main.ts', [], { ACCESS_LOG: 'of' }), 'ACCESS_LOG');
  });

  it('gateway: a missing assertion key exits 78 naming CREDENCE_ASSERTION_PRIVATE_KEY', async () => {
    assertStopsNaming(await start('gateway/main.ts', [], {}), 'CREDENCE_ASSERTION_PRIVATE_KEY');
  });

  it('department: PORT=40O1 exits 78 naming PORT (it was taken unvalidated)', async () => {
    assertStopsNaming(
      await start('subgraphs/main.ts', ['tax'], { MONGODB_URI: 'mongodb://127.0.0.1:1/unused', PORT: '40O1' }),
      'PORT',
    );
  });

  it('department: PORT=70000 exits 78 naming PORT', async () => {
    assertStopsNaming(
      await start('subgraphs/main.ts', ['tax'], { MONGODB_URI: 'mongodb://127.0.0.1:1/unused', PORT: '70000' }),
      'PORT',
    );
  });

  it('department: a restoration setting with a typo exits 78 naming it', async () => {
    assertStopsNaming(
      await start('subgraphs/main.ts', ['credit'], {
        MONGODB_URI: 'mongodb://127.0.0.1:1/unused',
        CREDENCE_RESTORATION_MINIMUM_DAYS: '1y',
      }),
      'CREDENCE_RESTORATION_MINIMUM_DAYS',
    );
  });

  it('department: no MONGODB_URI exits 78 naming MONGODB_URI', async () => {
    assertStopsNaming(await start('subgraphs/main.ts', ['tax'], {}), 'MONGODB_URI');
  });

  it('tools: npm run seed with SEED_REFERENCE_DATE=2026-13-45 exits 78 naming it, before starting a store', async () => {
    assertStopsNaming(await start('scripts/seed.ts', [], { SEED_REFERENCE_DATE: '2026-13-45' }), 'SEED_REFERENCE_DATE');
  });
});

describe('the configuration readers', () => {
  const refuses = (read: () => unknown, variable: string): void => {
    assert.throws(
      read,
      (error: unknown) =>
        error instanceof ConfigError && error.variable === variable && error.message.includes(variable),
    );
  };

  it('shared settings: defaults, and each bad value refused naming its variable', () => {
    const defaults = readSharedSettings({});
    assert.equal(defaults.logLevel, 'info');
    assert.equal(defaults.redisNamespace, 'credence');
    assert.equal(defaults.mongoDbPrefix, 'credence_');
    assert.equal(defaults.mongoUri, undefined);
    refuses(() => readSharedSettings({ LOG_LEVEL: 'loud' }), 'LOG_LEVEL');
    refuses(() => readSharedSettings({ MONGODB_URI: 'localhost:27017' }), 'MONGODB_URI');
    refuses(() => readSharedSettings({ REDIS_URL: 'http://127.0.0.1:6379' }), 'REDIS_URL');
    refuses(() => readSharedSettings({ FERRETDB_HANDLER: 'sqllite' }), 'FERRETDB_HANDLER');
  });

  it('a URL with a password is refused without repeating it', () => {
    assert.throws(
      () => readSharedSettings({ MONGODB_URI: 'mongdb://user:s3cret@db/x' }),
      (error: Error) => !error.message.includes('s3cret'),
    );
  });

  it('the gateway: numbers, ports and the namespace shared with the departments', () => {
    refuses(() => readGatewayConfig({ GATEWAY_PORT: '65536' }), 'GATEWAY_PORT');
    refuses(() => readGatewayConfig({ SUBGRAPH_TIMEOUT_MS: '10s' }), 'SUBGRAPH_TIMEOUT_MS');
    refuses(() => readGatewayConfig({ GATEWAY_REQUESTS_PER_MINUTE: '-1' }), 'GATEWAY_REQUESTS_PER_MINUTE');
    refuses(() => readGatewayConfig({ SUBGRAPH_URLS: 'tax' }), 'SUBGRAPH_URLS');
    refuses(() => readGatewayProcessConfig({}), 'CREDENCE_ASSERTION_PRIVATE_KEY');
    assert.equal(
      readGatewayConfig({ CREDENCE_REDIS_NAMESPACE: 'staging' }).redisNamespace,
      readSharedSettings({ CREDENCE_REDIS_NAMESPACE: 'staging' }).redisNamespace,
    );
    assert.equal(readGatewayConfig({ CREDENCE_GATEWAY_INSTANCE: 'gw-1' }).accessLog.instance, 'gw-1');
  });

  it('the gateway: GATEWAY_EXPLORER is on unless off, and anything else is refused naming it', () => {
    assert.equal(readGatewayConfig({}).explorer, true);
    assert.equal(readGatewayConfig({ GATEWAY_EXPLORER: 'on' }).explorer, true);
    assert.equal(readGatewayConfig({ GATEWAY_EXPLORER: 'off' }).explorer, false);
    // A misspelt "off" must not leave the explorer on in production.
    refuses(() => readGatewayConfig({ GATEWAY_EXPLORER: 'of' }), 'GATEWAY_EXPLORER');
    refuses(() => readGatewayConfig({ GATEWAY_EXPLORER: 'false' }), 'GATEWAY_EXPLORER');
  });

  it('a department: MONGODB_URI required, PORT checked, the default port its own', () => {
    refuses(() => readDepartmentProcessConfig(4003, {}), 'MONGODB_URI');
    refuses(() => readDepartmentProcessConfig(4003, { MONGODB_URI: 'mongodb://db/x', PORT: 'x' }), 'PORT');
    refuses(
      () => readDepartmentProcessConfig(4003, { MONGODB_URI: 'mongodb://db/x' }),
      'CREDENCE_ASSERTION_PUBLIC_KEYS',
    );
  });

  it('the tools: seed date, ports and retention checked', () => {
    assert.equal(readToolSettings({}).seedReferenceDate.toISOString(), '2026-11-01T00:00:00.000Z');
    assert.equal(
      readToolSettings({ SEED_REFERENCE_DATE: '2025-01-31' }).seedReferenceDate.toISOString(),
      '2025-01-31T00:00:00.000Z',
    );
    refuses(() => readToolSettings({ SEED_REFERENCE_DATE: '31/01/2025' }), 'SEED_REFERENCE_DATE');
    refuses(() => readToolSettings({ EMBEDDED_MONGO_PORT: 'ferret' }), 'EMBEDDED_MONGO_PORT');
    // npm start runs six departments: one METRICS_PORT cannot be theirs, but off turns their listeners off.
    refuses(() => departmentMetricsOff({ METRICS_PORT: '9999' }), 'METRICS_PORT');
    assert.equal(departmentMetricsOff({ METRICS_PORT: 'off' }), true);
    assert.equal(departmentMetricsOff({}), false);
    assert.equal(readToolSettings({ METRICS_PORT: '9999' }).gatewayPort, 4000, 'the other tools ignore METRICS_PORT');
    assert.equal(readToolSettings({ GATEWAY_METRICS_PORT: '9500' }).gatewayMetricsPort, 9500);
    assert.equal(readToolSettings({ GATEWAY_METRICS_PORT: 'off' }).gatewayMetricsPort, 'off');
    refuses(() => readToolSettings({ ACCESS_LOG_RETENTION_DAYS: '3 years' }), 'ACCESS_LOG_RETENTION_DAYS');
    assert.equal(
      readToolSettings({ MONGODB_URI: 'mongodb://a/x', ACCESS_LOG_MONGODB_URI: 'mongodb://b/y' }).accessLogMongoUri,
      'mongodb://b/y',
    );
  });
});

describe('department code reads nothing from the environment when imported', () => {
  it('importing the restoration and seed modules with a bad restoration setting does not throw; reading it does', async () => {
    const script = `
      await import('./subgraphs/runtime/restoration-settings.ts');
      await import('./subgraphs/runtime/seed-subjects.ts');
      await import('./subgraphs/credit/restoration.ts');
      const { restorationSettings } = await import('./subgraphs/runtime/config.ts');
      console.log('imported');
      try { restorationSettings(); } catch (error) { console.log('read: ' + error.message); }
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', CREDENCE_RESTORATION_MINIMUM_DAYS: 'soon' },
    });
    assert.match(stdout, /^imported\nread: CREDENCE_RESTORATION_MINIMUM_DAYS must be a whole number/);
  });
});

describe('docs/configuration.md', () => {
  it('names every variable the configuration modules read', () => {
    const modules = [
      'lib/config/shared.ts',
      'gateway/config.ts',
      'subgraphs/runtime/config.ts',
      'scripts/config.ts',
      'subgraphs/runtime/restoration-settings.ts',
    ];
    const named = modules.flatMap((path) =>
      [
        ...readFileSync(new URL(`../${path}`, import.meta.url), 'utf8').matchAll(
          /'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|PORT|HOST)'/g,
        ),
      ].map(([, name]) => name ?? ''),
    );
    const constants = [
      ACCESS_LOG_KEY_ENV,
      AUDIT_PRIVATE_KEY_ENV,
      AUDIT_PUBLIC_KEY_ENV,
      WITNESS_FILE_ENV,
      ...Object.values(ASSERTION_ENV),
      ...Object.values(RELEASE_ENV),
    ];
    const variables = [...new Set([...named, ...constants, 'ACCESS_LOG', 'LOG_LEVEL'])].sort();
    assert.ok(variables.length >= 45, `the modules name the variables (found ${variables.length})`);
    const doc = readFileSync(new URL('../docs/configuration.md', import.meta.url), 'utf8');
    // A row of its own, or (the replaced restoration variables) named in the row of what replaced it.
    const documented = new Set(
      [...doc.matchAll(/^\| `([A-Z_]+)` \|/gm), ...doc.matchAll(/`(CREDENCE_NON_RESTORABLE_[A-Z_]+)`/g)].map(
        ([, name]) => name,
      ),
    );
    assert.deepEqual(
      variables.filter((name) => !documented.has(name)),
      [],
    );
  });
});
