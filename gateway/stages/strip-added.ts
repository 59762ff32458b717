/**
 * Stage: stripping what the gateway added. The selections stages added for the gateway's own use
 * (the policy filter's placeholders, the skip guards, the subjects' codes for the access log) are
 * registered in `execution.added` as they are added, and removed here from the answer in one walk,
 * once every stage that reads them (the access log) has finished: nothing the consumer did not
 * ask for leaves, and no field it asked for is removed (added-selections.ts).
 */
import { removeAliased } from '../added-selections.ts';
import type { Stage } from './stage.ts';

export const stripAddedStage: Stage = {
  name: 'stripping what the gateway added',
  finish(execution, answer) {
    if (execution.added.length > 0) removeAliased(answer.data, execution.added);
    return answer;
  },
};
