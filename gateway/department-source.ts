/**
 * How the gateway calls a department: keep-alive HTTP, a timeout per call, a circuit breaker
 * (circuit-breaker.ts) that stops calling a department that keeps failing, and failures reported
 * as DEPARTMENT_UNAVAILABLE naming the department, without the internal address or the transport
 * error. The HTTP client is department-fetch.ts, which says why not make-fetch-happen, the data
 * source's default; Node's built-in fetch cost more still (about 15% more gateway CPU per request
 * than make-fetch-happen in `npm run bench`).
 */
import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { GraphQLError } from 'graphql';
import { SpanKind } from '@opentelemetry/api';
import { codedError, ErrorCode } from '../lib/error-registry.ts';
import type { Logger } from '../lib/logger.ts';
import type { GatewayContext } from './stages/stage.ts';
import { createCircuitBreaker, type CircuitBreaker } from './circuit-breaker.ts';
import { DepartmentTimeout, departmentFetcher } from './department-fetch.ts';
import type { Pipeline } from './pipeline.ts';
import { ATTRIBUTES, injectTraceContext, SPANS, traced, TRACERS } from '../lib/observability/tracing.ts';

export interface DepartmentSourceOptions {
  name: string;
  /** The stages that act on each call and on its answer (assertion, request id, served subjects). */
  calls: Pick<Pipeline, 'departmentCall' | 'departmentAnswered'>;
  url: string;
  timeoutMs: number;
  log: Logger;
  circuit: { failureThreshold: number; cooldownMs: number };
}

/** The first coded error of a department's 4xx answer (its own refusal of the request), if it is one. */
function codedRefusal(error: GraphQLError): { code: string; message: string } | undefined {
  const response = error.extensions.response as { status?: number; body?: unknown } | undefined;
  if (!response?.status || response.status >= 500) return undefined;
  const body = typeof response.body === 'string' ? safeJson(response.body) : response.body;
  const first = (body as { errors?: { message?: unknown; extensions?: { code?: unknown } }[] } | undefined)
    ?.errors?.[0];
  const code = first?.extensions?.code;
  if (typeof code !== 'string' || code === ErrorCode.INTERNAL_SERVER_ERROR || typeof first?.message !== 'string')
    return undefined;
  return { code, message: first.message };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The errors that say the department itself failed (as opposed to refusing a request): they count against its circuit. */
const unavailableErrors = new WeakSet<Error>();
/** The errors of a call that timed out: they count against the calling consumer's own circuit only. */
const timedOutErrors = new WeakSet<Error>();

/**
 * Two kinds of circuit per department. The shared one counts what says the department itself is
 * failing (unreachable, cut off, HTTP 5xx) and, open, answers every consumer at once. A timeout
 * says only that this operation was slow: one consumer's expensive operations could time out
 * every call and so switch the department off for everyone. Timeouts count against the calling
 * consumer's own circuit instead, which, open, answers only that consumer at once.
 */
export class DepartmentSource extends RemoteGraphQLDataSource {
  readonly department: string;
  readonly circuit: CircuitBreaker;
  private readonly consumerCircuits = new Map<string, CircuitBreaker>();
  private readonly circuitOptions: DepartmentSourceOptions['circuit'];
  private readonly log: Logger;
  private readonly calls: DepartmentSourceOptions['calls'];
  /** One call as the data source sends it: in a client span of its own with tracing on (its traceparent goes with it). */
  private readonly send: (options: GraphQLDataSourceProcessOptions) => Promise<GatewayGraphQLResponse>;

  constructor(options: DepartmentSourceOptions) {
    super({ url: options.url, fetcher: departmentFetcher(options.url, options.timeoutMs) });
    this.department = options.name;
    this.log = options.log;
    this.calls = options.calls;
    this.circuitOptions = options.circuit;
    this.send = traced(TRACERS.gateway, SPANS.departmentCall, (call) => super.process(call), {
      kind: SpanKind.CLIENT,
      attributes: { [ATTRIBUTES.department]: options.name },
    });
    this.circuit = createCircuitBreaker({
      ...options.circuit,
      onStateChange: (state) =>
        this.log.warn({ department: this.department, state }, 'department circuit changed state'),
    });
  }

  /** The circuit of one consumer's calls to this department (consumers are the policy's, so few). */
  private consumerCircuit(consumer: string): CircuitBreaker {
    let circuit = this.consumerCircuits.get(consumer);
    if (!circuit) {
      circuit = createCircuitBreaker({
        ...this.circuitOptions,
        onStateChange: (state) =>
          this.log.warn(
            { department: this.department, consumer, state },
            'department circuit of one consumer changed state',
          ),
      });
      this.consumerCircuits.set(consumer, circuit);
    }
    return circuit;
  }

  override async process(options: GraphQLDataSourceProcessOptions): Promise<GatewayGraphQLResponse> {
    const own = this.consumerCircuit((options.context as Partial<GatewayContext>).identity?.consumer.id ?? '');
    if (!own.tryAcquire()) throw this.unavailable();
    if (!this.circuit.tryAcquire()) {
      own.release();
      throw this.unavailable();
    }
    try {
      const response = await this.send(options);
      this.circuit.succeeded();
      own.succeeded();
      return response;
    } catch (error) {
      if (error instanceof Error && timedOutErrors.has(error)) {
        own.failed();
        this.circuit.release();
      } else if (error instanceof Error && unavailableErrors.has(error)) {
        this.circuit.failed();
        own.release();
      } else {
        this.circuit.succeeded();
        own.succeeded();
      }
      throw error;
    }
  }

  private unavailable(timedOut = false): GraphQLError {
    const error = codedError(ErrorCode.DEPARTMENT_UNAVAILABLE, undefined, { department: this.department });
    (timedOut ? timedOutErrors : unavailableErrors).add(error);
    return error;
  }

  /** What the pipeline's stages add to every call (the signed assertion, the request id: gateway/stages/). */
  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions): void {
    this.calls.departmentCall({ department: this.department, request, context: context as Partial<GatewayContext> });
    // Beside the signed assertion: where this call stands in the request's trace (not who asks: the assertion says that).
    injectTraceContext(request.http?.headers);
  }

  /** What the pipeline's stages read from every answer (the subjects the department reports serving). */
  override didReceiveResponse({
    request,
    response,
    context,
  }: Parameters<NonNullable<RemoteGraphQLDataSource['didReceiveResponse']>>[0]): GatewayGraphQLResponse {
    this.calls.departmentAnswered(
      { department: this.department, request, context: context as Partial<GatewayContext> },
      response,
    );
    return response;
  }

  override didEncounterError(error: Error): never {
    if (
      error instanceof GraphQLError &&
      error.extensions.code &&
      error.extensions.code !== ErrorCode.INTERNAL_SERVER_ERROR
    ) {
      // A refusal (401, 403): its code and message, never the department's address or raw answer.
      throw new GraphQLError(error.message, {
        extensions: { code: error.extensions.code, department: this.department },
      });
    }
    const refusal = error instanceof GraphQLError ? codedRefusal(error) : undefined;
    if (refusal) {
      // The department refused this request (a 4xx with a coded error, say BAD_USER_INPUT for a
      // malformed date): the consumer gets that error, and the department's circuit does not
      // count it, or any consumer could switch a department off for everyone with bad input.
      throw new GraphQLError(refusal.message, { extensions: { code: refusal.code, department: this.department } });
    }
    this.log.warn({ department: this.department, reason: error.message }, 'department call failed');
    throw this.unavailable(error instanceof DepartmentTimeout);
  }
}
