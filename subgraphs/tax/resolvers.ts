import type { GraphQLResolverMap } from '@apollo/subgraph';
import type { RequestContext } from '../runtime/department.ts';
import type { TaxLoaders } from './loaders.ts';
import type { TaxModels, ViolationCaseDocument } from './models.ts';

type Context = RequestContext<TaxModels, TaxLoaders>;
type SubjectReference = { uscc: string };

export const resolvers: GraphQLResolverMap<Context> = {
  Subject: {
    // Any code the registry vouched for is a subject here too, with or without tax records.
    __resolveReference: (reference: SubjectReference) => ({ uscc: reference.uscc }),
    taxViolations: (subject: SubjectReference, _args, { loaders }) => loaders.violations.load(subject.uscc),
    taxCreditRatings: (subject: SubjectReference, _args, { loaders }) => loaders.creditRatings.load(subject.uscc),
    taxPayments: (subject: SubjectReference, _args, { loaders }) => loaders.payments.load(subject.uscc),
  },
  TaxViolationCase: {
    caseNumber: (violation: ViolationCaseDocument) => violation._id,
  },
};
