/**
 * Apollo's query planner selects `__typename` and the entity key (`Subject.uscc`) under their own
 * names to join departments, and merges a caller's field answered under either name with its own:
 * `subject { uscc: name }` came back with the code, not the name (apollographql/federation#3036).
 * On any supergraph the same holds for every entity key and `@requires` field of a type: those
 * are read once per schema load (gateway/planner-keys.ts) and handed to this stage.
 *
 * So before planning, such a field is answered under an alias the operation does not use
 * (added-selections.ts), and once Apollo has answered, the caller's response key is put back in
 * its place. An operation without such an alias goes through unchanged.
 */
import type { GatewayExecutionResult } from '@apollo/server-gateway-interface';
import {
  GraphQLError,
  isAbstractType,
  Kind,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type FieldNode,
  type GraphQLCompositeType,
  type GraphQLSchema,
} from 'graphql';
import { KEY_FIELD } from '../../lib/policy/decision/api-schema.ts';
import { unusedAlias } from '../added-selections.ts';
import type { PlannerKeys } from '../planner-keys.ts';
import { oncePerDocument, type Stage } from './stage.ts';
import { forEachObject } from '../../lib/graphql/answer-walk.ts';

export interface MovedKeys {
  document: DocumentNode;
  /** The caller's response key of each alias moved out of the planner's way. */
  renamed: ReadonlyMap<string, string>;
}

/** Response keys the planner also uses on `typeName` (any type, when `typeName` is undefined). */
const PLANNER_KEYS: readonly { key: string; typeName?: string }[] = [
  { key: '__typename' },
  { key: KEY_FIELD.fieldName, typeName: KEY_FIELD.typeName },
];

function clashes(
  field: FieldNode,
  parentTypeName: string | undefined,
  entityKeys: ReadonlySet<string> | undefined,
): string | undefined {
  const key = field.alias?.value;
  if (key === undefined || key === field.name.value) return undefined;
  if (entityKeys?.has(key)) return key;
  return PLANNER_KEYS.find(
    (reserved) => reserved.key === key && (reserved.typeName === undefined || reserved.typeName === parentTypeName),
  )?.key;
}

/** The planner's keys on a type; on an interface or union, those of every type it may be. */
function entityKeysOn(
  schema: GraphQLSchema,
  type: GraphQLCompositeType | null | undefined,
  plannerKeys: PlannerKeys | undefined,
): ReadonlySet<string> | undefined {
  if (!type || !plannerKeys) return undefined;
  if (!isAbstractType(type)) return plannerKeys.get(type.name);
  return new Set(
    [type, ...schema.getPossibleTypes(type)].flatMap((member) => [...(plannerKeys.get(member.name) ?? [])]),
  );
}

/**
 * The document with each field aliased like a planner's key answered under an unused alias, or
 * null when there is none. The planner's keys: `__typename`, `Subject.uscc`, and on foreign
 * supergraphs every entity key and `@requires` field (`plannerKeys`, planner-keys.ts).
 */
export function withKeyAliasesMoved(
  schema: GraphQLSchema,
  document: DocumentNode,
  plannerKeys?: PlannerKeys,
): MovedKeys | null {
  const typeInfo = new TypeInfo(schema);
  const aliases = new Map<string, string>();
  const moved = visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node: FieldNode): FieldNode | undefined {
        const key = clashes(
          node,
          typeInfo.getParentType()?.name,
          entityKeysOn(schema, typeInfo.getParentType(), plannerKeys),
        );
        if (key === undefined) return undefined;
        let alias = aliases.get(key);
        if (alias === undefined) {
          alias = unusedAlias(document, `__credence_as${key.replace(/^_*/, '_')}`);
          aliases.set(key, alias);
        }
        return { ...node, alias: { kind: Kind.NAME, value: alias } };
      },
    }),
  );
  if (aliases.size === 0) return null;
  return { document: moved, renamed: new Map([...aliases].map(([key, alias]) => [alias, key])) };
}

/** Puts the caller's response keys back in data, in place, each where the caller selected it. */
function restoreDataKeys(value: unknown, renamed: ReadonlyMap<string, string>): void {
  forEachObject(value, (record) => {
    const entries = Object.entries(record);
    if (!entries.some(([key]) => renamed.has(key))) return;
    // Deleting and adding every key again keeps the answer's order, which is the operation's.
    for (const [key, child] of entries) {
      delete record[key];
      record[renamed.get(key) ?? key] = child;
    }
  });
}

/** The answer with the caller's response keys back in its data and in its errors' paths. */
export function restoreKeys(
  result: GatewayExecutionResult,
  renamed: ReadonlyMap<string, string>,
): GatewayExecutionResult {
  restoreDataKeys(result.data, renamed);
  if (
    !result.errors?.some((error) => error.path?.some((segment) => typeof segment === 'string' && renamed.has(segment)))
  )
    return result;
  const errors = result.errors.map((error) =>
    error.path
      ? new GraphQLError(error.message, {
          nodes: error.nodes,
          source: error.source,
          positions: error.positions,
          originalError: error.originalError,
          extensions: error.extensions,
          path: error.path.map((segment) =>
            typeof segment === 'string' ? (renamed.get(segment) ?? segment) : segment,
          ),
        })
      : error,
  );
  return { ...result, errors };
}

/**
 * Stage: key aliases. `prepare` moves the clashing aliases (once per document); `finish` puts the
 * caller's keys back in the answer and gives the stages to the left the document the answer now
 * matches again.
 */
export function keyAliasesStage(): Stage {
  const moves = new WeakMap<object, { before: DocumentNode; renamed: ReadonlyMap<string, string> }>();
  // Per schema and its planner's keys (both from one schema load), the move of each document.
  const movedIn = new WeakMap<GraphQLSchema, WeakMap<PlannerKeys, (document: DocumentNode) => MovedKeys | null>>();
  return {
    name: 'key aliases',
    prepare(execution) {
      const { document, apiSchema: schema, plannerKeys } = execution;
      if (!document) return;
      let forSchema = movedIn.get(schema);
      if (!forSchema) {
        forSchema = new WeakMap();
        movedIn.set(schema, forSchema);
      }
      let move = forSchema.get(plannerKeys);
      if (!move) {
        move = oncePerDocument((current) => withKeyAliasesMoved(schema, current, plannerKeys));
        forSchema.set(plannerKeys, move);
      }
      const moved = move(document);
      if (!moved) return;
      moves.set(execution, { before: document, renamed: moved.renamed });
      execution.document = moved.document;
    },
    finish(execution, answer) {
      const move = moves.get(execution);
      if (!move) return answer;
      execution.document = move.before;
      return restoreKeys(answer, move.renamed);
    },
  };
}
