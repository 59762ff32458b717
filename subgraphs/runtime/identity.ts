/**
 * The first stage of a department's enforcement: who is asking. Only the gateway's signed identity
 * assertion is accepted, bound to this department and to exactly this operation and these
 * variables, and only once (the replay guard, shared by every instance). From it come the
 * policy version the gateway decided under, the consumer's view under its declared purpose and
 * its competence for writes. Everything after this stage reads them from the request's context;
 * nothing is answered without them.
 */
import type { FastifyRequest } from 'fastify';
import { codedError, ErrorCode } from '../../lib/error-registry.ts';
import { ASSERTION_HEADER, type AssertionVerifier, type DepartmentRequest } from '../../lib/identity/assertion.ts';
import { IdentityError } from '../../lib/identity/identity-error.ts';
import type { ReplayGuard } from '../../lib/identity/replay-guard.ts';
import type { PolicyRuntime } from '../../lib/policy/releases/policy-in-force.ts';
import { noteRequestId } from '../../lib/observability/tracing.ts';
import type { WriteContext } from './writes.ts';

/** What the identity stage establishes for one call. */
export type CallIdentity = Pick<WriteContext, 'view' | 'policyVersion' | 'competence'>;

export interface IdentityStageOptions {
  /** The department's name: the audience an assertion must name. */
  department: string;
  assertions: AssertionVerifier;
  replayGuard: ReplayGuard;
  policies: PolicyRuntime;
}

/** The most entities a department answers in one call. */
export const MAX_ENTITY_BATCH = 1000;

/** The operation as the caller sent it: what the assertion must be bound to. */
function receivedRequest(body: unknown): DepartmentRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return {};
  const { query, variables, operationName } = body as Record<string, unknown>;
  return {
    ...(typeof query === 'string' ? { query } : {}),
    ...(typeof variables === 'object' && variables !== null ? { variables: variables as Record<string, unknown> } : {}),
    ...(typeof operationName === 'string' ? { operationName } : {}),
  };
}

function checkEntityBatch(request: DepartmentRequest): void {
  const representations = request.variables?.representations;
  if (Array.isArray(representations) && representations.length > MAX_ENTITY_BATCH) {
    throw codedError(
      ErrorCode.QUERY_TOO_COMPLEX,
      `A department answers at most ${MAX_ENTITY_BATCH} entities per call; ask for fewer items.`,
      { limit: MAX_ENTITY_BATCH },
    );
  }
}

/** The identity of one call, or the refusal to throw (UNAUTHENTICATED and the identity codes, FORBIDDEN, POLICY_VERSION_UNAVAILABLE). */
export function identityOfCall(options: IdentityStageOptions): (request: FastifyRequest) => Promise<CallIdentity> {
  const { department, assertions, replayGuard, policies } = options;
  return async (request) => {
    const header = request.headers[ASSERTION_HEADER];
    const received = receivedRequest(request.body);
    let identity;
    try {
      identity = assertions.verify(typeof header === 'string' ? header : undefined, {
        audience: department,
        request: received,
      });
      // The request id the assertion signs, on this request's span and log lines.
      noteRequestId(identity.requestId);
      checkEntityBatch(received);
      await replayGuard.claim(identity);
    } catch (error) {
      if (error instanceof IdentityError) throw error.toGraphQLError();
      throw error;
    }
    const policy = await policies.version(identity.policyVersion);
    if (!policy) throw codedError(ErrorCode.POLICY_VERSION_UNAVAILABLE);
    const view = policy.view(identity.consumer, identity.purpose);
    if (!view) throw codedError(ErrorCode.FORBIDDEN, 'The asserted consumer may not use this purpose.');
    return { view, policyVersion: policy.version, competence: policy.consumers.get(identity.consumer)?.competence };
  };
}
