/** Writes by the regulators: a penalty decision is recorded once, by the department that made it. */
import { assertUscc } from '../../lib/errors.ts';
import { withKey } from '../runtime/loaders.ts';
import { badInput, nonNegative, notInFuture, recordNumber, requiredText } from '../runtime/refusals.ts';
import { restorationSettings } from '../runtime/restoration-settings.ts';
import { recordOnce, type RecordKind, type WriteContext } from '../runtime/writes.ts';
import type { PenaltiesModels, PenaltyDocument } from './models.ts';

/** What a regulator submits: the penalty's own fields, its number under its schema name. */
export type AdministrativePenaltyInput = Omit<PenaltyDocument, '_id' | 'restoredOn' | 'restoration' | 'recordedBy'> & { decisionNumber: string };

export const DECISION: RecordKind = { recordType: 'AdministrativePenalty', department: 'penalties', noun: 'Decision' };

function validate(input: AdministrativePenaltyInput, now: Date): void {
  assertUscc(input.uscc, 'input.uscc');
  notInFuture(input.decidedOn, 'decidedOn', now);
  // The categories never restored (R6) are the particularly serious ones: they are recorded as SERIOUS.
  if (restorationSettings.nonRestorable.has(input.category) && input.severity !== 'SERIOUS') {
    throw badInput(`A ${input.category} penalty is always SERIOUS.`, 'severity');
  }
}

/** The fields a repeated submission must match to count as the same decision. */
function sameDecision(stored: PenaltyDocument, document: PenaltyDocument): boolean {
  return stored.uscc === document.uscc && stored.authority === document.authority && stored.legalBasis === document.legalBasis
    && stored.violation === document.violation && stored.category === document.category && stored.penaltyType === document.penaltyType
    && stored.fineAmount === document.fineAmount && stored.severity === document.severity
    && stored.decidedOn.getTime() === document.decidedOn.getTime();
}

export async function recordAdministrativePenalty(
  models: PenaltiesModels,
  input: AdministrativePenaltyInput,
  context: WriteContext,
): Promise<PenaltyDocument & { decisionNumber: string }> {
  validate(input, context.now);
  const document: PenaltyDocument = {
    _id: recordNumber(input.decisionNumber, 'decisionNumber', DECISION.noun),
    uscc: input.uscc,
    authority: requiredText(input.authority, 'authority'),
    legalBasis: requiredText(input.legalBasis, 'legalBasis'),
    violation: requiredText(input.violation, 'violation'),
    category: input.category,
    penaltyType: input.penaltyType,
    fineAmount: nonNegative(input.fineAmount, 'fineAmount'),
    severity: input.severity,
    decidedOn: input.decidedOn,
    restoredOn: null,
    recordedBy: context.view.consumer,
  };
  return withKey(await recordOnce({ ...DECISION, model: models.Penalty, document, same: sameDecision }, context), 'decisionNumber');
}
