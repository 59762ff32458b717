/** Listings by the departments that make the findings: each rests on its basis document (R4) and leaves the list only on a legal ground. */
import { assertUscc } from '../../lib/error-registry.ts';
import { requireBasisDocument, sameBasisDocument, type BasisDocumentInput } from '../runtime/basis-document.ts';
import { withKey } from '../runtime/loaders.ts';
import { notInFuture, recordNumber, requiredText } from '../runtime/refusals.ts';
import { recordOnce, removeOnce, type RecordKind, type WriteContext } from '../runtime/writes.ts';
import type { CreditModels, ListingDocument } from './models.ts';

export interface SeriousDishonestyListingInput {
  uscc: string;
  id: string;
  listType: string;
  reason: string;
  basis?: BasisDocumentInput | null;
  listedOn: Date;
}

export interface ListingRemovalInput {
  id: string;
  removedOn: Date;
  reason: string;
}

export const LISTING: RecordKind = { recordType: 'SeriousDishonestyListing', department: 'credit', noun: 'Listing' };

function sameListing(stored: ListingDocument, document: ListingDocument): boolean {
  return (
    stored.uscc === document.uscc &&
    stored.listType === document.listType &&
    stored.reason === document.reason &&
    sameBasisDocument(stored.basis, document.basis) &&
    stored.listedOn.getTime() === document.listedOn.getTime()
  );
}

export async function recordSeriousDishonestyListing(
  models: CreditModels,
  input: SeriousDishonestyListingInput,
  context: WriteContext,
): Promise<ListingDocument & { id: string }> {
  assertUscc(input.uscc, 'input.uscc');
  const document: ListingDocument = {
    _id: recordNumber(input.id, 'id', LISTING.noun),
    uscc: input.uscc,
    listType: input.listType,
    reason: requiredText(input.reason, 'reason'),
    basis: requireBasisDocument(input.basis, 'basis', input.listedOn, context.now),
    listedBy: context.view.consumer,
    listedOn: notInFuture(input.listedOn, 'listedOn', context.now),
    removedOn: null,
    restoredOn: null,
    recordedBy: context.view.consumer,
  };
  return withKey(await recordOnce({ ...LISTING, model: models.Listing, document, same: sameListing }, context), 'id');
}

/**
 * Ends a listing on a legal ground (its term expired, its basis document was revoked, it was made
 * in error). Restoration (R5) is a separate decision on the subject's application; see restoration.ts.
 */
export async function removeSeriousDishonestyListing(
  models: CreditModels,
  input: ListingRemovalInput,
  context: WriteContext,
): Promise<ListingDocument & { id: string }> {
  const id = recordNumber(input.id, 'id', LISTING.noun);
  return withKey(
    await removeOnce(
      { ...LISTING, model: models.Listing, id, removedOn: input.removedOn, reason: input.reason },
      context,
    ),
    'id',
  );
}
