import type { GraphQLResolverMap } from '@apollo/subgraph';
import type { RequestContext } from '../runtime/department.ts';
import { resolveSubjectReference, type SubjectReference } from '../runtime/subject.ts';
import type { CreditLoaders } from './loaders.ts';
import type { CreditModels } from './models.ts';

type Context = RequestContext<CreditModels, CreditLoaders>;

export const resolvers: GraphQLResolverMap<Context> = {
  Subject: {
    __resolveReference: resolveSubjectReference,
    seriousDishonestyListings: (subject: SubjectReference, _args, { loaders }) => loaders.listings.load(subject.uscc),
    restorationApplications: (subject: SubjectReference, _args, { loaders }) => loaders.restorationApplications.load(subject.uscc),
  },
};
