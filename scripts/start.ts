/**
 * `npm start`: the whole federation on one machine. Starts the store (embedded unless
 * MONGODB_URI is set), seeds it when empty, starts each department and the gateway as their own
 * processes, then the privacy office's console, and prints their URLs and a first query. Ctrl-C stops everything it started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ASSERTION_ENV, generateAssertionKeyPair } from '../lib/identity/assertion.ts';
import { createLogger } from '../lib/logger.ts';
import { startMongo } from '../lib/stores/mongo.ts';
import { stopChild } from '../lib/stores/ferretdb.ts';
import { defaultSubgraphPort, departments } from '../subgraphs/departments.ts';
import { DEFAULT_SUBJECT_COUNT, isSeeded, seedAll } from '../subgraphs/seed.ts';
import { policiesDirectory } from '../lib/policy/process.ts';
import { RELEASE_ENV } from '../lib/policy/release.ts';
import { readDemoKeys } from './demo-keys.ts';
import { LOCAL_RELEASE_KEY_PATH, LOCAL_RELEASES_DIR, startLocalReleaser, type LocalReleaser } from './local-releaser.ts';
import { DATA_DIRECTORY, FIRST_QUERY_LISTS, SHOWCASE_CALLER, firstQuery, showcaseCandidates, showcaseSubject } from './stack.ts';

const log = createLogger('start');
const root = fileURLToPath(new URL('..', import.meta.url));
const gatewayPort = Number(process.env.GATEWAY_PORT ?? 4000);
const consolePort = Number(process.env.CONSOLE_PORT ?? 4100);
const children: ChildProcess[] = [];
let stopping = false;
// This machine's releases, signed with its local key, stay with its store in .data/, out of the
// policies folder that is committed (and that tests copy).
process.env[RELEASE_ENV.DIR] ??= LOCAL_RELEASES_DIR;
let localRelease: LocalReleaser | undefined;

const mongo = await startMongo({ dataDir: DATA_DIRECTORY, log, port: Number(process.env.EMBEDDED_MONGO_PORT ?? 27018) });

async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    await localRelease?.close();
    await Promise.all(children.map((child) => stopChild(child)));
    await mongo.stop();
  }
  process.exit(code);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void shutdown(0));

function run(script: string, args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [script, ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit'] });
  child.once('exit', (code, signal) => {
    if (stopping) return;
    // Ctrl-C in a terminal reaches every process of the group: a child that stopped cleanly was
    // asked to, and so is everything else. Only a crash is reported as one.
    const askedToStop = code === 0 || signal === 'SIGINT' || signal === 'SIGTERM';
    if (!askedToStop) log.error({ script, args, code, signal }, 'a process stopped unexpectedly; stopping everything');
    void shutdown(askedToStop ? 0 : 1);
  });
  children.push(child);
  return child;
}

async function waitUntilReady(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ready = await fetch(url, { signal: AbortSignal.timeout(1000) }).then((response) => response.ok, () => false);
    if (ready) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} did not become ready within ${timeoutMs} ms`);
}

// A key pair for this run: the gateway signs identity assertions, the departments check them.
const assertionKeys = generateAssertionKeyPair();
try {
  // The local release key: every saved policy change is signed with it and goes live (development only).
  localRelease = await startLocalReleaser({ log, policiesDir: policiesDirectory() });
  if (!(await isSeeded(mongo.uri))) {
    log.info({ subjects: DEFAULT_SUBJECT_COUNT }, 'empty store: seeding demo data');
    await seedAll({ mongoUri: mongo.uri, subjects: DEFAULT_SUBJECT_COUNT, log });
  }
  for (const { name } of departments) {
    run('subgraphs/main.ts', [name], {
      MONGODB_URI: mongo.uri,
      PORT: String(defaultSubgraphPort(name)),
      [ASSERTION_ENV.PUBLIC_KEYS]: assertionKeys.publicKeyPem,
      [RELEASE_ENV.PUBLIC_KEYS]: localRelease.publicKeyPem,
    });
  }
  await Promise.all(departments.map(({ name }) => waitUntilReady(`http://127.0.0.1:${defaultSubgraphPort(name)}/readyz`)));
  // The gateway writes the access log into the same store (database credence_audit).
  run('gateway/main.ts', [], {
    GATEWAY_PORT: String(gatewayPort),
    MONGODB_URI: mongo.uri,
    [ASSERTION_ENV.PRIVATE_KEY]: assertionKeys.privateKeyPem,
    [RELEASE_ENV.PUBLIC_KEYS]: localRelease.publicKeyPem,
  });
  await waitUntilReady(`http://127.0.0.1:${gatewayPort}/readyz`);
  // The privacy office's console signs approved proposals with the same local release key.
  run('console/main.ts', [], {
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
const apiKey = readDemoKeys(policiesDirectory()).get(SHOWCASE_CALLER.consumer) ?? '';
const headers = { 'content-type': 'application/json', 'x-api-key': apiKey, 'x-credence-purpose': SHOWCASE_CALLER.purpose };

/** The first candidate whose answer has records from every department, so the first query shows the join. */
async function findShowcaseSubject(): Promise<string> {
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
  departments: ${departments.map(({ name }) => `${name} :${defaultSubgraphPort(name)}`).join(', ')}
  store: ${mongo.description}

A first query, joining all five departments for one subject:

curl -s ${url} -H 'content-type: application/json' \\
  -H 'x-api-key: ${apiKey}' -H 'x-credence-purpose: ${SHOWCASE_CALLER.purpose}' \\
  -d '${body}'

(${SHOWCASE_CALLER.consumer} is a demo consumer of policies/; its demo key and the others are in policies/demo-keys.md.)

The privacy office's console: http://127.0.0.1:${consolePort}/
  (sign in with an officer's demo key: privacy-office or privacy-office-reviewer in policies/demo-keys.md)

Press Ctrl-C to stop every process started here.
`);
