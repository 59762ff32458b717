/**
 * Prometheus metrics (prom-client) shared by the gateway and the departments: one registry per
 * server (several servers share a process in tests, and each must report only its own), served on
 * an operator listener of its own, apart from the port consumers reach (docs/operations.md says
 * why), bound to 127.0.0.1 unless configured otherwise.
 *
 * Recording must stay cheap on the request path: label children are bound once and looked up in
 * nested maps (no label object or joined key per request), every label value comes from a bounded
 * set (configuration, the error registry, or `BoundedNames`), and gauges that mirror state
 * (caches, circuits, queue depth, release) are read when scraped, not kept up to date per request.
 * No label ever holds personal data: no subject code, no variable, no free text of a request
 * except an operation name that passed `BoundedNames`.
 *
 * The gateway's metrics are in metrics-gateway.ts, the departments' in metrics-department.ts.
 */
import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Connection } from 'mongoose';
import { ERRORS } from '../error-registry.ts';
import type { Logger } from '../logger.ts';
import type { PolicyRuntime } from '../policy/releases/policy-in-force.ts';
import { observeStoreCommands } from './store-commands.ts';

/** Where and whether a process serves its metrics (the configuration modules read these). */
export interface MetricsSettings {
  /** CREDENCE_METRICS: off records nothing and opens no listener (benchmarks compare both). */
  enabled: boolean;
  /** The operator listener's port: a number (0 picks a free one), 'off' (none: nothing recorded), or unset: the main port + 5400. */
  port: number | 'off' | undefined;
  /** The operator listener's address (127.0.0.1 unless configured). */
  host: string;
}

/** The operator listener's port is the main port + this, unless configured (gateway 4000 → 9400, departments 4001.. → 9401..). */
export const METRICS_PORT_OFFSET = 5400;

/** Every metric name starts with this (Node's default process metrics keep their standard names). */
export const METRIC_PREFIX = 'credence_';

/** The port the operator listener takes: configured, or derived from the main port; undefined: no listener. */
export function metricsPort(settings: MetricsSettings, mainPort: number): number | undefined {
  if (!settings.enabled || settings.port === 'off') return undefined;
  if (settings.port !== undefined) return settings.port;
  const derived = mainPort + METRICS_PORT_OFFSET;
  return mainPort === 0 || derived > 65_535 ? 0 : derived;
}

/** A registry for one server, its default label naming the service, with Node's default process metrics. */
export function createRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Seconds since `started` (a `performance.now()` reading). */
export const secondsSince = (started: number): number => (performance.now() - started) / 1000;

/** Latency buckets (seconds) for requests and department calls: 1 ms to 10 s. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Store commands are quicker: 0.25 ms to 5 s. */
export const STORE_BUCKETS = [0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5];

/**
 * Label children bound once per combination of values, found again through nested maps: a request
 * costs a few map lookups, not the label object and the joined key prom-client builds for
 * `labels({...})`. Every value must come from a bounded set (the caller's duty).
 */
export class BoundChildren<Child> {
  private readonly root = new Map<string, unknown>();
  private readonly bind: (values: string[]) => Child;
  constructor(bind: (values: string[]) => Child) {
    this.bind = bind;
  }

  get(...values: string[]): Child {
    let level = this.root;
    for (let index = 0; index < values.length - 1; index += 1) {
      const key = values[index] as string;
      let next = level.get(key) as Map<string, unknown> | undefined;
      if (!next) {
        next = new Map();
        level.set(key, next);
      }
      level = next;
    }
    const last = values[values.length - 1] as string;
    let child = level.get(last) as Child | undefined;
    if (child === undefined) {
      child = this.bind(values);
      level.set(last, child);
    }
    return child;
  }
}

/** The label of a request without an operation name. */
export const ANONYMOUS_OPERATION = '(anonymous)';
/** The label of every operation name past the limit, or one that might carry data (see `BoundedNames`). */
export const OTHER_LABEL = 'other';
/** Names with a run of this many digits may carry an identifier (a subject's code is 18 characters with digits): never a label. */
const DIGIT_RUN = /\d{4}/;
const GRAPHQL_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/**
 * Operation names are the caller's free text: labelled as they are for the first `limit` distinct
 * names of each consumer, `other` after that, so one consumer sending endless names fills its own
 * slots and no one else's, and the series stay bounded (consumers × limit). A name that is not a
 * short GraphQL name, or that holds four digits in a row (a subject code, an ID number), is
 * labelled `other` without taking a slot.
 */
export class BoundedNames {
  private readonly seen = new Map<string, Set<string>>();
  private readonly limit: number;
  constructor(limit: number) {
    this.limit = limit;
  }

  label(owner: string, name: string | null | undefined): string {
    if (name === null || name === undefined || name === '') return ANONYMOUS_OPERATION;
    let names = this.seen.get(owner);
    if (!names) {
      names = new Set();
      this.seen.set(owner, names);
    }
    if (names.has(name)) return name;
    if (names.size >= this.limit || !GRAPHQL_NAME.test(name) || DIGIT_RUN.test(name)) return OTHER_LABEL;
    names.add(name);
    return name;
  }
}

/** An error code as a label: a code of the error registry, or `other` (a label never holds a caller's text). */
export function codeLabel(code: unknown): string {
  return typeof code === 'string' && Object.hasOwn(ERRORS, code) ? code : OTHER_LABEL;
}

/** How a GraphQL answer ended: answered (no error), partial (data and errors), refused (errors, no data). */
export type Outcome = 'answered' | 'partial' | 'refused';

interface AnswerShape {
  readonly data?: unknown;
  readonly errors?: readonly { readonly extensions?: Readonly<Record<string, unknown>> | undefined }[] | undefined;
}

/** The outcome of an answer and the code of its first error ('' when answered). */
export function outcomeOf(answer: AnswerShape): { outcome: Outcome; code: string } {
  const first = answer.errors?.[0];
  if (!first) return { outcome: 'answered', code: '' };
  const code = codeLabel(first.extensions?.code);
  const data = answer.data;
  return { outcome: data !== null && data !== undefined ? 'partial' : 'refused', code };
}

/** What a cache says about itself (lib/lru-cache.ts, and the gateway's query-plan store). */
export interface CacheStatistics {
  readonly size: number;
  readonly bytes: number;
  readonly hits: number;
  readonly misses: number;
}

/** Entries, estimated bytes, hits and misses of each named cache, read when scraped. */
export function registerCacheMetrics(registry: Registry, caches: ReadonlyMap<string, CacheStatistics>): void {
  const each = (read: (cache: CacheStatistics) => number) =>
    function (this: Gauge<'cache'>): void {
      for (const [name, cache] of caches) this.set({ cache: name }, read(cache));
    };
  new Gauge({
    name: `${METRIC_PREFIX}cache_entries`,
    help: 'Entries held by each cache (plans, decisions, documents, ...).',
    labelNames: ['cache'],
    registers: [registry],
    collect: each((cache) => cache.size),
  });
  new Gauge({
    name: `${METRIC_PREFIX}cache_bytes`,
    help: 'Estimated bytes held by each cache (0 where a cache is bounded by entries only).',
    labelNames: ['cache'],
    registers: [registry],
    collect: each((cache) => cache.bytes),
  });
  // Counters (they only grow), read from the caches' own tallies when scraped.
  const tally = (read: (cache: CacheStatistics) => number) =>
    function (this: Counter<'cache'>): void {
      this.reset();
      for (const [name, cache] of caches) this.inc({ cache: name }, read(cache));
    };
  new Counter({
    name: `${METRIC_PREFIX}cache_hits_total`,
    help: 'Lookups each cache answered.',
    labelNames: ['cache'],
    registers: [registry],
    collect: tally((cache) => cache.hits),
  });
  new Counter({
    name: `${METRIC_PREFIX}cache_misses_total`,
    help: 'Lookups each cache could not answer (the value was computed).',
    labelNames: ['cache'],
    registers: [registry],
    collect: tally((cache) => cache.misses),
  });
}

/** The signed policy release this process enforces, as an info metric (value 1), and whether a newer one is announced. */
export function registerReleaseMetrics(registry: Registry, policies: Pick<PolicyRuntime, 'status'>): void {
  new Gauge({
    name: `${METRIC_PREFIX}release_info`,
    help: 'The policy release this process enforces (value 1; release number and policy version as labels).',
    labelNames: ['release', 'policy_version'],
    registers: [registry],
    collect() {
      const { release } = policies.status();
      this.reset();
      this.set({ release: String(release.number), policy_version: release.version }, 1);
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}release_number`,
    help: 'The number of the policy release this process enforces.',
    registers: [registry],
    collect() {
      this.set(policies.status().release.number);
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}release_behind`,
    help: '1 while a newer release is announced than the one in force (it could not be verified or compiled here).',
    registers: [registry],
    collect() {
      this.set(policies.status().behind ? 1 : 0);
    },
  });
}

/** The store commands a department sends (store-commands.ts); anything else is `other`. */
const STORE_COMMANDS = new Set(['find', 'insert', 'update', 'delete', 'findAndModify', 'aggregate', 'distinct']);

/** mongoose's connection states, as words for /status and the store_connected gauge. */
const CONNECTION_STATES: Readonly<Record<number, string | undefined>> = {
  0: 'disconnected',
  1: 'connected',
  2: 'connecting',
  3: 'disconnecting',
};

/** The state of a store connection, as a word. */
export function connectionState(connection: Pick<Connection, 'readyState'>): string {
  return CONNECTION_STATES[Number(connection.readyState)] ?? 'unknown';
}

/**
 * Store latency, from the commands a department times where it sends them (store-commands.ts):
 * one histogram observation per command, its child bound per command name. And whether the
 * connection is up, read when scraped.
 */
export function registerStoreMetrics(registry: Registry, store: string, connection: Connection): void {
  const duration = new Histogram({
    name: `${METRIC_PREFIX}store_command_duration_seconds`,
    help: "Time the store took to answer each of this process's commands, by command and result.",
    labelNames: ['store', 'command', 'result'],
    buckets: STORE_BUCKETS,
    registers: [registry],
  });
  const children = new BoundChildren((values) => duration.labels(store, values[0] ?? '', values[1] ?? ''));
  observeStoreCommands(connection, {
    started(command) {
      const started = performance.now();
      const name = STORE_COMMANDS.has(command.name) ? command.name : OTHER_LABEL;
      return (failure) => children.get(name, failure === undefined ? 'ok' : 'error').observe(secondsSince(started));
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}store_connected`,
    help: '1 while the store connection is up.',
    labelNames: ['store'],
    registers: [registry],
    collect() {
      this.set({ store }, connectionState(connection) === 'connected' ? 1 : 0);
    },
  });
}

/** The operator listener: `/metrics` (Prometheus text format) and `/status`, GET only, nothing else. */
export interface MetricsListener {
  url: string;
  close(): Promise<void>;
}

export async function startMetricsListener(options: {
  registry: Registry;
  port: number;
  host: string;
  log: Logger;
  /** The same status the main listener's /status answers (docs/operations.md). */
  status: () => Promise<object> | object;
}): Promise<MetricsListener> {
  const { registry } = options;
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    const send = (status: number, type: string, body: string): void => {
      response.writeHead(status, {
        'content-type': type,
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      });
      response.end(body);
    };
    if (request.method !== 'GET') return send(405, 'text/plain; charset=utf-8', 'GET only.\n');
    const answer =
      path === '/metrics'
        ? registry.metrics().then((text) => send(200, registry.contentType, text))
        : path === '/status'
          ? Promise.resolve(options.status()).then((status) =>
              send(200, 'application/json; charset=utf-8', JSON.stringify(status)),
            )
          : Promise.resolve(send(404, 'text/plain; charset=utf-8', 'Served here: /metrics and /status.\n'));
    answer.catch((error: unknown) => {
      options.log.error({ reason: (error as Error).message }, 'metrics could not be collected');
      if (!response.headersSent) send(500, 'text/plain; charset=utf-8', 'Metrics could not be collected.\n');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the metrics listener has no TCP address');
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `http://${host}:${address.port}`;
  options.log.info({ url }, 'metrics and status for operators listening');
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
