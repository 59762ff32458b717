/**
 * Writes by the people's courts: entries in the list of dishonest judgment debtors, each on its
 * enforcement basis document (R4), and their removal on the grounds the Supreme People's Court's
 * provisions set (obligation performed, settlement performed, enforcement terminated, basis
 * revoked, term expired, listed in error).
 */
import { assertUscc, codedError, ErrorCode } from '../../lib/error-registry.ts';
import { residentIdFault } from '../../lib/resident-id.ts';
import { requireBasisDocument, sameBasisDocument, type BasisDocumentInput } from '../runtime/basis-document.ts';
import { withKey } from '../runtime/loaders.ts';
import { notInFuture, recordNumber, requiredText } from '../runtime/refusals.ts';
import type { NaturalPerson } from '../runtime/seed-subjects.ts';
import { recordOnce, removeOnce, type RecordKind, type WriteContext } from '../runtime/writes.ts';
import type { DebtorEntryDocument, JudicialModels } from './models.ts';

export interface DishonestDebtorEntryInput {
  uscc: string;
  caseNumber: string;
  court: string;
  basis?: BasisDocumentInput | null;
  obligation: string;
  performanceStatus: string;
  responsiblePerson: NaturalPerson;
  listedOn: Date;
}

export interface DebtorEntryRemovalInput {
  caseNumber: string;
  removedOn: Date;
  reason: string;
}

const ENTRY: RecordKind = { recordType: 'DishonestDebtorEntry', department: 'judicial', noun: 'Case' };

function responsiblePerson(input: NaturalPerson): NaturalPerson {
  const idNumber = input.idNumber.trim().toUpperCase();
  const fault = residentIdFault(idNumber);
  // The message names the rule, never the number: it is personal information.
  if (fault) throw codedError(ErrorCode.BAD_USER_INPUT, fault, { field: 'responsiblePerson.idNumber' });
  const phone = input.phone.trim();
  if (!/^\+?[\d -]{5,20}$/.test(phone))
    throw codedError(ErrorCode.BAD_USER_INPUT, 'A phone number has 5 to 20 digits.', {
      field: 'responsiblePerson.phone',
    });
  return { name: requiredText(input.name, 'responsiblePerson.name'), idNumber, phone };
}

function sameEntry(stored: DebtorEntryDocument, document: DebtorEntryDocument): boolean {
  return (
    stored.uscc === document.uscc &&
    stored.court === document.court &&
    sameBasisDocument(stored.basis, document.basis) &&
    stored.obligation === document.obligation &&
    stored.performanceStatus === document.performanceStatus &&
    stored.responsiblePerson.name === document.responsiblePerson.name &&
    stored.responsiblePerson.idNumber === document.responsiblePerson.idNumber &&
    stored.responsiblePerson.phone === document.responsiblePerson.phone &&
    stored.listedOn.getTime() === document.listedOn.getTime()
  );
}

export async function recordDishonestDebtorEntry(
  models: JudicialModels,
  input: DishonestDebtorEntryInput,
  context: WriteContext,
): Promise<DebtorEntryDocument & { caseNumber: string }> {
  assertUscc(input.uscc, 'input.uscc');
  // A debtor who has performed the obligation is not listed (SPC provisions, art. 1).
  if (input.performanceStatus === 'PERFORMED')
    throw codedError(ErrorCode.BAD_USER_INPUT, 'A debtor who has performed the obligation is not listed.', {
      field: 'performanceStatus',
    });
  const document: DebtorEntryDocument = {
    _id: recordNumber(input.caseNumber, 'caseNumber', ENTRY.noun),
    uscc: input.uscc,
    court: requiredText(input.court, 'court'),
    basis: requireBasisDocument(input.basis, 'basis', input.listedOn, context.now),
    obligation: requiredText(input.obligation, 'obligation'),
    performanceStatus: input.performanceStatus,
    responsiblePerson: responsiblePerson(input.responsiblePerson),
    listedOn: notInFuture(input.listedOn, 'listedOn', context.now),
    removedOn: null,
    removalReason: null,
    recordedBy: context.view.consumer,
  };
  return withKey(
    await recordOnce({ ...ENTRY, model: models.DebtorEntry, document, same: sameEntry }, context),
    'caseNumber',
  );
}

export async function removeDishonestDebtorEntry(
  models: JudicialModels,
  input: DebtorEntryRemovalInput,
  context: WriteContext,
): Promise<DebtorEntryDocument & { caseNumber: string }> {
  const id = recordNumber(input.caseNumber, 'caseNumber', ENTRY.noun);
  return withKey(
    await removeOnce(
      { ...ENTRY, model: models.DebtorEntry, id, removedOn: input.removedOn, reason: input.reason },
      context,
    ),
    'caseNumber',
  );
}
