/**
 * `npm start`: the whole federation on one machine. Starts the store (embedded unless
 * MONGODB_URI is set) and says where it is in .data/store.json for the other commands, seeds it
 * when empty, starts each department and the gateway as their own processes (restarted with a
 * back-off when one stops: supervisor.ts), then the privacy office's console, and prints their
 * URLs and a first query. Ctrl-C stops everything it started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ASSERTION_ENV, generateAssertionKeyPair } from '../lib/identity/assertion.ts';
import { orExitOnConfigError } from '../lib/config/read.ts';
import { createLogger } from '../lib/logger.ts';
import { startMongo } from '../lib/stores/mongo.ts';
import { metricsPort } from '../lib/observability/metrics.ts';
import { ACCESS_LOG_DEPARTMENT } from '../lib/access-log/store.ts';
import { defaultSubgraphPort, departments } from '../subgraphs/departments.ts';
import { ensureDemoData } from '../subgraphs/seed.ts';
import { RELEASE_ENV } from '../lib/policy/releases/signed-release.ts';
import { childEnvironment, departmentMetricsOff, readToolSettings } from './config.ts';
import { readDemoKeys } from './demo-keys.ts';
import {
  LOCAL_RELEASE_KEY_PATH,
  LOCAL_RELEASES_DIR,
  startLocalReleaser,
  type LocalReleaser,
} from './local-releaser.ts';
import {
  DATA_DIRECTORY,
  FIRST_QUERY_LISTS,
  PID_DIRECTORY,
  SHOWCASE_CALLER,
  firstQuery,
  removePidFiles,
  removeRunningStore,
  showcaseCandidates,
  showcaseSubject,
  writePidFile,
  writeRunningStore,
} from './stack.ts';
import { supervise, type Supervised } from './supervisor.ts';
import { nodeFlags } from '../lib/processes.ts';

const settings = orExitOnConfigError(() => readToolSettings());
const departmentMetricsOffSetting = orExitOnConfigError(() => departmentMetricsOff());
const log = createLogger('start');
const root = fileURLToPath(new URL('..', import.meta.url));
const { gatewayPort, consolePort } = settings;
/** Departments listen on 4001..4005, or on DEPARTMENT_BASE_PORT + 0..4. */
const departmentPort = (name: string): number =>
  settings.departmentBasePort !== undefined
    ? settings.departmentBasePort + departments.findIndex((department) => department.name === name)
    : defaultSubgraphPort(name);
/**
 * Each process's operator listener (/metrics, /status): the configured port (the gateway's
 * GATEWAY_METRICS_PORT), else METRICS_PORT_OFFSET above its own port, set for each child
 * explicitly and checked free with the others below, since a port taken there stops the process
 * at every restart. Undefined when there is none.
 */
const operatorPort = (mainPort: number, configured: number | 'off' | undefined): number | undefined => {
  if (!settings.shared.metrics || configured === 'off') return undefined;
  return configured ?? metricsPort({ enabled: true, port: undefined, host: '127.0.0.1' }, mainPort);
};
const gatewayOperatorPort = operatorPort(gatewayPort, settings.gatewayMetricsPort);
const departmentOperatorPort = (name: string): number | undefined =>
  operatorPort(departmentPort(name), departmentMetricsOffSetting ? 'off' : undefined);
/** The child's setting for its operator port, when it has one (`off` reaches it from this environment). */
const operatorSetting = (variable: string, port: number | undefined): Record<string, string> =>
  port === undefined ? {} : { [variable]: String(port) };
const processes: Supervised[] = [];
let stopping = false;
// This machine's releases, signed with its local key, stay with its store in .data/, out of the
// policies folder that is committed (and that tests copy).
const releasesDir = settings.shared.releasesDir ?? LOCAL_RELEASES_DIR;
let localRelease: LocalReleaser | undefined;

/** The ports this stack listens on, checked free before anything starts: a port taken by another program would otherwise answer its readiness checks. */
async function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(true));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(false)));
  });
}
/** What listens on a port, and the setting that moves it. */
interface PlannedPort {
  what: string;
  setting: string;
  port: number | undefined;
}
const ports: PlannedPort[] = [
  { what: 'the gateway', setting: 'GATEWAY_PORT', port: gatewayPort },
  {
    what: "the gateway's operator listener",
    setting: settings.gatewayMetricsPort === undefined ? 'GATEWAY_PORT' : 'GATEWAY_METRICS_PORT',
    port: gatewayOperatorPort,
  },
  { what: 'the console', setting: 'CONSOLE_PORT', port: consolePort },
  ...departments.flatMap(({ name }): PlannedPort[] => [
    { what: name, setting: 'DEPARTMENT_BASE_PORT', port: departmentPort(name) },
    { what: `${name}'s operator listener`, setting: 'DEPARTMENT_BASE_PORT', port: departmentOperatorPort(name) },
  ]),
  {
    what: 'the embedded store',
    setting: 'EMBEDDED_MONGO_PORT',
    port: settings.shared.mongoUri ? undefined : settings.embeddedMongoPort,
  },
];
for (const { what, setting, port } of ports) {
  if (port && (await portInUse(port))) {
    log.error(
      { port },
      `port ${port} for ${what} (${setting}) is in use: is another npm start running? Stop it, or set ${setting} to another port`,
    );
    process.exit(1);
  }
}

const mongo = await startMongo({ dataDir: DATA_DIRECTORY, log, port: settings.embeddedMongoPort });
// The command-line tools (npm run audit, npm run seed) use this store when no MONGODB_URI is set.
if (mongo.embedded) writeRunningStore({ uri: mongo.uri, description: mongo.description });

async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    await localRelease?.close();
    await Promise.all(processes.map((supervised) => supervised.stop()));
    removePidFiles();
    removeRunningStore();
    await mongo.stop();
  }
  process.exit(code);
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => void shutdown(0));
// Whatever fails in this process, the processes it started stop with it rather than run on orphaned.
for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
  process.once(event, (error) => {
    log.error({ err: error }, 'npm start failed; stopping every process it started');
    void shutdown(1);
  });
}

/** Starts one process under supervision: reported and restarted when it stops without being asked. */
function run(name: string, script: string, args: string[], env: Record<string, string>): void {
  processes.push(
    supervise({
      name,
      log,
      start: (): ChildProcess =>
        spawn(process.execPath, [...nodeFlags(), script, ...args], {
          cwd: root,
          env: childEnvironment({ [RELEASE_ENV.DIR]: releasesDir, ...env }),
          stdio: ['ignore', 'inherit', 'inherit'],
        }),
      onStart: (child) => {
        if (child.pid) writePidFile(name, child.pid);
      },
    }),
  );
}

/**
 * Departments and the gateway are ready in seconds on an idle machine; a loaded one (a test suite
 * running beside, a laptop on battery) can take minutes to start six Node processes, so the wait
 * is long and is not silent.
 */
async function waitUntilReady(url: string, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let nextReport = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (Date.now() >= nextReport) {
      log.info({ url }, 'still waiting for it to be ready (a loaded machine starts processes slowly)');
      nextReport += 15_000;
    }
    const ready = await fetch(url, { signal: AbortSignal.timeout(1000) }).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} did not become ready within ${timeoutMs} ms`);
}

// A key pair for this run: the gateway signs identity assertions, the departments check them.
const assertionKeys = generateAssertionKeyPair();
try {
  // The local release key: every saved policy change is signed with it and goes live (development only).
  localRelease = await startLocalReleaser({
    log,
    policiesDir: settings.shared.policiesDir,
    releasesDir,
    supergraphPath: settings.supergraphPath,
  });
  await ensureDemoData({
    mongoUri: mongo.uri,
    embedded: mongo.embedded,
    subjects: settings.seedSubjects,
    log,
    referenceDate: settings.seedReferenceDate,
  });
  for (const { name } of departments) {
    run(name, 'subgraphs/main.ts', [name], {
      MONGODB_URI: mongo.uri,
      PORT: String(departmentPort(name)),
      ...operatorSetting('METRICS_PORT', departmentOperatorPort(name)),
      [ASSERTION_ENV.PUBLIC_KEYS]: assertionKeys.publicKeyPem,
      [RELEASE_ENV.PUBLIC_KEYS]: localRelease.publicKeyPem,
    });
  }
  await Promise.all(departments.map(({ name }) => waitUntilReady(`http://127.0.0.1:${departmentPort(name)}/readyz`)));
  // Every department has declared its indexes: the store gets the ones its queries can use (FerretDB on PostgreSQL).
  const adapted = await mongo.adaptIndexes({ except: [ACCESS_LOG_DEPARTMENT] });
  if (adapted.length > 0) log.info({ indexes: adapted.length }, 'store indexes adapted for FerretDB on PostgreSQL');
  // The gateway writes the access log into the same store (database credence_audit).
  run('gateway', 'gateway/main.ts', [], {
    GATEWAY_PORT: String(gatewayPort),
    ...operatorSetting('GATEWAY_METRICS_PORT', gatewayOperatorPort),
    MONGODB_URI: mongo.uri,
    // Answers wait for the gateway's own journal, not the store (docs/access-log.md).
    ACCESS_LOG_JOURNAL_DIR: join(DATA_DIRECTORY, 'access-journal'),
    SUBGRAPH_URLS: departments.map(({ name }) => `${name}=http://127.0.0.1:${departmentPort(name)}/graphql`).join(','),
    [ASSERTION_ENV.PRIVATE_KEY]: assertionKeys.privateKeyPem,
    [RELEASE_ENV.PUBLIC_KEYS]: localRelease.publicKeyPem,
  });
  await waitUntilReady(`http://127.0.0.1:${gatewayPort}/readyz`);
  // The privacy office's console signs approved proposals with the same local release key.
  run('console', 'console/main.ts', [], {
    CONSOLE_PORT: String(consolePort),
    GATEWAY_URL: `http://127.0.0.1:${gatewayPort}/graphql`,
    MONGODB_URI: mongo.uri,
    [RELEASE_ENV.PUBLIC_KEYS]: localRelease.publicKeyPem,
    [RELEASE_ENV.PRIVATE_KEY]: readFileSync(LOCAL_RELEASE_KEY_PATH, 'utf8'),
  });
  await waitUntilReady(`http://127.0.0.1:${consolePort}/healthz`);
} catch (error) {
  log.error({ err: error }, 'start-up failed');
  await shutdown(1);
}

const url = `http://127.0.0.1:${gatewayPort}/graphql`;
const apiKey = readDemoKeys(settings.shared.policiesDir).get(SHOWCASE_CALLER.consumer) ?? '';
const headers = {
  'content-type': 'application/json',
  'x-api-key': apiKey,
  'x-credence-purpose': SHOWCASE_CALLER.purpose,
};

/** The first candidate whose answer has records from every department, so the first query shows the join. */
async function findShowcaseSubject(): Promise<string> {
  try {
    return await findAnsweredShowcaseSubject();
  } catch (error) {
    log.warn({ err: error }, 'could not try the first query; showing it for the first seeded serious case');
    return showcaseSubject();
  }
}

async function findAnsweredShowcaseSubject(): Promise<string> {
  for (const uscc of showcaseCandidates(40)) {
    const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query: firstQuery(uscc) }) });
    const { data } = (await response.json()) as { data?: { subject?: Record<string, unknown[] | null> | null } };
    if (FIRST_QUERY_LISTS.every((list) => (data?.subject?.[list]?.length ?? 0) > 0)) return uscc;
  }
  return showcaseSubject();
}

const body = JSON.stringify({ query: firstQuery(await findShowcaseSubject()) });
console.log(`
Credence is running: ${url}
  departments: ${departments.map(({ name }) => `${name} :${departmentPort(name)}`).join(', ')}
  store: ${mongo.description}${mongo.embedded ? ' (npm run audit and npm run seed find it while this runs)' : ''}

A first query, joining all five departments for one subject:

curl -s ${url} -H 'content-type: application/json' \\
  -H 'x-api-key: ${apiKey}' -H 'x-credence-purpose: ${SHOWCASE_CALLER.purpose}' \\
  -d '${body}'

(${SHOWCASE_CALLER.consumer} is a demo consumer of policies/; its demo key and the others are in policies/demo-keys.md.)

A department down: kill $(cat ${relative(root, PID_DIRECTORY) || PID_DIRECTORY}/tax.pid) and send the query again; the department
is restarted after a second, and the full answer comes back.

The privacy office's console: http://127.0.0.1:${consolePort}/
  (sign in with an officer's demo key: privacy-office or privacy-office-reviewer in policies/demo-keys.md)

Press Ctrl-C to stop every process started here.
`);
