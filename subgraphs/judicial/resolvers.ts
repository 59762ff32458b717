import type { GraphQLResolverMap } from '@apollo/subgraph';
import type { RequestContext } from '../runtime/department.ts';
import type { JudicialLoaders } from './loaders.ts';
import type { DebtorEntryDocument, ConsumptionRestrictionDocument, JudicialModels } from './models.ts';

type Context = RequestContext<JudicialModels, JudicialLoaders>;
type SubjectReference = { uscc: string };

export const resolvers: GraphQLResolverMap<Context> = {
  Subject: {
    // Any code the registry vouched for is a subject here too, with or without court records.
    __resolveReference: (reference: SubjectReference) => ({ uscc: reference.uscc }),
    dishonestDebtorEntries: (subject: SubjectReference, _args, { loaders }) => loaders.debtorEntries.load(subject.uscc),
    consumptionRestrictions: (subject: SubjectReference, _args, { loaders }) => loaders.consumptionRestrictions.load(subject.uscc),
  },
  DishonestDebtorEntry: {
    caseNumber: (entry: DebtorEntryDocument) => entry._id,
  },
  ConsumptionRestrictionOrder: {
    caseNumber: (order: ConsumptionRestrictionDocument) => order._id,
  },
};
