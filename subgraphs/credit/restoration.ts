/**
 * Credit restoration of serious-dishonesty listings (R5, R6): apply with evidence, decided by the
 * department that made the listing. Approval sets `restoredOn` on the listing, which is all it
 * takes: record rules stop public display and sharing, and `applicableMeasures` stops returning
 * the measures it triggered, from that moment, with nothing deleted.
 */
import { randomUUID } from 'node:crypto';
import type { GraphQLError } from 'graphql';
import { assertUscc, codedError, ErrorCode } from '../../lib/error-registry.ts';
import type { PolicyContext } from '../runtime/enforcement.ts';
import { withKey } from '../runtime/loaders.ts';
import { nonRestorableRefusal, restorationRefusal, type RestorationCase } from '../runtime/restoration.ts';
import { restorationSettings } from '../runtime/config.ts';
import { ownRecord, updateOnce } from '../runtime/writes.ts';
import type { CreditModels, ListingDocument, RestorationApplicationDocument } from './models.ts';
import { LISTING } from './writes.ts';

const DAY_MS = 86_400_000;

function listingCase(listing: ListingDocument): Pick<RestorationCase, 'kind' | 'records'> {
  return { kind: { field: 'listType', value: listing.listType }, records: 'listings' };
}

function inForce(listing: ListingDocument, now: Date): boolean {
  return (!listing.removedOn || listing.removedOn > now) && (!listing.restoredOn || listing.restoredOn > now);
}

export function withPendingDays(
  application: RestorationApplicationDocument,
  now: Date,
): RestorationApplicationDocument & { id: string; pendingDays: number | null } {
  const pendingDays =
    application.status === 'PENDING' ? Math.floor((now.getTime() - application.appliedOn.getTime()) / DAY_MS) : null;
  return { ...withKey(application, 'id'), pendingDays };
}

/** What an application carries: the listing, and what only its subject holds (its code, the basis document's number). */
export interface RestorationApplicationInput {
  listingId: string;
  uscc: string;
  basisNumber: string;
  evidence: string;
}

/** The one refusal for every application that does not match a listing: it tells nothing of the listing's existence. */
function noMatchingListing(): GraphQLError {
  return codedError(ErrorCode.NOT_FOUND, 'No listing matches this listing id, subject code and basis document number.');
}

export async function applyForRestoration(
  models: CreditModels,
  { listingId, uscc, basisNumber, evidence }: RestorationApplicationInput,
  context: PolicyContext,
) {
  if (evidence.trim().length === 0)
    throw codedError(ErrorCode.BAD_USER_INPUT, 'Restoration needs evidence that the behaviour was corrected.', {
      field: 'evidence',
    });
  assertUscc(uscc);
  const listing = await models.Listing.findById(listingId).lean<ListingDocument>();
  // The desk may not read listings: until the applicant has shown it holds the listing's subject
  // code and basis document number, every case is answered alike, and nothing is written.
  if (!listing || listing.uscc !== uscc || listing.basis.number !== basisNumber.trim()) throw noMatchingListing();
  const refusal = restorationRefusal(
    {
      ...listingCase(listing),
      ineligible: inForce(listing, context.now)
        ? undefined
        : 'The listing is no longer in force: there is nothing to restore.',
      publishedOn: listing.listedOn,
      minimumDays: restorationSettings().listingMinimumDays,
    },
    context.now,
  );
  if (refusal) throw refusal;
  const pending = await models.RestorationApplication.findOne({
    listingId,
    status: 'PENDING',
  }).lean<RestorationApplicationDocument>();
  if (pending) return withPendingDays(pending, context.now);
  const application: RestorationApplicationDocument = {
    _id: `CR-${randomUUID()}`,
    uscc: listing.uscc,
    listingId,
    appliedOn: context.now,
    status: 'PENDING',
    decidedOn: null,
    decisionReason: null,
    evidence: evidence.trim(),
    appliedBy: context.view.consumer,
  };
  await models.RestorationApplication.create(application);
  return withPendingDays(application, context.now);
}

/**
 * Approving writes two documents: the listing first, then the application. Should the second
 * write fail, deciding again completes it (the listing is already restored and stays so), so
 * nothing is left half-decided for long and nothing is ever deleted.
 */
export async function decideRestoration(
  models: CreditModels,
  applicationId: string,
  approve: boolean,
  reason: string,
  context: PolicyContext,
) {
  if (reason.trim().length === 0)
    throw codedError(ErrorCode.BAD_USER_INPUT, 'A decision needs its reasons.', { field: 'reason' });
  const application =
    await models.RestorationApplication.findById(applicationId).lean<RestorationApplicationDocument>();
  const notFound = codedError(ErrorCode.NOT_FOUND, `No restoration application ${applicationId} awaits your decision.`);
  if (!application) throw notFound;
  // Who identifies, restores: only the department that made the listing decides. An application
  // on another department's listing is answered as one that does not exist.
  const listing = await ownRecord(models.Listing, application.listingId, { noun: LISTING.noun }, context).catch(() => {
    throw notFound;
  });
  if (application.status !== 'PENDING') return withPendingDays(application, context.now);
  if (approve) {
    const excluded = nonRestorableRefusal(listingCase(listing));
    if (excluded) throw excluded;
    await updateOnce(models.Listing, listing, 'restoredOn', { restoredOn: context.now });
  }
  const decided = {
    status: approve ? 'APPROVED' : 'REJECTED',
    decidedOn: context.now,
    decisionReason: reason.trim(),
    decidedBy: context.view.consumer,
  };
  await models.RestorationApplication.updateOne({ _id: applicationId }, { $set: decided });
  return withPendingDays({ ...application, ...decided }, context.now);
}

/** Pending applications on the calling department's listings, oldest first, with their age. */
export async function pendingApplications(models: CreditModels, context: PolicyContext) {
  const pending = await models.RestorationApplication.find({ status: 'PENDING' })
    .sort({ appliedOn: 1 })
    .lean<RestorationApplicationDocument[]>();
  if (pending.length === 0) return [];
  const own = await models.Listing.find({ recordedBy: context.view.consumer }, { _id: 1 }).lean<{ _id: string }[]>();
  const ownIds = new Set(own.map(({ _id }) => _id));
  return pending
    .filter((application) => ownIds.has(application.listingId))
    .map((application) => withPendingDays(application, context.now));
}
