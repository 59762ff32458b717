/** Listings by the departments that make the findings: each rests on its basis document (R4) and leaves the list only on a legal ground. */
import { assertUscc } from '../../lib/errors.ts';
import { requireBasisDocument, sameBasisDocument, type BasisDocumentInput } from '../runtime/basis-document.ts';
import type { PolicyContext } from '../runtime/enforcement.ts';
import { notInFuture, recordNumber, recordOnce, removeOnce, requiredText, type RecordKind } from '../runtime/writes.ts';
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

const LISTING: RecordKind = { recordType: 'SeriousDishonestyListing', department: 'credit', noun: 'Listing' };

function sameListing(stored: ListingDocument, document: ListingDocument): boolean {
  return stored.uscc === document.uscc && stored.listType === document.listType && stored.reason === document.reason
    && sameBasisDocument(stored.basis, document.basis) && stored.listedOn.getTime() === document.listedOn.getTime();
}

export async function recordSeriousDishonestyListing(
  models: CreditModels,
  input: SeriousDishonestyListingInput,
  context: PolicyContext,
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
  const stored = await recordOnce({ ...LISTING, model: models.Listing, document, same: sameListing });
  return { ...stored, id: stored._id };
}

/**
 * Ends a listing on a legal ground (its term expired, its basis document was revoked, it was made
 * in error). Restoration (R5) is a separate decision on the subject's application; see restoration.ts.
 */
export async function removeSeriousDishonestyListing(
  models: CreditModels,
  input: ListingRemovalInput,
  context: PolicyContext,
): Promise<ListingDocument & { id: string }> {
  const stored = await removeOnce({
    ...LISTING,
    model: models.Listing,
    id: recordNumber(input.id, 'id', LISTING.noun),
    removedOn: input.removedOn,
    reason: input.reason,
    consumer: context.view.consumer,
    now: context.now,
    listedOn: (listing) => listing.listedOn,
  });
  return { ...stored, id: stored._id };
}
