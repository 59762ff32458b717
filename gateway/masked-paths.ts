/**
 * Which values of an answer were masked (`extensions.credence.masked`): the response paths, as
 * GraphQL error paths are written, of every non-null value of a field the consumer's view masks.
 * Read from the operation as the consumer sent it and the answer it gets, so aliases, fragments
 * and skipped fields are as the consumer sees them. A masked field answered null (no value) is
 * not listed: nothing was masked.
 */
import {
  getNamedType, isAbstractType, isCompositeType, isObjectType, Kind, type DocumentNode, type FragmentDefinitionNode,
  type GraphQLCompositeType, type GraphQLNamedType, type GraphQLSchema, type SelectionSetNode,
} from 'graphql';
import type { ConsumerView } from '../lib/policy/model.ts';

export type ResponsePath = (string | number)[];

export function maskedPaths(schema: GraphQLSchema, document: DocumentNode, operationName: string | undefined, view: ConsumerView, data: unknown): ResponsePath[] {
  const operation = document.definitions.find((definition) => definition.kind === Kind.OPERATION_DEFINITION
    && (operationName === undefined || definition.name?.value === operationName));
  if (!operation || operation.kind !== Kind.OPERATION_DEFINITION || typeof data !== 'object' || data === null) return [];
  const fragments = new Map(document.definitions
    .filter((definition): definition is FragmentDefinitionNode => definition.kind === Kind.FRAGMENT_DEFINITION)
    .map((fragment) => [fragment.name.value, fragment]));
  const root = schema.getRootType(operation.operation);
  const found: ResponsePath[] = [];
  const seen = new Set<string>();

  const walk = (selectionSet: SelectionSetNode, type: GraphQLCompositeType, value: Record<string, unknown>, path: ResponsePath): void => {
    // An abstract type's value says which object type it is when __typename was asked for.
    const typename = value.__typename;
    const objectType = isAbstractType(type) && typeof typename === 'string' ? schema.getType(typename) : type;
    if (!objectType || !isObjectType(objectType)) return;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.INLINE_FRAGMENT || selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = selection.kind === Kind.INLINE_FRAGMENT ? selection : fragments.get(selection.name.value);
        const condition: GraphQLNamedType | undefined = fragment?.typeCondition ? schema.getType(fragment.typeCondition.name.value) : objectType;
        const applies = condition === objectType || (condition !== undefined && isAbstractType(condition) && schema.isSubType(condition, objectType));
        if (fragment && applies) walk(fragment.selectionSet, objectType, value, path);
        continue;
      }
      const key = selection.alias?.value ?? selection.name.value;
      const field = objectType.getFields()[selection.name.value];
      if (!field || !(key in value)) continue;
      const fieldValue = value[key];
      if (fieldValue === null || fieldValue === undefined) continue;
      const here = [...path, key];
      if (view.field(objectType.name, field.name).effect === 'mask') {
        const id = JSON.stringify(here);
        if (!seen.has(id)) found.push(here);
        seen.add(id);
      }
      const named = getNamedType(field.type);
      if (!selection.selectionSet || !isCompositeType(named)) continue;
      const items: [unknown, ResponsePath][] = Array.isArray(fieldValue) ? fieldValue.map((item, index): [unknown, ResponsePath] => [item, [...here, index]]) : [[fieldValue, here]];
      for (const [item, itemPath] of items) {
        if (typeof item === 'object' && item !== null) walk(selection.selectionSet, named, item as Record<string, unknown>, itemPath);
      }
    }
  };
  if (root) walk(operation.selectionSet, root, data as Record<string, unknown>, []);
  return found;
}
