/**
 * The gateway's metrics (lib/observability/metrics.ts has the shared parts and the rules every
 * label follows). Requests are counted by the metrics stage (gateway/stages/metrics.ts), which sees
 * every answer as it finally leaves; department calls by the department source (its result and
 * time); circuits, the access log's queue and the caches are read when scraped.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { ErrorCode } from '../error-registry.ts';
import type { NamedCaches } from '../lru-cache.ts';
import type { AccessLogObserver, AccessLogWriter } from '../access-log/writer.ts';
import type { PolicyRuntime } from '../policy/releases/policy-in-force.ts';
import {
  BoundChildren,
  BoundedNames,
  LATENCY_BUCKETS,
  METRIC_PREFIX,
  createRegistry,
  outcomeOf,
  registerCacheMetrics,
  registerReleaseMetrics,
  secondsSince,
  type Outcome,
} from './metrics.ts';

const GATEWAY = `${METRIC_PREFIX}gateway_`;

/** Distinct operation names labelled per consumer before the rest are `other` (metrics.ts, BoundedNames). */
export const OPERATION_NAMES_PER_CONSUMER = 50;

/** The consumer label of a request refused before any credentials held. */
export const UNAUTHENTICATED = '(unauthenticated)';
/** The purpose label of a request without a purpose its consumer holds. */
export const NO_PURPOSE = '(none)';

/** The codes that say the policy refused (a request, a field, a write), counted by code. */
const POLICY_CODES: ReadonlySet<string> = new Set([
  ErrorCode.FORBIDDEN,
  ErrorCode.PURPOSE_REQUIRED,
  ErrorCode.PURPOSE_NOT_ALLOWED,
  ErrorCode.OPERATION_NOT_REGISTERED,
  ErrorCode.OUTSIDE_COMPETENCE,
]);

/** How a department call ended: answered, refused by the department (4xx with a code), or unavailable (down, 5xx, timeout, open circuit). */
export type DepartmentCallResult = 'ok' | 'refused' | 'unavailable';

export interface RequestEnded {
  /** The consumer's id (from the policy), or UNAUTHENTICATED. */
  consumer: string;
  /** A purpose the consumer holds, or NO_PURPOSE. */
  purpose: string;
  operationName: string | null | undefined;
  answer: Parameters<typeof outcomeOf>[0];
  /** `performance.now()` when the request arrived. */
  started: number;
}

export interface GatewayMetrics {
  readonly registry: Registry;
  /** The gateway's caches by name (documents, plans, decisions, ...), filled in as they are created. */
  readonly caches: NamedCaches;
  requestEnded(request: RequestEnded): void;
  departmentCall(department: string, result: DepartmentCallResult, started: number): void;
  /** The circuit state of each department, read when scraped. */
  watchCircuits(read: () => Iterable<readonly [department: string, state: string]>): void;
  /** The access log's batches (observed), its queue and whether it is writable (read when scraped). */
  watchAccessLog(writer: AccessLogWriter): void;
}

const CIRCUIT_STATES = ['closed', 'half-open', 'open'] as const;

export function createGatewayMetrics(policies: Pick<PolicyRuntime, 'status'>): GatewayMetrics {
  const registry = createRegistry('gateway');
  const caches: NamedCaches = new Map();
  registerCacheMetrics(registry, caches);
  registerReleaseMetrics(registry, policies);

  const requests = new Counter({
    name: `${GATEWAY}requests_total`,
    help: 'Requests by consumer, purpose, operation name (bounded), outcome (answered, partial, refused) and the code of the first error.',
    labelNames: ['consumer', 'purpose', 'operation', 'outcome', 'code'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: `${GATEWAY}request_duration_seconds`,
    help: 'Time from the request reaching the pipeline to its answer leaving it (access-log write included), by outcome.',
    labelNames: ['outcome'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const policyRefusals = new Counter({
    name: `${GATEWAY}policy_refusals_total`,
    help: 'Requests the policy refused in whole or in part, by the code of the refusal.',
    labelNames: ['code'],
    registers: [registry],
  });
  const rateRefusals = new Counter({
    name: `${GATEWAY}rate_limit_refusals_total`,
    help: 'Requests refused for their rate (per minute) or quota (per day), by consumer.',
    labelNames: ['consumer', 'limit'],
    registers: [registry],
  });
  const calls = new Histogram({
    name: `${GATEWAY}department_call_duration_seconds`,
    help: 'Time of each department call, by department and result (ok, refused, unavailable).',
    labelNames: ['department', 'result'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const departmentErrors = new Counter({
    name: `${GATEWAY}department_errors_total`,
    help: 'Department calls that did not answer (unavailable: down, 5xx, timed out, circuit open) or were refused by the department.',
    labelNames: ['department', 'result'],
    registers: [registry],
  });

  const requestChildren = new BoundChildren((values) =>
    requests.labels(...(values as [string, string, string, string, string])),
  );
  const durationChildren = new BoundChildren((values) => duration.labels(values[0] ?? ''));
  const callChildren = new BoundChildren((values) => calls.labels(values[0] ?? '', values[1] ?? ''));
  const operationNames = new BoundedNames(OPERATION_NAMES_PER_CONSUMER);

  return {
    registry,
    caches,
    requestEnded({ consumer, purpose, operationName, answer, started }) {
      const { outcome, code } = outcomeOf(answer);
      const operation = operationNames.label(consumer, operationName);
      requestChildren.get(consumer, purpose, operation, outcome, code).inc();
      durationChildren.get(outcome satisfies Outcome).observe(secondsSince(started));
      if (outcome === 'answered') return;
      if (code === ErrorCode.RATE_LIMITED || code === ErrorCode.QUOTA_EXCEEDED)
        rateRefusals.labels(consumer, code === ErrorCode.RATE_LIMITED ? 'rate' : 'quota').inc();
      for (const error of answer.errors ?? []) {
        const errorCode = error.extensions?.code;
        if (typeof errorCode === 'string' && POLICY_CODES.has(errorCode)) {
          policyRefusals.labels(errorCode).inc();
          break;
        }
      }
    },
    departmentCall(department, result, started) {
      callChildren.get(department, result).observe(secondsSince(started));
      if (result !== 'ok') departmentErrors.labels(department, result).inc();
    },
    watchCircuits(read) {
      new Gauge({
        name: `${GATEWAY}circuit_state`,
        help: "Each department's circuit: 1 for the state it is in (closed, half-open, open), 0 for the others.",
        labelNames: ['department', 'state'],
        registers: [registry],
        collect() {
          for (const [department, current] of read())
            for (const state of CIRCUIT_STATES) this.set({ department, state }, state === current ? 1 : 0);
        },
      });
    },
    watchAccessLog(writer) {
      const writes = new Histogram({
        name: `${METRIC_PREFIX}access_log_write_duration_seconds`,
        help: 'Time the access-log store took to acknowledge each batch (group commit), by result.',
        labelNames: ['result'],
        buckets: LATENCY_BUCKETS,
        registers: [registry],
      });
      const batches = new Histogram({
        name: `${METRIC_PREFIX}access_log_batch_size`,
        help: 'Records per acknowledged access-log batch.',
        buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
        registers: [registry],
      });
      const records = new Counter({
        name: `${METRIC_PREFIX}access_log_records_total`,
        help: 'Access records written, or refused (their answers withheld: ACCESS_LOG_UNAVAILABLE).',
        labelNames: ['result'],
        registers: [registry],
      });
      new Gauge({
        name: `${METRIC_PREFIX}access_log_queue_depth`,
        help: 'Records waiting for the next access-log write.',
        registers: [registry],
        collect() {
          this.set(writer.queueDepth ?? 0);
        },
      });
      new Gauge({
        name: `${METRIC_PREFIX}access_log_unshipped`,
        help: 'With the journal: records journaled, their answers released, that the store has not taken yet.',
        registers: [registry],
        collect() {
          this.set(writer.unshipped ?? 0);
        },
      });
      new Gauge({
        name: `${METRIC_PREFIX}access_log_writable`,
        help: '1 while the access log can be written; 0 after a failed write until the store takes writes again.',
        registers: [registry],
        collect() {
          this.set(writer.writable === false ? 0 : 1);
        },
      });
      const written = writes.labels('ok');
      const failed = writes.labels('error');
      const recordsWritten = records.labels('written');
      const recordsRefused = records.labels('refused');
      const observer: AccessLogObserver = {
        written(count, seconds) {
          written.observe(seconds);
          batches.observe(count);
          recordsWritten.inc(count);
        },
        failed(count, seconds) {
          if (seconds !== undefined) failed.observe(seconds);
          recordsRefused.inc(count);
        },
      };
      writer.observe?.(observer);
    },
  };
}
