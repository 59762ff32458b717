import type { GraphQLResolverMap } from '@apollo/subgraph';
import type { RequestContext } from '../runtime/department.ts';
import { resolveSubjectReference, type SubjectReference } from '../runtime/subject.ts';
import type { PenaltiesLoaders } from './loaders.ts';
import type { PenaltiesModels } from './models.ts';

type Context = RequestContext<PenaltiesModels, PenaltiesLoaders>;

export const resolvers: GraphQLResolverMap<Context> = {
  Subject: {
    __resolveReference: resolveSubjectReference,
    administrativePenalties: (subject: SubjectReference, _args, { loaders }) => loaders.penalties.load(subject.uscc),
  },
};
