/**
 * Every field an operation asks for, as policies see it: `Type.field` and where it sits in the
 * response. Shared by the gateway's policy check, the subgraphs' guard and the policy tools, so
 * that all of them decide the same fields.
 *
 * Conservative by design: a field under `@include` or `@skip` counts as requested whatever the
 * variables say (a policy check must not depend on values the caller controls), and a field
 * reached through several fragments is reported once per place it is selected.
 */
import { getNamedType, isCompositeType, isListType, isNonNullType, Kind } from 'graphql';
import type {
  DocumentNode, FieldNode, FragmentDefinitionNode, GraphQLCompositeType, GraphQLOutputType, GraphQLSchema,
  OperationDefinitionNode, SelectionSetNode,
} from 'graphql';

/** One place in the response for one `Type.field`. */
export interface RequestedField {
  /** The type the field is selected on: an object type, or an interface when selected through one. */
  typeName: string;
  fieldName: string;
  /** The alias, or the field name. */
  responseKey: string;
  /** Response path with aliases, `@` for each list level: `['subjects', '@', 'legalRepresentative', 'idNumber']`. */
  path: readonly string[];
  /** The selection in the document (for a gateway that cuts denied fields out). */
  node: FieldNode;
}

/** The operation to run: the named one, or the only one. Throws when that is ambiguous or missing. */
export function selectOperation(document: DocumentNode, operationName?: string | null): OperationDefinitionNode {
  const operations = document.definitions.filter((definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION);
  if (operationName) {
    const named = operations.find((operation) => operation.name?.value === operationName);
    if (!named) throw new Error(`Unknown operation named "${operationName}".`);
    return named;
  }
  if (operations.length !== 1) {
    throw new Error(operations.length === 0 ? 'The document contains no operation.' : 'The document contains several operations: name the one to run.');
  }
  return operations[0]!;
}

function rootType(schema: GraphQLSchema, operation: OperationDefinitionNode): GraphQLCompositeType | undefined {
  return schema.getRootType(operation.operation) ?? undefined;
}

/** The path below a field: its response key, then `@` for each list level of its type. */
function childPath(path: readonly string[], responseKey: string, type: GraphQLOutputType): string[] {
  const result = [...path, responseKey];
  let current: GraphQLOutputType = type;
  for (;;) {
    if (isNonNullType(current)) current = current.ofType;
    else if (isListType(current)) {
      result.push('@');
      current = current.ofType;
    } else {
      return result;
    }
  }
}

interface Walk {
  schema: GraphQLSchema;
  fragments: ReadonlyMap<string, FragmentDefinitionNode>;
  /** Fragments being walked, so that an (invalid) cycle of spreads cannot recurse forever. */
  active: Set<string>;
  out: RequestedField[];
}

function walkSelections(walk: Walk, selectionSet: SelectionSetNode, parent: GraphQLCompositeType, path: readonly string[]): void {
  for (const selection of selectionSet.selections) {
    switch (selection.kind) {
      case Kind.FIELD: {
        const fieldName = selection.name.value;
        const responseKey = selection.alias?.value ?? fieldName;
        walk.out.push({ typeName: parent.name, fieldName, responseKey, path: [...path, responseKey], node: selection });
        if (!selection.selectionSet || fieldName.startsWith('__') || !('getFields' in parent)) break;
        // Introspection (`__schema`, `__type`) is not a policy subject: it is not walked into.
        const definition = parent.getFields()[fieldName];
        if (!definition) break;
        const type = getNamedType(definition.type);
        if (isCompositeType(type)) walkSelections(walk, selection.selectionSet, type, childPath(path, responseKey, definition.type));
        break;
      }
      case Kind.INLINE_FRAGMENT: {
        const type = selection.typeCondition ? walk.schema.getType(selection.typeCondition.name.value) : parent;
        if (type && isCompositeType(type)) walkSelections(walk, selection.selectionSet, type, path);
        break;
      }
      case Kind.FRAGMENT_SPREAD: {
        const name = selection.name.value;
        const fragment = walk.fragments.get(name);
        if (!fragment || walk.active.has(name)) break;
        const type = walk.schema.getType(fragment.typeCondition.name.value);
        if (!type || !isCompositeType(type)) break;
        walk.active.add(name);
        walkSelections(walk, fragment.selectionSet, type, path);
        walk.active.delete(name);
        break;
      }
    }
  }
}

/**
 * Every field the operation selects, in document order, fragments expanded in place. Fields the
 * schema does not know are reported too (policies deny them) but not walked into.
 */
export function collectRequestedFields(schema: GraphQLSchema, document: DocumentNode, operationName?: string | null): RequestedField[] {
  const operation = selectOperation(document, operationName);
  const root = rootType(schema, operation);
  const out: RequestedField[] = [];
  if (!root) return out;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  walkSelections({ schema, fragments, active: new Set(), out }, operation.selectionSet, root, []);
  return out;
}
