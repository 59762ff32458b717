/**
 * Middleware that works on what a declared resolver returned (filtering it, reading it), built
 * for the fields it concerns only: enforcement's record filters and the served-subjects
 * collection are two of them (enforcement.ts, served-subjects.ts).
 */
import type { IMiddlewareFieldMap } from 'graphql-middleware';
import { isObjectType, type GraphQLField, type GraphQLObjectType, type GraphQLSchema } from 'graphql';

/** What to do with a field's resolved value: the value to answer instead. */
export type AfterResolve<Context> = (value: unknown, context: Context) => unknown;

type Resolve<Context> = (parent: unknown, args: unknown, context: Context, info: unknown) => Promise<unknown>;

/** Middleware on every field of an object type for which `select` returns what to do after it resolves. */
export function afterResolving<Context>(
  schema: GraphQLSchema,
  select: (type: GraphQLObjectType, field: GraphQLField<unknown, unknown>) => AfterResolve<Context> | undefined,
): IMiddlewareFieldMap {
  const fields: Record<string, Record<string, (...args: never[]) => unknown>> = {};
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const after = select(type, field);
      if (!after) continue;
      (fields[type.name] ??= {})[field.name] = async (
        resolve: Resolve<Context>,
        parent: unknown,
        args: unknown,
        context: Context,
        info: unknown,
      ) => after(await resolve(parent, args, context, info), context);
    }
  }
  return fields as IMiddlewareFieldMap;
}
