/**
 * Which values of an answer were masked (`extensions.credence.masked`): the response paths, as
 * GraphQL error paths are written, of every non-null value of a field the consumer's view masks.
 * Read from the operation as the consumer sent it and the answer it gets, so aliases, fragments
 * and skipped fields are as the consumer sees them; the selections the gateway added for itself
 * are not in that operation and so never listed. A masked field answered null (no value) is not
 * listed: nothing was masked. The operation is walked with the one operation walk
 * (lib/graphql/operation-walk.ts), carrying the answer's objects found at each level.
 */
import {
  isAbstractType,
  isObjectType,
  Kind,
  type DocumentNode,
  type GraphQLCompositeType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import type { ConsumerView } from '../lib/policy/decision/model.ts';
import { fragmentsOf, walkSelections } from '../lib/graphql/operation-walk.ts';

export type ResponsePath = (string | number)[];

/** One object of the answer at the level being walked, and its response path. */
interface Holder {
  record: Record<string, unknown>;
  path: ResponsePath;
}

/**
 * The object type an answer object is, seen from a selection set of `selectedOn`: its own type
 * when the selection applies to it (an abstract type's object says which when __typename was
 * asked for), undefined when it does not or cannot be told.
 */
function objectTypeOf(
  schema: GraphQLSchema,
  selectedOn: GraphQLCompositeType | undefined,
  record: Record<string, unknown>,
): GraphQLObjectType | undefined {
  if (!selectedOn) return undefined;
  const typename = record.__typename;
  if (isObjectType(selectedOn))
    return typeof typename === 'string' && typename !== selectedOn.name ? undefined : selectedOn;
  if (typeof typename !== 'string') return undefined;
  const type = schema.getType(typename);
  return type && isObjectType(type) && isAbstractType(selectedOn) && schema.isSubType(selectedOn, type)
    ? type
    : undefined;
}

export function maskedPaths(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | undefined,
  view: ConsumerView,
  data: unknown,
): ResponsePath[] {
  const operation = document.definitions.find(
    (definition) =>
      definition.kind === Kind.OPERATION_DEFINITION &&
      (operationName === undefined || definition.name?.value === operationName),
  );
  if (!operation || operation.kind !== Kind.OPERATION_DEFINITION || typeof data !== 'object' || data === null)
    return [];
  const root = schema.getRootType(operation.operation);
  if (!root) return [];
  const found: ResponsePath[] = [];
  const seen = new Set<string>();

  walkSelections<Holder[]>(
    {
      schema,
      fragments: fragmentsOf(document),
      field(selection, parentType, _definition, holders) {
        const key = selection.alias?.value ?? selection.name.value;
        const below: Holder[] = [];
        for (const { record, path } of holders) {
          const objectType = objectTypeOf(schema, parentType, record);
          const field = objectType?.getFields()[selection.name.value];
          if (!objectType || !field || !Object.hasOwn(record, key)) continue;
          const value = record[key];
          if (value === null || value === undefined) continue;
          const here = [...path, key];
          if (view.field(objectType.name, field.name).effect === 'mask') {
            // The same field selected twice (a fragment and the selection itself) is one value.
            const id = JSON.stringify(here);
            if (!seen.has(id)) found.push(here);
            seen.add(id);
          }
          const items: [unknown, ResponsePath][] = Array.isArray(value)
            ? value.map((item, index): [unknown, ResponsePath] => [item, [...here, index]])
            : [[value, here]];
          for (const [item, itemPath] of items) {
            if (typeof item === 'object' && item !== null && !Array.isArray(item))
              below.push({ record: item as Record<string, unknown>, path: itemPath });
          }
        }
        return below.length > 0 ? below : undefined;
      },
    },
    operation.selectionSet,
    root,
    [{ record: data as Record<string, unknown>, path: [] }],
  );
  return found;
}
