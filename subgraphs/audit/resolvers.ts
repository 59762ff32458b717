import type { GraphQLResolverMap } from '@apollo/subgraph';
import type { RequestContext } from '../runtime/department.ts';
import { DateTimeScalar } from '../runtime/scalars.ts';
import type { AuditModels } from './models.ts';
import { accessLogPage, subjectAccessReport, type AccessLogFilter } from './search.ts';

type Context = RequestContext<AuditModels, undefined>;

export const resolvers: GraphQLResolverMap<Context> = {
  DateTime: DateTimeScalar,
  Query: {
    accessLog: (
      _root,
      args: { filter?: AccessLogFilter | null; first?: number | null; after?: string | null },
      { models },
    ) => accessLogPage(models, args),
    // The same page as a Relay connection: each record with its own cursor.
    accessRecords: async (
      _root,
      args: { filter?: AccessLogFilter | null; first?: number | null; after?: string | null },
      { models },
    ) => {
      const page = await accessLogPage(models, args);
      return {
        edges: page.records.map((node, index) => ({ node, cursor: page.cursors[index] })),
        pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
      };
    },
    subjectAccessReport: (_root, args: { uscc: string }, { models }) => subjectAccessReport(models, args.uscc),
  },
};
