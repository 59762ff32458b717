import type { GraphQLResolverMap } from '@apollo/subgraph';
import type { RequestContext } from '../runtime/department.ts';
import { recordTaxViolationCase, type TaxViolationCaseInput } from './writes.ts';
import { resolveSubjectReference, type SubjectReference } from '../runtime/subject.ts';
import type { TaxLoaders } from './loaders.ts';
import type { TaxModels } from './models.ts';

type Context = RequestContext<TaxModels, TaxLoaders>;

export const resolvers: GraphQLResolverMap<Context> = {
  Mutation: {
    // The subgraph server adds the caller's policy context and the catalog in force to every request (runtime/server.ts).
    recordTaxViolationCase: (_root, args: { input: TaxViolationCaseInput }, context) =>
      recordTaxViolationCase(context.models, args.input, context),
  },
  Subject: {
    __resolveReference: resolveSubjectReference,
    taxViolations: (subject: SubjectReference, _args, { loaders }) => loaders.violations.load(subject.uscc),
    taxCreditRatings: (subject: SubjectReference, _args, { loaders }) => loaders.creditRatings.load(subject.uscc),
    taxPayments: (subject: SubjectReference, _args, { loaders }) => loaders.payments.load(subject.uscc),
  },
};
