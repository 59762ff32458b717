/**
 * The fields an operation names, for tests, written apart from the product's own walk
 * (lib/policy/decision/operation-fields.ts), so that a mistake there cannot also be the test's expectation.
 *
 * Every field counts, under `@skip`/`@include` too (the policy's promise is conservative), once
 * per place it appears after fragments are spread, with its response path (`@` for each list).
 */
import {
  getNamedType,
  isListType,
  isNonNullType,
  isObjectType,
  isInterfaceType,
  Kind,
  OperationTypeNode,
} from 'graphql';
import type {
  DocumentNode,
  FragmentDefinitionNode,
  GraphQLOutputType,
  GraphQLSchema,
  OperationDefinitionNode,
  SelectionSetNode,
} from 'graphql';

export interface NamedField {
  typeName: string;
  fieldName: string;
  path: readonly string[];
}

function listLevels(type: GraphQLOutputType): string[] {
  if (isNonNullType(type)) return listLevels(type.ofType);
  if (isListType(type)) return ['@', ...listLevels(type.ofType)];
  return [];
}

export function namedFields(schema: GraphQLSchema, document: DocumentNode, operationName?: string): NamedField[] {
  const operations = document.definitions.filter(
    (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
  );
  const operation = operationName
    ? operations.find((candidate) => candidate.name?.value === operationName)
    : operations[0];
  if (!operation) throw new Error(`no operation ${operationName ?? ''} in the document`);
  const fragments = new Map(
    document.definitions
      .filter((definition): definition is FragmentDefinitionNode => definition.kind === Kind.FRAGMENT_DEFINITION)
      .map((fragment) => [fragment.name.value, fragment]),
  );
  const found: NamedField[] = [];
  const visit = (
    selectionSet: SelectionSetNode,
    typeName: string,
    path: readonly string[],
    spreading: readonly string[],
  ): void => {
    const type = schema.getType(typeName);
    const fields = isObjectType(type) || isInterfaceType(type) ? type.getFields() : {};
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const key = selection.alias?.value ?? selection.name.value;
        found.push({ typeName, fieldName: selection.name.value, path: [...path, key] });
        const definition = fields[selection.name.value];
        if (selection.selectionSet && definition && !selection.name.value.startsWith('__')) {
          visit(
            selection.selectionSet,
            getNamedType(definition.type).name,
            [...path, key, ...listLevels(definition.type)],
            spreading,
          );
        }
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        visit(selection.selectionSet, selection.typeCondition?.name.value ?? typeName, path, spreading);
      } else {
        const fragment = fragments.get(selection.name.value);
        if (fragment && !spreading.includes(fragment.name.value))
          visit(fragment.selectionSet, fragment.typeCondition.name.value, path, [...spreading, fragment.name.value]);
      }
    }
  };
  const root =
    operation.operation === OperationTypeNode.QUERY
      ? schema.getQueryType()
      : operation.operation === OperationTypeNode.MUTATION
        ? schema.getMutationType()
        : schema.getSubscriptionType();
  if (root) visit(operation.selectionSet, root.name, [], []);
  return found;
}
