/**
 * The one walk over an operation's selections, fragments expanded where they are spread. The
 * policy's field list (lib/policy/operation-fields.ts), the gateway's operation limits and the
 * access log's reading of an answer all walk an operation the same way; each brings only what it
 * does at a field, so that an inline fragment, a spread or a cycle of spreads is handled once.
 *
 * With a schema, every field comes with the type it is selected on and its definition there;
 * without one (reading an answer), types are undefined.
 */
import {
  getNamedType,
  isCompositeType,
  isInterfaceType,
  isObjectType,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';

/** What a walker does at one field: the context to walk the field's selection set with, or undefined not to walk into it. */
export type FieldStep<C> = (
  field: FieldNode,
  parentType: GraphQLCompositeType | undefined,
  definition: GraphQLField<unknown, unknown> | undefined,
  context: C,
) => C | undefined;

export interface OperationWalker<C> {
  /** Types each field and fragment; absent, every type is undefined. */
  schema?: GraphQLSchema | undefined;
  /** The document's fragments by name (fragmentsOf). */
  fragments: ReadonlyMap<string, FragmentDefinitionNode>;
  field: FieldStep<C>;
}

const fragmentMaps = new WeakMap<DocumentNode, ReadonlyMap<string, FragmentDefinitionNode>>();

/** The fragments a document defines, by name (read once per document object: the gateway walks a repeated operation's answers with it). */
export function fragmentsOf(document: DocumentNode): ReadonlyMap<string, FragmentDefinitionNode> {
  let fragments = fragmentMaps.get(document);
  if (!fragments) {
    const found = new Map<string, FragmentDefinitionNode>();
    for (const definition of document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) found.set(definition.name.value, definition);
    }
    fragments = found;
    fragmentMaps.set(document, fragments);
  }
  return fragments;
}

function compositeType(schema: GraphQLSchema | undefined, name: string): GraphQLCompositeType | undefined {
  const type = schema?.getType(name);
  return type && isCompositeType(type) ? type : undefined;
}

/**
 * Walks a selection set in document order: `field` at each field, inline fragments and spreads
 * walked in place with their type condition's type. A fragment already being expanded on the way
 * down is not expanded again (validation refuses cycles; this keeps the walk finite regardless).
 */
export function walkSelections<C>(
  walker: OperationWalker<C>,
  selectionSet: SelectionSetNode,
  parentType: GraphQLCompositeType | undefined,
  context: C,
): void {
  walkWith(walker, new Set(), selectionSet, parentType, context);
}

function walkWith<C>(
  walker: OperationWalker<C>,
  active: Set<string>,
  selectionSet: SelectionSetNode,
  parentType: GraphQLCompositeType | undefined,
  context: C,
): void {
  for (const selection of selectionSet.selections) {
    switch (selection.kind) {
      case Kind.FIELD: {
        const definition =
          parentType && (isObjectType(parentType) || isInterfaceType(parentType))
            ? parentType.getFields()[selection.name.value]
            : undefined;
        const below = walker.field(selection, parentType, definition, context);
        if (below === undefined || !selection.selectionSet) break;
        const type = definition ? getNamedType(definition.type) : undefined;
        walkWith(walker, active, selection.selectionSet, type && isCompositeType(type) ? type : undefined, below);
        break;
      }
      case Kind.INLINE_FRAGMENT: {
        const type = selection.typeCondition
          ? compositeType(walker.schema, selection.typeCondition.name.value)
          : parentType;
        walkWith(walker, active, selection.selectionSet, type, context);
        break;
      }
      case Kind.FRAGMENT_SPREAD: {
        const name = selection.name.value;
        const fragment = walker.fragments.get(name);
        if (!fragment || active.has(name)) break;
        active.add(name);
        walkWith(
          walker,
          active,
          fragment.selectionSet,
          compositeType(walker.schema, fragment.typeCondition.name.value),
          context,
        );
        active.delete(name);
        break;
      }
    }
  }
}
