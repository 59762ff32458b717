/** Writes by the tax authority: major tax-violation cases, each on its decision document. */
import { assertUscc } from '../../lib/error-registry.ts';
import { requireBasisDocument, sameBasisDocument, type BasisDocumentInput } from '../runtime/basis-document.ts';
import { withKey } from '../runtime/loaders.ts';
import { nonNegative, notInFuture, recordNumber } from '../runtime/refusals.ts';
import { recordOnce, type RecordKind, type WriteContext } from '../runtime/writes.ts';
import type { TaxModels, ViolationCaseDocument } from './models.ts';

export interface TaxViolationCaseInput {
  uscc: string;
  caseNumber: string;
  violationType: string;
  amountInvolved: number;
  penaltyAmount: number;
  decision?: BasisDocumentInput | null;
  decidedOn: Date;
}

const CASE: RecordKind = { recordType: 'TaxViolationCase', department: 'tax', noun: 'Case' };

function sameCase(stored: ViolationCaseDocument, document: ViolationCaseDocument): boolean {
  return (
    stored.uscc === document.uscc &&
    stored.violationType === document.violationType &&
    stored.amountInvolved === document.amountInvolved &&
    stored.penaltyAmount === document.penaltyAmount &&
    sameBasisDocument(stored.decision, document.decision) &&
    stored.decidedOn.getTime() === document.decidedOn.getTime()
  );
}

export async function recordTaxViolationCase(
  models: TaxModels,
  input: TaxViolationCaseInput,
  context: WriteContext,
): Promise<ViolationCaseDocument & { caseNumber: string }> {
  assertUscc(input.uscc, 'input.uscc');
  const document: ViolationCaseDocument = {
    _id: recordNumber(input.caseNumber, 'caseNumber', CASE.noun),
    uscc: input.uscc,
    violationType: input.violationType,
    amountInvolved: nonNegative(input.amountInvolved, 'amountInvolved'),
    penaltyAmount: nonNegative(input.penaltyAmount, 'penaltyAmount'),
    // A case is published on its decision document (STA Order 54, art. 12).
    decision: requireBasisDocument(input.decision, 'decision', input.decidedOn, context.now),
    decidedOn: notInFuture(input.decidedOn, 'decidedOn', context.now),
    recordedBy: context.view.consumer,
  };
  return withKey(
    await recordOnce({ ...CASE, model: models.ViolationCase, document, same: sameCase }, context),
    'caseNumber',
  );
}
