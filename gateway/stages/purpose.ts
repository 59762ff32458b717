/**
 * Stage: purpose. The declared purpose must be one the policy in force lets this consumer use: its
 * view (what it may see under that purpose) is then the request's, with a signer of the assertion
 * the departments require, bound to the consumer, purpose, policy version and request id.
 */
import { codedError, ErrorCode } from '../../lib/error-registry.ts';
import type { AssertionSigner } from '../../lib/identity/assertion.ts';
import type { Stage } from './stage.ts';

export function purposeStage({ signer }: { signer: AssertionSigner }): Stage {
  return {
    name: 'purpose',
    context(request) {
      const { authenticated, policy, requestId } = request;
      if (!authenticated || !policy || requestId === undefined)
        throw new Error('purpose runs after the request id and authentication');
      const view = policy.view(authenticated.consumer.id, authenticated.purpose);
      if (!view) throw codedError(ErrorCode.PURPOSE_NOT_ALLOWED);
      const asserted = {
        consumer: authenticated.consumer.id,
        purpose: authenticated.purpose,
        policyVersion: policy.version,
        requestId,
      };
      request.identity = {
        consumer: authenticated.consumer,
        purpose: authenticated.purpose,
        policy,
        view,
        requestId,
        assertionFor: (department, call) => signer.sign(asserted, { audience: department, request: call }),
      };
    },
  };
}
