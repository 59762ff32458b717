/** Writes by the regulators: a penalty decision is recorded once, by the department that made it; its number is unique per authority. */
import { assertUscc, codedError, ErrorCode } from '../../lib/error-registry.ts';
import { nonNegative, notInFuture, recordNumber, requiredText } from '../runtime/refusals.ts';
import { restorationSettings } from '../runtime/config.ts';
import { recordOnce, type RecordKind, type WriteContext } from '../runtime/writes.ts';
import { penaltyKey, type PenaltiesModels, type PenaltyDocument } from './models.ts';

/** What a regulator submits: the penalty's own fields, its number under its schema name. */
export type AdministrativePenaltyInput = Omit<PenaltyDocument, '_id' | 'restoredOn' | 'restoration' | 'recordedBy'>;

export const DECISION: RecordKind = { recordType: 'AdministrativePenalty', department: 'penalties', noun: 'Decision' };

function validate(input: AdministrativePenaltyInput, now: Date): void {
  assertUscc(input.uscc, 'input.uscc');
  notInFuture(input.decidedOn, 'decidedOn', now);
  // The categories never restored (R6) are the particularly serious ones: they are recorded as SERIOUS.
  if (restorationSettings().nonRestorable.has(input.category) && input.severity !== 'SERIOUS') {
    throw codedError(ErrorCode.BAD_USER_INPUT, `A ${input.category} penalty is always SERIOUS.`, { field: 'severity' });
  }
}

/** The fields a repeated submission must match to count as the same decision. */
function sameDecision(stored: PenaltyDocument, document: PenaltyDocument): boolean {
  return (
    stored.uscc === document.uscc &&
    stored.authority === document.authority &&
    stored.legalBasis === document.legalBasis &&
    stored.violation === document.violation &&
    stored.category === document.category &&
    stored.penaltyType === document.penaltyType &&
    stored.fineAmount === document.fineAmount &&
    stored.severity === document.severity &&
    stored.decidedOn.getTime() === document.decidedOn.getTime()
  );
}

export async function recordAdministrativePenalty(
  models: PenaltiesModels,
  input: AdministrativePenaltyInput,
  context: WriteContext,
): Promise<PenaltyDocument> {
  validate(input, context.now);
  const decisionNumber = recordNumber(input.decisionNumber, 'decisionNumber', DECISION.noun);
  const authority = requiredText(input.authority, 'authority');
  const document: PenaltyDocument = {
    _id: penaltyKey(authority, decisionNumber),
    decisionNumber,
    uscc: input.uscc,
    authority,
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
  return recordOnce(
    { ...DECISION, model: models.Penalty, document, same: sameDecision, number: decisionNumber },
    context,
  );
}
