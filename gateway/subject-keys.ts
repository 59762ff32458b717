/**
 * Every subject an answer contains, named in the access log even when the operation did not ask
 * for its code: before execution, each selection on `Subject` also selects `uscc` under an alias
 * the operation does not use; after the record is written, those fields are removed from the
 * answer. `Subject.uscc` is visible to every consumer, so the policy check is unaffected, and
 * the departments already fetch the code to join on.
 */
import { createHash } from 'node:crypto';
import { Kind, TypeInfo, print, visit, visitWithTypeInfo, type DocumentNode, type FieldNode, type GraphQLSchema, type SelectionSetNode } from 'graphql';

export const SUBJECT_TYPE = 'Subject';
const KEY_FIELD = 'uscc';
const KEY_ALIAS = '__credence_subject';

export interface KeyedDocument {
  document: DocumentNode;
  queryHash: string;
  /** The alias the added selections use (removed from the answer by stripSubjectKeys). */
  alias: string;
}

/** An alias the operation does not use itself. */
function unusedAlias(document: DocumentNode): string {
  const used = new Set<string>();
  visit(document, { Field: (node) => void used.add(node.alias?.value ?? node.name.value) });
  let alias = KEY_ALIAS;
  for (let n = 1; used.has(alias); n++) alias = `${KEY_ALIAS}${n}`;
  return alias;
}

/** The document with `<alias>: uscc` in every selection set on Subject (fragments included). */
export function withSubjectKeys(schema: GraphQLSchema, document: DocumentNode): KeyedDocument {
  const alias = unusedAlias(document);
  const key: FieldNode = { kind: Kind.FIELD, alias: { kind: Kind.NAME, value: alias }, name: { kind: Kind.NAME, value: KEY_FIELD } };
  const typeInfo = new TypeInfo(schema);
  const keyed = visit(document, visitWithTypeInfo(typeInfo, {
    SelectionSet: {
      leave(node: SelectionSetNode): SelectionSetNode | undefined {
        return typeInfo.getParentType()?.name === SUBJECT_TYPE ? { ...node, selections: [...node.selections, key] } : undefined;
      },
    },
  }));
  return { document: keyed, queryHash: createHash('sha256').update(print(keyed)).digest('hex'), alias };
}

/** Removes the added selections from an answer, in place. */
export function stripSubjectKeys(value: unknown, alias: string): void {
  if (Array.isArray(value)) {
    for (const item of value) stripSubjectKeys(item, alias);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const record = value as Record<string, unknown>;
  delete record[alias];
  for (const child of Object.values(record)) stripSubjectKeys(child, alias);
}
