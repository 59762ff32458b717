/**
 * Traces of real requests through the whole federation (issue 19): the gateway, the five
 * departments (real HTTP servers, in this process) and their store (FerretDB), with tracing on
 * at full sampling and an in-memory exporter behind the same privacy guard an OTLP exporter
 * sits behind. One request is one trace, parent links and all; department calls carry
 * `traceparent` beside the signed assertion; a consumer's `traceparent` is linked, never
 * continued; the access log's record and the log lines name the trace; and no span of any of
 * these requests (answered, refused, failed) holds a subject code, a name, an ID number, a
 * variable's value or text of an answer.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { ApolloServerPlugin } from '@apollo/server';
import { APOLLO_GATEWAY_TRACER } from '../lib/observability/gateway-spans.ts';
import { startTracing, type RunningTracing } from '../lib/observability/tracing-sdk.ts';
import { ATTRIBUTES, SPANS, TRACERS } from '../lib/observability/tracing.ts';
import { createLogger } from '../lib/logger.ts';
import { connectAccessLogStore, type AccessLogCollections } from '../lib/access-log/store.ts';
import { verifyAccessLog } from '../lib/access-log/verify.ts';
import { recordHash } from '../lib/access-log/record.ts';
import { seedSubject } from '../subgraphs/runtime/seed-subjects.ts';
import { firstQuery, showcaseSubject } from '../scripts/stack.ts';
import { INSPECTOR, startFederation, type Caller, type Federation } from './support/federation.ts';

const DEPARTMENTS = ['registry', 'judicial', 'tax', 'penalties', 'credit'];
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/;
const PORTAL: Caller = { consumer: 'public-portal', purpose: 'PUBLIC_DISCLOSURE' };

interface Answer {
  status: number;
  body: {
    data?: Record<string, unknown> | null;
    errors?: { extensions?: Record<string, unknown> }[];
    extensions?: { credence?: { requestId?: string } };
  };
}

/** What one department received with each call: the headers tracing is about. */
interface ReceivedCall {
  department: string;
  traceparent: string | null | undefined;
  hasAssertion: boolean;
}

// The loggers the federation makes write warnings (the lines this test reads), nothing chattier.
process.env.LOG_LEVEL = 'warn';

describe('traces of requests through the federation', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: RunningTracing;
  let federation: Federation;
  let store: AccessLogCollections;
  const received: ReceivedCall[] = [];
  /** Whether the departments write a line per call (only while the log test reads them). */
  let logCalls = false;
  /** Every string a test sent or was answered that must not be in any span. */
  const secrets = new Set<string>();

  /** What the departments received, and a log line written while each handled its call. */
  const observer = (department: string): ApolloServerPlugin => {
    const log = createLogger(`subgraph:${department}`);
    return {
      async requestDidStart({ request }) {
        const headers = request.http?.headers;
        received.push({
          department,
          traceparent: headers?.get('traceparent'),
          hasAssertion: headers?.has('x-credence-assertion') ?? false,
        });
        if (logCalls) log.warn({ department }, 'test: a department call');
      },
    };
  };

  before(async () => {
    const started = startTracing({
      service: 'credence-test',
      settings: { exporter: 'discard', endpoint: undefined, sampleRatio: 1 },
      exporter,
    });
    assert.ok(started);
    tracing = started;
    federation = await startFederation({ subjects: 30, subgraphPlugins: (department) => [observer(department)] });
    store = await connectAccessLogStore(federation.mongo.uri);
  });
  after(async () => {
    await store?.close();
    await federation?.close();
    await tracing?.shutdown();
  });

  const send = async (
    query: string,
    options: { variables?: Record<string, unknown>; caller?: Caller; headers?: Record<string, string> } = {},
  ): Promise<Answer> => {
    const caller = options.caller ?? INSPECTOR;
    const response = await fetch(federation.gateway.graphqlUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-api-key': federation.apiKeys.get(caller.consumer) ?? '',
        ...(caller.purpose ? { 'x-credence-purpose': caller.purpose } : {}),
        ...options.headers,
      },
      body: JSON.stringify({ query, variables: options.variables }),
    });
    const body = (await response.json()) as Answer['body'];
    // The answer's text (names, codes, case numbers, dates): what holds digits or more than ASCII, enum values aside.
    for (const value of stringsOf(body.data))
      if (/[\d\u0080-\uffff]/.test(value) && value.length >= 4) secrets.add(value);
    return { status: response.status, body };
  };

  /** The spans of the request with this id, once its gateway span has ended (it ends after the answer is sent). */
  const traceOf = async (requestId: string | undefined): Promise<{ root: ReadableSpan; spans: ReadableSpan[] }> => {
    assert.ok(requestId, 'the answer names its request id');
    for (let attempt = 0; attempt < 50; attempt++) {
      await tracing.flush();
      const root = exporter
        .getFinishedSpans()
        .find(
          (span) =>
            span.instrumentationScope.name === TRACERS.gateway &&
            span.name === SPANS.request &&
            span.attributes[ATTRIBUTES.requestId] === requestId,
        );
      if (root) {
        const { traceId } = root.spanContext();
        return { root, spans: exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId) };
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`no gateway span names request ${requestId}`);
  };

  it('one request is one trace: gateway, department and store spans, each under its parent', async () => {
    const subject = seedSubject(3);
    for (const value of personalData(subject)) secrets.add(value);
    const answer = await send(firstQuery(subject.uscc));
    assert.equal(answer.status, 200);
    assert.equal(answer.body.errors, undefined);
    const { root, spans } = await traceOf(answer.body.extensions?.credence?.requestId);
    const byId = new Map(spans.map((span) => [span.spanContext().spanId, span]));
    const parentOf = (span: ReadableSpan): ReadableSpan | undefined =>
      span.parentSpanContext ? byId.get(span.parentSpanContext.spanId) : undefined;
    const scoped = (scope: string, name?: string): ReadableSpan[] =>
      spans.filter((span) => span.instrumentationScope.name === scope && (name === undefined || span.name === name));

    // The gateway's span is the root: no parent, a server span, who asked.
    assert.equal(root.parentSpanContext, undefined);
    assert.equal(root.kind, SpanKind.SERVER);
    assert.equal(root.attributes[ATTRIBUTES.consumer], INSPECTOR.consumer);
    assert.equal(root.attributes[ATTRIBUTES.httpStatus], 200);
    // Every other span of the trace hangs under a span of the same trace: nothing orphaned, nothing elsewhere.
    for (const span of spans) {
      if (span === root) continue;
      assert.ok(parentOf(span), `${span.instrumentationScope.name} ${span.name} has its parent in the trace`);
    }

    const [decision] = scoped(TRACERS.gateway, SPANS.policyDecision);
    assert.equal(decision && parentOf(decision), root, 'the policy decision is a child of the request');
    const [write] = scoped(TRACERS.gateway, SPANS.accessLogWrite);
    assert.equal(write && parentOf(write), root, 'the access-log write is a child of the request');
    // Of @apollo/gateway's own spans only planning is made (this shape's first request plans it):
    // Credence's request and department-call spans cover the rest.
    assert.deepEqual(
      scoped(APOLLO_GATEWAY_TRACER).map((span) => span.name),
      ['gateway.plan'],
      "@apollo/gateway's planning, and none of its other spans",
    );

    const calls = scoped(TRACERS.gateway, SPANS.departmentCall);
    const servers = scoped(TRACERS.department, SPANS.request);
    assert.deepEqual(
      [...new Set(servers.map((span) => span.attributes[ATTRIBUTES.department]))].sort(),
      [...DEPARTMENTS].sort(),
      'each department handled its call inside the trace',
    );
    for (const server of servers) {
      const call = parentOf(server);
      assert.ok(call && calls.includes(call), 'a department span is the child of the gateway call to it');
      assert.equal(call.kind, SpanKind.CLIENT);
      assert.equal(server.kind, SpanKind.SERVER);
      assert.equal(call.attributes[ATTRIBUTES.department], server.attributes[ATTRIBUTES.department]);
    }

    const commands = scoped(TRACERS.store);
    assert.ok(commands.length >= DEPARTMENTS.length, `store commands are traced (${commands.length})`);
    const served = new Set<unknown>();
    for (const command of commands) {
      const server = parentOf(command);
      assert.ok(
        server && servers.includes(server),
        `${command.name}: a store span is a child of its department's span`,
      );
      assert.equal(command.kind, SpanKind.CLIENT);
      assert.equal(command.attributes[ATTRIBUTES.dbSystem], 'mongodb');
      assert.match(String(command.attributes[ATTRIBUTES.dbNamespace]), /registry|judicial|tax|penalties|credit/);
      served.add(server.attributes[ATTRIBUTES.department]);
    }
    assert.ok(served.has('registry'), "the registry's store query is in the trace");
  });

  it('each department call carries traceparent beside the signed assertion, naming the gateway span that made it', async () => {
    received.length = 0;
    const answer = await send(firstQuery(seedSubject(4).uscc));
    const { spans } = await traceOf(answer.body.extensions?.credence?.requestId);
    const calls = spans.filter((span) => span.name === SPANS.departmentCall);
    assert.ok(received.length >= DEPARTMENTS.length);
    for (const call of received) {
      assert.ok(call.hasAssertion, `${call.department}: the assertion is sent`);
      const [, traceId, parentId] = TRACEPARENT.exec(call.traceparent ?? '') ?? [];
      assert.equal(traceId, spans[0]?.spanContext().traceId, `${call.department}: the request's trace`);
      const parent = calls.find((span) => span.spanContext().spanId === parentId);
      assert.equal(parent?.attributes[ATTRIBUTES.department], call.department, 'the call span to that department');
    }
  });

  it("starts a new trace for a consumer's traceparent and keeps the consumer's only as a link", async () => {
    const consumerTrace = 'ab'.repeat(16);
    const consumerSpan = 'cd'.repeat(8);
    received.length = 0;
    // Not sampled by the consumer: the gateway samples by its own ratio (1 here) regardless.
    const answer = await send(firstQuery(seedSubject(5).uscc), {
      headers: { traceparent: `00-${consumerTrace}-${consumerSpan}-00`, tracestate: 'consumer=secret' },
    });
    const { root } = await traceOf(answer.body.extensions?.credence?.requestId);
    assert.notEqual(root.spanContext().traceId, consumerTrace);
    assert.equal(root.parentSpanContext, undefined, 'no parent: a new root');
    assert.deepEqual(
      root.links.map((link) => [link.context.traceId, link.context.spanId, link.context.traceState]),
      [[consumerTrace, consumerSpan, undefined]],
      "the consumer's span as a link, without its tracestate",
    );
    assert.equal(
      exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === consumerTrace).length,
      0,
      "no span joins the consumer's trace",
    );
    for (const call of received) {
      assert.doesNotMatch(call.traceparent ?? '', new RegExp(consumerTrace), 'departments never see it');
      assert.match(call.traceparent ?? '', /-01$/, "sampled: the consumer's flag steers nothing");
    }
  });

  it('a traceparent sent to a department opens nothing: without the signed assertion the call is refused', async () => {
    const forgedTrace = 'ef'.repeat(16);
    const department = federation.subgraphs.get('registry');
    assert.ok(department);
    const response = await fetch(department.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${forgedTrace}-${'12'.repeat(8)}-01` },
      body: JSON.stringify({ query: `{ subject(uscc: "${seedSubject(3).uscc}") { name } }` }),
    });
    const body = (await response.json()) as Answer['body'];
    assert.equal(response.status, 401);
    assert.equal(body.data, undefined);
    // Its span went where the forged parent said, marked with the refusal's code: all a forged traceparent does.
    await tracing.flush();
    const [span] = exporter.getFinishedSpans().filter((finished) => finished.spanContext().traceId === forgedTrace);
    assert.equal(span?.instrumentationScope.name, TRACERS.department);
    assert.equal(span?.attributes[ATTRIBUTES.errorType], body.errors?.[0]?.extensions?.code);
  });

  it("the access log's record names the request's trace, sealed into its hash", async () => {
    const answer = await send(firstQuery(seedSubject(6).uscc));
    const requestId = answer.body.extensions?.credence?.requestId;
    const { root } = await traceOf(requestId);
    const record = await store.records.findOne({ requestId });
    assert.ok(record && record.kind === 'ACCESS');
    assert.equal(record.traceId, root.spanContext().traceId);
    const chain = federation.accessLog.writer.chain;
    const records = await store.records.find({ chain }).toArray();
    const checkpoints = await store.checkpoints.find({ chain }).toArray();
    assert.deepEqual(verifyAccessLog({ records, checkpoints, prunes: [] }).problems, []);
    // Another trace id in the record is an edit the hash catches.
    const edited = { ...record, traceId: 'f'.repeat(32) };
    assert.notEqual(recordHash(edited), record.hash);
  });

  it('no span of an answered, a refused or a failed request holds personal data, variables or answer text', async () => {
    const subject = seedSubject(7);
    for (const value of personalData(subject)) secrets.add(value);
    // Answered, every department asked (the showcase subject has records in all five).
    assert.equal((await send(firstQuery(subject.uscc))).status, 200);
    assert.equal((await send(firstQuery(showcaseSubject()))).status, 200);
    // Answered, with the code in a variable and in the operation's name.
    const answered = await send(
      `query Lookup_${subject.uscc}($uscc: ID!) { subject(uscc: $uscc) { name legalRepresentative { name idNumber phone } } }`,
      { variables: { uscc: subject.uscc } },
    );
    assert.equal(answered.status, 200, JSON.stringify(answered.body));
    // Refused by the policy: a field the public portal may never see does not exist for it.
    const refused = await send(`{ subject(uscc: "${subject.uscc}") { name legalRepresentative { phone } } }`, {
      caller: PORTAL,
    });
    assert.equal(refused.body.errors?.[0]?.extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
    // Refused before parsing: a purpose the consumer was not granted.
    const wrongPurpose = await send(`{ subject(uscc: "${subject.uscc}") { name } }`, {
      caller: { consumer: PORTAL.consumer, purpose: 'TAX_ADMINISTRATION' },
    });
    assert.equal(wrongPurpose.body.errors?.[0]?.extensions?.code, 'PURPOSE_NOT_ALLOWED');
    // Failed: a malformed code in a variable, refused by the department that reads it.
    const malformed = `${subject.uscc.slice(0, 17)}${subject.uscc.endsWith('0') ? '1' : '0'}`;
    secrets.add(malformed);
    const failed = await send('query ($uscc: ID!) { subject(uscc: $uscc) { name } }', {
      variables: { uscc: malformed },
    });
    assert.equal(failed.body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');

    const traces = await Promise.all(
      [answered, refused, wrongPurpose, failed].map((answer) => traceOf(answer.body.extensions?.credence?.requestId)),
    );
    assert.deepEqual(traces[1]?.root.attributes[ATTRIBUTES.errorCodes], ['GRAPHQL_VALIDATION_FAILED']);
    assert.deepEqual(traces[2]?.root.attributes[ATTRIBUTES.errorCodes], ['PURPOSE_NOT_ALLOWED']);
    assert.ok(
      traces[3]?.spans.some((span) => span.attributes[ATTRIBUTES.errorType] === 'BAD_USER_INPUT'),
      'the failure is in its trace, by code',
    );
    // Every span exported in this file so far: these requests and every earlier one.
    await tracing.flush();
    const spans = exporter.getFinishedSpans();
    assert.ok(spans.length > 50, `spans to scan (${spans.length})`);
    const leaks: string[] = [];
    for (const span of spans) {
      const texts = [
        span.name,
        span.status.message ?? '',
        ...stringsOf(span.attributes),
        ...span.events.flatMap((event) => [event.name, ...stringsOf(event.attributes ?? {})]),
        ...span.links.flatMap((link) => stringsOf(link.attributes ?? {})),
      ];
      for (const text of texts)
        for (const secret of secrets) if (text.includes(secret)) leaks.push(`${span.name}: ${secret}`);
      assert.deepEqual(span.events, [], 'no events (exceptions carry messages)');
    }
    assert.ok(secrets.size >= 15, `values to look for (${secrets.size})`);
    assert.deepEqual(leaks, []);
  });

  it('log lines written while a request is handled name its request id and trace id, in the gateway and the departments', async () => {
    const lines: string[] = [];
    const write = fs.write;
    // The loggers write to stderr through fs.write: a copy of what they write to it is kept.
    fs.write = ((fd: number, buffer: unknown, ...rest: unknown[]) => {
      if (fd === 2) lines.push(String(buffer));
      return (write as (...args: unknown[]) => void)(fd, buffer, ...rest);
    }) as typeof fs.write;
    let answer: Answer;
    logCalls = true;
    try {
      // A department that stopped: the gateway logs the failed call while it handles the request.
      await federation.subgraphs.get('tax')?.close();
      answer = await send(firstQuery(seedSubject(8).uscc));
      await traceOf(answer.body.extensions?.credence?.requestId);
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      fs.write = write;
      logCalls = false;
    }
    const requestId = answer.body.extensions?.credence?.requestId;
    const { root } = await traceOf(requestId);
    const traceId = root.spanContext().traceId;
    const entries = lines
      .join('')
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((entry) => entry.requestId === requestId);
    const gateway = entries.find((entry) => entry.msg === 'department call failed');
    assert.ok(gateway, `the gateway's line names the request: ${lines.join('')}`);
    assert.equal(gateway.traceId, traceId);
    assert.equal(gateway.department, 'tax');
    const departments = entries.filter((entry) => entry.msg === 'test: a department call');
    assert.deepEqual(
      departments.map((entry) => entry.department).sort(),
      DEPARTMENTS.filter((name) => name !== 'tax').sort(),
      'a line from each department that answered',
    );
    for (const entry of departments) assert.equal(entry.traceId, traceId, `${String(entry.department)}: same trace`);
  });
});

/** What a seeded subject's records say that is personal or identifying. */
function personalData(subject: ReturnType<typeof seedSubject>): string[] {
  const { name, idNumber, phone } = subject.legalRepresentative;
  return [subject.uscc, subject.name, name, idNumber, phone];
}

/** Every string in a value (an answer, attributes), at any depth, long enough to be data rather than a word. */
function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return value.length >= 2 ? [value] : [];
  if (Array.isArray(value)) return value.flatMap(stringsOf);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(stringsOf);
  return [];
}
