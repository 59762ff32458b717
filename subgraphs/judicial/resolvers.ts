import type { GraphQLResolverMap } from '@apollo/subgraph';
import type { RequestContext } from '../runtime/department.ts';
import {
  recordDishonestDebtorEntry,
  removeDishonestDebtorEntry,
  type DebtorEntryRemovalInput,
  type DishonestDebtorEntryInput,
} from './writes.ts';
import { resolveSubjectReference, type SubjectReference } from '../runtime/subject.ts';
import type { JudicialLoaders } from './loaders.ts';
import type { JudicialModels } from './models.ts';

type Context = RequestContext<JudicialModels, JudicialLoaders>;

export const resolvers: GraphQLResolverMap<Context> = {
  Mutation: {
    // The subgraph server adds the caller's policy context and the catalog in force to every request (runtime/server.ts).
    recordDishonestDebtorEntry: (_root, args: { input: DishonestDebtorEntryInput }, context) =>
      recordDishonestDebtorEntry(context.models, args.input, context),
    removeDishonestDebtorEntry: (_root, args: { input: DebtorEntryRemovalInput }, context) =>
      removeDishonestDebtorEntry(context.models, args.input, context),
  },
  Subject: {
    __resolveReference: resolveSubjectReference,
    dishonestDebtorEntries: (subject: SubjectReference, _args, { loaders }) => loaders.debtorEntries.load(subject.uscc),
    consumptionRestrictions: (subject: SubjectReference, _args, { loaders }) =>
      loaders.consumptionRestrictions.load(subject.uscc),
  },
};
