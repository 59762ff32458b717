/**
 * `npm run bench`: what Credence costs, measured side by side in one run, on a partner's real
 * workload: the partner query (one subject with its records from all five departments) about a
 * random subject among many (1,000 by default), sent two ways: one document with the code as a
 * variable, and a new literal document per request (planned afresh every time).
 *
 * 1. End to end: four stacks over the same freshly seeded store, in balanced rounds so that drift
 *    on a noisy machine falls on all alike:
 *    - Credence with every check on (API key, purpose, policy, rate limits, signed assertions,
 *      enforcing departments, the access log written before each answer);
 *    - a bare @apollo/gateway (bare-gateway.ts) in front of bare departments (bare-subgraph.ts:
 *      the same resolvers, models and loaders, no enforcement);
 *    - Hive Gateway (hive-gateway.ts) in front of the same bare departments;
 *    - a direct reader (direct-reader.ts): one process doing the same lookups with the MongoDB
 *      driver, the floor this store allows.
 *    Targets: Credence at least 1.0× the bare @apollo/gateway's requests/s, 0.95× Hive Gateway's
 *    and 0.5× the direct reader's, with variables and with literal documents.
 * 2. The access log: Credence with the access log against the same gateway with ACCESS_LOG=off,
 *    same departments, variables workload. Targets: at least 0.9× the requests per second and at
 *    most 1.1× the p50 latency.
 * 3. Observability: Credence with Prometheus metrics on and every request traced (OpenTelemetry
 *    at 100% sampling, spans made and dropped: CREDENCE_TRACING=discard) against both off, each
 *    with departments of its own, variables workload. Target: at least 0.95× the requests per
 *    second (a cost of at most 5%).
 * 4. Subgraph execution (subgraph-execution.ts): one department executing a 2,000-row entity
 *    list with enforcement against without, in process. Target: at most 1.5× the time.
 * 5. Departments (`--only departments`): the CPU Credence's five departments spend per call on the
 *    partner query (variables workload), against the bare departments behind the bare
 *    @apollo/gateway, with each department's share. No target of its own: it is the measure for
 *    making departments do less per call (issue 16).
 *
 * Each stack's CPU per request is read from /proc by process group: its gateway, its departments,
 * and the store (FerretDB and PostgreSQL's processes, shared by all stacks; on a quiet machine it is
 * the store's work for the stack under load).
 *
 *   npm run bench -- [--subjects 2000] [--mix 1000] [--duration 5] [--connections 10] [--rounds 4]
 *                    [--warmup 90] [--rewarm 20] [--rows 2000] [--exec-batch 20] [--exec-rounds 8]
 *                    [--only end-to-end|access-log|observability|execution|departments] [--per-round]
 *   npm run bench -- --only departments [--profile-departments <folder>] [--baseline <checkout>]
 *     the departments' CPU per call; with a folder, each of Credence's departments writes a CPU
 *     profile there (node --cpu-prof) when the run ends; with another checkout of Credence (a git
 *     worktree of the commit to compare with, with its node_modules), its whole stack runs beside
 *     this one's in the same balanced rounds, so that before and after meet the same machine load:
 *     its departments and its gateway, its own shipped policy released by its own tools (an older
 *     checkout reads an older policy format), in a Redis namespace of its own.
 *   npm run bench -- --scale [--scale-sizes 2000,100000,1000000]
 *     the partner query through Credence at each register size, seeded in turn (a larger size
 *     extends the smaller one) into one store. Target: at the largest size at least 0.8× the
 *     requests/s of the smallest.
 *
 * Progress goes to stderr, the results and a summary against the targets to stdout. Exits 1 if
 * any request failed or enforcement could not be verified (a missed target is reported, not an
 * error: one run on a shared 2-core machine is not a verdict).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
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
import { roundOrder, warmupPlan } from './round-order.ts';
import { ACCESS_LOG_DEPARTMENT } from '../../lib/access-log/store.ts';
import { stopChild } from '../../lib/stores/ferretdb.ts';
import { freePort } from '../../lib/stores/net.ts';
import { readDemoKeys } from '../../scripts/demo-keys.ts';
import { departments } from '../../subgraphs/departments.ts';
import { DEFAULT_SUBJECT_COUNT, seedAll } from '../../subgraphs/seed.ts';
import { seedSubject } from '../../subgraphs/runtime/seed-subjects.ts';
import { dropDepartmentDatabases } from '../support/databases.ts';
import { nodeFlags } from '../../lib/processes.ts';
import { compareSubgraphExecution, type ExecutionComparison } from './subgraph-execution.ts';

// ---------------------------------------------------------------------------------------------
// Settings

const { values: cli } = parseArgs({
  options: {
    subjects: { type: 'string', default: String(DEFAULT_SUBJECT_COUNT) },
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '90' },
    rewarm: { type: 'string', default: '20' },
    rows: { type: 'string', default: '2000' },
    'exec-batch': { type: 'string', default: '20' },
    'exec-rounds': { type: 'string', default: '8' },
    only: { type: 'string' },
    mix: { type: 'string', default: '1000' },
    scale: { type: 'boolean', default: false },
    'per-round': { type: 'boolean', default: false },
    'profile-departments': { type: 'string' },
    baseline: { type: 'string' },
    'scale-sizes': { type: 'string', default: '2000,100000,1000000' },
  },
  strict: true,
});

function integerArg(name: string, raw: string, min: number): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min)
    throw new Error(`--${name} must be an integer of at least ${min}, got "${raw}".`);
  return value;
}

const COMPARISONS = ['end-to-end', 'access-log', 'observability', 'execution', 'departments'] as const;
type Comparison = (typeof COMPARISONS)[number];
if (cli.only !== undefined && !COMPARISONS.includes(cli.only as Comparison))
  throw new Error(`--only must be one of ${COMPARISONS.join(', ')}.`);

const settings = {
  /** The comparisons to run: all of them unless --only names one. */
  comparisons: new Set<Comparison>(cli.only ? [cli.only as Comparison] : COMPARISONS),
  /** Only the departments' comparison: the stacks it needs are Credence's and the bare one. */
  departmentsOnly: cli.only === 'departments',
  subjects: integerArg('subjects', cli.subjects, 1),
  /** Seconds per measured round. */
  duration: integerArg('duration', cli.duration, 1),
  connections: integerArg('connections', cli.connections, 1),
  rounds: integerArg('rounds', cli.rounds, 1),
  /**
   * Seconds of unmeasured load for a stack before its first measured round in the run: Credence's
   * processes take minutes of load to reach their steady cost (more code for the JIT to optimize).
   */
  warmup: integerArg('warmup', cli.warmup, 0),
  /** Seconds of unmeasured load for a stack warmed earlier in the run, before each later comparison: a stack left idle comes back slow. */
  rewarm: integerArg('rewarm', cli.rewarm, 0),
  /** How many distinct subjects the requests are drawn from. */
  mix: integerArg('mix', cli.mix, 1),
  scale: cli.scale,
  /** Each round's figures on stderr as it ends (warm-ups included): how the machine and the processes drift. */
  perRound: cli['per-round'],
  /** A folder for CPU profiles of Credence's departments (node --cpu-prof), written as they stop. */
  profileDepartments: cli['profile-departments'],
  /** Another checkout of Credence whose departments run beside this one's (`--only departments`), behind a gateway of their own. */
  baseline: cli.baseline,
  scaleSizes: cli['scale-sizes']
    .split(',')
    .map((size) => integerArg('scale-sizes', size.trim(), 1))
    .sort((a, b) => a - b),
  execution: {
    rows: integerArg('rows', cli.rows, 1),
    batch: integerArg('exec-batch', cli['exec-batch'], 1),
    rounds: integerArg('exec-rounds', cli['exec-rounds'], 1),
  },
};

/** The issue's acceptance: what each comparison should show. */
const TARGETS = {
  /** Credence's requests per second relative to the bare @apollo/gateway's, at least. */
  gatewayThroughput: 1.0,
  /** ...relative to Hive Gateway's, at least. */
  hiveThroughput: 0.95,
  /** ...relative to the direct reader's, at least. */
  directThroughput: 0.5,
  /** Requests per second at the largest register relative to the smallest, at least. */
  scaleThroughput: 0.8,
  /** Enforced execution time relative to unenforced, at most. */
  subgraphExecution: 1.5,
  /** Requests per second with the access log relative to without, at least. */
  accessLogThroughput: 0.9,
  /** p50 latency with the access log relative to without, at most. */
  accessLogLatency: 1.1,
  /** Requests per second with metrics on and every request traced relative to both off, at least (a cost of at most 5%). */
  observabilityThroughput: 0.95,
};

/**
 * Who Credence's requests are sent as: a consumer of the shipped policy allowed every field of
 * the partner query (`npm run policy -- explain --consumer central-bank --purpose
 * CREDIT_ASSESSMENT --query <file>` says "answered in full"), in reject mode, so a field it may
 * not see would fail verification rather than quietly shrink the work.
 */
const CALLER = { consumer: 'central-bank', purpose: 'CREDIT_ASSESSMENT' } as const;

/** The department lists of the partner query, one per department beyond the registry. */
const DEPARTMENT_LISTS = [
  'dishonestDebtorEntries',
  'taxViolations',
  'administrativePenalties',
  'seriousDishonestyListings',
] as const;

/**
 * The department calls one partner query makes, in either stack: the registry for the subject,
 * then one `_entities` call to each department holding one of the lists (the query plan's
 * parallel fetches).
 */
const DEPARTMENT_CALLS_PER_REQUEST = 1 + DEPARTMENT_LISTS.length;

/** What the partner query asks of a subject: its registry data and its records from the four other departments. */
const PARTNER_SELECTION =
  '{ name status legalRepresentative { name } ' +
  'dishonestDebtorEntries { caseNumber court performanceStatus } ' +
  'taxViolations { caseNumber violationType decidedOn } ' +
  'administrativePenalties { decisionNumber category severity decidedOn } ' +
  'seriousDishonestyListings { listType listedOn basis { number issuedBy } } }';

/** The partner query about one subject, written into the document. */
function partnerQuery(uscc: string): string {
  return `{ subject(uscc: "${uscc}") ${PARTNER_SELECTION} }`;
}

/** The partner query as one document, the subject's code a variable. */
const PARTNER_DOCUMENT = `query Partner($uscc: ID!) { subject(uscc: $uscc) ${PARTNER_SELECTION} }`;

/** A way of sending the partner query: each call gives the next request's body. */
interface Workload {
  name: string;
  body(): string;
  /** A body about a fixed subject, for probes between rounds. */
  probe: string;
}

/** Random subjects among `subjects`, with variables or as a new literal document each time. */
function workloads(subjects: readonly string[]): { variables: Workload; literal: Workload } {
  const pick = (): string => subjects[Math.floor(Math.random() * subjects.length)] ?? '';
  const probeSubject = subjects[0] ?? '';
  let sent = 0;
  return {
    variables: {
      name: `one document with variables, random subjects among ${subjects.length}`,
      body: () => JSON.stringify({ query: PARTNER_DOCUMENT, variables: { uscc: pick() } }),
      probe: JSON.stringify({ query: PARTNER_DOCUMENT, variables: { uscc: probeSubject } }),
    },
    literal: {
      // The comment makes every document new text: parsed, validated and planned afresh, as a
      // partner's generated queries would be.
      name: `a new literal document per request, random subjects among ${subjects.length}`,
      body: () => JSON.stringify({ query: `${partnerQuery(pick())} # request ${++sent}` }),
      probe: JSON.stringify({ query: partnerQuery(probeSubject) }),
    },
  };
}

// Every child gets LOG_LEVEL=warn regardless, so a debug setting here cannot slow one side down.
process.env.LOG_LEVEL ??= 'warn';
// The policy runtimes of this run's processes announce versions in a Redis namespace of their
// own, so they neither hear nor disturb any other Credence on this machine; removed at the end.
const redisNamespace = `credence-bench-${process.pid}`;
process.env.CREDENCE_REDIS_NAMESPACE = redisNamespace;
/** The --baseline checkout's processes keep their releases apart: its policy format may be older than this tree's. */
const baselineRedisNamespace = `${redisNamespace}-baseline`;
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
let baselineReleasesDir: string | undefined;
/** The Credence gateways' access-log journals (ACCESS_LOG_JOURNAL_DIR). */
let journalDir: string | undefined;
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
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  try {
    await redis.connect();
    for (const namespace of [redisNamespace, baselineRedisNamespace]) {
      const keys = await redis.keys(`${namespace}:*`);
      if (keys.length > 0) await redis.del(...keys);
    }
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
    for (const dir of [releasesDir, baselineReleasesDir, journalDir])
      if (dir) await rm(dir, { recursive: true, force: true });
  })();
  return cleanedUp;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    progress(`${signal}: stopping everything started here`);
    void cleanUp().finally(() => process.exit(130));
  });
}

function runNode(
  group: ChildProcess[],
  label: string,
  script: string,
  args: string[],
  env: Record<string, string>,
  cwd = root,
): ChildProcess {
  // Every stack's processes on the same runtime settings as npm start's.
  const child = spawn(process.execPath, [...nodeFlags(), script, ...args], {
    cwd,
    // Operator listeners on free ports: the default (the main port + 5400) can meet another
    // process's free port here, where every port is picked at random.
    env: { ...process.env, LOG_LEVEL: 'warn', METRICS_PORT: '0', GATEWAY_METRICS_PORT: '0', ...env },
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
const TYPENAME_PROBE = {
  method: 'POST',
  headers: JSON_HEADERS,
  body: JSON.stringify({ query: '{ __typename }' }),
} as const;

/** One stack's five departments, started from `script` in parallel; returns their URLs by name, their processes and their names (in the processes' order). */
async function startDepartments(
  label: string,
  script: string,
  env: Record<string, string>,
  readiness: 'readyz' | 'query',
  cwd = root,
): Promise<{ urls: string[]; processes: ChildProcess[]; names: string[] }> {
  const urls: string[] = [];
  const processes: ChildProcess[] = [];
  const names: string[] = [];
  await Promise.all(
    departments.map(async ({ name }) => {
      const port = await freePort();
      processes.push(
        runNode(departmentProcesses, `${label} ${name}`, script, [name], { ...env, PORT: String(port) }, cwd),
      );
      names.push(name);
      const base = `http://127.0.0.1:${port}`;
      await waitUntil(`${label} ${name}`, () =>
        readiness === 'readyz' ? isOk(`${base}/readyz`) : isOk(`${base}/graphql`, TYPENAME_PROBE),
      );
      urls.push(`${name}=${base}/graphql`);
    }),
  );
  return { urls, processes, names };
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
  /** The department each of those processes runs. */
  departmentNames: string[];
}

/** The store's processes (FerretDB and PostgreSQL's), shared by every stack; read again each round, as PostgreSQL starts backends as connections open. */
let storePids: () => number[] = () => [];

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
  // A process may end between listing and reading it (a PostgreSQL backend closing).
  return pids.reduce(
    (total, pid) =>
      total +
      (() => {
        try {
          return cpuMilliseconds(pid);
        } catch {
          return 0;
        }
      })(),
    0,
  );
}

/** The pids `pgrep` finds for its arguments (none when it finds none). */
function pgrep(...args: string[]): number[] {
  const found = spawnSync('pgrep', args, { encoding: 'utf8' });
  return found.stdout.split('\n').filter(Boolean).map(Number);
}

/** The store's CPU: the FerretDB listening on `port` and every PostgreSQL process (the bench assumes a machine otherwise quiet). */
function storeProcesses(uri: string): () => number[] {
  const port = new URL(uri).port;
  return () => [...pgrep('-f', `ferretdb .*--listen-addr=127.0.0.1:${port}`), ...pgrep('-u', 'postgres')];
}

/** `count` distinct subjects among the first `seeded`, spread over the whole register. */
function mixSubjects(seeded: number, count: number): string[] {
  const step = Math.max(1, Math.floor(seeded / count));
  const subjects: string[] = [];
  for (let index = 0; index < seeded && subjects.length < count; index += step) subjects.push(seedSubject(index).uscc);
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
    throw new Error(
      `${target.name} did not answer the benchmark query with a subject and no errors (HTTP ${response.status}); ` +
        `not benchmarking.\nquery: ${body}\nanswer: ${text.slice(0, 1000)}`,
    );
  }
  // A list (even empty) means the department answered; null would mean it was not reached.
  const missing = DEPARTMENT_LISTS.filter((list) => !Array.isArray(subject[list]));
  if (missing.length > 0)
    throw new Error(
      `${target.name}: no ${missing.join(', ')} in the answer, so not every department was exercised.\nanswer: ${text.slice(0, 1000)}`,
    );
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
async function settle(
  target: Target,
  headers: Record<string, string>,
  body: string,
  idleMs: number,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await timeRequest(target, headers, body)) <= Math.max(2 * idleMs, idleMs + 20)) return;
  }
  throw new Error(
    `${target.name} did not get back to its idle latency (${idleMs.toFixed(0)} ms) within ${timeoutMs / 1000} s of a round`,
  );
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
  /** ...each of them, in the order of the target's departmentPids. */
  departmentCpuEach: number[];
  /** CPU milliseconds the store's processes used during the round. */
  storeCpuMs: number;
}

async function load(
  target: Target,
  headers: Record<string, string>,
  workload: Workload,
  seconds: number,
  connections: number,
): Promise<Round> {
  const cpuBefore = cpuMilliseconds(target.pid);
  const departmentCpuBefore = target.departmentPids.map((pid) => cpuOf([pid]));
  const store = storePids();
  const storeCpuBefore = cpuOf(store);
  const result = await autocannon({
    url: target.url,
    method: 'POST',
    headers,
    // Every request gets a body of its own: a random subject (and, literal, a new document).
    requests: [{ setupRequest: (request) => ({ ...request, body: workload.body() }) }],
    duration: seconds,
    connections,
    // A 200 can still be a failed query (a department unavailable); those count as mismatches.
    verifyBody: (body) => typeof body === 'string' && !body.includes('"errors"'),
  });
  const departmentCpuEach = target.departmentPids.map((pid, i) => cpuOf([pid]) - (departmentCpuBefore[i] ?? 0));
  const round: Round = {
    requests: result.requests.total,
    seconds: result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    connectionErrors: result.errors,
    non2xx: result.non2xx,
    graphqlErrors: result.mismatches,
    cpuMs: cpuMilliseconds(target.pid) - cpuBefore,
    departmentCpuMs: sum(departmentCpuEach),
    departmentCpuEach,
    storeCpuMs: cpuOf(store) - storeCpuBefore,
  };
  if (settings.perRound) progress(describeRound(target, round));
  return round;
}

/**
 * One round's figures. The store's CPU per request is the yardstick: its work per request is the
 * same in every round of a stack, so when it moves, the machine's speed moved.
 */
function describeRound(target: Target, round: Round): string {
  const perRequest = (ms: number): string => (ms / Math.max(round.requests, 1)).toFixed(2);
  return [
    `round of ${target.name}: ${(round.requests / round.seconds).toFixed(1)} req/s, p50 ${round.p50} ms;`,
    `CPU ms per request: gateway ${perRequest(round.cpuMs)}, departments ${perRequest(round.departmentCpuMs)},`,
    `store ${perRequest(round.storeCpuMs)}`,
  ].join(' ');
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
  /** CPU milliseconds of the store per answered request, over all rounds. */
  storeCpuPerRequest: number;
  failures: { connectionErrors: number; non2xx: number; graphqlErrors: number; emptyRounds: number; total: number };
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? NaN)
    : ((sorted[middle - 1] ?? NaN) + (sorted[middle] ?? NaN)) / 2;
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
    storeCpuPerRequest: sum(rounds.map((round) => round.storeCpuMs)) / requests,
    failures: {
      connectionErrors,
      non2xx,
      graphqlErrors,
      emptyRounds,
      total: connectionErrors + non2xx + graphqlErrors + emptyRounds,
    },
  };
}

const COLUMNS = [34, 9, 8, 8, 10, 10, 10, 7] as const;

function row(cells: readonly string[]): string {
  return cells.map((cell, i) => (i === 0 ? cell.padEnd(COLUMNS[0]) : cell.padStart(COLUMNS[i] ?? 10))).join(' ');
}

function ratio(a: number, b: number): string {
  return `${(a / b).toFixed(2)}×`;
}

/** The summaries side by side, then the first relative to each of the others. */
function printComparison(label: string, summaries: readonly Summary[]): void {
  const line = (summary: Summary): string =>
    `${row([
      summary.target.name,
      summary.requestsPerSecond.toFixed(1),
      // autocannon records whole milliseconds; decimals would be invented precision.
      summary.p50.toFixed(0),
      summary.p99.toFixed(0),
      summary.cpuPerRequest.toFixed(2),
      summary.departmentCpuPerRequest.toFixed(2),
      summary.storeCpuPerRequest.toFixed(2),
      String(summary.failures.total),
    ])}   ${summary.rounds.map((round) => (round.requests / round.seconds).toFixed(1)).join(', ')}`;
  const [first, ...others] = summaries;
  const output = [
    '',
    `${label}`,
    `  ${settings.rounds} round(s) × ${settings.duration} s each, ${settings.connections} connections, after ${settings.warmup} s warm-up (${settings.rewarm} s for a stack warmed before); ` +
      'req/s = all requests / all seconds; p50, p99 = median of the per-round values; CPU = ms per request of the ' +
      'gateway process, its departments together, and the store (FerretDB and PostgreSQL)',
    row(['stack', 'req/s', 'p50 ms', 'p99 ms', 'gw CPU', 'depts CPU', 'store CPU', 'errors']) + '   req/s per round',
    ...summaries.map(line),
    ...(first
      ? others.map((other) =>
          row([
            `${first.target.name} / ${other.target.name}`,
            ratio(first.requestsPerSecond, other.requestsPerSecond),
            ratio(first.p50, other.p50),
            ratio(first.p99, other.p99),
            ratio(first.cpuPerRequest, other.cpuPerRequest),
            other.departmentCpuPerRequest > 0
              ? ratio(first.departmentCpuPerRequest, other.departmentCpuPerRequest)
              : '',
            ratio(first.storeCpuPerRequest, other.storeCpuPerRequest),
          ]),
        )
      : []),
  ];
  for (const summary of summaries) {
    const { connectionErrors, non2xx, graphqlErrors, emptyRounds, total } = summary.failures;
    if (total > 0) {
      output.push(
        `  ${summary.target.name}: ${connectionErrors} connection errors/timeouts, ${non2xx} non-2xx, ` +
          `${graphqlErrors} answers with GraphQL errors, ${emptyRounds} round(s) in which no request completed`,
      );
    }
  }
  console.log(output.join('\n'));
}

/** One side of a comparison: a stack and the headers its requests carry. */
interface Side {
  target: Target;
  headers: Record<string, string>;
}

/** The stacks loaded earlier in this run (their processes past their first warm-up). */
const warmed = new WeakSet<Target>();

/**
 * Loads every side in turn with the same workload, in rounds whose order is balanced
 * (round-order.ts: a steady drift, the store warming up or other load fading, favours none), and
 * prints them side by side, the first relative to each other. Returns the summaries in the order
 * given.
 */
async function compare(label: string, sides: readonly Side[], workload: Workload): Promise<Summary[]> {
  const idle = new Map<Side, number>();
  for (const side of sides) idle.set(side, await idleLatency(side.target, side.headers, workload.probe));
  const run = async (side: Side, seconds: number): Promise<Round> => {
    const round = await load(side.target, side.headers, workload, seconds, settings.connections);
    await settle(side.target, side.headers, workload.probe, idle.get(side) ?? 0);
    return round;
  };

  // Every side warms up before any is measured, in rotating slices (warmupPlan): the first time
  // in the run for `--warmup` seconds, later for `--rewarm` (a stack left idle comes back slow).
  // All sides alike: one side warming alone would leave the others idle.
  const warmup = sides.every((side) => warmed.has(side.target)) ? settings.rewarm : settings.warmup;
  for (const [index, step] of warmupPlan(sides, warmup, settings.duration).entries()) {
    progress(`${label}: warm-up ${index + 1}, ${step.side.target.name} (${step.seconds} s of ${warmup} s)`);
    await run(step.side, step.seconds);
  }
  for (const side of sides) warmed.add(side.target);
  const rounds = new Map<Side, Round[]>(sides.map((side) => [side, []]));
  for (let round = 0; round < settings.rounds; round++) {
    for (const side of roundOrder(sides, round)) {
      progress(`${label}: round ${round + 1}/${settings.rounds}, ${side.target.name} (${settings.duration} s)`);
      rounds.get(side)?.push(await run(side, settings.duration));
    }
  }
  const summaries = sides.map((side) => summarise(side.target, rounds.get(side) ?? []));
  printComparison(`${label}; ${workload.name}`, summaries);
  return summaries;
}

/** CPU ms per department call, over all rounds: the departments' CPU divided by the calls they answered. */
function departmentCpuPerCall(summary: Summary): number {
  return summary.departmentCpuPerRequest / DEPARTMENT_CALLS_PER_REQUEST;
}

/** The departments' CPU per call and per request, and each department's share, for each stack. */
function printDepartments(summaries: readonly Summary[]): void {
  const names = departments.map(({ name }) => name);
  const perDepartment = (summary: Summary, name: string): string => {
    const index = summary.target.departmentNames.indexOf(name);
    const requests = sum(summary.rounds.map((round) => round.requests));
    return (sum(summary.rounds.map((round) => round.departmentCpuEach[index] ?? 0)) / requests).toFixed(2);
  };
  const [first, ...others] = summaries;
  console.log(
    [
      '',
      `Departments' CPU: ${DEPARTMENT_CALLS_PER_REQUEST} department calls per request (the registry, then one _entities call to each of the others); ms of CPU`,
      row(['stack', 'per call', 'per req', ...names]),
      ...summaries.map((summary) =>
        row([
          summary.target.name,
          departmentCpuPerCall(summary).toFixed(2),
          summary.departmentCpuPerRequest.toFixed(2),
          ...names.map((name) => perDepartment(summary, name)),
        ]),
      ),
      ...(first
        ? others.map((other) =>
            row([
              `${first.target.name} / ${other.target.name}`,
              ratio(departmentCpuPerCall(first), departmentCpuPerCall(other)),
            ]),
          )
        : []),
    ].join('\n'),
  );
}

function printExecution(result: ExecutionComparison): void {
  const { rows, batch, rounds } = result.settings;
  const line = (name: string, mean: number, perRound: number[]): string =>
    `${row([name, mean.toFixed(2)])}   ${perRound.map((value) => value.toFixed(2)).join(', ')}`;
  console.log(
    [
      '',
      `Subgraph execution with enforcement vs without: registry, _entities of ${rows} subjects × 8 fields, in process (executeOperation)`,
      `  as ${result.caller.consumer} / ${result.caller.purpose}; ${rounds} round(s) × ${batch} executions each, alternating, after ${2 * batch} warm-up executions each; ` +
        'loaders primed with documents read once, so no database call is timed',
      `  enforcement verified: ${result.verified}`,
      `${row(['subgraph', 'ms/exec'])}   ms/exec per round`,
      line('with enforcement', result.enforcedMs, result.enforcedRounds),
      line('without enforcement', result.bareMs, result.bareRounds),
      row(['with / without', ratio(result.enforcedMs, result.bareMs)]),
    ].join('\n'),
  );
}

/** The four stacks of the end-to-end comparison, in the order they are printed. */
interface EndToEnd {
  credence: Summary;
  bare: Summary;
  hive: Summary;
  direct: Summary;
}

interface Results {
  endToEnd?: { variables: EndToEnd; literal: EndToEnd };
  departments?: Summary[];
  accessLog?: Summary[];
  observability?: Summary[];
  execution?: ExecutionComparison;
  scale?: ScalePoint[];
}

/** One register size of `--scale`. */
interface ScalePoint {
  subjects: number;
  summary: Summary;
}

const verdict = (met: boolean): string => (met ? 'met' : 'MISSED');
const summaryLabel = (text: string): string => text.padEnd(58);

/** A summary line: `measured` against a target that it must reach (at least) or stay under (at most). */
function targetLine(text: string, measured: number, target: number, at: 'least' | 'most'): string {
  const met = at === 'least' ? measured >= target : measured <= target;
  return `  ${summaryLabel(text)}${measured.toFixed(2)}×  (target ${at === 'least' ? '≥' : '≤'} ${target.toFixed(2)}×)  ${verdict(met)}`;
}

function printSummary({
  endToEnd,
  accessLog,
  observability,
  departments: departmentSummaries,
  execution,
  scale,
}: Results): void {
  const lines = ['', 'Summary'];
  const enforcing = departmentSummaries?.[0];
  const bareDepartments = departmentSummaries?.at(-1);
  const baselineDepartments =
    departmentSummaries && departmentSummaries.length > 2 ? departmentSummaries[1] : undefined;
  if (enforcing && baselineDepartments) {
    lines.push(
      `  ${summaryLabel('departments: CPU ms per call, this tree vs baseline')}${departmentCpuPerCall(enforcing).toFixed(2)} vs ${departmentCpuPerCall(baselineDepartments).toFixed(2)} ` +
        `(${ratio(departmentCpuPerCall(enforcing), departmentCpuPerCall(baselineDepartments))})`,
    );
  }
  if (enforcing && bareDepartments && bareDepartments !== enforcing) {
    lines.push(
      `  ${summaryLabel('departments: CPU ms per call, Credence vs bare')}${departmentCpuPerCall(enforcing).toFixed(2)} vs ${departmentCpuPerCall(bareDepartments).toFixed(2)} ` +
        `(${ratio(departmentCpuPerCall(enforcing), departmentCpuPerCall(bareDepartments))}; per request ${enforcing.departmentCpuPerRequest.toFixed(2)} vs ${bareDepartments.departmentCpuPerRequest.toFixed(2)})`,
    );
  }
  for (const [name, stacks] of endToEnd
    ? ([
        ['variables', endToEnd.variables],
        ['literal', endToEnd.literal],
      ] as const)
    : []) {
    const { credence, bare, hive, direct } = stacks;
    lines.push(
      targetLine(
        `${name}: req/s, Credence / bare @apollo/gateway`,
        credence.requestsPerSecond / bare.requestsPerSecond,
        TARGETS.gatewayThroughput,
        'least',
      ),
      targetLine(
        `${name}: req/s, Credence / Hive Gateway`,
        credence.requestsPerSecond / hive.requestsPerSecond,
        TARGETS.hiveThroughput,
        'least',
      ),
      targetLine(
        `${name}: req/s, Credence / direct reader`,
        credence.requestsPerSecond / direct.requestsPerSecond,
        TARGETS.directThroughput,
        'least',
      ),
      `  ${summaryLabel(`${name}: CPU ms per request, Credence vs bare`)}gateway ${credence.cpuPerRequest.toFixed(2)} vs ${bare.cpuPerRequest.toFixed(2)}, ` +
        `departments ${credence.departmentCpuPerRequest.toFixed(2)} vs ${bare.departmentCpuPerRequest.toFixed(2)}, store ${credence.storeCpuPerRequest.toFixed(2)} vs ${bare.storeCpuPerRequest.toFixed(2)}`,
    );
  }
  const [on, off, unjournaled] = accessLog ?? [];
  if (on && off) {
    lines.push(
      targetLine(
        'access log req/s, on / off',
        on.requestsPerSecond / off.requestsPerSecond,
        TARGETS.accessLogThroughput,
        'least',
      ),
      targetLine('access log p50, on / off', on.p50 / off.p50, TARGETS.accessLogLatency, 'most'),
      `  ${summaryLabel('access log CPU per request, on / off')}gateway ${ratio(on.cpuPerRequest, off.cpuPerRequest)} (${(on.cpuPerRequest - off.cpuPerRequest).toFixed(2)} ms more), ` +
        `store ${(on.storeCpuPerRequest - off.storeCpuPerRequest).toFixed(2)} ms more (no target)`,
    );
    if (unjournaled)
      lines.push(
        `  ${summaryLabel('without journal, req/s and p50, on / off')}${ratio(unjournaled.requestsPerSecond, off.requestsPerSecond)}, ${ratio(unjournaled.p50, off.p50)}; ` +
          `gateway ${(unjournaled.cpuPerRequest - off.cpuPerRequest).toFixed(2)} ms more, store ${(unjournaled.storeCpuPerRequest - off.storeCpuPerRequest).toFixed(2)} ms more (no target)`,
      );
  }
  const [observed, unobserved] = observability ?? [];
  if (observed && unobserved) {
    lines.push(
      targetLine(
        'metrics + tracing 100%: req/s, on / off',
        observed.requestsPerSecond / unobserved.requestsPerSecond,
        TARGETS.observabilityThroughput,
        'least',
      ),
      `  ${summaryLabel('metrics + tracing 100%: CPU per request, on / off')}gateway ${ratio(observed.cpuPerRequest, unobserved.cpuPerRequest)}, ` +
        `departments ${ratio(observed.departmentCpuPerRequest, unobserved.departmentCpuPerRequest)}, p50 ${ratio(observed.p50, unobserved.p50)} (no target)`,
    );
  }
  if (execution) {
    lines.push(
      `${targetLine('subgraph execution, with / without enforcement', execution.enforcedMs / execution.bareMs, TARGETS.subgraphExecution, 'most')}, enforcement verified`,
    );
  }
  const smallest = scale?.[0];
  const largest = scale?.at(-1);
  if (smallest && largest && largest !== smallest) {
    lines.push(
      targetLine(
        `req/s at ${largest.subjects.toLocaleString('en')} subjects / at ${smallest.subjects.toLocaleString('en')}`,
        largest.summary.requestsPerSecond / smallest.summary.requestsPerSecond,
        TARGETS.scaleThroughput,
        'least',
      ),
    );
  }
  console.log(lines.join('\n'));
}

// ---------------------------------------------------------------------------------------------
// The run

/** What every stack is started with. */
interface Stacks {
  credence: Side;
  /** Credence with metrics on and every request traced (spans made and dropped), and with both off: own departments each. */
  observed?: Side;
  unobserved?: Side;
  /** Credence's gateway in front of the departments of the `--baseline` checkout, when given. */
  baseline?: Side;
  unlogged: Side;
  /** Credence writing each access-log record to the store before its answer, without a journal (the access-log comparison only). */
  unjournaled?: Side;
  bare: Side;
  hive: Side;
  direct: Side;
}

/** Seeds `subjects` (adding only what is missing) and gives the store the indexes its queries can use. */
async function seedRegister(store: MongoServer, subjects: number): Promise<void> {
  const started = Date.now();
  progress(
    `seeding ${subjects.toLocaleString('en')} subjects into ${store.embedded ? 'an embedded store' : 'MONGODB_URI'}`,
  );
  await seedAll({
    mongoUri: store.uri,
    subjects,
    log,
    onProgress: (done) =>
      progress(`  ${done.toLocaleString('en')} of ${subjects.toLocaleString('en')} subjects seeded`),
  });
  await store.adaptIndexes({ except: [ACCESS_LOG_DEPARTMENT] });
  progress(`seeded in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

/** The --baseline checkout's stack as far as it runs before the gateways start. */
interface BaselineStack {
  checkout: string;
  /** What every one of its processes is started with. */
  env: Record<string, string>;
  departments: Awaited<ReturnType<typeof startDepartments>>;
}

/**
 * Starts the --baseline checkout's departments on `storeUri`, with its own shipped policy released
 * as that checkout's own tools release it (an older checkout reads an older policy format, and
 * refuses this tree's), in a Redis namespace of its own.
 */
async function startBaselineDepartments(
  checkout: string,
  storeUri: string,
  publicKeyPem: string,
): Promise<BaselineStack> {
  type ReleaseSupport = {
    testReleaseKey(): { env: Record<string, string> };
    releaseFolder(policiesDir: string, releasesDir: string, key: unknown): Promise<unknown>;
  };
  const support = (await import(pathToFileURL(join(checkout, 'test/support/release.ts')).href)) as ReleaseSupport;
  const key = support.testReleaseKey();
  baselineReleasesDir = await mkdtemp(join(tmpdir(), 'credence-bench-baseline-releases-'));
  await support.releaseFolder(join(checkout, 'policies'), baselineReleasesDir, key);
  const env = {
    ...key.env,
    [RELEASE_ENV.DIR]: baselineReleasesDir,
    MONGODB_URI: storeUri,
    CREDENCE_REDIS_NAMESPACE: baselineRedisNamespace,
  };
  const departments = await startDepartments(
    'baseline department',
    'subgraphs/main.ts',
    { ...env, [ASSERTION_ENV.PUBLIC_KEYS]: publicKeyPem },
    'readyz',
    checkout,
  );
  return { checkout, env, departments };
}

/**
 * Starts the stacks: Credence's departments and two Credence gateways (access log on and off),
 * then (`departments`) the bare departments behind the bare @apollo/gateway, then (`all`) Hive
 * Gateway and the direct reader too. A stack not started stands in as Credence.
 */
async function startStacks(store: MongoServer, only: 'credence' | 'departments' | 'all'): Promise<Stacks> {
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
  progress(
    only !== 'credence'
      ? "starting Credence's five departments, then the five bare ones"
      : "starting Credence's five departments",
  );
  const credenceDepartments = await startDepartments(
    'Credence department',
    'subgraphs/main.ts',
    {
      MONGODB_URI: store.uri,
      [ASSERTION_ENV.PUBLIC_KEYS]: assertionKeys.publicKeyPem,
      ...releaseEnv,
      ...(settings.profileDepartments
        ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${settings.profileDepartments}` }
        : {}),
    },
    'readyz',
  );
  const bareDepartments =
    only !== 'credence'
      ? await startDepartments('bare department', 'test/bench/bare-subgraph.ts', { MONGODB_URI: store.uri }, 'query')
      : { urls: [], processes: [], names: [] };
  // The --baseline checkout's own stack: its departments now, its gateway with the others.
  const baselineStack =
    settings.baseline && only === 'departments'
      ? await startBaselineDepartments(settings.baseline, store.uri, assertionKeys.publicKeyPem)
      : undefined;
  // As npm start does: indexes FerretDB on PostgreSQL can use, for every stack alike.
  await store.adaptIndexes({ except: [ACCESS_LOG_DEPARTMENT] });

  progress('starting the gateways');
  const ports = {
    credence: await freePort(),
    unlogged: await freePort(),
    unjournaled: await freePort(),
    bare: await freePort(),
    hive: await freePort(),
    direct: await freePort(),
  };
  // The rate limits are counted as in production (in Redis) but set high enough never to refuse the bench.
  const gatewayEnv = (port: number, urls: string[]): Record<string, string> => ({
    GATEWAY_PORT: String(port),
    SUBGRAPH_URLS: urls.join(','),
    GATEWAY_REQUESTS_PER_MINUTE: '1000000000',
    GATEWAY_REQUESTS_PER_DAY: '1000000000',
  });
  // Credence as deployed writes the access log into the store (database <prefix>audit), through
  // each gateway's journal (ACCESS_LOG_JOURNAL_DIR; instances and chains are named per port, so
  // the gateways can share the folder).
  journalDir = await mkdtemp(join(tmpdir(), 'credence-bench-journal-'));
  const credenceEnv = {
    MONGODB_URI: store.uri,
    ACCESS_LOG_JOURNAL_DIR: journalDir,
    [ASSERTION_ENV.PRIVATE_KEY]: assertionKeys.privateKeyPem,
    ...releaseEnv,
  };
  const pids = (processes: ChildProcess[]): number[] => processes.map((child) => child.pid ?? 0);
  const target = (
    name: string,
    url: string,
    child: ChildProcess,
    departmentProcesses: { processes: ChildProcess[]; names: string[] },
  ): Target => ({
    name,
    url,
    pid: child.pid ?? 0,
    departmentPids: pids(departmentProcesses.processes),
    departmentNames: departmentProcesses.names,
  });
  const credenceHeaders = { ...JSON_HEADERS, [API_KEY_HEADER]: apiKey, [PURPOSE_HEADER]: CALLER.purpose };

  const credence = target(
    'Credence',
    `http://127.0.0.1:${ports.credence}/graphql`,
    runNode(gatewayProcesses, 'Credence gateway', 'gateway/main.ts', [], {
      ...gatewayEnv(ports.credence, credenceDepartments.urls),
      ...credenceEnv,
    }),
    credenceDepartments,
  );
  // The same gateway without the access log, in front of the same departments.
  const unlogged = target(
    'Credence, access log off',
    `http://127.0.0.1:${ports.unlogged}/graphql`,
    runNode(gatewayProcesses, 'Credence gateway without the access log', 'gateway/main.ts', [], {
      ...gatewayEnv(ports.unlogged, credenceDepartments.urls),
      ...credenceEnv,
      ACCESS_LOG: 'off',
    }),
    credenceDepartments,
  );
  const readiness = [
    waitUntil(credence.name, () => isOk(`http://127.0.0.1:${ports.credence}/readyz`)),
    waitUntil(unlogged.name, () => isOk(`http://127.0.0.1:${ports.unlogged}/readyz`)),
  ];
  // The same gateway writing each record to the store before its answer, as without a journal.
  let unjournaled: Target | undefined;
  if (settings.comparisons.has('access-log') && only === 'all') {
    unjournaled = target(
      'Credence, access log without journal',
      `http://127.0.0.1:${ports.unjournaled}/graphql`,
      runNode(gatewayProcesses, 'Credence gateway without the access-log journal', 'gateway/main.ts', [], {
        ...gatewayEnv(ports.unjournaled, credenceDepartments.urls),
        ...credenceEnv,
        ACCESS_LOG_JOURNAL_DIR: '',
      }),
      credenceDepartments,
    );
    readiness.push(waitUntil(unjournaled.name, () => isOk(`http://127.0.0.1:${ports.unjournaled}/readyz`)));
  }
  let baseline: Target | undefined;
  if (baselineStack) {
    const port = await freePort();
    const baselineTarget = target(
      'Credence, baseline',
      `http://127.0.0.1:${port}/graphql`,
      runNode(
        gatewayProcesses,
        "the baseline's gateway",
        'gateway/main.ts',
        [],
        {
          ...gatewayEnv(port, baselineStack.departments.urls),
          ...baselineStack.env,
          [ASSERTION_ENV.PRIVATE_KEY]: assertionKeys.privateKeyPem,
        },
        baselineStack.checkout,
      ),
      baselineStack.departments,
    );
    baseline = baselineTarget;
    readiness.push(waitUntil(baselineTarget.name, () => isOk(`http://127.0.0.1:${port}/readyz`)));
  }
  // Observability on and off: each its own departments and gateway, since departments record too.
  const observability: Partial<Record<'observed' | 'unobserved', Target>> = {};
  if (settings.comparisons.has('observability') && only === 'all') {
    const modes = {
      observed: {
        name: 'Credence, metrics + tracing 100%',
        env: { CREDENCE_METRICS: 'on', CREDENCE_TRACING: 'discard', CREDENCE_TRACE_SAMPLE_RATIO: '1' },
      },
      unobserved: {
        name: 'Credence, metrics and tracing off',
        env: { CREDENCE_METRICS: 'off', CREDENCE_TRACING: 'off' },
      },
    } as const;
    for (const [mode, { name, env }] of Object.entries(modes) as [
      keyof typeof modes,
      (typeof modes)[keyof typeof modes],
    ][]) {
      const modeDepartments = await startDepartments(
        `${name}: department`,
        'subgraphs/main.ts',
        {
          MONGODB_URI: store.uri,
          [ASSERTION_ENV.PUBLIC_KEYS]: assertionKeys.publicKeyPem,
          ...releaseEnv,
          ...env,
          METRICS_PORT: '0',
        },
        'readyz',
      );
      const port = await freePort();
      observability[mode] = target(
        name,
        `http://127.0.0.1:${port}/graphql`,
        runNode(gatewayProcesses, `${name}: gateway`, 'gateway/main.ts', [], {
          ...gatewayEnv(port, modeDepartments.urls),
          ...credenceEnv,
          ...env,
        }),
        modeDepartments,
      );
      readiness.push(waitUntil(name, () => isOk(`http://127.0.0.1:${port}/readyz`)));
    }
  }
  let bare = credence;
  let hive = credence;
  let direct = credence;
  if (only !== 'credence') {
    bare = target(
      'bare @apollo/gateway',
      `http://127.0.0.1:${ports.bare}/graphql`,
      runNode(
        gatewayProcesses,
        'bare @apollo/gateway',
        'test/bench/bare-gateway.ts',
        [],
        gatewayEnv(ports.bare, bareDepartments.urls),
      ),
      bareDepartments,
    );
    readiness.push(waitUntil(bare.name, () => isOk(bare.url, TYPENAME_PROBE)));
  }
  if (only === 'all') {
    hive = target(
      'Hive Gateway',
      `http://127.0.0.1:${ports.hive}/graphql`,
      runNode(
        gatewayProcesses,
        'Hive Gateway',
        'test/bench/hive-gateway.ts',
        [],
        gatewayEnv(ports.hive, bareDepartments.urls),
      ),
      bareDepartments,
    );
    direct = target(
      'direct reader',
      `http://127.0.0.1:${ports.direct}/`,
      runNode(gatewayProcesses, 'direct reader', 'test/bench/direct-reader.ts', [], {
        MONGODB_URI: store.uri,
        PORT: String(ports.direct),
      }),
      { processes: [], names: [] },
    );
    readiness.push(
      waitUntil(hive.name, () => isOk(hive.url, TYPENAME_PROBE)),
      waitUntil(direct.name, () =>
        isOk(direct.url, { method: 'POST', body: JSON.stringify({ variables: { uscc: seedSubject(0).uscc } }) }),
      ),
    );
  }
  await Promise.all(readiness);
  return {
    credence: { target: credence, headers: credenceHeaders },
    ...(baseline ? { baseline: { target: baseline, headers: credenceHeaders } } : {}),
    ...(observability.observed ? { observed: { target: observability.observed, headers: credenceHeaders } } : {}),
    ...(observability.unobserved ? { unobserved: { target: observability.unobserved, headers: credenceHeaders } } : {}),
    unlogged: { target: unlogged, headers: credenceHeaders },
    ...(unjournaled ? { unjournaled: { target: unjournaled, headers: credenceHeaders } } : {}),
    bare: { target: bare, headers: JSON_HEADERS },
    hive: { target: hive, headers: JSON_HEADERS },
    direct: { target: direct, headers: JSON_HEADERS },
  };
}

/** Every stack answers a sample of the workload with the partner's answer and no errors, before any load: a benchmark of error answers would be worthless. */
async function verifyStacks(sides: readonly Side[], workload: Workload): Promise<Map<Side, number>> {
  const records = new Map<Side, number>();
  const sample = Array.from({ length: 20 }, () => workload.body());
  for (const side of sides) {
    for (const body of sample)
      records.set(side, (records.get(side) ?? 0) + (await verify(side.target, side.headers, body)));
  }
  return records;
}

async function runComparisons(store: MongoServer): Promise<Results> {
  const stacks = await startStacks(store, settings.departmentsOnly ? 'departments' : 'all');
  const subjects = mixSubjects(settings.subjects, settings.mix);
  const { variables, literal } = workloads(subjects);
  const departmentStacks = stacks.baseline
    ? [stacks.credence, stacks.baseline, stacks.bare]
    : [stacks.credence, stacks.bare];
  const fourStacks = settings.departmentsOnly
    ? departmentStacks
    : [stacks.credence, stacks.bare, stacks.hive, stacks.direct];
  const records = await verifyStacks(
    settings.departmentsOnly
      ? fourStacks
      : [...fourStacks, stacks.unlogged, ...(stacks.unjournaled ? [stacks.unjournaled] : [])],
    variables,
  );
  if (!settings.departmentsOnly) await verifyStacks(fourStacks, literal);
  progress('every stack answers the partner query without errors');
  console.log(
    `store: ${store.description}, ${settings.subjects.toLocaleString('en')} subjects seeded, requests about random subjects among ${subjects.length}`,
  );
  console.log(
    `query (Credence as ${CALLER.consumer} / ${CALLER.purpose}, reject mode, allowed in full): ${partnerQuery('<code>')}`,
  );
  console.log(
    `department records per answer, mean over 20 sampled subjects: ${fourStacks.map((side) => `${side.target.name} ${((records.get(side) ?? 0) / 20).toFixed(1)}`).join(', ')} ` +
      '(Credence shares current records only, as the policy says; the others return every record)',
  );

  const results: Results = {};
  if (settings.comparisons.has('end-to-end')) {
    const endToEnd = async (workload: Workload): Promise<EndToEnd> => {
      const [credence, bare, hive, direct] = await compare(
        'End to end: the partner query through Credence (every check on, access log included) and three reference stacks on the same store',
        fourStacks,
        workload,
      );
      if (!credence || !bare || !hive || !direct) throw new Error('a stack has no summary');
      return { credence, bare, hive, direct };
    };
    results.endToEnd = { variables: await endToEnd(variables), literal: await endToEnd(literal) };
  }
  if (settings.comparisons.has('access-log')) {
    results.accessLog = await compare(
      'Access log: Credence with the access log (journaled before each answer, shipped to the store in batches) vs the same gateway with ACCESS_LOG=off, and with the log written to the store before each answer (no journal), same departments',
      [stacks.credence, stacks.unlogged, ...(stacks.unjournaled ? [stacks.unjournaled] : [])],
      variables,
    );
  }
  if (stacks.observed && stacks.unobserved) {
    await verifyStacks([stacks.observed, stacks.unobserved], variables);
    results.observability = await compare(
      'Observability: Credence with Prometheus metrics on and every request traced (OpenTelemetry, 100% sampled, spans made and dropped) vs both off, each on departments of its own',
      [stacks.observed, stacks.unobserved],
      variables,
    );
  }
  if (settings.comparisons.has('departments')) {
    results.departments = await compare(
      'Departments: the partner query through Credence (enforcing departments) and the bare @apollo/gateway (bare departments, the same resolvers)',
      departmentStacks,
      variables,
    );
    printDepartments(results.departments);
  }
  if (settings.comparisons.has('execution')) {
    results.execution = await compareSubgraphExecution({
      mongoUri: store.uri,
      policiesDir: policiesDirectory(),
      settings: settings.execution,
      progress,
    });
    printExecution(results.execution);
  }
  return results;
}

/** `--scale`: the partner query through Credence at each register size, seeded in turn into one store. */
async function runScale(store: MongoServer): Promise<Results> {
  const [first, ...larger] = settings.scaleSizes;
  if (first === undefined) throw new Error('--scale-sizes names no size.');
  await seedRegister(store, first);
  const stacks = await startStacks(store, 'credence');
  const points: ScalePoint[] = [];
  for (const subjects of [first, ...larger]) {
    if (subjects !== first) await seedRegister(store, subjects);
    const { variables } = workloads(mixSubjects(subjects, settings.mix));
    await verifyStacks([stacks.credence], variables);
    const [summary] = await compare(
      `Scale: Credence, every check on, at ${subjects.toLocaleString('en')} subjects`,
      [stacks.credence],
      variables,
    );
    if (summary) points.push({ subjects, summary });
  }
  console.log(
    [
      '',
      'Scale: the partner query through Credence by register size',
      row(['subjects', 'req/s', 'p50 ms', 'p99 ms', 'gw CPU', 'depts CPU', 'store CPU', 'vs first']),
      ...points.map(({ subjects, summary }) =>
        row([
          subjects.toLocaleString('en'),
          summary.requestsPerSecond.toFixed(1),
          summary.p50.toFixed(0),
          summary.p99.toFixed(0),
          summary.cpuPerRequest.toFixed(2),
          summary.departmentCpuPerRequest.toFixed(2),
          summary.storeCpuPerRequest.toFixed(2),
          ratio(summary.requestsPerSecond, points[0]?.summary.requestsPerSecond ?? NaN),
        ]),
      ),
    ].join('\n'),
  );
  return { scale: points };
}

async function main(): Promise<boolean> {
  // Databases of this run only (children inherit the prefix), dropped at the end: every run
  // starts from the same freshly seeded state, whatever earlier runs left behind.
  process.env.MONGODB_DB_PREFIX = `credence_bench_${process.pid}_`;
  if (!process.env.MONGODB_URI) dataDir = await mkdtemp(join(tmpdir(), 'credence-bench-'));
  // With MONGODB_URI set, startMongo uses it and ignores the data directory.
  const store = await startMongo({ dataDir: dataDir ?? '', log });
  mongo = store;
  storePids = storeProcesses(store.uri);
  // Figures move with the runtime (V8's compilers, how AsyncLocalStorage is carried): say which.
  console.log(`runtime: Node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'})`);
  let results: Results;
  if (settings.scale) {
    results = await runScale(store);
  } else {
    await seedRegister(store, settings.subjects);
    results = await runComparisons(store);
  }
  printSummary(results);
  const endToEnd: EndToEnd[] = results.endToEnd ? [results.endToEnd.variables, results.endToEnd.literal] : [];
  const summaries: Summary[] = [
    ...endToEnd.flatMap(({ credence, bare, hive, direct }) => [credence, bare, hive, direct]),
    ...(results.accessLog ?? []),
    ...(results.observability ?? []),
    ...(results.departments ?? []),
    ...(results.scale ?? []).map(({ summary }) => summary),
  ];
  return summaries.every((summary) => summary.failures.total === 0);
}

let exitCode = 1;
try {
  exitCode = (await Promise.race([main(), crashed])) ? 0 : 1;
  if (exitCode !== 0)
    console.error(
      '\nbench: FAILED: some requests failed (see the errors column); the figures above are not trustworthy.',
    );
} catch (error) {
  // After Ctrl-C the load in flight fails as its processes go; that is the stop, not a failure.
  if (!stopping) console.error(`\nbench: FAILED: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  await cleanUp();
}
// Explicit, since after a crash the abandoned load or polling may still hold the event loop.
process.exit(exitCode);
