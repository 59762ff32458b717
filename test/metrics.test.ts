/**
 * Metrics and status on real processes: a federation (real FerretDB, Redis, departments and
 * gateway) is sent known traffic (answered, refused by authentication, by the policy and by rate,
 * partial with a department down, the access log cut), then each process's /metrics is scraped
 * from its operator listener and the counts and labels are checked, as is /status on both
 * listeners. The shipped alert rules and Grafana dashboard may name only metrics the processes
 * register; `promtool check rules` runs where Prometheus' promtool is installed.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { readGatewayConfig } from '../gateway/config.ts';
import { readDepartmentProcessConfig } from '../subgraphs/runtime/config.ts';
import { metricsPort } from '../lib/observability/metrics.ts';
import { OPERATION_NAMES_PER_CONSUMER } from '../lib/observability/metrics-gateway.ts';
import { createLogger } from '../lib/logger.ts';
import { connectSharedStore, type SharedStore } from '../lib/stores/shared-store.ts';
import { ConfigError } from '../lib/config/read.ts';
import { generateAssertionKeyPair } from '../lib/identity/assertion.ts';
import { seedSubject } from '../subgraphs/runtime/seed-subjects.ts';
import { INSPECTOR, startFederation, type Caller, type Federation } from './support/federation.ts';
import { startGatewayBeside } from './support/gateway-beside.ts';
import { post } from './support/http.ts';
import { parseMetrics, sampleNames, scrape, type Scrape } from './support/prometheus.ts';

const SUBJECT = seedSubject(1);
const BANK: Caller = { consumer: 'central-bank', purpose: 'CREDIT_ASSESSMENT' };
const PORTAL: Caller = { consumer: 'public-portal', purpose: 'PUBLIC_DISCLOSURE' };
const PROBE = `query MetricsProbe { subject(uscc: "${SUBJECT.uscc}") { uscc name } }`;
const WITH_TAX = `query WithTax { subject(uscc: "${SUBJECT.uscc}") { name taxViolations { caseNumber } } }`;
/** The default rate of consumers without limits of their own, in this federation. */
const RATE = 3;
const DEPLOY = new URL('../deploy/observability/', import.meta.url);

describe('metrics and status', () => {
  let federation: Federation;
  const ask = (caller: Caller, query: string) =>
    post(
      federation.gateway.graphqlUrl,
      { 'x-api-key': federation.apiKeys.get(caller.consumer) ?? '', 'x-credence-purpose': caller.purpose ?? '' },
      query,
    );
  /** Every metric family any process registers, from their /metrics (filled in by the scrapes below). */
  const registered = new Set<string>();
  const remember = (scraped: Scrape): Scrape => {
    for (const [family, type] of scraped.families) for (const name of sampleNames(family, type)) registered.add(name);
    return scraped;
  };

  before(async () => {
    federation = await startFederation({
      subjects: 3,
      accessLogThroughProxy: true,
      gatewayLimits: { requestsPerMinute: RATE },
    });
  });
  after(() => federation.close());

  it('serves /metrics on an operator listener of its own, on 127.0.0.1, and not on the port consumers reach', async () => {
    const { metricsUrl, url } = federation.gateway;
    assert.ok(metricsUrl);
    assert.equal(new URL(metricsUrl).hostname, '127.0.0.1');
    assert.notEqual(new URL(metricsUrl).port, new URL(url).port);
    assert.equal((await fetch(new URL('/metrics', url))).status, 404);
    assert.equal((await fetch(new URL('/graphql', metricsUrl))).status, 404);
    assert.equal((await fetch(new URL('/metrics', metricsUrl), { method: 'POST' })).status, 405);
    for (const subgraph of federation.subgraphs.values()) {
      assert.ok(subgraph.metricsUrl, `${subgraph.name} serves metrics`);
      assert.equal((await fetch(new URL('/metrics', subgraph.url))).status, 404);
    }
  });

  it('counts answered requests by consumer, purpose, operation and outcome, and times them', async () => {
    const before = await scrape(federation.gateway.metricsUrl);
    for (let n = 0; n < 3; n++) assert.equal((await federation.query(PROBE)).status, 200);
    const after = remember(await scrape(federation.gateway.metricsUrl));
    const labels = {
      consumer: INSPECTOR.consumer,
      purpose: 'TESTING',
      operation: 'MetricsProbe',
      outcome: 'answered',
      code: '',
    };
    assert.equal(
      after.sum('credence_gateway_requests_total', labels) - before.sum('credence_gateway_requests_total', labels),
      3,
    );
    const answered = { outcome: 'answered' };
    assert.ok(
      after.sum('credence_gateway_request_duration_seconds_count', answered) -
        before.sum('credence_gateway_request_duration_seconds_count', answered) >=
        3,
    );
    // Each department asked: its call timed, ok.
    assert.ok(
      after.sum('credence_gateway_department_call_duration_seconds_count', { department: 'registry', result: 'ok' }) >=
        3,
    );
    // Caches: the same document three times is parsed once, planned once, decided once.
    for (const cache of ['documents', 'plans', 'decisions'])
      assert.ok(after.sum('credence_cache_hits_total', { cache }) >= 2, `${cache} cache hits`);
    assert.ok(after.sum('credence_cache_entries', { cache: 'plans' }) >= 1);
    assert.ok(after.sum('credence_cache_bytes', { cache: 'documents' }) > 0);
    // The access log wrote each record, in batches, and is writable with nothing waiting.
    assert.ok(after.sum('credence_access_log_records_total', { result: 'written' }) >= 3);
    assert.ok(after.sum('credence_access_log_batch_size_count') >= 1);
    assert.ok(after.sum('credence_access_log_write_duration_seconds_count', { result: 'ok' }) >= 1);
    assert.equal(after.sum('credence_access_log_writable'), 1);
    assert.equal(after.find('credence_access_log_queue_depth').length, 1);
    assert.equal(
      after.sum('credence_access_log_unshipped'),
      0,
      'no journal in this suite: nothing waits to be shipped',
    );
    // Node's process metrics, and the service as a label of every sample.
    assert.ok(after.sum('process_cpu_user_seconds_total') > 0);
    assert.ok(after.samples.every((sample) => sample.labels.service === 'gateway'));
  });

  it('counts refusals by code: authentication, the policy (purpose) and the rate', async () => {
    const before = await scrape(federation.gateway.metricsUrl);
    const unknownKey = await post(federation.gateway.graphqlUrl, { 'x-api-key': 'cred_nobody' }, PROBE);
    assert.equal(unknownKey.status, 401);
    const wrongPurpose = await ask({ consumer: BANK.consumer, purpose: 'TESTING' }, PROBE);
    assert.equal(wrongPurpose.body.errors?.[0]?.extensions?.code, 'PURPOSE_NOT_ALLOWED');
    const statuses: number[] = [];
    for (let n = 0; n <= RATE; n++) statuses.push((await ask(PORTAL, '{ __typename }')).status);
    assert.deepEqual(statuses, [...Array.from({ length: RATE }, () => 200), 429]);
    const after = remember(await scrape(federation.gateway.metricsUrl));
    const grew = (name: string, labels: Record<string, string>): number =>
      after.sum(name, labels) - before.sum(name, labels);

    assert.equal(
      grew('credence_gateway_requests_total', {
        consumer: '(unauthenticated)',
        purpose: '(none)',
        outcome: 'refused',
        code: 'INVALID_API_KEY',
      }),
      1,
    );
    // A purpose the consumer does not hold is not a label: the header's text never is.
    assert.equal(
      grew('credence_gateway_requests_total', {
        consumer: BANK.consumer,
        purpose: '(none)',
        outcome: 'refused',
        code: 'PURPOSE_NOT_ALLOWED',
      }),
      1,
    );
    assert.equal(grew('credence_gateway_policy_refusals_total', { code: 'PURPOSE_NOT_ALLOWED' }), 1);
    assert.equal(
      after.find('credence_gateway_requests_total', { purpose: 'TESTING', consumer: BANK.consumer }).length,
      0,
    );
    assert.equal(grew('credence_gateway_rate_limit_refusals_total', { consumer: PORTAL.consumer, limit: 'rate' }), 1);
    assert.equal(
      grew('credence_gateway_requests_total', { consumer: PORTAL.consumer, outcome: 'refused', code: 'RATE_LIMITED' }),
      1,
    );
    assert.ok(grew('credence_gateway_request_duration_seconds_count', { outcome: 'refused' }) >= RATE - 1);
  });

  it('counts requests refused before GraphQL saw them: malformed JSON and a batch', async () => {
    const before = await scrape(federation.gateway.metricsUrl);
    const raw = (body: string) =>
      fetch(federation.gateway.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': federation.apiKeys.get(BANK.consumer) ?? '' },
        body,
      });
    assert.equal((await raw('{"query": ')).status, 400);
    assert.equal((await raw(JSON.stringify([{ query: PROBE }, { query: PROBE }]))).status, 400);
    const after = await scrape(federation.gateway.metricsUrl);
    const grew = (code: string): number => {
      const labels = { consumer: '(unauthenticated)', purpose: '(none)', outcome: 'refused', code };
      return (
        after.sum('credence_gateway_requests_total', labels) - before.sum('credence_gateway_requests_total', labels)
      );
    };
    assert.equal(grew('BAD_REQUEST'), 1, 'malformed JSON');
    assert.equal(grew('BATCHING_NOT_ALLOWED'), 1, 'a batch');
  });

  it('a department down: partial answers, its errors counted, its circuit open, and /status says so', async () => {
    const before = await scrape(federation.gateway.metricsUrl);
    const tax = federation.subgraphs.get('tax');
    assert.ok(tax);
    await tax.close();
    let partial = 0;
    // More consecutive failures than the circuit's threshold (5).
    for (let n = 0; n < 7; n++) {
      const answer = await federation.query(WITH_TAX);
      assert.equal(answer.status, 200);
      const data = answer.body.data?.subject as { name?: string; taxViolations?: unknown } | undefined;
      if (data?.name && data.taxViolations === null) partial += 1;
      assert.equal(answer.body.errors?.[0]?.extensions?.code, 'DEPARTMENT_UNAVAILABLE');
    }
    assert.equal(partial, 7);
    const after = remember(await scrape(federation.gateway.metricsUrl));
    const partialLabels = {
      consumer: INSPECTOR.consumer,
      operation: 'WithTax',
      outcome: 'partial',
      code: 'DEPARTMENT_UNAVAILABLE',
    };
    assert.equal(
      after.sum('credence_gateway_requests_total', partialLabels) -
        before.sum('credence_gateway_requests_total', partialLabels),
      7,
    );
    const errors = { department: 'tax', result: 'unavailable' };
    assert.equal(
      after.sum('credence_gateway_department_errors_total', errors) -
        before.sum('credence_gateway_department_errors_total', errors),
      7,
    );
    assert.equal(after.sum('credence_gateway_circuit_state', { department: 'tax', state: 'open' }), 1);
    assert.equal(after.sum('credence_gateway_circuit_state', { department: 'tax', state: 'closed' }), 0);
    assert.equal(after.sum('credence_gateway_circuit_state', { department: 'registry', state: 'closed' }), 1);

    const status = (await (await fetch(new URL('/status', federation.gateway.url))).json()) as {
      service: string;
      ready: boolean;
      checks: Record<string, string>;
      circuits: Record<string, string>;
      stores: Record<string, string>;
    };
    assert.equal(status.service, 'gateway');
    assert.equal(status.ready, false);
    assert.equal(status.checks['subgraph:tax'], 'unavailable');
    assert.equal(status.checks['subgraph:registry'], 'ok');
    assert.equal(status.circuits.tax, 'open');
    assert.deepEqual(status.stores, { sharedStore: 'ready', accessLog: 'writable' });
    // The operator listener answers the same status.
    const operator = (await (await fetch(new URL('/status', federation.gateway.metricsUrl))).json()) as typeof status;
    assert.equal(operator.circuits.tax, 'open');
  });

  it("every department's /metrics: its requests, its store's command latency, its caches, the release it enforces; its /status", async () => {
    const registry = federation.subgraphs.get('registry');
    assert.ok(registry);
    const scraped = remember(await scrape(registry.metricsUrl));
    assert.ok(scraped.samples.every((sample) => sample.labels.service === 'registry'));
    assert.ok(scraped.sum('credence_department_requests_total', { outcome: 'answered' }) >= 3);
    assert.ok(scraped.sum('credence_department_request_duration_seconds_count') >= 3);
    assert.ok(scraped.sum('credence_store_command_duration_seconds_count', { command: 'find', result: 'ok' }) >= 1);
    assert.equal(scraped.sum('credence_store_connected'), 1);
    assert.ok(scraped.sum('credence_cache_hits_total', { cache: 'verdicts' }) >= 1);
    assert.ok(scraped.sum('nodejs_heap_size_used_bytes') > 0);
    const { number, version } = federation.policies.status().release;
    assert.equal(scraped.sum('credence_release_info', { release: String(number), policy_version: version }), 1);
    assert.equal(scraped.sum('credence_release_number'), number);
    const gateway = await scrape(federation.gateway.metricsUrl);
    assert.equal(gateway.sum('credence_release_info', { release: String(number) }), 1);

    const status = (await (await fetch(new URL('/status', registry.url))).json()) as Record<string, unknown>;
    assert.equal(status.service, 'registry');
    assert.equal(status.ready, true);
    assert.deepEqual(status.checks, { database: 'ok' });
    assert.deepEqual(status.stores, { database: 'connected' });
    assert.equal((status.policy as { release: { number: number } }).release.number, number);
    // No address, URI or key: nothing of where the store is.
    assert.doesNotMatch(JSON.stringify(status), /mongodb:|127\.0\.0\.1|localhost|BEGIN/);
  });

  it('the access log cut: answers withheld, refused records counted, the writer not writable', async () => {
    const proxy = federation.accessLogProxy;
    assert.ok(proxy);
    const before = await scrape(federation.gateway.metricsUrl);
    await proxy.cut();
    try {
      const refused = await federation.query(PROBE);
      assert.equal(refused.status, 503);
      const after = remember(await scrape(federation.gateway.metricsUrl));
      assert.ok(
        after.sum('credence_access_log_records_total', { result: 'refused' }) -
          before.sum('credence_access_log_records_total', { result: 'refused' }) >=
          1,
      );
      assert.equal(after.sum('credence_access_log_writable'), 0);
      const labels = { operation: 'MetricsProbe', outcome: 'refused', code: 'ACCESS_LOG_UNAVAILABLE' };
      assert.equal(
        after.sum('credence_gateway_requests_total', labels) - before.sum('credence_gateway_requests_total', labels),
        1,
      );
    } finally {
      await proxy.restore();
    }
  });

  it('keeps operation names bounded: the first names of each consumer, then `other`; names with digits never', async () => {
    const names = Array.from(
      { length: OPERATION_NAMES_PER_CONSUMER + 20 },
      (_, n) => `Distinct${'abcdefghij'[n % 10]}${'x'.repeat(Math.floor(n / 10))}`,
    );
    for (const name of names) await federation.query(`query ${name} { __typename }`);
    await federation.query(`query Subject${SUBJECT.uscc} { __typename }`);
    const scraped = remember(await scrape(federation.gateway.metricsUrl));
    const operations = new Set(
      scraped.find('credence_gateway_requests_total', { consumer: INSPECTOR.consumer }).map((s) => s.labels.operation),
    );
    assert.ok(operations.size <= OPERATION_NAMES_PER_CONSUMER + 2, `${operations.size} operation labels`);
    assert.ok(operations.has('other'));
    assert.ok(operations.has('MetricsProbe'), 'a name seen early keeps its label');
    assert.ok(![...operations].some((operation) => operation?.includes(SUBJECT.uscc)), 'no subject code in a label');
    const text = await (await fetch(new URL('/metrics', federation.gateway.metricsUrl))).text();
    assert.doesNotMatch(text, new RegExp(SUBJECT.uscc), 'no subject code anywhere in the metrics');
  });

  it('CREDENCE_METRICS=off (or no operator listener): no listener, nothing recorded, /status still answered', async () => {
    const sharedStore: SharedStore = await connectSharedStore(createLogger('metrics-test'));
    const gateway = await startGatewayBeside(federation, sharedStore, (config) => ({
      metrics: { ...config.metrics, enabled: false },
    }));
    try {
      assert.equal(gateway.metricsUrl, undefined);
      assert.equal((await post(gateway.graphqlUrl, {}, '{ __typename }')).status, 401);
      const status = (await (await fetch(new URL('/status', gateway.url))).json()) as { service: string };
      assert.equal(status.service, 'gateway');
    } finally {
      await gateway.close();
      await sharedStore.close();
    }
  });

  it('the alert rules and the dashboard name only metrics the processes register', () => {
    // Series Prometheus makes itself, not the processes.
    const prometheusOwn = new Set(['up']);
    assert.ok(registered.has('credence_gateway_requests_total') && registered.has('credence_store_connected'));
    const metricNames = (expression: string): string[] =>
      [...expression.matchAll(/\b(credence_[a-z0-9_]+|process_[a-z0-9_]+|nodejs_[a-z0-9_]+|up)\b(?!\s*\()/g)].map(
        ([name = '']) => name,
      );
    const rules = parseYaml(readFileSync(new URL('alerts.yaml', DEPLOY), 'utf8')) as {
      groups: { rules: { alert: string; expr: string }[] }[];
    };
    const alerts = rules.groups.flatMap((group) => group.rules);
    assert.ok(alerts.length >= 10);
    for (const { alert, expr } of alerts) {
      const names = metricNames(expr);
      assert.ok(names.length > 0, `${alert} names a metric`);
      for (const name of names)
        assert.ok(registered.has(name) || prometheusOwn.has(name), `${alert}: ${name} is not a registered metric`);
    }
    for (const wanted of [
      'DepartmentUnavailable',
      'AccessLogWritesFailing',
      'AccessLogSlow',
      'RefusalRateJump',
      'ReleasesDiffer',
    ])
      assert.ok(
        alerts.some(({ alert }) => alert === `Credence${wanted}`),
        wanted,
      );

    const dashboard = JSON.parse(readFileSync(new URL('grafana-dashboard.json', DEPLOY), 'utf8')) as {
      panels: { title: string; targets?: { expr: string }[] }[];
    };
    const expressions = dashboard.panels.flatMap((panel) =>
      (panel.targets ?? []).map((target) => [panel.title, target.expr] as const),
    );
    assert.ok(expressions.length >= 20);
    for (const [title, expr] of expressions)
      for (const name of metricNames(expr))
        assert.ok(registered.has(name), `dashboard panel "${title}": ${name} is not a registered metric`);
  });

  it('promtool accepts the alert rules (where Prometheus is installed)', async (t) => {
    const run = promisify(execFile);
    const found = await run('promtool', ['--version']).catch(() => undefined);
    if (!found) return t.skip('promtool is not installed (Debian: apt-get install prometheus)');
    const { stdout } = await run('promtool', ['check', 'rules', new URL('alerts.yaml', DEPLOY).pathname]);
    assert.match(stdout, /SUCCESS: \d+ rules found/);
  });
});

describe('metrics settings', () => {
  it('the operator port: configured, off, or the main port + 5400 (a free port when the main port is 0)', () => {
    const gateway = readGatewayConfig({});
    assert.deepEqual(gateway.metrics, { enabled: true, port: undefined, host: '127.0.0.1' });
    assert.equal(metricsPort(gateway.metrics, gateway.port), 9400);
    assert.equal(metricsPort(gateway.metrics, 0), 0);
    assert.equal(metricsPort(gateway.metrics, 65_000), 0);
    assert.equal(metricsPort(readGatewayConfig({ GATEWAY_METRICS_PORT: '9999' }).metrics, 4000), 9999);
    assert.equal(metricsPort(readGatewayConfig({ GATEWAY_METRICS_PORT: 'off' }).metrics, 4000), undefined);
    assert.equal(metricsPort(readGatewayConfig({ CREDENCE_METRICS: 'off' }).metrics, 4000), undefined);
    assert.throws(() => readGatewayConfig({ GATEWAY_METRICS_PORT: 'nine' }), ConfigError);
    assert.throws(() => readGatewayConfig({ CREDENCE_METRICS: 'of' }), /CREDENCE_METRICS/);
    const keys = generateAssertionKeyPair();
    const department = readDepartmentProcessConfig(4003, {
      MONGODB_URI: 'mongodb://127.0.0.1:1',
      METRICS_HOST: '0.0.0.0',
      CREDENCE_ASSERTION_PUBLIC_KEYS: keys.publicKeyPem,
      CREDENCE_RELEASE_PUBLIC_KEYS: keys.publicKeyPem,
    });
    assert.equal(metricsPort(department.metrics, department.port), 9403);
    assert.equal(department.metrics.host, '0.0.0.0');
  });

  it('parses the exposition format it is given', () => {
    const scraped = parseMetrics('# TYPE a_total counter\na_total{x="1",y="q\\"r"} 2\na_total{x="2"} 3\n');
    assert.equal(scraped.sum('a_total'), 5);
    assert.equal(scraped.find('a_total', { y: 'q"r' }).length, 1);
  });
});
