/**
 * Starting tracing in a process (the gateway's and each department's main, and tests): the
 * OpenTelemetry SDK's tracer provider, registered as the process's own, with
 *
 * - the AsyncLocalStorage context manager, so that a span started for a request is the parent
 *   of what the request does later, across awaits (the API's default keeps no context);
 * - a parent-based sampler: a trace is sampled at its root (the gateway's request) with the
 *   configured ratio, and every department call follows the gateway's decision;
 * - the privacy guard (tracing-privacy.ts) in front of a batching exporter: OTLP over HTTP to
 *   the configured endpoint, or nothing (`discard`, for benchmarks);
 * - of @apollo/gateway's own spans, only its planning span (gateway-spans.ts): Credence's spans
 *   already cover the request and each department call, and each span is paid for in CPU.
 *
 * With `exporter: 'off'` (the default) nothing is registered: the API's no-op tracer answers,
 * and tracing.ts's functions do nothing.
 */
import { context, trace, type Tracer, type TracerOptions, type TracerProvider } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import type { TracingSettings } from '../config/shared.ts';
import { keptSpansOnly, LIBRARY_SPANS_KEPT } from './gateway-spans.ts';
import { markTracing } from './tracing.ts';
import { PrivacyGuardProcessor } from './tracing-privacy.ts';

export interface TracingOptions {
  /** The process's service name (`credence-gateway`, `credence-registry`, …). */
  service: string;
  settings: TracingSettings;
  /** Replaces the configured exporter (tests: an in-memory exporter); tracing is then on whatever `settings.exporter` says. */
  exporter?: SpanExporter;
}

export interface RunningTracing {
  /** Exports what is batched. */
  flush(): Promise<void>;
  /** Exports what is batched and unregisters the provider. */
  shutdown(): Promise<void>;
}

/** Spans made, batched and dropped: what tracing costs without a collector (CREDENCE_TRACING=discard). */
class DiscardingExporter implements SpanExporter {
  export(_spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    done({ code: ExportResultCode.SUCCESS });
  }
  async shutdown(): Promise<void> {}
}

function exporterFor(settings: TracingSettings): SpanExporter | undefined {
  if (settings.exporter === 'discard') return new DiscardingExporter();
  if (settings.exporter === 'otlp' && settings.endpoint) return new OTLPTraceExporter({ url: settings.endpoint });
  return undefined;
}

/** Registers the tracer provider and context manager; undefined (nothing registered) when tracing is off. */
export function startTracing(options: TracingOptions): RunningTracing | undefined {
  const exporter = options.exporter ?? exporterFor(options.settings);
  if (!exporter) return undefined;
  const contextManager = new AsyncLocalStorageContextManager().enable();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.service }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.settings.sampleRatio) }),
    spanProcessors: [
      new PrivacyGuardProcessor(
        // Sized for a gateway at full sampling: about twenty spans a request, exported every second.
        new BatchSpanProcessor(exporter, {
          maxQueueSize: 16_384,
          maxExportBatchSize: 1024,
          scheduledDelayMillis: 1000,
        }),
      ),
    ],
  });
  // Libraries get their tracers from the global provider: those whose spans Credence's own cover keep only the rest.
  const registered: TracerProvider = {
    getTracer(name: string, version?: string, tracerOptions?: TracerOptions): Tracer {
      const found = provider.getTracer(name, version, tracerOptions);
      const kept = LIBRARY_SPANS_KEPT.get(name);
      return kept ? keptSpansOnly(found, kept) : found;
    },
  };
  if (!trace.setGlobalTracerProvider(registered) || !context.setGlobalContextManager(contextManager)) {
    throw new Error('a tracer provider is already registered in this process');
  }
  markTracing(true);
  return {
    flush: () => provider.forceFlush(),
    shutdown: async () => {
      await provider.shutdown();
      markTracing(false);
      trace.disable();
      context.disable();
    },
  };
}
