/**
 * Credit restoration of administrative penalties (R5, R6). The subject applies, with its evidence,
 * to the regulator that decided the penalty; that regulator decides ("who identifies, restores"),
 * with reasons. Approval sets `restoredOn`: record rules stop public display and sharing at once;
 * nothing is deleted. Particularly serious categories are never restored.
 */
import { recordNumber, requiredText } from '../runtime/refusals.ts';
import { restorationRefusal } from '../runtime/restoration.ts';
import { restorationSettings } from '../runtime/config.ts';
import { ownRecord, updateOnce, type WriteContext } from '../runtime/writes.ts';
import { penaltyKey, type PenaltiesModels, type PenaltyDocument } from './models.ts';
import { DECISION } from './writes.ts';

export interface PenaltyRestorationInput {
  decisionNumber: string;
  evidence: string;
  reason: string;
}

export async function restoreAdministrativePenalty(
  models: PenaltiesModels,
  input: PenaltyRestorationInput,
  context: WriteContext,
): Promise<PenaltyDocument> {
  const number = recordNumber(input.decisionNumber, 'decisionNumber', DECISION.noun);
  const restoration = {
    evidence: requiredText(input.evidence, 'evidence'),
    reason: requiredText(input.reason, 'reason'),
    decidedBy: context.view.consumer,
  };
  // A number names a decision only together with its authority: the caller's own authorities are searched.
  const keys = (context.competence?.authorities ?? []).map((authority) => penaltyKey(authority, number));
  let key = keys[0] ?? penaltyKey('', number);
  for (const candidate of keys.slice(1)) {
    if (await models.Penalty.exists({ _id: key })) break;
    key = candidate;
  }
  const penalty = await ownRecord(models.Penalty, key, { ...DECISION, number }, context);
  if (penalty.restoredOn) return penalty;
  const minimumDays = restorationSettings().penaltyMinimumDays[penalty.severity];
  const refusal = restorationRefusal(
    {
      kind: { field: 'category', value: penalty.category },
      records: 'penalties',
      ineligible:
        minimumDays === undefined
          ? `${penalty.severity} penalties are not published, so there is nothing to restore.`
          : undefined,
      publishedOn: penalty.decidedOn,
      minimumDays: minimumDays ?? 0,
    },
    context.now,
  );
  if (refusal) throw refusal;
  return updateOnce(models.Penalty, penalty, 'restoredOn', { restoredOn: context.now, restoration });
}
