/**
 * Stage: the request id. Created for every GraphQL request before anything can refuse it, sent
 * to each department with the call (`x-request-id`), and stamped on every answer: on answers
 * the pipeline executed and on refusals Apollo Server produced (`extensions.credence.requestId`,
 * with the version stamp), and on an HTTP refusal's body, refusals before any identity included.
 */
import { randomUUID } from 'node:crypto';
import { noteRequestId } from '../../lib/observability/tracing.ts';
import type { Answer, Stage } from './stage.ts';

export const REQUEST_ID_HEADER = 'x-request-id';

/** A refusal's JSON body with `extensions.credence.requestId`, as answered requests carry it. */
export function withRequestId(payload: string, requestId: string): string {
  let body: unknown;
  try {
    body = JSON.parse(payload);
  } catch {
    return payload;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return payload;
  const { extensions } = body as { extensions?: { credence?: object } };
  if (extensions?.credence && 'requestId' in extensions.credence) return payload;
  return JSON.stringify({ ...body, extensions: { ...extensions, credence: { ...extensions?.credence, requestId } } });
}

/** The answer's `extensions.credence` with the request id added. */
export function stampRequestId(answer: Answer, requestId: string): Answer {
  const credence = answer.extensions?.credence as Record<string, unknown> | undefined;
  return { ...answer, extensions: { ...answer.extensions, credence: { ...credence, requestId } } };
}

export function requestIdStage(): Stage {
  // By the HTTP request, so that a refusal before any identity is known still names its id.
  const requestIds = new WeakMap<object, string>();
  return {
    name: 'request id',
    context(request) {
      request.requestId = randomUUID();
      requestIds.set(request.http.key, request.requestId);
      // With tracing on: the id on the request's span and log lines, joining them to the access log.
      noteRequestId(request.requestId);
    },
    departmentCall({ request, context }) {
      if (context.identity) request.http?.headers.set(REQUEST_ID_HEADER, context.identity.requestId);
    },
    finish: (execution, answer) => stampRequestId(answer, execution.identity.requestId),
    sent({ response, context }) {
      if (response.body.kind !== 'single') return;
      const { singleResult } = response.body;
      singleResult.extensions = {
        ...singleResult.extensions,
        credence: { ...(singleResult.extensions?.credence as object), requestId: context.identity.requestId },
      };
    },
    httpAnswer(key, status, payload) {
      const requestId = requestIds.get(key);
      if (!requestId || status < 400) return payload;
      return withRequestId(payload, requestId);
    },
  };
}
