/**
 * Selections the gateway adds to an operation for its own use (placeholders where the policy
 * filter emptied a selection set, guards where a condition could empty one, every subject's code
 * for the access log) are answered under an alias the operation does not use itself, so that
 * removing them from the answer never removes a field the consumer asked for.
 */
import { visit, type DocumentNode } from 'graphql';
import { forEachObject } from '../lib/graphql/answer-walk.ts';

/** A document with selections added under one alias. */
export interface AddedSelections {
  document: DocumentNode;
  /** The alias the added selections are answered under (removed from the answer with removeAliased). */
  alias: string;
}

/** `base`, or `base` numbered, whichever no field of the document is answered under. */
export function unusedAlias(document: DocumentNode, base: string): string {
  const used = new Set<string>();
  visit(document, { Field: (node) => void used.add(node.alias?.value ?? node.name.value) });
  let alias = base;
  for (let n = 1; used.has(alias); n++) alias = `${base}${n}`;
  return alias;
}

/** Removes what was answered under any of `aliases` from an answer, at every depth, in place. */
export function removeAliased(value: unknown, aliases: readonly string[]): void {
  forEachObject(value, (record) => {
    for (const alias of aliases) delete record[alias];
  });
}
