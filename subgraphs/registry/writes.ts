/**
 * Writes by market regulation: entries in the list of enterprises with abnormal operations, and
 * their removal once the subject has corrected the ground it was listed on.
 */
import { assertUscc, codedError, ErrorCode } from '../../lib/error-registry.ts';
import { withKey } from '../runtime/loaders.ts';
import { notInFuture, recordNumber, requiredText } from '../runtime/refusals.ts';
import { recordOnce, removeOnce, type RecordKind, type RemovalGrounds, type WriteContext } from '../runtime/writes.ts';
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
 * subject corrects what it was listed for (or the listing was made in error, which removeOnce
 * allows for any entry).
 */
export const REMOVAL_GROUNDS: RemovalGrounds<AbnormalOperationDocument> = {
  field: 'reason',
  byValue: {
    ANNUAL_REPORT_NOT_FILED: ['ANNUAL_REPORT_FILED'],
    UNREACHABLE_AT_ADDRESS: ['REACHABLE_AT_ADDRESS'],
    INFORMATION_NOT_DISCLOSED: ['INFORMATION_DISCLOSED'],
    FALSE_INFORMATION: ['INFORMATION_CORRECTED'],
  },
};

function sameEntry(stored: AbnormalOperationDocument, document: AbnormalOperationDocument): boolean {
  return (
    stored.uscc === document.uscc &&
    stored.reason === document.reason &&
    stored.listedBy === document.listedBy &&
    stored.listedOn.getTime() === document.listedOn.getTime()
  );
}

export async function recordAbnormalOperationEntry(
  models: RegistryModels,
  input: AbnormalOperationEntryInput,
  context: WriteContext,
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
    throw codedError(ErrorCode.SUBJECT_NOT_FOUND, `No subject ${input.uscc} is registered.`, { field: 'uscc' });
  }
  return withKey(
    await recordOnce({ ...ENTRY, model: models.AbnormalOperation, document, same: sameEntry }, context),
    'id',
  );
}

export async function removeAbnormalOperationEntry(
  models: RegistryModels,
  input: AbnormalOperationRemovalInput,
  context: WriteContext,
): Promise<AbnormalOperationDocument & { id: string }> {
  const id = recordNumber(input.id, 'id', ENTRY.noun);
  return withKey(
    await removeOnce(
      {
        ...ENTRY,
        model: models.AbnormalOperation,
        id,
        removedOn: input.removedOn,
        reason: input.reason,
        grounds: REMOVAL_GROUNDS,
      },
      context,
    ),
    'id',
  );
}
