import type { GraphQLResolverMap } from '@apollo/subgraph';
import type { RequestContext } from '../runtime/department.ts';
import { resolveSubjectReference, type SubjectReference } from '../runtime/subject.ts';
import type { JudicialLoaders } from './loaders.ts';
import type { JudicialModels } from './models.ts';

type Context = RequestContext<JudicialModels, JudicialLoaders>;

export const resolvers: GraphQLResolverMap<Context> = {
  Subject: {
    __resolveReference: resolveSubjectReference,
    dishonestDebtorEntries: (subject: SubjectReference, _args, { loaders }) => loaders.debtorEntries.load(subject.uscc),
    consumptionRestrictions: (subject: SubjectReference, _args, { loaders }) => loaders.consumptionRestrictions.load(subject.uscc),
  },
};
