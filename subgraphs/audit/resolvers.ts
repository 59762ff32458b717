import type { GraphQLResolverMap } from '@apollo/subgraph';
import type { RequestContext } from '../runtime/department.ts';
import { DateTimeScalar } from '../runtime/scalars.ts';
import type { AuditModels } from './models.ts';
import { accessLogPage, subjectAccessReport, type AccessLogFilter } from './search.ts';

type Context = RequestContext<AuditModels, undefined>;

export const resolvers: GraphQLResolverMap<Context> = {
  DateTime: DateTimeScalar,
  Query: {
    accessLog: (_root, args: { filter?: AccessLogFilter | null; first?: number | null; after?: string | null }, { models }) => accessLogPage(models, args),
    subjectAccessReport: (_root, args: { uscc: string }, { models }) => subjectAccessReport(models, args.uscc),
  },
};
