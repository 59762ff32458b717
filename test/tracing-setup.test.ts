/**
 * Tracing's settings and its two ends: off by default (nothing registered, every wrapper the
 * function itself), on with the standard OTLP variables, exported over OTLP/HTTP to a real
 * collector (a small HTTP server in this test) through the privacy guard, and a mistyped
 * setting refused with the variable's name.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import Fastify from 'fastify';
import { ConfigError } from '../lib/config/read.ts';
import { readTracingSettings } from '../lib/config/shared.ts';
import { APOLLO_GATEWAY_TRACER } from '../lib/observability/gateway-spans.ts';
import { startTracing } from '../lib/observability/tracing-sdk.ts';
import { nodeFlags } from '../lib/processes.ts';
import {
  ATTRIBUTES,
  logCorrelation,
  traced,
  tracedRoute,
  TRACERS,
  tracingOn,
  tracingPlugins,
} from '../lib/observability/tracing.ts';
import { exportedAttributes, exportedName } from '../lib/observability/tracing-privacy.ts';

describe('tracing settings', () => {
  it('are off unless an endpoint or CREDENCE_TRACING says otherwise', () => {
    assert.deepEqual(readTracingSettings({}), { exporter: 'off', endpoint: undefined, sampleRatio: 1 });
    assert.deepEqual(readTracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }), {
      exporter: 'otlp',
      endpoint: 'http://collector:4318/v1/traces',
      sampleRatio: 1,
    });
    assert.equal(
      readTracingSettings({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example/otlp',
      }).endpoint,
      'https://traces.example/otlp',
      'the traces endpoint is used as it is, and wins',
    );
    assert.equal(
      readTracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' }).exporter,
      'off',
    );
    assert.deepEqual(readTracingSettings({ CREDENCE_TRACING: 'discard', CREDENCE_TRACE_SAMPLE_RATIO: '0.25' }), {
      exporter: 'discard',
      endpoint: undefined,
      sampleRatio: 0.25,
    });
  });

  it('refuse what they cannot use, naming the variable', () => {
    const refused = (env: Record<string, string>, variable: string): void =>
      assert.throws(
        () => readTracingSettings(env),
        (error: unknown) => error instanceof ConfigError && error.variable === variable,
      );
    refused({ CREDENCE_TRACE_SAMPLE_RATIO: '50%' }, 'CREDENCE_TRACE_SAMPLE_RATIO');
    refused({ CREDENCE_TRACE_SAMPLE_RATIO: '1.5' }, 'CREDENCE_TRACE_SAMPLE_RATIO');
    refused({ CREDENCE_TRACING: 'on' }, 'CREDENCE_TRACING');
    refused({ CREDENCE_TRACING: 'otlp' }, 'CREDENCE_TRACING');
    refused({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, 'OTEL_EXPORTER_OTLP_ENDPOINT');
    refused({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'grpc://collector' }, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  });
});

describe('tracing off (the default)', () => {
  it('registers nothing, and every wrapper is the function itself', () => {
    assert.equal(startTracing({ service: 'off', settings: readTracingSettings({}) }), undefined);
    assert.equal(tracingOn(), false);
    const call = async (): Promise<number> => 1;
    assert.equal(traced(TRACERS.gateway, 'x', call), call);
    const handler = async (): Promise<string> => 'answer';
    const app = Fastify();
    assert.equal(tracedRoute(app, handler, { scope: TRACERS.gateway, traceparent: 'link' }), handler);
    assert.deepEqual(tracingPlugins(), []);
    assert.deepEqual(logCorrelation(), {});
    assert.equal(trace.getTracer('any').startSpan('x').isRecording(), false, "the API's no-op tracer");
  });
});

describe('the privacy guard', () => {
  it("keeps Credence's attributes and drops everything else, and any value that looks like personal data", () => {
    assert.deepEqual(
      exportedAttributes({
        [ATTRIBUTES.department]: 'registry',
        [ATTRIBUTES.errorCodes]: ['BAD_USER_INPUT'],
        [ATTRIBUTES.httpStatus]: 200,
        'graphql.operation.name': 'Lookup',
        'graphql.document': '{ subject { name } }',
        [ATTRIBUTES.consumer]: '91110105000000000X',
        [ATTRIBUTES.purpose]: 'x'.repeat(300),
      }),
      {
        [ATTRIBUTES.department]: 'registry',
        [ATTRIBUTES.errorCodes]: ['BAD_USER_INPUT'],
        [ATTRIBUTES.httpStatus]: 200,
      },
    );
    assert.equal(exportedName('find subjects'), 'find subjects');
    assert.equal(exportedName('gateway.plan'), 'gateway.plan');
    assert.equal(exportedName('find 91110105000000000X'), 'span');
    assert.equal(exportedName('张三'), 'span');
  });
});

/** A collector: the OTLP/HTTP requests it received. */
async function startCollector(): Promise<{
  url: string;
  requests: { url: string; type: string; body: Buffer }[];
  close(): void;
}> {
  const requests: { url: string; type: string; body: Buffer }[] = [];
  const server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      requests.push({
        url: request.url ?? '',
        type: request.headers['content-type'] ?? '',
        body: Buffer.concat(chunks),
      });
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, close: () => server.close() };
}

describe('tracing on, exported over OTLP/HTTP', () => {
  it('sends sampled spans to the configured endpoint, guarded', async () => {
    const collector = await startCollector();
    const tracing = startTracing({
      service: 'credence-test',
      settings: readTracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.url }),
    });
    try {
      assert.ok(tracing && tracingOn());
      const call = traced(TRACERS.gateway, 'department call', async () => logCorrelation(), {
        kind: SpanKind.CLIENT,
        attributes: { [ATTRIBUTES.department]: 'tax', 'graphql.operation.name': 'Secret_Name' },
      });
      const correlation = await call();
      assert.match(correlation.traceId ?? '', /^[0-9a-f]{32}$/, 'a log line written in the span names its trace');
      await tracing.flush();
      const [request] = collector.requests;
      assert.equal(request?.url, '/v1/traces');
      assert.match(request.type, /^application\/(x-protobuf|json)/);
      const body = request.body.toString('latin1');
      assert.ok(body.includes('department call') && body.includes(ATTRIBUTES.department), 'the span was exported');
      // OTLP/JSON writes ids in hex, OTLP/protobuf as bytes.
      const traceId = correlation.traceId ?? '';
      assert.ok(
        body.includes(traceId) || body.includes(Buffer.from(traceId, 'hex').toString('latin1')),
        `with its trace id (${request.type})`,
      );
      assert.ok(!body.includes('Secret_Name'), 'what the guard drops never leaves');
    } finally {
      await tracing?.shutdown();
      collector.close();
    }
    assert.equal(tracingOn(), false, 'shut down: off again');
  });
});

describe("@apollo/gateway's own spans", () => {
  it('only its planning span is made; what runs in the others hangs under the span that called it', async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = startTracing({ service: 'credence-test', settings: readTracingSettings({}), exporter });
    try {
      const library = trace.getTracer(APOLLO_GATEWAY_TRACER);
      const call = traced(TRACERS.gateway, 'department call', async () => 'answered');
      const request = traced(TRACERS.gateway, 'POST /graphql', () =>
        // As @apollo/gateway nests them: its request span, planning inside it, then a fetch that makes a call.
        library.startActiveSpan('gateway.request', async (outer) => {
          library.startActiveSpan('gateway.plan', { attributes: { 'graphql.operation.type': 'query' } }, (plan) =>
            plan.end(),
          );
          const answer = await library.startActiveSpan(
            'gateway.fetch',
            { attributes: { service: 'tax' } },
            context.active(),
            () => call(),
          );
          outer.setAttribute('service', 'ignored');
          outer.end();
          return answer;
        }),
      );
      assert.equal(await request(), 'answered');
      await tracing?.flush();
      const spans = exporter.getFinishedSpans();
      assert.deepEqual(spans.map((span) => span.name).sort(), ['POST /graphql', 'department call', 'gateway.plan']);
      const root = spans.find((span) => span.name === 'POST /graphql');
      for (const name of ['department call', 'gateway.plan']) {
        const span = spans.find((candidate) => candidate.name === name);
        assert.equal(span?.parentSpanContext?.spanId, root?.spanContext().spanId, `${name}: a child of the request`);
      }
    } finally {
      await tracing?.shutdown();
    }
  });
});

describe('the Node flags of Credence processes', () => {
  it('turn on the cheap trace context on Node 22, which Node 24 has by default', () => {
    assert.deepEqual(nodeFlags('22.18.0'), ['--experimental-async-context-frame']);
    assert.deepEqual(nodeFlags('24.1.0'), []);
    assert.deepEqual(nodeFlags('26.0.0'), []);
  });
});
