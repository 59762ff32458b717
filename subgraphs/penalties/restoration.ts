/**
 * Credit restoration of administrative penalties (R5, R6). The subject applies, with its evidence,
 * to the regulator that decided the penalty; that regulator decides ("who identifies, restores"),
 * with reasons. Approval sets `restoredOn`: record rules stop public display and sharing at once;
 * nothing is deleted. Particularly serious categories are never restored.
 */
import type { GraphQLError } from 'graphql';
import type { PolicyContext } from '../runtime/enforcement.ts';
import { recordNumber, refused, requiredText } from '../runtime/writes.ts';
import type { PenaltiesModels, PenaltyDocument } from './models.ts';

/** R6: online fraud, illegal fund-raising and substandard vaccines; `CREDENCE_NON_RESTORABLE_PENALTY_CATEGORIES` (comma-separated) replaces them. */
export const NON_RESTORABLE_CATEGORIES: ReadonlySet<string> = new Set(
  (process.env.CREDENCE_NON_RESTORABLE_PENALTY_CATEGORIES ?? 'VACCINE_QUALITY,ILLEGAL_FUNDRAISING,ONLINE_FRAUD').split(',').map((category) => category.trim()),
);

/**
 * The minimum public display before restoration, by severity (NDRC Order 36: GENERAL at least
 * 3 months, SERIOUS at least 1 year; MINOR penalties are not published, so there is nothing to
 * restore). `CREDENCE_PENALTY_RESTORATION_MINIMUM_DAYS`, for example `GENERAL=90,SERIOUS=365`.
 */
export const MINIMUM_DAYS: Readonly<Record<string, number>> = Object.fromEntries(
  (process.env.CREDENCE_PENALTY_RESTORATION_MINIMUM_DAYS ?? 'GENERAL=90,SERIOUS=365').split(',').map((pair) => {
    const [severity = '', days = ''] = pair.split('=').map((part) => part.trim());
    if (!/^\d+$/.test(days)) throw new Error(`CREDENCE_PENALTY_RESTORATION_MINIMUM_DAYS: "${pair}" is not SEVERITY=days.`);
    return [severity, Number(days)];
  }),
);

const DAY_MS = 86_400_000;

export interface PenaltyRestorationInput {
  decisionNumber: string;
  evidence: string;
  reason: string;
}

/** Why `penalty` cannot be restored now, or undefined when it can. */
function ineligibility(penalty: PenaltyDocument, now: Date): GraphQLError | undefined {
  if (NON_RESTORABLE_CATEGORIES.has(penalty.category)) {
    return refused('NOT_RESTORABLE', `${penalty.category} penalties are particularly serious cases that are not restored; their history stays findable (R6).`, { category: penalty.category });
  }
  const minimum = MINIMUM_DAYS[penalty.severity];
  if (minimum === undefined) return refused('NOT_ELIGIBLE', `${penalty.severity} penalties are not published, so there is nothing to restore.`);
  const eligibleFrom = new Date(penalty.decidedOn.getTime() + minimum * DAY_MS);
  if (eligibleFrom > now) {
    const day = eligibleFrom.toISOString().slice(0, 10);
    return refused('TOO_EARLY', `Restoration can be granted once the minimum publication period has passed, from ${day}.`, { eligibleFrom: day });
  }
  return undefined;
}

export async function restoreAdministrativePenalty(
  models: PenaltiesModels,
  input: PenaltyRestorationInput,
  context: PolicyContext,
): Promise<PenaltyDocument & { decisionNumber: string }> {
  const number = recordNumber(input.decisionNumber, 'decisionNumber', 'Decision');
  const restoration = { evidence: requiredText(input.evidence, 'evidence'), reason: requiredText(input.reason, 'reason'), decidedBy: context.view.consumer };
  const penalty = await models.Penalty.findById(number).lean<PenaltyDocument>();
  if (!penalty) throw refused('RECORD_NOT_FOUND', `No decision ${number} is recorded.`, { number });
  if (penalty.recordedBy !== context.view.consumer) {
    throw refused('NOT_RECORD_OWNER', 'Only the regulator that decided the penalty decides its restoration.', { number });
  }
  if (penalty.restoredOn) return { ...penalty, decisionNumber: penalty._id };
  const refusal = ineligibility(penalty, context.now);
  if (refusal) throw refusal;
  // Conditional on not being restored yet: of two decisions at once, the first stands.
  await models.Penalty.updateOne({ _id: number, restoredOn: null }, { $set: { restoredOn: context.now, restoration } });
  const stored = await models.Penalty.findById(number).lean<PenaltyDocument>();
  return { ...(stored ?? penalty), decisionNumber: number };
}
