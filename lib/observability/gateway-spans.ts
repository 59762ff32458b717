/**
 * Which of a library's own spans are made. @apollo/gateway spans its request, validation,
 * planning, execution, each fetch and its post-processing: ten spans for the partner query, on
 * top of Credence's own request, policy decision, department calls and access-log write, which
 * already say when each department was called and for how long. Every span costs the gateway
 * CPU and garbage on every traced request (docs/tracing.md, "Cost"), so of @apollo/gateway's
 * only the planning span is kept: nothing of Credence's covers it.
 *
 * A span that is not kept is not made at all: the library's callback runs with a non-recording
 * span in the context it was called in, so what it starts inside (Credence's department calls)
 * hangs under the nearest span that is made. The library may still set attributes or end it:
 * a non-recording span ignores both.
 */
import {
  context,
  INVALID_SPAN_CONTEXT,
  trace,
  type Context,
  type Span,
  type SpanOptions,
  type Tracer,
} from '@opentelemetry/api';

/** @apollo/gateway's tracer (its utilities/opentelemetry.js names it so). */
export const APOLLO_GATEWAY_TRACER = 'apollo/gateway-js';

/** By tracer name: the spans of that library that are made. Tracers not named here make all of theirs. */
export const LIBRARY_SPANS_KEPT: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  [APOLLO_GATEWAY_TRACER, new Set(['gateway.plan'])],
]);

/** A span that records nothing and carries the ids of the span active in `parent` (if any). */
function notMade(parent: Context): Span {
  return trace.wrapSpanContext(trace.getSpanContext(parent) ?? INVALID_SPAN_CONTEXT);
}

type ActiveSpanCallback = (span: Span) => unknown;

/** `tracer`, making only the spans named in `kept`. */
export function keptSpansOnly(tracer: Tracer, kept: ReadonlySet<string>): Tracer {
  return {
    startSpan(name: string, options?: SpanOptions, parent?: Context): Span {
      return kept.has(name) ? tracer.startSpan(name, options, parent) : notMade(parent ?? context.active());
    },
    // The API's overloads: (name, fn), (name, options, fn), (name, options, context, fn).
    startActiveSpan(name: string, ...rest: unknown[]): unknown {
      if (kept.has(name)) {
        // eslint-disable-next-line @typescript-eslint/unbound-method -- called with its tracer as `this`
        return Reflect.apply(tracer.startActiveSpan, tracer, [name, ...rest]) as unknown;
      }
      const fn = rest[rest.length - 1] as ActiveSpanCallback;
      const parent = rest.length === 3 ? (rest[1] as Context | undefined) : undefined;
      if (!parent) return fn(notMade(context.active()));
      return context.with(parent, fn, undefined, notMade(parent));
    },
  };
}
