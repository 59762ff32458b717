/**
 * Stage: denied-field restoration, the undo of the policy filter. A filtered operation's denied
 * fields were never asked of a department; once the answer is back (with the caller's keys in
 * place), each is put back as null with a FORBIDDEN error at its path, naming the purpose that
 * denied it (`extensions.purpose`) and under which of its other purposes the consumer could see it
 * (policy-check.ts).
 */
import { codedError, ErrorCode } from '../../lib/error-registry.ts';
import { restoreDeniedFields } from '../policy-check.ts';
import { underOtherPurposes } from './policy-decision.ts';
import type { Stage } from './stage.ts';

export const deniedFieldsStage: Stage = {
  name: 'denied-field restoration',
  finish(execution, answer) {
    const { verdict, identity } = execution;
    if (verdict?.kind !== 'filtered') return answer;
    const forbidden = restoreDeniedFields(answer.data, verdict.denied, identity.purpose).map(
      ({ message, path, extensions: { field, purpose } }) =>
        codedError(
          ErrorCode.FORBIDDEN,
          `${message}${underOtherPurposes(identity, [field])}`,
          { field, purpose },
          { inAnswer: true, path },
        ),
    );
    const errors = [...forbidden, ...(answer.errors ?? [])];
    // GraphQL answers carry `errors` only when there are some (a denied field under a null parent
    // has no place in the answer, hence no error).
    return errors.length > 0 ? { ...answer, errors } : answer;
  },
};
