import { disclosureWindowsByRecordType, loadCatalog } from '../../lib/policy/reference/catalog.ts';
import type { GraphQLResolverMap } from '@apollo/subgraph';
import { loadMeasures } from '../../lib/policy/reference/measures.ts';
import type { DisclosureWindows } from '../../lib/policy/decision/records.ts';
import type { RequestContext } from '../runtime/department.ts';
import { resolveSubjectReference, type SubjectReference } from '../runtime/subject.ts';
import { applicableMeasures } from './applicable-measures.ts';
import {
  recordSeriousDishonestyListing,
  removeSeriousDishonestyListing,
  type ListingRemovalInput,
  type SeriousDishonestyListingInput,
} from './writes.ts';
import {
  applyForRestoration,
  decideRestoration,
  pendingApplications,
  withPendingDays,
  type RestorationApplicationInput,
} from './restoration.ts';
import type { CreditLoaders } from './loaders.ts';
import type { CreditModels, RestorationApplicationDocument } from './models.ts';
import { catalogValue, measuresValue } from './reference.ts';

let listingWindowsFromCatalog: DisclosureWindows | undefined;
/** The listings' public disclosure windows, from the catalog, read once. */
function listingWindows(): DisclosureWindows | undefined {
  return (listingWindowsFromCatalog ??= disclosureWindowsByRecordType(loadCatalog()).get('SeriousDishonestyListing'));
}

/**
 * The subgraph server adds the caller's policy context to every request (runtime/server.ts); it is
 * optional here only so that this map fits the runtime's department type.
 */
type Context = RequestContext<CreditModels, CreditLoaders>;

export const resolvers: GraphQLResolverMap<Context> = {
  Query: {
    catalog: () => catalogValue(),
    measures: () => measuresValue(),
    pendingRestorationApplications: (_root, _args, context) => pendingApplications(context.models, context),
  },
  Mutation: {
    // The subgraph server adds the caller's policy context and the catalog in force to every request (runtime/server.ts).
    recordSeriousDishonestyListing: (_root, args: { input: SeriousDishonestyListingInput }, context) =>
      recordSeriousDishonestyListing(context.models, args.input, context),
    removeSeriousDishonestyListing: (_root, args: { input: ListingRemovalInput }, context) =>
      removeSeriousDishonestyListing(context.models, args.input, context),
    applyForCreditRestoration: (_root, args: RestorationApplicationInput, context) =>
      applyForRestoration(context.models, args, context),
    decideCreditRestoration: (_root, args: { applicationId: string; approve: boolean; reason: string }, context) =>
      decideRestoration(context.models, args.applicationId, args.approve, args.reason, context),
  },
  RestorationApplication: {
    pendingDays: (application: RestorationApplicationDocument, _args, context) =>
      withPendingDays(application, context.now).pendingDays,
  },
  Subject: {
    __resolveReference: resolveSubjectReference,
    seriousDishonestyListings: (subject: SubjectReference, _args, { loaders }) => loaders.listings.load(subject.uscc),
    restorationApplications: (subject: SubjectReference, _args, { loaders }) =>
      loaders.restorationApplications.load(subject.uscc),
    // The same loader as seriousDishonestyListings: asking for both costs one database command.
    applicableMeasures: async (subject: SubjectReference, _args, { loaders, view, now }) =>
      applicableMeasures(
        await loaders.listings.load(subject.uscc),
        loadMeasures(),
        now,
        view.records('SeriousDishonestyListing'),
        listingWindows(),
      ),
  },
};
