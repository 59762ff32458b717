/**
 * GraphQL answers `{}` for an object whose every field is skipped by `@skip`/`@include`. Apollo's
 * gateway answers null instead (apollographql/federation#1791), and when a root field carries a
 * condition its query planner drops such a field, and the root field with it, so that a non-null
 * root comes back null and takes the whole answer with it. A consumer would read "no data" where
 * there is data.
 *
 * So in an operation that uses a condition, every selection set of a field, and the root, also
 * selects `__typename` under an alias the operation does not use (added-selections.ts): no
 * selection set can be left empty, Apollo answers as GraphQL says, and the guards are removed from
 * the answer. An operation without conditions goes through unchanged.
 */
import {
  BREAK,
  Kind,
  visit,
  type DirectiveNode,
  type DocumentNode,
  type FieldNode,
  type SelectionSetNode,
} from 'graphql';
import { unusedAlias, type AddedSelections } from '../added-selections.ts';
import { addingSelections, type Stage } from './stage.ts';

const GUARD_ALIAS = '__credence_guard';

const CONDITIONS = new Set(['skip', 'include']);

function usesConditions(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Directive(node: DirectiveNode) {
      if (!CONDITIONS.has(node.name.value)) return undefined;
      found = true;
      return BREAK;
    },
  });
  return found;
}

/** The document with a guard in every selection set of a field and of each operation, or null when it has no condition. */
export function withSkipGuards(document: DocumentNode): AddedSelections | null {
  if (!usesConditions(document)) return null;
  const alias = unusedAlias(document, GUARD_ALIAS);
  const guard: FieldNode = {
    kind: Kind.FIELD,
    alias: { kind: Kind.NAME, value: alias },
    name: { kind: Kind.NAME, value: '__typename' },
  };
  const guarded = (selectionSet: SelectionSetNode): SelectionSetNode => ({
    ...selectionSet,
    selections: [...selectionSet.selections, guard],
  });
  // Fragments are spread into a field's selection set, which has its own guard: they need none.
  const withGuards = visit(document, {
    Field: { leave: (node) => (node.selectionSet ? { ...node, selectionSet: guarded(node.selectionSet) } : undefined) },
    OperationDefinition: { leave: (node) => ({ ...node, selectionSet: guarded(node.selectionSet) }) },
  });
  return { document: withGuards, alias };
}

/** Stage: skip guards. The rewrite is made once per document; its undo is the strip stage's one walk (the guard's alias is registered). */
export const skipGuardsStage: Stage = addingSelections('skip guards', withSkipGuards);
