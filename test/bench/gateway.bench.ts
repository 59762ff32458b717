/**
 * `npm run bench`: what Credence's policy enforcement costs, measured two ways in one run.
 *
 * 1. Gateway end to end, on the query a partner actually sends (one subject, records from all
 *    five departments): Credence's gateway (API key, purpose, policy check before planning,
 *    signed assertions) in front of Credence's five enforcing departments, against a bare
 *    @apollo/gateway (bare-gateway.ts) in front of five bare departments (bare-subgraph.ts: the
 *    same resolvers, models and loaders, no enforcement). All twelve are processes of their own
 *    over the same freshly seeded store. Rounds alternate between the two stacks so that drift
 *    on a noisy machine (CPU frequency, other load, garbage piling up) falls on both alike.
 *    Target: Credence at least 0.9× the bare requests per second.
 * 2. The access log: the same Credence stack and query through two Credence gateways, one
 *    writing the access log (durable, hash-chained, group commit; the production setting) and
 *    one with ACCESS_LOG=off, in alternating rounds. Targets: at least 0.9× the requests per
 *    second and at most 1.1× the p50 latency of the gateway without the log.
 * 3. Subgraph execution (subgraph-execution.ts): one department executing a 2,000-row entity
 *    list with enforcement against without, in process. Target: at most 1.5× the time.
 *
 *   npm run bench -- [--subjects 2000] [--duration 5] [--connections 10] [--rounds 6] [--warmup 3]
 *                    [--rows 2000] [--exec-batch 20] [--exec-rounds 8]
 *                    [--only end-to-end|access-log|execution]
 *
 * Progress goes to stderr, the results and a summary against the targets to stdout. Exits 1 if
 * any request failed or enforcement could not be verified (a missed target is reported, not an
 * error: one run on a shared 2-core machine is not a verdict).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { ASSERTION_ENV, generateAssertionKeyPair } from '../../lib/identity/assertion.ts';
import { API_KEY_HEADER, PURPOSE_HEADER } from '../../lib/identity/authenticate.ts';
import { createLogger } from '../../lib/logger.ts';
import { policiesDirectory } from '../../lib/policy/releases/process-policy.ts';
import { RELEASE_ENV } from '../../lib/policy/releases/signed-release.ts';
import { releaseFolder, testReleaseKey } from '../support/release.ts';
import { startMongo, type MongoServer } from '../../lib/stores/mongo.ts';
import { stopChild } from '../../lib/stores/ferretdb.ts';
import { freePort } from '../../lib/stores/net.ts';
import { readDemoKeys } from '../../scripts/demo-keys.ts';
import { departments } from '../../subgraphs/departments.ts';
import { DEFAULT_SUBJECT_COUNT, seedAll } from '../../subgraphs/seed.ts';
import { seedSubject } from '../../subgraphs/runtime/seed-subjects.ts';
import { dropDepartmentDatabases } from '../support/databases.ts';
import { compareSubgraphExecution, type ExecutionComparison } from './subgraph-execution.ts';

// ---------------------------------------------------------------------------------------------
// Settings

const { values: cli } = parseArgs({
  options: {
    subjects: { type: 'string', default: String(DEFAULT_SUBJECT_COUNT) },
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '6' },
    warmup: { type: 'string', default: '3' },
    rows: { type: 'string', default: '2000' },
    'exec-batch': { type: 'string', default: '20' },
    'exec-rounds': { type: 'string', default: '8' },
    only: { type: 'string' },
  },
  strict: true,
});

function integerArg(name: string, raw: string, min: number): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer of at least ${min}, got "${raw}".`);
  return value;
}

const COMPARISONS = ['end-to-end', 'access-log', 'execution'] as const;
type Comparison = (typeof COMPARISONS)[number];
if (cli.only !== undefined && !COMPARISONS.includes(cli.only as Comparison)) throw new Error(`--only must be one of ${COMPARISONS.join(', ')}.`);

const settings = {
  /** The comparisons to run: all of them unless --only names one. */
  comparisons: new Set<Comparison>(cli.only ? [cli.only as Comparison] : COMPARISONS),
  subjects: integerArg('subjects', cli.subjects, 1),
  /** Seconds per measured round. */
  duration: integerArg('duration', cli.duration, 1),
  connections: integerArg('connections', cli.connections, 1),
  rounds: integerArg('rounds', cli.rounds, 1),
  /** Seconds of unmeasured load per gateway first, so JIT and query-plan caches are warm in round 1. */
  warmup: integerArg('warmup', cli.warmup, 0),
  execution: {
    rows: integerArg('rows', cli.rows, 1),
    batch: integerArg('exec-batch', cli['exec-batch'], 1),
    rounds: integerArg('exec-rounds', cli['exec-rounds'], 1),
  },
};

/** The acceptance: what each comparison should show. */
const TARGETS = {
  /** Credence's requests per second relative to the bare stack's, at least. */
  gatewayThroughput: 0.9,
  /** Enforced execution time relative to unenforced, at most. */
  subgraphExecution: 1.5,
  /** Requests per second with the access log relative to without, at least. */
  accessLogThroughput: 0.9,
  /** p50 latency with the access log relative to without, at most. */
  accessLogLatency: 1.1,
};

/** How many subjects the request mix rotates through, so the load is not one document read over and over. */
const SUBJECTS_IN_MIX = 8;

/**
 * Who Credence's requests are sent as: a consumer of the shipped policy allowed every field of
 * the partner query (`npm run policy -- explain --consumer central-bank --purpose
 * CREDIT_ASSESSMENT --query <file>` says "answered in full"), in reject mode, so a field it may
 * not see would fail verification rather than quietly shrink the work.
 */
const CALLER = { consumer: 'central-bank', purpose: 'CREDIT_ASSESSMENT' } as const;

/** The department lists of the partner query, one per department beyond the registry. */
const DEPARTMENT_LISTS = ['dishonestDebtorEntries', 'taxViolations', 'administrativePenalties', 'seriousDishonestyListings'] as const;

/** One subject with its registry data and its records from the four other departments. */
function partnerQuery(uscc: string): string {
  return `{ subject(uscc: "${uscc}") { name status legalRepresentative { name } `
    + 'dishonestDebtorEntries { caseNumber court performanceStatus } '
    + 'taxViolations { caseNumber violationType decidedOn } '
    + 'administrativePenalties { decisionNumber category severity decidedOn } '
    + 'seriousDishonestyListings { listType listedOn basis { number issuedBy } } } }';
}

// Every child gets LOG_LEVEL=warn regardless, so a debug setting here cannot slow one side down.
process.env.LOG_LEVEL ??= 'warn';
// The policy runtimes of this run's processes announce versions in a Redis namespace of their
// own, so they neither hear nor disturb any other Credence on this machine; removed at the end.
const redisNamespace = `credence-bench-${process.pid}`;
process.env.CREDENCE_REDIS_NAMESPACE = redisNamespace;
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
let releasesDir: string | undefined;
let stopping = false;
let cleanedUp: Promise<void> | undefined;

// A department or gateway dying mid-run would otherwise show up only as a pile of errors.
let reportCrash: (error: Error) => void = () => {};
const crashed = new Promise<never>((_resolve, reject) => {
  reportCrash = reject;
});
// Only awaited through Promise.race; this keeps a crash during clean-up from going unhandled.
crashed.catch(() => {});

/** Removes the policy bundles this run's processes stored in Redis (nothing if there is no Redis). */
async function dropRedisNamespace(): Promise<void> {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  try {
    await redis.connect();
    const keys = await redis.keys(`${redisNamespace}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}

function cleanUp(): Promise<void> {
  cleanedUp ??= (async () => {
    stopping = true;
    await Promise.all(gatewayProcesses.map((child) => stopChild(child)));
    await Promise.all(departmentProcesses.map((child) => stopChild(child)));
    await dropRedisNamespace();
    if (mongo) await dropDepartmentDatabases(mongo.uri).catch(() => {});
    await mongo?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    if (releasesDir) await rm(releasesDir, { recursive: true, force: true });
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

const JSON_HEADERS = { 'content-type': 'application/json' };
/** For servers without a readiness endpoint: answering a query is the readiness. */
const TYPENAME_PROBE = { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ query: '{ __typename }' }) } as const;

/** One stack's five departments, started from `script` in parallel; returns their URLs by name and their processes. */
async function startDepartments(label: string, script: string, env: Record<string, string>, readiness: 'readyz' | 'query'): Promise<{ urls: string[]; processes: ChildProcess[] }> {
  const urls: string[] = [];
  const processes: ChildProcess[] = [];
  await Promise.all(departments.map(async ({ name }) => {
    const port = await freePort();
    processes.push(runNode(departmentProcesses, `${label} ${name}`, script, [name], { ...env, PORT: String(port) }));
    const base = `http://127.0.0.1:${port}`;
    await waitUntil(`${label} ${name}`, () => (readiness === 'readyz' ? isOk(`${base}/readyz`) : isOk(`${base}/graphql`, TYPENAME_PROBE)));
    urls.push(`${name}=${base}/graphql`);
  }));
  return { urls, processes };
}

// ---------------------------------------------------------------------------------------------
// The load

/** A stack under test: a gateway and the departments behind it. */
interface Target {
  name: string;
  /** Its gateway's GraphQL endpoint. */
  url: string;
  /** Its gateway's process, whose CPU time is read from /proc. */
  pid: number;
  /** Its departments' processes. */
  departmentPids: number[];
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

function cpuOf(pids: readonly number[]): number {
  return pids.reduce((total, pid) => total + cpuMilliseconds(pid), 0);
}

/**
 * The serious-risk subjects among those seeded: they have records in every department (the
 * central bank sees current records only, so a list may still come back empty for one of them;
 * the department is called all the same).
 */
function benchmarkSubjects(seeded: number): string[] {
  const subjects: string[] = [];
  for (let index = 0; index < seeded && subjects.length < SUBJECTS_IN_MIX; index++) {
    const subject = seedSubject(index);
    if (subject.risk === 'serious') subjects.push(subject.uscc);
  }
  if (subjects.length === 0) throw new Error(`--subjects ${seeded} seeds no subject with records in every department; seed more.`);
  return subjects;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * One request per body before any load: a benchmark of error answers would be worthless. Returns
 * how many records the answer holds across the department lists.
 */
async function verify(target: Target, headers: Record<string, string>, body: string): Promise<number> {
  const response = await fetch(target.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
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
  // A list (even empty) means the department answered; null would mean it was not reached.
  const missing = DEPARTMENT_LISTS.filter((list) => !Array.isArray(subject[list]));
  if (missing.length > 0) throw new Error(`${target.name}: no ${missing.join(', ')} in the answer, so not every department was exercised.\nanswer: ${text.slice(0, 1000)}`);
  return DEPARTMENT_LISTS.reduce((total, list) => total + (subject[list] as unknown[]).length, 0);
}

/** Milliseconds one request takes, answered in full. */
async function timeRequest(target: Target, headers: Record<string, string>, body: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(target.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(30_000) });
  await response.text();
  if (!response.ok) throw new Error(`${target.name} answered HTTP ${response.status} outside the load`);
  return performance.now() - started;
}

/** The fastest of a few requests in a row: what one request costs when nothing else is going on. */
async function idleLatency(target: Target, headers: Record<string, string>, body: string): Promise<number> {
  let fastest = Infinity;
  for (let i = 0; i < 5; i++) fastest = Math.min(fastest, await timeRequest(target, headers, body));
  return fastest;
}

/**
 * Waits until `target` answers about as fast as when idle. When autocannon stops, the requests it
 * abandoned are still being worked on by the gateway, the departments and the store; unless they
 * drain first, they slow the next round, which belongs to the other gateway.
 */
async function settle(target: Target, headers: Record<string, string>, body: string, idleMs: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await timeRequest(target, headers, body) <= Math.max(2 * idleMs, idleMs + 20)) return;
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
  /** CPU milliseconds its five department processes used during the round. */
  departmentCpuMs: number;
}

async function load(target: Target, headers: Record<string, string>, bodies: string[], seconds: number, connections: number): Promise<Round> {
  const cpuBefore = cpuMilliseconds(target.pid);
  const departmentCpuBefore = cpuOf(target.departmentPids);
  const result = await autocannon({
    url: target.url,
    method: 'POST',
    headers,
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
    departmentCpuMs: cpuOf(target.departmentPids) - departmentCpuBefore,
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
  /** CPU milliseconds of the five departments together per answered request, over all rounds. */
  departmentCpuPerRequest: number;
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
  const requests = sum(rounds.map((round) => round.requests));
  return {
    target,
    rounds,
    requestsPerSecond: requests / sum(rounds.map((round) => round.seconds)),
    p50: median(rounds.map((round) => round.p50)),
    p99: median(rounds.map((round) => round.p99)),
    cpuPerRequest: sum(rounds.map((round) => round.cpuMs)) / requests,
    departmentCpuPerRequest: sum(rounds.map((round) => round.departmentCpuMs)) / requests,
    failures: { connectionErrors, non2xx, graphqlErrors, emptyRounds, total: connectionErrors + non2xx + graphqlErrors + emptyRounds },
  };
}

const COLUMNS = [28, 10, 9, 9, 13, 13, 8] as const;

function row(cells: readonly string[]): string {
  return cells.map((cell, i) => (i === 0 ? cell.padEnd(COLUMNS[0]) : cell.padStart(COLUMNS[i] ?? 10))).join(' ');
}

function ratio(a: number, b: number): string {
  return `${(a / b).toFixed(2)}×`;
}

function printComparison(label: string, a: Summary, b: Summary): void {
  const line = (summary: Summary): string => `${row([
    summary.target.name,
    summary.requestsPerSecond.toFixed(1),
    // autocannon records whole milliseconds; decimals would be invented precision.
    summary.p50.toFixed(0),
    summary.p99.toFixed(0),
    summary.cpuPerRequest.toFixed(2),
    summary.departmentCpuPerRequest.toFixed(2),
    String(summary.failures.total),
  ])}   ${summary.rounds.map((round) => (round.requests / round.seconds).toFixed(1)).join(', ')}`;
  const output = [
    '',
    `${label}`,
    `  ${settings.rounds} round(s) × ${settings.duration} s each, ${settings.connections} connections, after ${settings.warmup} s warm-up; `
      + 'req/s = all requests / all seconds; p50, p99 = median of the per-round values; '
      + 'gw CPU = gateway process CPU ms per request; depts CPU = its departments\' CPU ms per request',
    row(['stack', 'req/s', 'p50 ms', 'p99 ms', 'gw CPU ms/req', 'depts CPU', 'errors']) + '   req/s per round',
    line(a),
    line(b),
    row([
      `${a.target.name} / ${b.target.name}`,
      ratio(a.requestsPerSecond, b.requestsPerSecond),
      ratio(a.p50, b.p50),
      ratio(a.p99, b.p99),
      ratio(a.cpuPerRequest, b.cpuPerRequest),
      ratio(a.departmentCpuPerRequest, b.departmentCpuPerRequest),
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

/** One side of a comparison: a stack and the headers its requests carry. */
interface Side {
  target: Target;
  headers: Record<string, string>;
}

/**
 * Loads `a` and `b` in alternating rounds with the same request mix and prints them side by side,
 * `a` relative to `b`. Returns both summaries; either may hold failed requests.
 */
async function compare(label: string, a: Side, b: Side, bodies: string[]): Promise<[Summary, Summary]> {
  const probe = bodies[0] ?? '';
  const idle = new Map<Side, number>();
  for (const side of [a, b]) idle.set(side, await idleLatency(side.target, side.headers, probe));
  const run = async (side: Side, seconds: number): Promise<Round> => {
    const round = await load(side.target, side.headers, bodies, seconds, settings.connections);
    await settle(side.target, side.headers, probe, idle.get(side) ?? 0);
    return round;
  };

  if (settings.warmup > 0) {
    for (const side of [a, b]) {
      progress(`${label}: warming up ${side.target.name} (${settings.warmup} s)`);
      await run(side, settings.warmup);
    }
  }
  const rounds = new Map<Side, Round[]>([[a, []], [b, []]]);
  for (let round = 1; round <= settings.rounds; round++) {
    // ABBA: which stack goes first alternates too, so a steady drift (the store warming up,
    // other load fading) favours neither; with a fixed order the second would always gain.
    for (const side of round % 2 === 1 ? [a, b] : [b, a]) {
      progress(`${label}: round ${round}/${settings.rounds}, ${side.target.name} (${settings.duration} s)`);
      rounds.get(side)?.push(await run(side, settings.duration));
    }
  }
  const summaries: [Summary, Summary] = [summarise(a.target, rounds.get(a) ?? []), summarise(b.target, rounds.get(b) ?? [])];
  printComparison(label, ...summaries);
  return summaries;
}

function printExecution(result: ExecutionComparison): void {
  const { rows, batch, rounds } = result.settings;
  const line = (name: string, mean: number, perRound: number[]): string =>
    `${row([name, mean.toFixed(2)])}   ${perRound.map((value) => value.toFixed(2)).join(', ')}`;
  console.log([
    '',
    `Subgraph execution with enforcement vs without: registry, _entities of ${rows} subjects × 8 fields, in process (executeOperation)`,
    `  as ${result.caller.consumer} / ${result.caller.purpose}; ${rounds} round(s) × ${batch} executions each, alternating, after ${2 * batch} warm-up executions each; `
      + 'loaders primed with documents read once, so no database call is timed',
    `  enforcement verified: ${result.verified}`,
    `${row(['subgraph', 'ms/exec'])}   ms/exec per round`,
    line('with enforcement', result.enforcedMs, result.enforcedRounds),
    line('without enforcement', result.bareMs, result.bareRounds),
    row(['with / without', ratio(result.enforcedMs, result.bareMs)]),
  ].join('\n'));
}

interface Results {
  endToEnd?: [Summary, Summary];
  accessLog?: [Summary, Summary];
  execution?: ExecutionComparison;
}

function printSummary({ endToEnd, accessLog, execution }: Results): void {
  const verdict = (met: boolean): string => (met ? 'met' : 'MISSED');
  const label = (text: string): string => text.padEnd(52);
  const lines = ['', 'Summary'];
  if (endToEnd) {
    const [credence, bare] = endToEnd;
    const throughput = credence.requestsPerSecond / bare.requestsPerSecond;
    lines.push(
      `  ${label('gateway req/s ratio, Credence / bare')}${throughput.toFixed(2)}×  (target ≥ ${TARGETS.gatewayThroughput.toFixed(2)}×)  ${verdict(throughput >= TARGETS.gatewayThroughput)}`,
      `  ${label('CPU per request, Credence / bare')}gateway ${ratio(credence.cpuPerRequest, bare.cpuPerRequest)}, departments ${ratio(credence.departmentCpuPerRequest, bare.departmentCpuPerRequest)}  (no target; `
        + `Credence's gateway and departments together spend ${(credence.cpuPerRequest + credence.departmentCpuPerRequest - bare.cpuPerRequest - bare.departmentCpuPerRequest).toFixed(2)} ms more CPU per request)`,
    );
  }
  if (accessLog) {
    const [on, off] = accessLog;
    const throughput = on.requestsPerSecond / off.requestsPerSecond;
    const latency = on.p50 / off.p50;
    lines.push(
      `  ${label('access log req/s ratio, on / off')}${throughput.toFixed(2)}×  (target ≥ ${TARGETS.accessLogThroughput.toFixed(2)}×)  ${verdict(throughput >= TARGETS.accessLogThroughput)}`,
      `  ${label('access log p50 ratio, on / off')}${latency.toFixed(2)}×  (target ≤ ${TARGETS.accessLogLatency.toFixed(2)}×)  ${verdict(latency <= TARGETS.accessLogLatency)}`,
      `  ${label('access log gateway CPU per request, on / off')}${ratio(on.cpuPerRequest, off.cpuPerRequest)}  (no target; ${(on.cpuPerRequest - off.cpuPerRequest).toFixed(2)} ms more per request)`,
    );
  }
  if (execution) {
    const executionRatio = execution.enforcedMs / execution.bareMs;
    lines.push(`  ${label('subgraph execution, with / without enforcement')}${executionRatio.toFixed(2)}×  (target ≤ ${TARGETS.subgraphExecution.toFixed(2)}×)  ${verdict(executionRatio <= TARGETS.subgraphExecution)}, enforcement verified`);
  }
  console.log(lines.join('\n'));
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

  const policiesDir = policiesDirectory();
  const apiKey = readDemoKeys(policiesDir).get(CALLER.consumer);
  if (!apiKey) throw new Error(`${policiesDir}/demo-keys.md has no demo key for ${CALLER.consumer}.`);
  // A key pair for this run, as npm start makes one: Credence's gateway signs, its departments verify.
  const assertionKeys = generateAssertionKeyPair();
  // The shipped policy, released under a release key of this run's own.
  const releaseKey = testReleaseKey();
  releasesDir = await mkdtemp(join(tmpdir(), 'credence-bench-releases-'));
  await releaseFolder(policiesDir, releasesDir, releaseKey);
  const releaseEnv = { ...releaseKey.env, [RELEASE_ENV.DIR]: releasesDir };

  // Credence's departments first: they build the indexes, which the bare ones then find made.
  progress('starting Credence\'s five departments, then the five bare ones');
  const credenceDepartments = await startDepartments('Credence department', 'subgraphs/main.ts',
    { MONGODB_URI: store.uri, [ASSERTION_ENV.PUBLIC_KEYS]: assertionKeys.publicKeyPem, ...releaseEnv }, 'readyz');
  const bareDepartments = await startDepartments('bare department', 'test/bench/bare-subgraph.ts', { MONGODB_URI: store.uri }, 'query');

  progress('starting the gateways');
  const [credencePort, unloggedPort, barePort] = [await freePort(), await freePort(), await freePort()];
  // The rate limits are counted as in production (in Redis) but set high enough never to refuse the bench.
  const gatewayEnv = (port: number, urls: string[]): Record<string, string> => ({
    GATEWAY_PORT: String(port), SUBGRAPH_URLS: urls.join(','), GATEWAY_REQUESTS_PER_MINUTE: '1000000000', GATEWAY_REQUESTS_PER_DAY: '1000000000',
  });
  // Credence as deployed writes the access log into the store (database <prefix>audit).
  const credenceEnv = { MONGODB_URI: store.uri, [ASSERTION_ENV.PRIVATE_KEY]: assertionKeys.privateKeyPem, ...releaseEnv };
  const credenceProcess = runNode(gatewayProcesses, 'Credence gateway', 'gateway/main.ts', [],
    { ...gatewayEnv(credencePort, credenceDepartments.urls), ...credenceEnv });
  // The same gateway without the access log, in front of the same departments.
  const unloggedProcess = runNode(gatewayProcesses, 'Credence gateway without the access log', 'gateway/main.ts', [],
    { ...gatewayEnv(unloggedPort, credenceDepartments.urls), ...credenceEnv, ACCESS_LOG: 'off' });
  const bareProcess = runNode(gatewayProcesses, 'bare @apollo/gateway', 'test/bench/bare-gateway.ts', [], gatewayEnv(barePort, bareDepartments.urls));
  const pids = (processes: ChildProcess[]): number[] => processes.map((child) => child.pid ?? 0);
  const credence: Target = { name: 'Credence', url: `http://127.0.0.1:${credencePort}/graphql`, pid: credenceProcess.pid ?? 0, departmentPids: pids(credenceDepartments.processes) };
  const unlogged: Target = { name: 'Credence, access log off', url: `http://127.0.0.1:${unloggedPort}/graphql`, pid: unloggedProcess.pid ?? 0, departmentPids: pids(credenceDepartments.processes) };
  const bare: Target = { name: 'bare @apollo/gateway', url: `http://127.0.0.1:${barePort}/graphql`, pid: bareProcess.pid ?? 0, departmentPids: pids(bareDepartments.processes) };
  await Promise.all([
    waitUntil(credence.name, () => isOk(`http://127.0.0.1:${credencePort}/readyz`)),
    waitUntil(unlogged.name, () => isOk(`http://127.0.0.1:${unloggedPort}/readyz`)),
    waitUntil(bare.name, () => isOk(bare.url, TYPENAME_PROBE)),
  ]);

  // Credence's requests carry what a partner's do; the bare stack has no use for either header.
  const credenceSide: Side = { target: credence, headers: { ...JSON_HEADERS, [API_KEY_HEADER]: apiKey, [PURPOSE_HEADER]: CALLER.purpose } };
  const bareSide: Side = { target: bare, headers: JSON_HEADERS };
  const unloggedSide: Side = { target: unlogged, headers: credenceSide.headers };
  const subjects = benchmarkSubjects(settings.subjects);
  const bodies = subjects.map((uscc) => JSON.stringify({ query: partnerQuery(uscc) }));
  const records = new Map<Side, number>([[credenceSide, 0], [bareSide, 0]]);
  for (const side of [credenceSide, bareSide]) {
    for (const body of bodies) records.set(side, (records.get(side) ?? 0) + await verify(side.target, side.headers, body));
  }
  progress(`both gateways answer the partner query without errors; rotating among ${subjects.length} subjects`);
  console.log(`store: ${store.description}, ${settings.subjects} subjects seeded, ${subjects.length} in the request mix`);
  console.log(`query (Credence as ${CALLER.consumer} / ${CALLER.purpose}, reject mode, allowed in full): ${partnerQuery('<code>')}`);
  console.log(`department records per answer, mean over the mix: Credence ${((records.get(credenceSide) ?? 0) / bodies.length).toFixed(1)} `
    + `(current records only, as the policy shares them), bare ${((records.get(bareSide) ?? 0) / bodies.length).toFixed(1)} (every record)`);

  const results: Results = {};
  if (settings.comparisons.has('end-to-end')) {
    results.endToEnd = await compare('Gateway end to end: Credence (enforcing, access log on) vs bare @apollo/gateway and bare departments: one subject, all five departments',
      credenceSide, bareSide, bodies);
  }
  if (settings.comparisons.has('access-log')) {
    await verify(unlogged, unloggedSide.headers, bodies[0] ?? '');
    results.accessLog = await compare('Access log: Credence with the access log (durable before each answer, group commit) vs the same gateway with ACCESS_LOG=off, same departments',
      credenceSide, unloggedSide, bodies);
  }
  if (settings.comparisons.has('execution')) {
    results.execution = await compareSubgraphExecution({ mongoUri: store.uri, policiesDir, settings: settings.execution, progress });
    printExecution(results.execution);
  }
  printSummary(results);
  return [...(results.endToEnd ?? []), ...(results.accessLog ?? [])].every((summary) => summary.failures.total === 0);
}

let exitCode = 1;
try {
  exitCode = (await Promise.race([main(), crashed])) ? 0 : 1;
  if (exitCode !== 0) console.error('\nbench: FAILED: some requests failed (see the errors column); the figures above are not trustworthy.');
} catch (error) {
  // After Ctrl-C the load in flight fails as its processes go; that is the stop, not a failure.
  if (!stopping) console.error(`\nbench: FAILED: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  await cleanUp();
}
// Explicit, since after a crash the abandoned load or polling may still hold the event loop.
process.exit(exitCode);
