/**
 * Writes by market regulation: entries in the list of enterprises with abnormal operations, and
 * their removal once the subject has corrected the ground it was listed on.
 */
import { GraphQLError } from 'graphql';
import { assertUscc } from '../../lib/errors.ts';
import type { PolicyContext } from '../runtime/enforcement.ts';
import { notInFuture, recordNumber, recordOnce, removeOnce, requiredText, type RecordKind } from '../runtime/writes.ts';
import type { AbnormalOperationDocument, RegistryModels } from './models.ts';

export interface AbnormalOperationEntryInput {
  uscc: string;
  id: string;
  reason: string;
  listedOn: Date;
  listedBy: string;
}

export interface AbnormalOperationRemovalInput {
  id: string;
  removedOn: Date;
  reason: string;
}

const ENTRY: RecordKind = { recordType: 'AbnormalOperationEntry', department: 'registry', noun: 'Entry' };

/**
 * The grounds on which an entry leaves the list, by the ground it was listed on (Interim Measures
 * for the Administration of the List of Enterprises with Abnormal Operations, art. 10 to 13): the
 * subject corrects what it was listed for, or the listing was made in error.
 */
export const REMOVAL_GROUNDS: Readonly<Record<string, readonly string[]>> = {
  ANNUAL_REPORT_NOT_FILED: ['ANNUAL_REPORT_FILED', 'LISTED_IN_ERROR'],
  UNREACHABLE_AT_ADDRESS: ['REACHABLE_AT_ADDRESS', 'LISTED_IN_ERROR'],
  INFORMATION_NOT_DISCLOSED: ['INFORMATION_DISCLOSED', 'LISTED_IN_ERROR'],
  FALSE_INFORMATION: ['INFORMATION_CORRECTED', 'LISTED_IN_ERROR'],
};

function sameEntry(stored: AbnormalOperationDocument, document: AbnormalOperationDocument): boolean {
  return stored.uscc === document.uscc && stored.reason === document.reason && stored.listedBy === document.listedBy
    && stored.listedOn.getTime() === document.listedOn.getTime();
}

export async function recordAbnormalOperationEntry(
  models: RegistryModels,
  input: AbnormalOperationEntryInput,
  context: PolicyContext,
): Promise<AbnormalOperationDocument & { id: string }> {
  assertUscc(input.uscc, 'input.uscc');
  const document: AbnormalOperationDocument = {
    _id: recordNumber(input.id, 'id', ENTRY.noun),
    uscc: input.uscc,
    reason: input.reason,
    listedOn: notInFuture(input.listedOn, 'listedOn', context.now),
    listedBy: requiredText(input.listedBy, 'listedBy'),
    removedOn: null,
    removalReason: null,
    recordedBy: context.view.consumer,
  };
  // Market regulation keeps the register: it lists only subjects registered with it.
  if (!(await models.Subject.exists({ _id: input.uscc }))) {
    throw new GraphQLError(`No subject ${input.uscc} is registered.`, { extensions: { code: 'SUBJECT_NOT_FOUND', field: 'uscc' } });
  }
  const stored = await recordOnce({ ...ENTRY, model: models.AbnormalOperation, document, same: sameEntry });
  return { ...stored, id: stored._id };
}

export async function removeAbnormalOperationEntry(
  models: RegistryModels,
  input: AbnormalOperationRemovalInput,
  context: PolicyContext,
): Promise<AbnormalOperationDocument & { id: string }> {
  const stored = await removeOnce({
    ...ENTRY,
    model: models.AbnormalOperation,
    id: recordNumber(input.id, 'id', ENTRY.noun),
    removedOn: input.removedOn,
    reason: input.reason,
    consumer: context.view.consumer,
    now: context.now,
    listedOn: (entry) => entry.listedOn,
    allowedReasons: (entry) => REMOVAL_GROUNDS[entry.reason] ?? ['LISTED_IN_ERROR'],
  });
  return { ...stored, id: stored._id };
}
