/** Writes by the regulators: a penalty decision is recorded once, by the department that made it. */
import type { PolicyContext } from '../runtime/enforcement.ts';
import { badInput, recordOnce } from '../runtime/writes.ts';
import { assertUscc } from '../../lib/errors.ts';
import type { PenaltiesModels, PenaltyDocument } from './models.ts';

/** What a regulator submits: the penalty's own fields, its number under its schema name. */
export type AdministrativePenaltyInput = Omit<PenaltyDocument, '_id' | 'restoredOn' | 'recordedBy'> & { decisionNumber: string };

/** Categories so serious that a regulator can only record them as SERIOUS (R6: they are never restored). */
const SERIOUS_ONLY = new Set(['VACCINE_QUALITY', 'ILLEGAL_FUNDRAISING', 'ONLINE_FRAUD']);

function validate(input: AdministrativePenaltyInput, now: Date): void {
  assertUscc(input.uscc, 'input.uscc');
  const number = input.decisionNumber.trim();
  if (number.length === 0 || number.length > 100) throw badInput('The decision number must have 1 to 100 characters.', 'decisionNumber');
  for (const field of ['authority', 'legalBasis', 'violation'] as const) {
    if (input[field].trim().length === 0) throw badInput(`"${field}" must not be empty.`, field);
  }
  if (!Number.isFinite(input.fineAmount) || input.fineAmount < 0) throw badInput('The fine must be 0 or more.', 'fineAmount');
  if (input.decidedOn > now) throw badInput('A decision cannot be dated in the future.', 'decidedOn');
  if (SERIOUS_ONLY.has(input.category) && input.severity !== 'SERIOUS') {
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
    _id: input.decisionNumber.trim(),
    uscc: input.uscc,
    authority: input.authority.trim(),
    legalBasis: input.legalBasis.trim(),
    violation: input.violation.trim(),
    category: input.category,
    penaltyType: input.penaltyType,
    fineAmount: input.fineAmount,
    severity: input.severity,
    decidedOn: input.decidedOn,
    restoredOn: null,
    recordedBy: context.view.consumer,
  };
  const stored = await recordOnce({ model: models.Penalty, document, same: sameDecision, noun: 'Decision' });
  return { ...stored, decisionNumber: stored._id };
}
