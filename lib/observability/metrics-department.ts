/**
 * A department's metrics (lib/observability/metrics.ts has the shared parts and the label rules):
 * its requests by outcome and time, its store's command latency and connection, its caches and
 * the release it enforces. Requests are counted by an Apollo Server plugin, which sees each
 * answer once; nothing else runs per request.
 */
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { Connection } from 'mongoose';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { NamedCaches } from '../lru-cache.ts';
import type { PolicyRuntime } from '../policy/releases/policy-in-force.ts';
import {
  BoundChildren,
  LATENCY_BUCKETS,
  METRIC_PREFIX,
  createRegistry,
  outcomeOf,
  registerCacheMetrics,
  registerReleaseMetrics,
  registerStoreMetrics,
  secondsSince,
} from './metrics.ts';

export interface DepartmentMetrics {
  readonly registry: Registry;
  /** The department's caches by name (documents, verdicts), filled in as they are created. */
  readonly caches: NamedCaches;
  /** Counts and times every request the department answers. */
  plugin(): ApolloServerPlugin<BaseContext>;
}

export function createDepartmentMetrics(options: {
  department: string;
  policies: Pick<PolicyRuntime, 'status'>;
  connection: Connection;
}): DepartmentMetrics {
  const registry = createRegistry(options.department);
  const caches: NamedCaches = new Map();
  registerCacheMetrics(registry, caches);
  registerReleaseMetrics(registry, options.policies);
  registerStoreMetrics(registry, 'department', options.connection);
  const requests = new Counter({
    name: `${METRIC_PREFIX}department_requests_total`,
    help: 'Requests the department answered, by outcome (answered, partial, refused) and the code of the first error.',
    labelNames: ['outcome', 'code'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: `${METRIC_PREFIX}department_request_duration_seconds`,
    help: 'Time the department took to answer each request, by outcome.',
    labelNames: ['outcome'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const requestChildren = new BoundChildren((values) => requests.labels(values[0] ?? '', values[1] ?? ''));
  const durationChildren = new BoundChildren((values) => duration.labels(values[0] ?? ''));
  return {
    registry,
    caches,
    plugin: () => ({
      requestDidStart: async () => {
        const started = performance.now();
        return {
          willSendResponse: async ({ response }) => {
            if (response.body.kind !== 'single') return;
            const { outcome, code } = outcomeOf(response.body.singleResult);
            requestChildren.get(outcome, code).inc();
            durationChildren.get(outcome).observe(secondsSince(started));
          },
        };
      },
    }),
  };
}
