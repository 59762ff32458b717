/**
 * Every subject an answer contains, named in the access log even when the operation did not ask
 * for its code: before execution, each selection on `Subject` also selects `uscc` under an alias
 * the operation does not use (added-selections.ts); after the record is written, those fields
 * are removed from the answer. `Subject.uscc` is visible to every consumer, so the policy check
 * is unaffected, and the departments already fetch the code to join on.
 */
import {
  Kind,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type FieldNode,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import { KEY_FIELD } from '../../lib/policy/decision/api-schema.ts';
import { unusedAlias, type AddedSelections } from '../added-selections.ts';
import { addingSelections, type Stage } from './stage.ts';

const KEY_ALIAS = '__credence_subject';

/** The document with `<alias>: uscc` in every selection set on Subject (fragments included), or null when it has none. */
export function withSubjectKeys(schema: GraphQLSchema, document: DocumentNode): AddedSelections | null {
  const alias = unusedAlias(document, KEY_ALIAS);
  const key: FieldNode = {
    kind: Kind.FIELD,
    alias: { kind: Kind.NAME, value: alias },
    name: { kind: Kind.NAME, value: KEY_FIELD.fieldName },
  };
  const typeInfo = new TypeInfo(schema);
  let keys = 0;
  const keyed = visit(
    document,
    visitWithTypeInfo(typeInfo, {
      SelectionSet: {
        leave(node: SelectionSetNode): SelectionSetNode | undefined {
          if (typeInfo.getParentType()?.name !== KEY_FIELD.typeName) return undefined;
          keys++;
          return { ...node, selections: [...node.selections, key] };
        },
      },
    }),
  );
  return keys > 0 ? { document: keyed, alias } : null;
}

/**
 * Stage: subject keys (only with the access log on). The rewrite is made once per document; the
 * access log reads the codes, and the strip stage's one walk removes them (the alias is registered).
 */
export const subjectKeysStage: Stage = addingSelections('subject keys', (document, schema) =>
  withSubjectKeys(schema, document),
);
