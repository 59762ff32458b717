/**
 * Selections the gateway adds to an operation for its own use (placeholders where the policy
 * filter emptied a selection set, guards where a condition could empty one, every subject's code
 * for the access log) are answered under an alias the operation does not use itself, so that
 * removing them from the answer never removes a field the consumer asked for.
 */
import { visit, type DocumentNode } from 'graphql';

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
  if (Array.isArray(value)) {
    for (const item of value) removeAliased(item, aliases);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const record = value as Record<string, unknown>;
  for (const alias of aliases) delete record[alias];
  for (const child of Object.values(record)) removeAliased(child, aliases);
}
