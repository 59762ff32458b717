/**
 * Stage: metrics. Counts every request that reached the pipeline by consumer, purpose, operation
 * name and outcome, and times it (lib/observability/metrics-gateway.ts). It stands outermost, so
 * that its clock starts before authentication and its way out sees each answer as it finally
 * leaves: after the access log, which may have replaced it with ACCESS_LOG_UNAVAILABLE. An executed
 * request is counted in `finish`, a refusal while the context was built in `contextRefused`, an
 * answer Apollo Server produced without execution (validation, limits) in `sent`. Only present
 * when metrics are on (CREDENCE_METRICS, docs/operations.md).
 */
import type { CompiledPolicy } from '../../lib/policy/decision/model.ts';
import { NO_PURPOSE, UNAUTHENTICATED, type GatewayMetrics } from '../../lib/observability/metrics-gateway.ts';
import type { RequestAccess, Stage } from './stage.ts';

/** The purpose as a label: one the consumer holds in the policy, else NO_PURPOSE (a header's text is never a label). */
function purposeLabel(policy: CompiledPolicy | undefined, consumer: string, purpose: string): string {
  return policy?.consumers.get(consumer)?.purposes.includes(purpose) ? purpose : NO_PURPOSE;
}

export function metricsStage(metrics: GatewayMetrics): Stage {
  // Per request (its access record, which every later hook can reach): when it reached the pipeline.
  const arrived = new WeakMap<RequestAccess, number>();
  const startOf = (access: RequestAccess): number => arrived.get(access) ?? performance.now();
  return {
    name: 'metrics',
    context(request) {
      arrived.set(request.access, performance.now());
    },
    contextRefused(request, refusal) {
      const { known, policy } = request;
      metrics.requestEnded({
        consumer: known?.consumer.id ?? UNAUTHENTICATED,
        purpose: known ? purposeLabel(policy, known.consumer.id, known.purpose) : NO_PURPOSE,
        // Not read yet: refused before its operation was looked at.
        operationName: null,
        answer: { errors: [refusal] },
        started: startOf(request.access),
      });
      return refusal;
    },
    finish(execution, answer) {
      const { identity, requestContext } = execution;
      metrics.requestEnded({
        consumer: identity.consumer.id,
        purpose: identity.purpose,
        operationName: requestContext.operationName ?? requestContext.request.operationName,
        answer,
        started: startOf(execution.access),
      });
      return answer;
    },
    sent({ response, context, operationName }) {
      if (response.body.kind !== 'single') return;
      metrics.requestEnded({
        consumer: context.identity.consumer.id,
        purpose: context.identity.purpose,
        operationName,
        answer: response.body.singleResult,
        started: startOf(context.access),
      });
    },
  };
}
