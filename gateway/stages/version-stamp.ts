/**
 * Stage: version stamping. Every answer says which policy version decided it
 * (`extensions.credence.policyVersion`): answers the pipeline executed, and refusals Apollo
 * Server produced after authentication. An answer withheld because the access log could not be
 * written says nothing but that.
 */
import { ErrorCode } from '../../lib/error-registry.ts';
import type { Answer, Stage } from './stage.ts';

export function stampPolicyVersion(answer: Answer, policyVersion: string): Answer {
  const credence = answer.extensions?.credence as Record<string, unknown> | undefined;
  return { ...answer, extensions: { ...answer.extensions, credence: { ...credence, policyVersion } } };
}

export const versionStampStage: Stage = {
  name: 'version stamping',
  finish: (execution, answer) => stampPolicyVersion(answer, execution.identity.policy.version),
  sent({ response, context }) {
    if (response.body.kind !== 'single') return;
    const { singleResult } = response.body;
    if (singleResult.errors?.some((error) => error.extensions?.code === ErrorCode.ACCESS_LOG_UNAVAILABLE)) return;
    singleResult.extensions = {
      ...singleResult.extensions,
      credence: { ...(singleResult.extensions?.credence as object), policyVersion: context.identity.policy.version },
    };
  },
};
