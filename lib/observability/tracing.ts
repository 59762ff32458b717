/**
 * Traces of requests (OpenTelemetry), as the code that makes spans sees them: one trace per
 * request, from the gateway's HTTP request through the policy decision, the planning, each
 * department call and the access-log write, to each department's handling of its call and each
 * of its store commands. docs/tracing.md says what is traced, what is never put in a span, and
 * why a consumer's own `traceparent` starts nothing.
 *
 * Only the API is used here (tracing-sdk.ts sets up the SDK). Everything checks one flag first:
 * with tracing off (the default) no span is made, no context is kept and the wrapped functions
 * are the functions themselves, so tracing off costs a boolean test where it costs anything.
 *
 * Log lines carry the request id and the trace id (`logCorrelation`, lib/logger.ts's mixin):
 * the request's context holds a small record (`RequestTrace`) set when the HTTP request starts
 * and filled in once the request id is known.
 */
import {
  context,
  createContextKey,
  defaultTextMapGetter,
  isSpanContextValid,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isErrorCode } from '../error-registry.ts';

/** The instrumentation scopes: who made a span. */
export const TRACERS = {
  gateway: 'credence.gateway',
  department: 'credence.department',
  store: 'credence.store',
} as const;

/** The names of Credence's own spans: a fixed vocabulary, never built from a request. */
export const SPANS = {
  request: 'POST /graphql',
  policyDecision: 'policy decision',
  departmentCall: 'department call',
  accessLogWrite: 'access log write',
} as const;

/** The attributes Credence sets. tracing-privacy.ts exports these and no others. */
export const ATTRIBUTES = {
  requestId: 'credence.request_id',
  consumer: 'credence.consumer',
  purpose: 'credence.purpose',
  policyVersion: 'credence.policy_version',
  department: 'credence.department',
  /** The registered codes of the errors a request or call was answered with (never their messages). */
  errorCodes: 'credence.error_codes',
  errorType: 'error.type',
  httpMethod: 'http.request.method',
  httpRoute: 'http.route',
  httpStatus: 'http.response.status_code',
  dbSystem: 'db.system.name',
  dbNamespace: 'db.namespace',
  dbOperation: 'db.operation.name',
  dbCollection: 'db.collection.name',
} as const;

/** What an error is called in a span: its registered code, or OTHER (its message never). */
export const UNREGISTERED_ERROR = 'OTHER';

let on = false;
const tracers = new Map<string, Tracer>();

/** Whether a tracer provider is registered (tracing-sdk.ts). Off: nothing here makes a span. */
export function tracingOn(): boolean {
  return on;
}

/** Set by tracing-sdk.ts when it registers (or removes) the provider. */
export function markTracing(value: boolean): void {
  on = value;
  tracers.clear();
}

export function tracer(name: string): Tracer {
  let found = tracers.get(name);
  if (!found) {
    found = trace.getTracer(name);
    tracers.set(name, found);
  }
  return found;
}

/** The record of one HTTP request in its context: its server span, and its request id once known. */
export interface RequestTrace {
  readonly span: Span;
  requestId: string | undefined;
}

const REQUEST = createContextKey('credence.request');

/** The request being handled, in a traced process; undefined with tracing off or outside a request. */
export function currentRequest(): RequestTrace | undefined {
  return on ? (context.active().getValue(REQUEST) as RequestTrace | undefined) : undefined;
}

/** Names the request's id on its span and on its log lines (the gateway's own id, or the one a department's assertion carries). */
export function noteRequestId(requestId: string): void {
  const request = currentRequest();
  if (!request) return;
  request.requestId = requestId;
  request.span.setAttribute(ATTRIBUTES.requestId, requestId);
}

/** Sets attributes on the request's server span (consumer, purpose, policy version: the policy's own names). */
export function noteRequestAttributes(attributes: Attributes): void {
  currentRequest()?.span.setAttributes(attributes);
}

/** The registered code of an error, or OTHER. */
export function errorCodeOf(error: unknown): string {
  const code = (error as { extensions?: { code?: unknown } } | null)?.extensions?.code;
  return isErrorCode(code) ? code : UNREGISTERED_ERROR;
}

/** Marks a span failed with the registered codes of its errors (their messages stay out of traces). */
export function noteErrorCodes(span: Span, codes: readonly unknown[]): void {
  if (codes.length === 0) return;
  const named = [...new Set(codes.map((code) => (isErrorCode(code) ? code : UNREGISTERED_ERROR)))].sort();
  span.setAttribute(ATTRIBUTES.errorCodes, named);
  span.setAttribute(ATTRIBUTES.errorType, named[0] ?? UNREGISTERED_ERROR);
  span.setStatus({ code: SpanStatusCode.ERROR });
}

/** The trace id of the active span, in a traced process (sampled or not: it still joins the logs). */
export function currentTraceId(): string | undefined {
  if (!on) return undefined;
  const spanContext = trace.getSpan(context.active())?.spanContext();
  return spanContext && isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}

/**
 * What a log line written now is joined to: the request id and the trace and span ids (lib/logger.ts's
 * mixin). A new object each time: pino merges the line's fields into it.
 */
export function logCorrelation(): Record<string, string> {
  if (!on) return {};
  const active = context.active();
  const spanContext = trace.getSpan(active)?.spanContext();
  const requestId = (active.getValue(REQUEST) as RequestTrace | undefined)?.requestId;
  if (!spanContext || !isSpanContextValid(spanContext)) return requestId ? { requestId } : {};
  return {
    ...(requestId ? { requestId } : {}),
    traceId: spanContext.traceId,
    spanId: spanContext.spanId,
  };
}

/**
 * `fn` as it is with tracing off; with tracing on, each call in a span of its own (a child of
 * the active one), ended when the promise settles, failed with the error's registered code.
 * Wrap once (at start-up), not per call.
 */
export function traced<A extends unknown[], R>(
  scope: string,
  name: string,
  fn: (...args: A) => Promise<R>,
  options: { kind?: SpanKind; attributes?: Attributes; failure?: string } = {},
): (...args: A) => Promise<R> {
  if (!on) return fn;
  const spanOptions = { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes };
  return (...args) =>
    tracer(scope).startActiveSpan(name, spanOptions, async (span) => {
      try {
        return await fn(...args);
      } catch (error) {
        noteErrorCodes(span, [options.failure ?? errorCodeOf(error)]);
        throw error;
      } finally {
        span.end();
      }
    });
}

const propagator = new W3CTraceContextPropagator();
const headerSetter = {
  set(carrier: { set(name: string, value: string): void }, key: string, value: string): void {
    carrier.set(key, value);
  },
};

/** Adds `traceparent` for the active span to an outgoing call's headers (nothing with tracing off). */
export function injectTraceContext(headers: { set(name: string, value: string): void } | undefined): void {
  if (on && headers) propagator.inject(context.active(), headers, headerSetter);
}

/** How a server treats the `traceparent` it receives. */
export interface ServerTracing {
  /** The tracer: the gateway's or a department's. */
  scope: string;
  /**
   * `link`: the caller is outside (a consumer): every request starts a new trace, and a valid
   * `traceparent` is kept only as a link. `continue`: the caller is the gateway: its
   * `traceparent` is the parent (not trusted for identity: at worst a forged one mis-parents).
   */
  traceparent: 'link' | 'continue';
  attributes?: Attributes;
}

/** The caller's span context from a `traceparent` header, without its tracestate (caller's text, kept out). */
function callerSpanContext(request: FastifyRequest): Context {
  return propagator.extract(ROOT_CONTEXT, request.headers, defaultTextMapGetter);
}

/**
 * The handler of a GraphQL route, each request in a server span that is the active context of
 * everything the handler does (its context function, Apollo's plugins and execution, the calls it
 * makes): unchanged with tracing off. The span ends when the answer has been sent.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any route handler: its request and reply types are the route's
export function tracedRoute<H extends (this: FastifyInstance, request: any, reply: any) => unknown>(
  app: FastifyInstance,
  handler: H,
  tracing: ServerTracing | undefined,
): H {
  if (!on || !tracing) return handler;
  const scope = tracer(tracing.scope);
  const spans = new WeakMap<FastifyRequest, Span>();
  const end = (request: FastifyRequest, reply: FastifyReply): void => {
    const span = spans.get(request);
    if (!span) return;
    spans.delete(request);
    span.setAttribute(ATTRIBUTES.httpStatus, reply.statusCode);
    if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  };
  app.addHook('onResponse', async (request, reply) => end(request, reply));
  app.addHook('onRequestAbort', async (request) => {
    spans.get(request)?.end();
    spans.delete(request);
  });
  const attributes: Attributes = {
    [ATTRIBUTES.httpMethod]: 'POST',
    [ATTRIBUTES.httpRoute]: '/graphql',
    ...tracing.attributes,
  };
  const run = handler as unknown as (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) => unknown;
  const wrapped = function (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply): unknown {
    const caller = callerSpanContext(request);
    let parent = ROOT_CONTEXT;
    let links: Link[] | undefined;
    const callerSpan = trace.getSpanContext(caller);
    if (tracing.traceparent === 'continue') parent = caller;
    else if (callerSpan && isSpanContextValid(callerSpan)) {
      // Kept to find the consumer's trace, never followed: its sampling flag and ids steer nothing here.
      links = [{ context: { traceId: callerSpan.traceId, spanId: callerSpan.spanId, traceFlags: 0, isRemote: true } }];
    }
    const span = scope.startSpan(
      SPANS.request,
      { kind: SpanKind.SERVER, attributes: { ...attributes, [ATTRIBUTES.httpMethod]: request.method }, links },
      parent,
    );
    spans.set(request, span);
    const record: RequestTrace = { span, requestId: undefined };
    return context.with(trace.setSpan(parent, span).setValue(REQUEST, record), run, this, request, reply);
  };
  return wrapped as H;
}

/**
 * The Apollo Server plugin of a traced server: the registered codes of the errors a request is
 * answered with, on its server span (also a refusal while its context was built), and what
 * `describe` says of the request from its context (the gateway: consumer, purpose, policy
 * version). None with tracing off.
 */
export function tracingPlugins<Context extends BaseContext>(
  describe?: (context: Context) => Attributes,
): ApolloServerPlugin<Context>[] {
  if (!on) return [];
  return [
    {
      async contextCreationDidFail({ error }) {
        const request = currentRequest();
        if (request) noteErrorCodes(request.span, [errorCodeOf(error)]);
      },
      async requestDidStart({ contextValue }) {
        const request = currentRequest();
        if (!request) return;
        if (describe) request.span.setAttributes(describe(contextValue));
        return {
          async willSendResponse({ response }) {
            if (response.body.kind !== 'single') return;
            const errors = response.body.singleResult.errors ?? [];
            noteErrorCodes(
              request.span,
              errors.map((error) => error.extensions?.code),
            );
          },
        };
      },
    },
  ];
}
