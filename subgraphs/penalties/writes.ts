/**
 * Writes by the regulators: a penalty decision is recorded once, by the department that made it.
 * One decision is one document, written by one `insertOne`: it is either stored whole or not at
 * all, and FerretDB 1.x needs no transaction for that.
 */
import { GraphQLError } from 'graphql';
import type { PolicyContext } from '../runtime/enforcement.ts';
import { assertUscc } from '../../lib/errors.ts';
import type { PenaltiesModels, PenaltyDocument } from './models.ts';

export interface AdministrativePenaltyInput {
  uscc: string;
  decisionNumber: string;
  authority: string;
  legalBasis: string;
  violation: string;
  category: string;
  penaltyType: string;
  fineAmount: number;
  severity: string;
  decidedOn: Date;
}

/** Categories so serious that a regulator can only record them as SERIOUS (R6: they are never restored). */
const SERIOUS_ONLY = new Set(['VACCINE_QUALITY', 'ILLEGAL_FUNDRAISING', 'ONLINE_FRAUD']);

function badInput(message: string, field: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', field } });
}

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

/** The stored fields a repeated submission must match to count as the same decision. */
function sameDecision(stored: PenaltyDocument, input: AdministrativePenaltyInput): boolean {
  return stored.uscc === input.uscc && stored.authority === input.authority && stored.legalBasis === input.legalBasis
    && stored.violation === input.violation && stored.category === input.category && stored.penaltyType === input.penaltyType
    && stored.fineAmount === input.fineAmount && stored.severity === input.severity
    && stored.decidedOn.getTime() === input.decidedOn.getTime();
}

/** The stored record for a decision number already used: the same decision by the same department, or a refusal. */
function existing(stored: PenaltyDocument, input: AdministrativePenaltyInput, consumer: string): PenaltyDocument {
  if (stored.recordedBy !== consumer) {
    throw new GraphQLError(`Decision ${input.decisionNumber} was recorded by another department; only it may write it.`, {
      extensions: { code: 'NOT_RECORD_OWNER', decisionNumber: input.decisionNumber },
    });
  }
  if (!sameDecision(stored, input)) {
    throw new GraphQLError(`Decision number ${input.decisionNumber} is already recorded with different content.`, {
      extensions: { code: 'DUPLICATE_DECISION_NUMBER', decisionNumber: input.decisionNumber },
    });
  }
  return stored;
}

export async function recordAdministrativePenalty(
  models: PenaltiesModels,
  input: AdministrativePenaltyInput,
  context: PolicyContext,
): Promise<PenaltyDocument & { decisionNumber: string }> {
  validate(input, context.now);
  const consumer = context.view.consumer;
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
    recordedBy: consumer,
  };
  const keyed = (stored: PenaltyDocument): PenaltyDocument & { decisionNumber: string } => ({ ...stored, decisionNumber: stored._id });
  const stored = await models.Penalty.findById(document._id).lean<PenaltyDocument>();
  if (stored) return keyed(existing(stored, { ...input, decisionNumber: document._id }, consumer));
  try {
    await models.Penalty.create(document);
  } catch (error) {
    // Two submissions of one number at once: the one that lost reads what the other stored.
    if ((error as { code?: number }).code !== 11000) throw error;
    const winner = await models.Penalty.findById(document._id).lean<PenaltyDocument>();
    if (!winner) throw error;
    return keyed(existing(winner, { ...input, decisionNumber: document._id }, consumer));
  }
  return keyed(document);
}
