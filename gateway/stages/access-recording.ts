/**
 * Stage: the access log. Every request after authentication leaves a record before its answer
 * leaves (gateway/access-log.ts says what is recorded): an executed request in `finish`, once the
 * caller's keys and the denied fields are back in the answer and before what the gateway added is
 * stripped (the subjects' codes are read from it); a request refused while its context was built
 * in `contextRefused`; one refused or failed by Apollo Server (parse, validation, admission, an
 * internal error) in `sent`, with its text as received. The subjects the departments report
 * serving are gathered from their answers by the department calls stage. A record that cannot be written
 * withholds the answer: ACCESS_LOG_UNAVAILABLE, HTTP 503, no data.
 */
import type { GraphQLFormattedError } from 'graphql';
import { ErrorCode } from '../../lib/error-registry.ts';
import { accessLogUnavailableError, type AccessRecorder } from '../access-log.ts';
import type { Stage } from './stage.ts';

export type { AccessRecorder } from '../access-log.ts';

/** The operation text and name of an HTTP request's body (POST) or query string (GET), as far as they can be read. */
function operationOf(body: unknown, query: unknown): { source: string | undefined; operationName: string | null } {
  const from = (value: unknown): { source: string | undefined; operationName: string | null } | undefined => {
    if (value === null || typeof value !== 'object') return undefined;
    const { query: text, operationName } = value as { query?: unknown; operationName?: unknown };
    if (typeof text !== 'string') return undefined;
    return { source: text, operationName: typeof operationName === 'string' ? operationName : null };
  };
  return from(body) ?? from(query) ?? { source: undefined, operationName: null };
}

export function accessRecordingStage(recorder: AccessRecorder): Stage {
  const startedAt = new WeakMap<object, { at: Date; started: number }>();
  return {
    name: 'access log',
    async contextRefused(request, refusal) {
      const { known, policy, requestId } = request;
      // Refused by authentication (no verified identity): in the operator's log, not here.
      if (!known || !policy || requestId === undefined) return refusal;
      const identity = {
        consumer: { id: known.consumer.id },
        purpose: known.purpose,
        policy: { version: policy.version },
        requestId,
      };
      const written = await recorder.recordRefused({
        identity,
        ...operationOf(request.http.body, request.http.query),
        errors: [refusal],
        startedAt: new Date(),
      });
      return written ? refusal : accessLogUnavailableError();
    },
    prepare(execution) {
      startedAt.set(execution, { at: new Date(), started: performance.now() });
    },
    async finish(execution, answer) {
      const { requestContext, identity } = execution;
      const started = startedAt.get(execution) ?? { at: new Date(), started: performance.now() };
      // Nothing leaves before it is accounted for.
      return recorder.record({
        // The document the answer now matches: every rewrite to the right has been undone.
        answeredDocument: execution.document ?? requestContext.document,
        // As Apollo Server resolved it from the document (a request need not name its only operation).
        operationName: requestContext.operationName ?? requestContext.request.operationName ?? undefined,
        queryHash: requestContext.queryHash,
        // With the literals the literal-arguments stage moved, which the answered document reads as variables.
        variables: execution.variables,
        identity,
        verdict: execution.verdict,
        fields: execution.fields,
        result: answer,
        servedSubjects: execution.access.servedSubjects,
        startedAt: started.at,
        durationMs: performance.now() - started.started,
      });
    },
    async sent({ response, context, received, request, document, operationName }) {
      if (response.body.kind !== 'single') return;
      const { singleResult } = response.body;
      const errors: readonly GraphQLFormattedError[] = singleResult.errors ?? [];
      const written = await recorder.recordRefused({
        identity: context.identity,
        operationName,
        source: received.source ?? request.query,
        document,
        variables: request.variables,
        errors,
        startedAt: received.startedAt,
      });
      if (written) return;
      const unavailable = accessLogUnavailableError();
      response.body = {
        kind: 'single',
        singleResult: {
          errors: [{ message: unavailable.message, extensions: { code: ErrorCode.ACCESS_LOG_UNAVAILABLE } }],
        },
      };
      response.http.status = 503;
    },
  };
}
