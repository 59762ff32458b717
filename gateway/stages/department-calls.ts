/**
 * Stage: department calls, the core of the onion. @apollo/gateway plans the document the stages
 * before have prepared and executes it against the departments (department-source.ts: keep-alive,
 * timeouts, a circuit breaker per department). Each call carries the request's signed assertion,
 * bound to that department and to exactly that operation and those variables; departments answer
 * nothing without it. The subjects a department reports serving are taken from its answer for the
 * access log (served-subjects.ts). An operation the policy filter left empty asks no department.
 */
import { ASSERTION_HEADER } from '../../lib/identity/assertion.ts';
import { collectServedSubjects } from '../served-subjects.ts';
import { executionDocumentHash, type Stage } from './stage.ts';

export const departmentCallsStage: Stage = {
  name: 'department calls',
  async prepare(execution) {
    const { document, requestContext, executor, variables } = execution;
    if (!document) return { data: {} };
    // Apollo caches query plans under this hash: the operation's own when no stage changed it.
    const queryHash = executionDocumentHash(execution, document);
    const request =
      variables === requestContext.request.variables
        ? requestContext.request
        : { ...requestContext.request, variables };
    return executor({ ...requestContext, request, document, queryHash });
  },
  departmentCall({ department, request, context }) {
    if (context.identity)
      request.http?.headers.set(ASSERTION_HEADER, context.identity.assertionFor(department, request));
  },
  departmentAnswered({ context }, response) {
    collectServedSubjects(context, response);
  },
};
