/** Listings by the departments that make the findings: each rests on its basis document (R4). */
import { GraphQLError } from 'graphql';
import { assertUscc } from '../../lib/errors.ts';
import type { PolicyContext } from '../runtime/enforcement.ts';
import { badInput, recordOnce } from '../runtime/writes.ts';
import type { CreditModels, ListingDocument } from './models.ts';

export interface SeriousDishonestyListingInput {
  uscc: string;
  id: string;
  listType: string;
  reason: string;
  basis?: { number?: string | null; issuedBy?: string | null; issuedOn?: Date | null } | null;
  listedOn: Date;
}

/** R4: no listing without the number, issuing authority and date of its basis document. */
function basisOf(input: SeriousDishonestyListingInput, now: Date): ListingDocument['basis'] {
  const missing = (['number', 'issuedBy', 'issuedOn'] as const).filter((part) => {
    const value = input.basis?.[part];
    return value === null || value === undefined || (typeof value === 'string' && value.trim() === '');
  });
  if (missing.length > 0) {
    throw new GraphQLError(`A listing must rest on a law-enforcement document: its ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} missing.`, {
      extensions: { code: 'BASIS_DOCUMENT_REQUIRED', missing },
    });
  }
  const basis = { number: String(input.basis?.number).trim(), issuedBy: String(input.basis?.issuedBy).trim(), issuedOn: input.basis?.issuedOn as Date };
  if (basis.issuedOn > now) throw badInput('A basis document cannot be dated in the future.', 'basis.issuedOn');
  if (basis.issuedOn > input.listedOn) throw badInput('A listing cannot precede its basis document.', 'listedOn');
  return basis;
}

function sameListing(stored: ListingDocument, document: ListingDocument): boolean {
  return stored.uscc === document.uscc && stored.listType === document.listType && stored.reason === document.reason
    && stored.basis.number === document.basis.number && stored.basis.issuedBy === document.basis.issuedBy
    && new Date(stored.basis.issuedOn).getTime() === document.basis.issuedOn.getTime()
    && stored.listedOn.getTime() === document.listedOn.getTime();
}

export async function recordSeriousDishonestyListing(
  models: CreditModels,
  input: SeriousDishonestyListingInput,
  context: PolicyContext,
): Promise<ListingDocument & { id: string }> {
  assertUscc(input.uscc, 'input.uscc');
  const id = input.id.trim();
  if (id.length === 0 || id.length > 100) throw badInput('The listing number must have 1 to 100 characters.', 'id');
  if (input.reason.trim().length === 0) throw badInput('"reason" must not be empty.', 'reason');
  if (input.listedOn > context.now) throw badInput('A listing cannot be dated in the future.', 'listedOn');
  const document: ListingDocument = {
    _id: id,
    uscc: input.uscc,
    listType: input.listType,
    reason: input.reason.trim(),
    basis: basisOf(input, context.now),
    listedBy: context.view.consumer,
    listedOn: input.listedOn,
    removedOn: null,
    restoredOn: null,
    recordedBy: context.view.consumer,
  };
  const stored = await recordOnce({ model: models.Listing, document, same: sameListing, noun: 'Listing' });
  return { ...stored, id: stored._id };
}
