import { GraphQLError } from 'graphql';
import { trusted } from 'mongoose';
import type { GraphQLResolverMap } from '@apollo/subgraph';
import { assertUscc, ErrorCode } from '../../lib/errors.ts';
import { withKey } from '../runtime/loaders.ts';
import type { RequestContext } from '../runtime/department.ts';
import type { PolicyContext } from '../runtime/enforcement.ts';
import { recordAbnormalOperationEntry, removeAbnormalOperationEntry, type AbnormalOperationEntryInput, type AbnormalOperationRemovalInput } from './writes.ts';
import type { RegistryLoaders } from './loaders.ts';
import type { RegistryModels, SubjectDocument } from './models.ts';

type Context = RequestContext<RegistryModels, RegistryLoaders>;

const MAX_PAGE = 500;

export const resolvers: GraphQLResolverMap<Context> = {
  Query: {
    subject: (_root, args: { uscc: string }, { loaders }) => loaders.subject.load(assertUscc(args.uscc)),
    subjects: async (_root, args: { first: number; after?: string | null }, { models, loaders }) => {
      if (!Number.isInteger(args.first) || args.first < 1 || args.first > MAX_PAGE) {
        throw new GraphQLError(`"first" must be between 1 and ${MAX_PAGE}.`, {
          extensions: { code: ErrorCode.BAD_USER_INPUT, argumentName: 'first' },
        });
      }
      const filter = args.after ? { _id: trusted({ $gt: assertUscc(args.after, 'after') }) } : {};
      const page = (await models.Subject.find(filter).sort({ _id: 1 }).limit(args.first).lean()).map((subject) => withKey(subject, 'uscc'));
      // Prime the loader so entity lookups later in this request reuse these documents.
      for (const subject of page) loaders.subject.prime(subject._id, subject);
      return page;
    },
  },
  Mutation: {
    // The subgraph server adds the caller's policy context to every request (runtime/server.ts).
    recordAbnormalOperationEntry: (_root, args: { input: AbnormalOperationEntryInput }, context) =>
      recordAbnormalOperationEntry(context.models, args.input, context as Context & PolicyContext),
    removeAbnormalOperationEntry: (_root, args: { input: AbnormalOperationRemovalInput }, context) =>
      removeAbnormalOperationEntry(context.models, args.input, context as Context & PolicyContext),
  },
  Subject: {
    __resolveReference: (reference: { uscc: string }, { loaders }: Context) => loaders.subject.load(reference.uscc),
    annualReports: (subject: SubjectDocument, _args, { loaders }) => loaders.annualReports.load(subject._id),
    abnormalOperations: (subject: SubjectDocument, _args, { loaders }) => loaders.abnormalOperations.load(subject._id),
  },
};
