/** Writes by the regulators: a penalty decision is recorded once, by the department that made it. */
import type { PolicyContext } from '../runtime/enforcement.ts';
import { badInput, nonNegative, notInFuture, recordNumber, recordOnce, requiredText } from '../runtime/writes.ts';
import { assertUscc } from '../../lib/errors.ts';
import type { PenaltiesModels, PenaltyDocument } from './models.ts';
import { NON_RESTORABLE_CATEGORIES } from './restoration.ts';

/** What a regulator submits: the penalty's own fields, its number under its schema name. */
export type AdministrativePenaltyInput = Omit<PenaltyDocument, '_id' | 'restoredOn' | 'restoration' | 'recordedBy'> & { decisionNumber: string };


function validate(input: AdministrativePenaltyInput, now: Date): void {
  assertUscc(input.uscc, 'input.uscc');
  notInFuture(input.decidedOn, 'decidedOn', now);
  // The categories never restored (R6) are particularly serious: they are recorded as SERIOUS.
  if (NON_RESTORABLE_CATEGORIES.has(input.category) && input.severity !== 'SERIOUS') {
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
  context: PolicyContext,
): Promise<PenaltyDocument & { decisionNumber: string }> {
  validate(input, context.now);
  const document: PenaltyDocument = {
    _id: recordNumber(input.decisionNumber, 'decisionNumber', 'Decision'),
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
  const stored = await recordOnce({ model: models.Penalty, document, same: sameDecision, recordType: 'AdministrativePenalty', department: 'penalties', noun: 'Decision' });
  return { ...stored, decisionNumber: stored._id };
}
