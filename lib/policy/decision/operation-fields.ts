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
  DocumentNode,
  FieldNode,
  GraphQLCompositeType,
  GraphQLField,
  GraphQLOutputType,
  GraphQLSchema,
  OperationDefinitionNode,
} from 'graphql';
import { fragmentsOf, walkSelections } from '../../graphql/operation-walk.ts';

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
  const operations = document.definitions.filter(
    (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
  );
  if (operationName) {
    const named = operations.find((operation) => operation.name?.value === operationName);
    if (!named) throw new Error(`Unknown operation named "${operationName}".`);
    return named;
  }
  if (operations.length !== 1) {
    throw new Error(
      operations.length === 0
        ? 'The document contains no operation.'
        : 'The document contains several operations: name the one to run.',
    );
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

/** Where the walk is: the path of the selection set being walked, and the fields found so far. */
interface Place {
  path: readonly string[];
  out: RequestedField[];
}

function requestedField(
  field: FieldNode,
  parent: GraphQLCompositeType | undefined,
  definition: GraphQLField<unknown, unknown> | undefined,
  place: Place,
): Place | undefined {
  // A fragment on a type the schema does not have selects nothing a policy could decide.
  if (!parent) return undefined;
  const fieldName = field.name.value;
  const responseKey = field.alias?.value ?? fieldName;
  place.out.push({ typeName: parent.name, fieldName, responseKey, path: [...place.path, responseKey], node: field });
  // Introspection (`__schema`, `__type`) is not a policy subject: it is not walked into.
  if (fieldName.startsWith('__') || !definition || !isCompositeType(getNamedType(definition.type))) return undefined;
  return { path: childPath(place.path, responseKey, definition.type), out: place.out };
}

/**
 * Every field the operation selects, in document order, fragments expanded in place. Fields the
 * schema does not know are reported too (policies deny them) but not walked into.
 */
export function collectRequestedFields(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName?: string | null,
): RequestedField[] {
  const operation = selectOperation(document, operationName);
  const root = rootType(schema, operation);
  const out: RequestedField[] = [];
  if (!root) return out;
  walkSelections({ schema, fragments: fragmentsOf(document), field: requestedField }, operation.selectionSet, root, {
    path: [],
    out,
  });
  return out;
}
