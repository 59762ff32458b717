/**
 * Which subjects a department served or changed, derived from what its resolvers returned rather
 * than from argument names: every declared resolver returning records (or a list of them) adds
 * the `uscc` of each to the request's set, after the record rules have filtered them (so a record
 * the consumer may not see names no subject). The set goes back to the gateway in the answer's
 * extensions (lib/access-log/served-subjects.ts), which records it in the access log.
 *
 * Only resolvers returning objects are wrapped (scalars carry no record), and wrapping costs one
 * function call per resolved field, not per row.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import type { IMiddlewareFieldMap } from 'graphql-middleware';
import { getNamedType, isCompositeType, type GraphQLSchema } from 'graphql';
import { MAX_CODE_LENGTH, SERVED_SUBJECTS_EXTENSION } from '../../lib/access-log/served-subjects.ts';
import { afterResolving } from './field-middleware.ts';

/** What collection needs in every request's context. */
export interface ServedSubjectsContext {
  servedSubjects: Set<string>;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function';
}

/** Adds the code of a returned record, or of each record of a returned list (items may still be pending). */
function collect(value: unknown, into: Set<string>): void {
  if (Array.isArray(value)) {
    for (const item of value) collect(item, into);
  } else if (isThenable(value)) {
    value.then(
      (resolved) => collect(resolved, into),
      () => {},
    );
  } else if (value !== null && typeof value === 'object') {
    const { uscc } = value as { uscc?: unknown };
    if (typeof uscc === 'string' && uscc.length <= MAX_CODE_LENGTH) into.add(uscc);
  }
}

/** Middleware on every declared resolver of the schema that returns an object or a list of them. */
export function servedSubjectsMiddleware(schema: GraphQLSchema): IMiddlewareFieldMap {
  return afterResolving<ServedSubjectsContext>(schema, (_type, field) => {
    if (!field.resolve || !isCompositeType(getNamedType(field.type))) return undefined;
    return (value, context) => {
      if (context.servedSubjects) collect(value, context.servedSubjects);
      return value;
    };
  });
}

/** Reports the request's served subjects in its answer's extensions, sorted. */
export function servedSubjectsPlugin(): ApolloServerPlugin<ServedSubjectsContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, contextValue }) {
          const { body } = response;
          if (body.kind !== 'single' || !contextValue.servedSubjects || contextValue.servedSubjects.size === 0) return;
          body.singleResult.extensions = {
            ...body.singleResult.extensions,
            [SERVED_SUBJECTS_EXTENSION]: [...contextValue.servedSubjects].sort(),
          };
        },
      };
    },
  };
}
