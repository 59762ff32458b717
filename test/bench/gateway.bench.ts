/**
 * `npm run bench`: what Credence's gateway costs over a bare @apollo/gateway, on the query a
 * partner actually sends (one subject, records from all five departments).
 *
 * Both gateways run as their own processes in front of the same five department processes and
 * the same freshly seeded store, so the only difference measured is the gateway itself. Rounds
 * alternate between them so that drift on a noisy machine (CPU frequency, other load, garbage
 * piling up in the subgraphs) falls on both alike.
 *
 *   npm run bench -- [--subjects 2000] [--duration 10] [--connections 10] [--rounds 2] [--warmup 3]
 *
 * Progress goes to stderr, the results table to stdout. Exits 1 if any request failed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { createLogger } from '../../lib/logger.ts';
import { startMongo, type MongoServer } from '../../lib/stores/mongo.ts';
import { stopChild } from '../../lib/stores/ferretdb.ts';
import { freePort } from '../../lib/stores/net.ts';
import { departments } from '../../subgraphs/departments.ts';
import { DEFAULT_SUBJECT_COUNT, seedAll } from '../../subgraphs/seed.ts';
import { seedSubject } from '../../subgraphs/runtime/seed-subjects.ts';
import { firstQuery, showcaseSubject } from '../../scripts/stack.ts';
import { dropDepartmentDatabases } from '../support/databases.ts';

// ---------------------------------------------------------------------------------------------
// Settings

const { values: cli } = parseArgs({
  options: {
    subjects: { type: 'string', default: String(DEFAULT_SUBJECT_COUNT) },
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '3' },
  },
  strict: true,
});

function integerArg(name: string, raw: string, min: number): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer of at least ${min}, got "${raw}".`);
  return value;
}

const settings = {
  subjects: integerArg('subjects', cli.subjects, 1),
  /** Seconds per measured round. */
  duration: integerArg('duration', cli.duration, 1),
  connections: integerArg('connections', cli.connections, 1),
  rounds: integerArg('rounds', cli.rounds, 1),
  /** Seconds of unmeasured load per gateway first, so JIT and query-plan caches are warm in round 1. */
  warmup: integerArg('warmup', cli.warmup, 0),
};

/** How many subjects the request mix rotates through, so the load is not one document read over and over. */
const SUBJECTS_IN_MIX = 8;

// Every child gets LOG_LEVEL=warn regardless, so a debug setting here cannot slow one gateway down.
process.env.LOG_LEVEL ??= 'warn';
const log = createLogger('bench');
const root = fileURLToPath(new URL('../..', import.meta.url));

function progress(message: string): void {
  console.error(`bench: ${message}`);
}

// ---------------------------------------------------------------------------------------------
// Processes: everything started here is stopped on the way out, however the way out is taken.

// Gateways stop before departments, so no call in flight is cut off and logged as a failure.
const gatewayProcesses: ChildProcess[] = [];
const departmentProcesses: ChildProcess[] = [];
let mongo: MongoServer | undefined;
let dataDir: string | undefined;
let stopping = false;
let cleanedUp: Promise<void> | undefined;

// A department or gateway dying mid-run would otherwise show up only as a pile of errors.
let reportCrash: (error: Error) => void = () => {};
const crashed = new Promise<never>((_resolve, reject) => {
  reportCrash = reject;
});
// Only awaited through Promise.race; this keeps a crash during clean-up from going unhandled.
crashed.catch(() => {});

function cleanUp(): Promise<void> {
  cleanedUp ??= (async () => {
    stopping = true;
    await Promise.all(gatewayProcesses.map((child) => stopChild(child)));
    await Promise.all(departmentProcesses.map((child) => stopChild(child)));
    if (mongo) await dropDepartmentDatabases(mongo.uri).catch(() => {});
    await mongo?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  })();
  return cleanedUp;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    progress(`${signal}: stopping everything started here`);
    void cleanUp().finally(() => process.exit(130));
  });
}

function runNode(group: ChildProcess[], label: string, script: string, args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [script, ...args], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    // stdout stays ours for the results table; the children's warnings still reach stderr.
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  child.once('error', (error) => reportCrash(new Error(`${label} could not be started: ${error.message}`)));
  child.once('exit', (code, signal) => {
    if (!stopping) reportCrash(new Error(`${label} exited unexpectedly (code ${code}, signal ${signal})`));
  });
  group.push(child);
  return child;
}

async function waitUntil(label: string, ready: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await ready().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${label} was not ready within ${timeoutMs / 1000} s`);
}

async function isOk(url: string, init?: RequestInit): Promise<boolean> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(2000) });
  await response.body?.cancel();
  return response.ok;
}

// ---------------------------------------------------------------------------------------------
// The load

/** A gateway under test. */
interface Target {
  name: string;
  /** Its GraphQL endpoint. */
  url: string;
  /** Its process, whose CPU time is read from /proc. */
  pid: number;
}

/**
 * CPU milliseconds a process has used (user + system), from /proc/<pid>/stat. Throughput on a
 * 2-core machine shared with the departments and the store is noisy; the CPU a gateway spends per
 * request is a steadier measure of what the gateway itself costs.
 */
function cpuMilliseconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at field 3; utime, stime are 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const CLOCK_TICKS_PER_SECOND = 100;
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

const JSON_HEADERS = { 'content-type': 'application/json' };

/**
 * The serious-risk subjects among those seeded: only they have records in every department, so
 * every request exercises all five. The first of them is `showcaseSubject()`, the README's query.
 */
function benchmarkSubjects(seeded: number): string[] {
  const subjects: string[] = [];
  for (let index = 0; index < seeded && subjects.length < SUBJECTS_IN_MIX; index++) {
    const subject = seedSubject(index);
    if (subject.risk === 'serious') subjects.push(subject.uscc);
  }
  if (subjects[0] !== showcaseSubject()) throw new Error(`--subjects ${seeded} seeds no subject with records in every department; seed more.`);
  return subjects;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One request per body before any load: a benchmark of error answers would be worthless. */
async function verify(target: Target, body: string): Promise<void> {
  const response = await fetch(target.url, { method: 'POST', headers: JSON_HEADERS, body, signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    answer = undefined;
  }
  const subject = isRecord(answer) && isRecord(answer.data) ? answer.data.subject : undefined;
  const hasErrors = isRecord(answer) && answer.errors !== undefined;
  if (!response.ok || hasErrors || !isRecord(subject)) {
    throw new Error(`${target.name} did not answer the benchmark query with a subject and no errors (HTTP ${response.status}); `
      + `not benchmarking.\nquery: ${body}\nanswer: ${text.slice(0, 1000)}`);
  }
  const empty = Object.entries(subject).filter(([, value]) => Array.isArray(value) && value.length === 0).map(([field]) => field);
  if (empty.length > 0) throw new Error(`${target.name}: the benchmark subject has no ${empty.join(', ')}, so not every department would be exercised.\nquery: ${body}`);
}

/** Milliseconds one request takes, answered in full. */
async function timeRequest(target: Target, body: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(target.url, { method: 'POST', headers: JSON_HEADERS, body, signal: AbortSignal.timeout(30_000) });
  await response.text();
  if (!response.ok) throw new Error(`${target.name} answered HTTP ${response.status} outside the load`);
  return performance.now() - started;
}

/** The fastest of a few requests in a row: what one request costs when nothing else is going on. */
async function idleLatency(target: Target, body: string): Promise<number> {
  let fastest = Infinity;
  for (let i = 0; i < 5; i++) fastest = Math.min(fastest, await timeRequest(target, body));
  return fastest;
}

/**
 * Waits until `target` answers about as fast as when idle. When autocannon stops, the requests it
 * abandoned are still being worked on by the gateway, the departments and the store; unless they
 * drain first, they slow the next round, which belongs to the other gateway.
 */
async function settle(target: Target, body: string, idleMs: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await timeRequest(target, body) <= Math.max(2 * idleMs, idleMs + 20)) return;
  }
  throw new Error(`${target.name} did not get back to its idle latency (${idleMs.toFixed(0)} ms) within ${timeoutMs / 1000} s of a round`);
}

interface Round {
  requests: number;
  seconds: number;
  /** Latency percentiles in milliseconds. */
  p50: number;
  p99: number;
  /** Connection errors and timeouts. */
  connectionErrors: number;
  non2xx: number;
  /** HTTP 2xx answers carrying GraphQL errors. */
  graphqlErrors: number;
  /** CPU milliseconds the gateway process used during the round. */
  cpuMs: number;
}

async function load(target: Target, bodies: string[], seconds: number, connections: number): Promise<Round> {
  const cpuBefore = cpuMilliseconds(target.pid);
  const result = await autocannon({
    url: target.url,
    method: 'POST',
    headers: JSON_HEADERS,
    // Each connection cycles through the bodies in turn.
    requests: bodies.map((body) => ({ body })),
    duration: seconds,
    connections,
    // A 200 can still be a failed query (a department unavailable); those count as mismatches.
    verifyBody: (body) => typeof body === 'string' && !body.includes('"errors"'),
  });
  return {
    requests: result.requests.total,
    seconds: result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    connectionErrors: result.errors,
    non2xx: result.non2xx,
    graphqlErrors: result.mismatches,
    cpuMs: cpuMilliseconds(target.pid) - cpuBefore,
  };
}

// ---------------------------------------------------------------------------------------------
// Comparisons

interface Summary {
  target: Target;
  rounds: Round[];
  requestsPerSecond: number;
  /** Median over the rounds of each round's percentile: one odd round cannot swing it. */
  p50: number;
  p99: number;
  /** Gateway CPU milliseconds per answered request, over all rounds. */
  cpuPerRequest: number;
  failures: { connectionErrors: number; non2xx: number; graphqlErrors: number; emptyRounds: number; total: number };
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] ?? NaN : ((sorted[middle - 1] ?? NaN) + (sorted[middle] ?? NaN)) / 2;
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

function summarise(target: Target, rounds: Round[]): Summary {
  const connectionErrors = sum(rounds.map((round) => round.connectionErrors));
  const non2xx = sum(rounds.map((round) => round.non2xx));
  const graphqlErrors = sum(rounds.map((round) => round.graphqlErrors));
  // A round in which no request completed has no latencies at all; its zeros would look like speed.
  const emptyRounds = rounds.filter((round) => round.requests === 0).length;
  return {
    target,
    rounds,
    requestsPerSecond: sum(rounds.map((round) => round.requests)) / sum(rounds.map((round) => round.seconds)),
    p50: median(rounds.map((round) => round.p50)),
    p99: median(rounds.map((round) => round.p99)),
    cpuPerRequest: sum(rounds.map((round) => round.cpuMs)) / sum(rounds.map((round) => round.requests)),
    failures: { connectionErrors, non2xx, graphqlErrors, emptyRounds, total: connectionErrors + non2xx + graphqlErrors + emptyRounds },
  };
}

const COLUMNS = [28, 10, 9, 9, 13, 8] as const;

function row(cells: readonly string[]): string {
  return cells.map((cell, i) => (i === 0 ? cell.padEnd(COLUMNS[0]) : cell.padStart(COLUMNS[i] ?? 10))).join(' ');
}

function printComparison(label: string, a: Summary, b: Summary): void {
  const line = (summary: Summary): string => `${row([
    summary.target.name,
    summary.requestsPerSecond.toFixed(1),
    // autocannon records whole milliseconds; decimals would be invented precision.
    summary.p50.toFixed(0),
    summary.p99.toFixed(0),
    summary.cpuPerRequest.toFixed(2),
    String(summary.failures.total),
  ])}   ${summary.rounds.map((round) => (round.requests / round.seconds).toFixed(1)).join(', ')}`;
  const output = [
    '',
    `${label}`,
    `  ${settings.rounds} round(s) × ${settings.duration} s each, ${settings.connections} connections, after ${settings.warmup} s warm-up; `
      + 'req/s = all requests / all seconds; p50, p99 = median of the per-round values; '
      + 'CPU ms/req = gateway process CPU time per request',
    row(['gateway', 'req/s', 'p50 ms', 'p99 ms', 'CPU ms/req', 'errors']) + '   req/s per round',
    line(a),
    line(b),
    row([
      `${a.target.name} / ${b.target.name}`,
      `${(a.requestsPerSecond / b.requestsPerSecond).toFixed(2)}×`,
      `${(a.p50 / b.p50).toFixed(2)}×`,
      `${(a.p99 / b.p99).toFixed(2)}×`,
      `${(a.cpuPerRequest / b.cpuPerRequest).toFixed(2)}×`,
    ]),
  ];
  for (const summary of [a, b]) {
    const { connectionErrors, non2xx, graphqlErrors, emptyRounds, total } = summary.failures;
    if (total > 0) {
      output.push(`  ${summary.target.name}: ${connectionErrors} connection errors/timeouts, ${non2xx} non-2xx, `
        + `${graphqlErrors} answers with GraphQL errors, ${emptyRounds} round(s) in which no request completed`);
    }
  }
  console.log(output.join('\n'));
}

/**
 * Loads `a` and `b` in alternating rounds with the same request mix and prints them side by side,
 * `a` relative to `b`. Returns false if either had any failed request.
 */
async function compare(label: string, a: Target, b: Target, bodies: string[]): Promise<boolean> {
  const probe = bodies[0] ?? '';
  const idle = new Map<Target, number>();
  for (const target of [a, b]) idle.set(target, await idleLatency(target, probe));
  const run = async (target: Target, seconds: number): Promise<Round> => {
    const round = await load(target, bodies, seconds, settings.connections);
    await settle(target, probe, idle.get(target) ?? 0);
    return round;
  };

  if (settings.warmup > 0) {
    for (const target of [a, b]) {
      progress(`${label}: warming up ${target.name} (${settings.warmup} s)`);
      await run(target, settings.warmup);
    }
  }
  const rounds = new Map<Target, Round[]>([[a, []], [b, []]]);
  for (let round = 1; round <= settings.rounds; round++) {
    for (const target of [a, b]) {
      progress(`${label}: round ${round}/${settings.rounds}, ${target.name} (${settings.duration} s)`);
      rounds.get(target)?.push(await run(target, settings.duration));
    }
  }
  const summaries = [a, b].map((target) => summarise(target, rounds.get(target) ?? []));
  const [first, second] = summaries as [Summary, Summary];
  printComparison(label, first, second);
  return first.failures.total === 0 && second.failures.total === 0;
}

// ---------------------------------------------------------------------------------------------
// The run

async function main(): Promise<boolean> {
  // Databases of this run only (children inherit the prefix), dropped at the end: every run
  // starts from the same freshly seeded state, whatever earlier runs left behind.
  process.env.MONGODB_DB_PREFIX = `credence_bench_${process.pid}_`;
  if (!process.env.MONGODB_URI) dataDir = await mkdtemp(join(tmpdir(), 'credence-bench-'));
  // With MONGODB_URI set, startMongo uses it and ignores the data directory.
  const store = await startMongo({ dataDir: dataDir ?? '', log });
  mongo = store;
  progress(`seeding ${settings.subjects} subjects into ${store.embedded ? 'an embedded store' : 'MONGODB_URI'}`);
  await seedAll({ mongoUri: store.uri, subjects: settings.subjects, log });

  progress('starting the five departments');
  const subgraphUrls: string[] = [];
  await Promise.all(departments.map(async ({ name }) => {
    const port = await freePort();
    runNode(departmentProcesses, `subgraph ${name}`, 'subgraphs/main.ts', [name], { MONGODB_URI: store.uri, PORT: String(port) });
    await waitUntil(`subgraph ${name}`, () => isOk(`http://127.0.0.1:${port}/readyz`));
    subgraphUrls.push(`${name}=http://127.0.0.1:${port}/graphql`);
  }));

  progress('starting the gateways');
  const [credencePort, barePort] = [await freePort(), await freePort()];
  // Identical environments: the gateways differ in code only.
  const gatewayEnv = (port: number): Record<string, string> => ({ GATEWAY_PORT: String(port), SUBGRAPH_URLS: subgraphUrls.join(',') });
  const credenceProcess = runNode(gatewayProcesses, 'Credence gateway', 'gateway/main.ts', [], gatewayEnv(credencePort));
  const bareProcess = runNode(gatewayProcesses, 'bare @apollo/gateway', 'test/bench/bare-gateway.ts', [], gatewayEnv(barePort));
  const credence: Target = { name: 'Credence', url: `http://127.0.0.1:${credencePort}/graphql`, pid: credenceProcess.pid ?? 0 };
  const bare: Target = { name: 'bare @apollo/gateway', url: `http://127.0.0.1:${barePort}/graphql`, pid: bareProcess.pid ?? 0 };
  await Promise.all([
    waitUntil(credence.name, () => isOk(`http://127.0.0.1:${credencePort}/readyz`)),
    // The bare gateway has no readiness endpoint; answering a query is the readiness.
    waitUntil(bare.name, () => isOk(bare.url, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ query: '{ __typename }' }) })),
  ]);

  const subjects = benchmarkSubjects(settings.subjects);
  const bodies = subjects.map((uscc) => JSON.stringify({ query: firstQuery(uscc) }));
  for (const target of [credence, bare]) {
    for (const body of bodies) await verify(target, body);
  }
  progress(`both gateways answer the partner query; rotating among ${subjects.length} subjects`);
  console.log(`store: ${store.description}, `
    + `${settings.subjects} subjects seeded, ${subjects.length} in the request mix`);

  return compare('Credence vs bare @apollo/gateway: one subject, all five departments', credence, bare, bodies);
}

let exitCode = 1;
try {
  exitCode = (await Promise.race([main(), crashed])) ? 0 : 1;
  if (exitCode !== 0) console.error('\nbench: FAILED: some requests failed (see the errors column); the figures above are not trustworthy.');
} catch (error) {
  console.error(`\nbench: FAILED: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  await cleanUp();
}
// Explicit, since after a crash the abandoned load or polling may still hold the event loop.
process.exit(exitCode);
