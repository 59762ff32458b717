import type { GraphQLResolverMap } from '@apollo/subgraph';
import type { RequestContext } from '../runtime/department.ts';
import type { PenaltiesLoaders } from './loaders.ts';
import type { PenaltiesModels, PenaltyDocument } from './models.ts';

type Context = RequestContext<PenaltiesModels, PenaltiesLoaders>;
type SubjectReference = { uscc: string };

export const resolvers: GraphQLResolverMap<Context> = {
  Subject: {
    // Any code the registry vouched for is a subject here too, with or without penalties.
    __resolveReference: (reference: SubjectReference) => ({ uscc: reference.uscc }),
    administrativePenalties: (subject: SubjectReference, _args, { loaders }) => loaders.penalties.load(subject.uscc),
  },
  AdministrativePenalty: {
    decisionNumber: (penalty: PenaltyDocument) => penalty._id,
  },
};
