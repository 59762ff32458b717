import { trusted } from 'mongoose';
import type { GraphQLResolverMap } from '@apollo/subgraph';
import { assertUscc } from '../../lib/error-registry.ts';
import { withKey } from '../runtime/loaders.ts';
import { pageSize } from '../runtime/refusals.ts';
import type { RequestContext } from '../runtime/department.ts';
import {
  recordAbnormalOperationEntry,
  removeAbnormalOperationEntry,
  type AbnormalOperationEntryInput,
  type AbnormalOperationRemovalInput,
} from './writes.ts';
import type { RegistryLoaders } from './loaders.ts';
import type { RegistryModels, SubjectDocument } from './models.ts';

type Context = RequestContext<RegistryModels, RegistryLoaders>;

export const resolvers: GraphQLResolverMap<Context> = {
  Query: {
    subject: (_root, args: { uscc: string }, { loaders }) => loaders.subject.load(assertUscc(args.uscc)),
    subjects: async (_root, args: { first: number; after?: string | null }, { models, loaders }) => {
      const first = pageSize(args.first);
      const filter = args.after ? { _id: trusted({ $gt: assertUscc(args.after, 'after') }) } : {};
      const page = (await models.Subject.find(filter).sort({ _id: 1 }).limit(first).lean()).map((subject) =>
        withKey(subject, 'uscc'),
      );
      // Prime the loader so entity lookups later in this request reuse these documents.
      for (const subject of page) loaders.subject.prime(subject._id, subject);
      return page;
    },
    // A Relay connection over the same order: one subject more than the page says whether another follows.
    subjectConnection: async (_root, args: { first: number; after?: string | null }, { models, loaders }) => {
      const first = pageSize(args.first);
      const filter = args.after ? { _id: trusted({ $gt: assertUscc(args.after, 'after') }) } : {};
      const found = (
        await models.Subject.find(filter)
          .sort({ _id: 1 })
          .limit(first + 1)
          .lean()
      ).map((subject) => withKey(subject, 'uscc'));
      const page = found.slice(0, first);
      for (const subject of page) loaders.subject.prime(subject._id, subject);
      return {
        edges: page.map((node) => ({ node, cursor: node._id })),
        pageInfo: { hasNextPage: found.length > first, endCursor: page.at(-1)?._id ?? null },
      };
    },
  },
  Mutation: {
    // The subgraph server adds the caller's policy context and the catalog in force to every request (runtime/server.ts).
    recordAbnormalOperationEntry: (_root, args: { input: AbnormalOperationEntryInput }, context) =>
      recordAbnormalOperationEntry(context.models, args.input, context),
    removeAbnormalOperationEntry: (_root, args: { input: AbnormalOperationRemovalInput }, context) =>
      removeAbnormalOperationEntry(context.models, args.input, context),
  },
  Subject: {
    __resolveReference: (reference: { uscc: string }, { loaders }: Context) => loaders.subject.load(reference.uscc),
    annualReports: (subject: SubjectDocument, _args, { loaders }) => loaders.annualReports.load(subject._id),
    abnormalOperations: (subject: SubjectDocument, _args, { loaders }) => loaders.abnormalOperations.load(subject._id),
  },
};
