/**
 * The gateway's request pipeline: every stage a request passes, in order, in one list
 * (`gatewayStages`). Read left to right it is what happens to a request on the way in (each
 * stage's `prepare` and its other hooks); read right to left, what happens to the answer on the
 * way out (each `finish`). A stage owns its rewrite and its undo (gateway/stages/stage.ts), so
 * swapping two stages changes what the gateway does, and the order test says so.
 *
 * The hosts only call into the pipeline: Fastify (`httpAnswer`, `httpHeaders`, and the transport refusals it is
 * configured with), Apollo Server (`context`, the admission plugin, `sent`), the
 * GatewayInterface around @apollo/gateway (`execute`) and the departments' data source
 * (`departmentCall`, `departmentAnswered`). docs/architecture.md has the map.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { AccessRecorder } from './stages/access-recording.ts';
import type { Answer, ContextRequest, DepartmentCall, Execution, GatewayContext, Stage } from './stages/stage.ts';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { transportRefusals } from './stages/transport-refusals.ts';
import { requestIdStage } from './stages/request-id.ts';
import { authenticationStage, type AuthenticationDependencies } from './stages/authentication.ts';
import { purposeStage } from './stages/purpose.ts';
import { rateLimitStage } from './stages/rate-limiting.ts';
import { persistedOperationStage } from './stages/persisted-operation-lookup.ts';
import { admissionLimitsStage } from './stages/admission-limits.ts';
import { versionStampStage } from './stages/version-stamp.ts';
import { stripAddedStage } from './stages/strip-added.ts';
import { accessRecordingStage } from './stages/access-recording.ts';
import { literalArgumentsStage } from './stages/literal-arguments.ts';
import { policyDecisionStage } from './stages/policy-decision.ts';
import { deniedFieldsStage } from './stages/denied-fields.ts';
import { skipGuardsStage } from './stages/skip-guards.ts';
import { subjectKeysStage } from './stages/subject-keys.ts';
import { keyAliasesStage } from './stages/key-aliases.ts';
import { departmentCallsStage } from './stages/department-calls.ts';
import type { RateLimits } from './rate-limits.ts';
import type { AssertionSigner } from '../lib/identity/assertion.ts';
import type { OperationRegistry } from './persisted-operations.ts';
import type { Limits } from './operation-limits.ts';
import type { NamedCaches } from '../lib/lru-cache.ts';
import type { GatewayMetrics } from '../lib/observability/metrics-gateway.ts';
import { metricsStage } from './stages/metrics.ts';
import { SPANS, traced, TRACERS, tracingOn } from '../lib/observability/tracing.ts';

export interface PipelineDependencies extends AuthenticationDependencies {
  /** Signs the identity assertion the departments require. */
  signer: AssertionSigner;
  defaultLimits: Limits;
  defaultListSize: number;
  rateLimits: RateLimits;
  operations: OperationRegistry;
  /** Absent with ACCESS_LOG=off: nothing is recorded, and no subject keys are added for it. */
  accessLog: AccessRecorder | undefined;
  /** Absent with metrics off (CREDENCE_METRICS=off): nothing is counted. */
  metrics?: GatewayMetrics | undefined;
  /** Where the stages' caches are named for the metrics. */
  caches?: NamedCaches | undefined;
}

/** Every stage of a request, in order. */
export function gatewayStages(dependencies: PipelineDependencies): Stage[] {
  const { accessLog, metrics } = dependencies;
  return [
    transportRefusals,
    // Outermost: its clock starts first, and its way out sees each answer as it finally leaves.
    ...(metrics ? [metricsStage(metrics)] : []),
    // The outer layers: what they do on the way out (right to left) covers every answer after them.
    requestIdStage(),
    versionStampStage,
    stripAddedStage,
    ...(accessLog ? [accessRecordingStage(accessLog)] : []),
    // Who asks, for what, and whether it may ask now.
    authenticationStage(dependencies),
    purposeStage(dependencies),
    rateLimitStage(dependencies),
    // Admission: what the operation is, and whether it is within the consumer's limits.
    persistedOperationStage(dependencies),
    admissionLimitsStage(dependencies),
    // Execution: each rewrite of the document, inward; each undo, outward.
    literalArgumentsStage(),
    inSpan(policyDecisionStage(dependencies.caches), SPANS.policyDecision),
    deniedFieldsStage,
    skipGuardsStage,
    ...(accessLog ? [subjectKeysStage] : []),
    keyAliasesStage(),
    departmentCallsStage,
  ];
}

/** The stage with its way in (`prepare`) in a span of its own when tracing is on; the stage itself otherwise. */
function inSpan(stage: Stage, name: string): Stage {
  if (!stage.prepare || !tracingOn()) return stage;
  const spanned = traced(TRACERS.gateway, name, async (execution: Execution) => stage.prepare?.(execution));
  return Object.assign(Object.create(stage) as Stage, { prepare: spanned });
}

/** Replaces the text of a request refused before parsing: nothing of the refused text is parsed, validated or executed. */
const STAND_IN = '{ __typename }';

export interface Pipeline {
  readonly stages: readonly Stage[];
  /** Builds the request's context (context stages left to right; a refusal passes back through the stages before). */
  context(http: ContextRequest['http']): Promise<GatewayContext>;
  /** Admission and the answers Apollo Server produced without the pipeline's execution. */
  plugin(): ApolloServerPlugin<GatewayContext>;
  /** Executes through the stages: prepare left to right, finish right to left over those whose prepare ran. */
  execute(execution: Execution): Promise<Answer>;
  departmentCall(call: DepartmentCall): void;
  departmentAnswered(call: DepartmentCall, response: GatewayGraphQLResponse): void;
  httpAnswer(request: object, status: number, payload: string): string;
  /** The headers the stages set on an HTTP answer (left to right; a later stage's header wins); undefined: none. */
  httpHeaders(request: object): Record<string, string> | undefined;
}

export function createPipeline(stages: readonly Stage[]): Pipeline {
  const having = <K extends keyof Stage>(hook: K): Stage[] => stages.filter((stage) => stage[hook] !== undefined);
  const contextStages = having('context');
  const receivedStages = having('received');
  const resolvedStages = having('resolved');
  const sentStages = having('sent').reverse();
  const callStages = having('departmentCall');
  const answeredStages = having('departmentAnswered');
  const httpStages = having('httpAnswer').reverse();
  const headerStages = having('httpHeaders');

  return {
    stages,
    async context(http) {
      const request: ContextRequest = { http, access: { servedSubjects: new Set(), recorded: false } };
      for (const stage of contextStages) {
        try {
          await stage.context?.(request);
        } catch (error) {
          if (!(error instanceof GraphQLError)) throw error;
          let refusal = error;
          for (const before of stages.slice(0, stages.indexOf(stage)).reverse()) {
            if (before.contextRefused) refusal = await before.contextRefused(request, refusal);
          }
          throw refusal;
        }
      }
      const { identity, limits, access } = request;
      if (!identity || !limits) throw new Error('the context stages left the request without an identity or limits');
      return { identity, limits, access };
    },
    plugin: () => ({
      requestDidStart: async ({ request, contextValue, schema }) => {
        const received = { source: request.query, operationName: request.operationName ?? null, startedAt: new Date() };
        // Apollo Server answers an error thrown before parsing as an internal error (HTTP 500), and
        // one thrown from didResolveOperation as the error it is: a refusal found before parsing
        // is kept, the text replaced by a stand-in, and the refusal thrown once it is resolved.
        let refusal: GraphQLError | undefined;
        try {
          for (const stage of receivedStages) await stage.received?.({ request, context: contextValue, schema });
        } catch (error) {
          if (!(error instanceof GraphQLError)) throw error;
          refusal = error;
          request.query = STAND_IN;
          delete request.operationName;
        }
        return {
          didResolveOperation: async ({ schema: resolvedSchema, document, operation, request: resolved }) => {
            if (refusal) throw refusal;
            for (const stage of resolvedStages) {
              await stage.resolved?.({
                schema: resolvedSchema,
                document,
                operation,
                variables: resolved.variables,
                context: contextValue,
              });
            }
          },
          willSendResponse: async ({ response, document, operationName }) => {
            // An executed request was accounted for by the execution stages.
            if (contextValue.access.recorded) return;
            for (const stage of sentStages) {
              await stage.sent?.({
                response,
                context: contextValue,
                received,
                request,
                document,
                operationName: operationName ?? received.operationName,
              });
            }
          },
        };
      },
    }),
    async execute(execution) {
      const ran: Stage[] = [];
      let answer: Answer | undefined;
      for (const stage of stages) {
        if (!stage.prepare && !stage.finish) continue;
        ran.push(stage);
        const early = await stage.prepare?.(execution);
        if (early) {
          answer = early;
          break;
        }
      }
      if (!answer) throw new Error('no execution stage answered: the department calls stage must be last');
      for (const stage of ran.reverse()) {
        if (stage.finish) answer = await stage.finish(execution, answer);
      }
      // Accounted for: the answers Apollo Server produces without execution are the `sent` stages'.
      execution.access.recorded = true;
      return answer;
    },
    departmentCall(call) {
      for (const stage of callStages) stage.departmentCall?.(call);
    },
    departmentAnswered(call, response) {
      for (const stage of answeredStages) stage.departmentAnswered?.(call, response);
    },
    httpAnswer(request, status, payload) {
      let body = payload;
      for (const stage of httpStages) body = stage.httpAnswer?.(request, status, body) ?? body;
      return body;
    },
    httpHeaders(request) {
      let headers: Record<string, string> | undefined;
      for (const stage of headerStages) {
        const set = stage.httpHeaders?.(request);
        if (set) headers = { ...headers, ...set };
      }
      return headers;
    },
  };
}
