/**
 * The document the gateway hands to Apollo for an operation the policy lets through: the
 * operation, or what the filter left of it, with the selections the gateway adds for its own use
 * (added-selections.ts). Built once per document and cached by the caller.
 */
import { createHash } from 'node:crypto';
import { print, type DocumentNode, type GraphQLSchema } from 'graphql';
import { withSkipGuards } from './skip-guards.ts';
import { withSubjectKeys } from './subject-keys.ts';

export interface ExecutedDocument {
  document: DocumentNode;
  /** Apollo caches query plans under this hash: the operation's own when nothing was added. */
  queryHash: string;
  /** The aliases of the added selections, removed from the answer once the access log has read it. */
  added: string[];
}

export interface AddedFor {
  /** The access log names every subject an answer contains (subject-keys.ts). */
  accessLog: boolean;
}

export function executedDocument(schema: GraphQLSchema, document: DocumentNode, queryHash: string, addedFor: AddedFor): ExecutedDocument {
  const additions = [withSkipGuards, ...(addedFor.accessLog ? [(current: DocumentNode) => withSubjectKeys(schema, current)] : [])];
  const added: string[] = [];
  let executed = document;
  for (const add of additions) {
    const addition = add(executed);
    if (!addition) continue;
    executed = addition.document;
    added.push(addition.alias);
  }
  if (added.length === 0) return { document, queryHash, added };
  return { document: executed, queryHash: createHash('sha256').update(print(executed)).digest('hex'), added };
}
