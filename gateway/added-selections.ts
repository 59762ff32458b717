/**
 * Selections the gateway adds to an operation for its own use (placeholders where the policy
 * filter emptied a selection set, every subject's code for the access log) are answered under an
 * alias the operation does not use itself, so that removing them from the answer never removes a
 * field the consumer asked for.
 */
import { visit, type DocumentNode } from 'graphql';

/** `base`, or `base` numbered, whichever no field of the document is answered under. */
export function unusedAlias(document: DocumentNode, base: string): string {
  const used = new Set<string>();
  visit(document, { Field: (node) => void used.add(node.alias?.value ?? node.name.value) });
  let alias = base;
  for (let n = 1; used.has(alias); n++) alias = `${base}${n}`;
  return alias;
}

/** Removes what was answered under `alias` from an answer, at every depth, in place. */
export function removeAliased(value: unknown, alias: string): void {
  if (Array.isArray(value)) {
    for (const item of value) removeAliased(item, alias);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const record = value as Record<string, unknown>;
  delete record[alias];
  for (const child of Object.values(record)) removeAliased(child, alias);
}
