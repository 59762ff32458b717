import type { GraphQLResolverMap } from '@apollo/subgraph';
import type { RequestContext } from '../runtime/department.ts';
import { recordAdministrativePenalty, type AdministrativePenaltyInput } from './writes.ts';
import { restoreAdministrativePenalty, type PenaltyRestorationInput } from './restoration.ts';
import { resolveSubjectReference, type SubjectReference } from '../runtime/subject.ts';
import type { PenaltiesLoaders } from './loaders.ts';
import type { PenaltiesModels } from './models.ts';

type Context = RequestContext<PenaltiesModels, PenaltiesLoaders>;

export const resolvers: GraphQLResolverMap<Context> = {
  Mutation: {
    // The subgraph server adds the caller's policy context and the catalog in force to every request (runtime/server.ts).
    recordAdministrativePenalty: (_root, args: { input: AdministrativePenaltyInput }, context) =>
      recordAdministrativePenalty(context.models, args.input, context),
    restoreAdministrativePenalty: (_root, args: { input: PenaltyRestorationInput }, context) =>
      restoreAdministrativePenalty(context.models, args.input, context),
  },
  Subject: {
    __resolveReference: resolveSubjectReference,
    administrativePenalties: (subject: SubjectReference, _args, { loaders }) => loaders.penalties.load(subject.uscc),
  },
};
