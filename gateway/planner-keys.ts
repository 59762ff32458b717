/**
 * The response keys Apollo's query planner selects under their own names on each type of a
 * supergraph, to join departments: every field of every entity key (`id`; `site` on the entity and
 * `country`, `code` on Site for `@key(fields: "site { country code }")`) and of every `@requires`. A caller's field
 * answered under one of these names on that type is merged with the planner's own selection
 * (apollographql/federation#3036): key-aliases.ts moves it out of the way. Read once per
 * supergraph from its `@join__type(key:)` and `@join__field(requires:)` directives.
 */
import {
  Kind,
  parse,
  type ArgumentNode,
  type DefinitionNode,
  type DirectiveNode,
  type InterfaceTypeDefinitionNode,
  type InterfaceTypeExtensionNode,
  type ObjectTypeDefinitionNode,
  type ObjectTypeExtensionNode,
  type SelectionSetNode,
  type TypeNode,
} from 'graphql';

/** Type name -> the response keys the planner uses on it. */
export type PlannerKeys = ReadonlyMap<string, ReadonlySet<string>>;

function stringArgument(directive: DirectiveNode, name: string): string | undefined {
  const argument = directive.arguments?.find((candidate: ArgumentNode) => candidate.name.value === name);
  return argument?.value.kind === Kind.STRING ? argument.value.value : undefined;
}

function fieldSetOf(fieldSet: string): SelectionSetNode | undefined {
  try {
    const [operation] = parse(`{ ${fieldSet} }`, { noLocation: true }).definitions;
    return operation?.kind === Kind.OPERATION_DEFINITION ? operation.selectionSet : undefined;
  } catch {
    return undefined;
  }
}

function namedTypeName(type: TypeNode): string {
  return type.kind === Kind.NAMED_TYPE ? type.name.value : namedTypeName(type.type);
}

type Composite =
  ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode | ObjectTypeExtensionNode | InterfaceTypeExtensionNode;

function isComposite(definition: DefinitionNode): definition is Composite {
  return (
    definition.kind === Kind.OBJECT_TYPE_DEFINITION ||
    definition.kind === Kind.INTERFACE_TYPE_DEFINITION ||
    definition.kind === Kind.OBJECT_TYPE_EXTENSION ||
    definition.kind === Kind.INTERFACE_TYPE_EXTENSION
  );
}

export function plannerKeysOf(supergraphSdl: string): PlannerKeys {
  const definitions = parse(supergraphSdl, { noLocation: true }).definitions.filter(isComposite);
  // Type -> field -> the field's named type, to follow a nested key (`site { country code }`) into Site.
  const fieldTypes = new Map<string, Map<string, string>>();
  for (const definition of definitions) {
    const fields = fieldTypes.get(definition.name.value) ?? new Map<string, string>();
    for (const field of definition.fields ?? []) fields.set(field.name.value, namedTypeName(field.type));
    fieldTypes.set(definition.name.value, fields);
  }
  const keys = new Map<string, Set<string>>();
  const add = (typeName: string, selectionSet: SelectionSetNode | undefined): void => {
    for (const selection of selectionSet?.selections ?? []) {
      if (selection.kind !== Kind.FIELD) continue;
      const set = keys.get(typeName) ?? new Set<string>();
      set.add(selection.name.value);
      keys.set(typeName, set);
      const below = fieldTypes.get(typeName)?.get(selection.name.value);
      if (selection.selectionSet && below) add(below, selection.selectionSet);
    }
  };
  for (const definition of definitions) {
    const typeName = definition.name.value;
    for (const directive of definition.directives ?? []) {
      const key = directive.name.value === 'join__type' ? stringArgument(directive, 'key') : undefined;
      if (key !== undefined) add(typeName, fieldSetOf(key));
    }
    for (const field of definition.fields ?? []) {
      for (const directive of field.directives ?? []) {
        const requires = directive.name.value === 'join__field' ? stringArgument(directive, 'requires') : undefined;
        if (requires !== undefined) add(typeName, fieldSetOf(requires));
      }
    }
  }
  return keys;
}
