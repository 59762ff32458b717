/**
 * The document the gateway hands to Apollo for an operation the policy lets through: the
 * operation, or what the filter left of it, with the selections the gateway adds for its own use
 * (added-selections.ts) and the caller's aliases that clash with the planner's moved out of its
 * way (key-aliases.ts). Built once per document and cached by the caller.
 */
import { createHash } from 'node:crypto';
import { print, type DocumentNode, type GraphQLSchema } from 'graphql';
import { withKeyAliasesMoved } from './key-aliases.ts';
import type { PlannerKeys } from './planner-keys.ts';
import { withSkipGuards } from './skip-guards.ts';
import { withSubjectKeys } from './subject-keys.ts';

export interface ExecutedDocument {
  /** What Apollo plans and executes. */
  document: DocumentNode;
  /** Apollo caches query plans under this hash: the operation's own when nothing changed. */
  queryHash: string;
  /** The document the answer matches once the caller's keys are restored (`document` before they moved); the access log reads the answer with it. */
  answered: DocumentNode;
  /** The caller's response key of each moved alias, restored in the answer right after execution. */
  renamed: ReadonlyMap<string, string>;
  /** The aliases of the selections the gateway added (the filter's placeholders included), removed once the access log has read the answer. */
  added: string[];
}

export interface AddedFor {
  /** The access log names every subject an answer contains (subject-keys.ts). */
  accessLog: boolean;
  /** The alias of the placeholders the policy filter already put where it emptied a selection set (policy-check.ts). */
  placeholder?: string | undefined;
  /** The response keys the planner uses on each type of the supergraph (planner-keys.ts). */
  plannerKeys?: PlannerKeys | undefined;
}

export function executedDocument(schema: GraphQLSchema, document: DocumentNode, queryHash: string, addedFor: AddedFor): ExecutedDocument {
  const additions = [withSkipGuards, ...(addedFor.accessLog ? [(current: DocumentNode) => withSubjectKeys(schema, current)] : [])];
  const added = addedFor.placeholder === undefined ? [] : [addedFor.placeholder];
  let answered = document;
  for (const add of additions) {
    const addition = add(answered);
    if (!addition) continue;
    answered = addition.document;
    added.push(addition.alias);
  }
  const moved = withKeyAliasesMoved(schema, answered, addedFor.plannerKeys);
  const executed = moved?.document ?? answered;
  return {
    document: executed,
    queryHash: executed === document ? queryHash : createHash('sha256').update(print(executed)).digest('hex'),
    answered,
    renamed: moved?.renamed ?? new Map(),
    added,
  };
}
