/**
 * Operations and expected answers derived from the API schema and what the hand-written access
 * matrix (test/oracle/) says a consumer sees, for tests that check what the gateway answers.
 *
 * A selection tree lists fields of the API schema (every one, or those a predicate keeps); it is
 * printed as a query about one subject, and projected over the test inspector's answer to the
 * same question (the inspector sees every field and every record) to get what a consumer should
 * receive: denied fields null (filter mode), masked fields masked, record lists cut by the
 * consumer's record rules.
 */
import { readFileSync } from 'node:fs';
import {
  getNamedType,
  isListType,
  isNonNullType,
  isObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
} from 'graphql';
import { buildApiSchema, policyFields } from '../../lib/policy/decision/api-schema.ts';
import type { ConsumerView } from '../../lib/policy/decision/model.ts';
import { DEFAULT_SUPERGRAPH_PATH } from '../../lib/policy/releases/process-policy.ts';
import { isOracleRecordType, isShownAsDescribed, maskedAsDescribed, type OracleView } from '../oracle/oracle.ts';

/** One selected field: on which type, what it returns, and (for objects) what is selected below it. */
export interface FieldSelection {
  parentType: string;
  name: string;
  /** The named type the field returns. */
  type: string;
  list: boolean;
  /** null for a leaf; the selected fields of the returned object type otherwise (empty: only `__typename`). */
  children: FieldSelection[] | null;
}

export type JsonObject = Record<string, unknown>;

/** A FORBIDDEN error the gateway should give in filter mode: where, and for which `Type.field`. */
export interface ExpectedForbidden {
  path: (string | number)[];
  field: string;
}

let apiSchema: GraphQLSchema | undefined;

/** The API schema partner agencies query (what policies are written against). */
export function loadApiSchema(): GraphQLSchema {
  apiSchema ??= buildApiSchema(readFileSync(DEFAULT_SUPERGRAPH_PATH, 'utf8'));
  return apiSchema;
}

function isList(type: GraphQLOutputType): boolean {
  return isListType(isNonNullType(type) ? type.ofType : type);
}

/**
 * The fields of `typeName` that `keep` accepts, recursively. Fields with arguments are left out
 * (only root fields take any); a kept object field whose fields are all left out keeps an empty
 * selection, printed as `__typename`.
 */
export function selectFields(
  schema: GraphQLSchema,
  typeName: string,
  keep: (typeName: string, fieldName: string) => boolean,
  depth = 0,
): FieldSelection[] {
  if (depth > 8) throw new Error(`selection deeper than 8 levels at ${typeName}: a cycle in the schema?`);
  const type = schema.getType(typeName);
  if (!type || !isObjectType(type)) throw new Error(`${typeName} is not an object type of the API schema`);
  const selections: FieldSelection[] = [];
  for (const field of policyFields(type)) {
    if (field.args.length > 0 || !keep(typeName, field.name)) continue;
    const named = getNamedType(field.type);
    selections.push({
      parentType: typeName,
      name: field.name,
      type: named.name,
      list: isList(field.type),
      children: isObjectType(named) ? selectFields(schema, named.name, keep, depth + 1) : null,
    });
  }
  return selections;
}

/** Every field of the API schema below `Query.subject`. */
export function everyField(): FieldSelection[] {
  return selectFields(loadApiSchema(), 'Subject', () => true);
}

/** The fields below `Query.subject` a view does not deny (visible or masked). */
export function visibleFields(view: OracleView): FieldSelection[] {
  return selectFields(
    loadApiSchema(),
    'Subject',
    (typeName, fieldName) => view.field(typeName, fieldName).effect !== 'deny',
  );
}

/** The fields below `Query.subject` some of the views does not deny: what exists for a consumer with these purposes. */
export function seenFields(views: readonly ConsumerView[]): FieldSelection[] {
  return selectFields(loadApiSchema(), 'Subject', (typeName, fieldName) =>
    views.some((view) => view.field(typeName, fieldName).effect !== 'deny'),
  );
}

function printSelections(selections: readonly FieldSelection[], indent: string): string {
  if (selections.length === 0) return `${indent}__typename`;
  return selections
    .map((selection) =>
      selection.children === null
        ? `${indent}${selection.name}`
        : `${indent}${selection.name} {\n${printSelections(selection.children, `${indent}  `)}\n${indent}}`,
    )
    .join('\n');
}

/** `query Subject($uscc: ID!) { subject(uscc: $uscc) { … } }` */
export function subjectQuery(selections: readonly FieldSelection[]): string {
  return `query Subject($uscc: ID!) {\n  subject(uscc: $uscc) {\n${printSelections(selections, '    ')}\n  }\n}`;
}

/** `query Subjects($first: Int!) { subjects(first: $first) { … } }` */
export function subjectsQuery(selections: readonly FieldSelection[]): string {
  return `query Subjects($first: Int!) {\n  subjects(first: $first) {\n${printSelections(selections, '    ')}\n  }\n}`;
}

/** Every `Type.field` a selection tree names (with the root `Query.subject`). */
export function coordinates(selections: readonly FieldSelection[]): string[] {
  const found = new Set<string>(['Query.subject']);
  const walk = (level: readonly FieldSelection[]): void => {
    for (const selection of level) {
      found.add(`${selection.parentType}.${selection.name}`);
      if (selection.children) walk(selection.children);
    }
  };
  walk(selections);
  return [...found].sort();
}

function asObject(value: unknown, where: string): JsonObject {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new Error(`expected an object at ${where}, got ${JSON.stringify(value)}`);
  return value as JsonObject;
}

/**
 * What a consumer with `view` should receive for `selections`, computed from the inspector's
 * answer (which must hold every selected field, and every field record rules read). Denied
 * fields become null and are listed in `forbidden` with their concrete path (filter mode).
 */
export function projectAnswer(
  source: JsonObject,
  selections: readonly FieldSelection[],
  view: OracleView,
  now: Date,
  path: (string | number)[] = ['subject'],
  forbidden: ExpectedForbidden[] = [],
): { data: JsonObject; forbidden: ExpectedForbidden[] } {
  const data: JsonObject = {};
  for (const selection of selections) {
    const coordinate = `${selection.parentType}.${selection.name}`;
    const decision = view.field(selection.parentType, selection.name);
    const here = [...path, selection.name];
    if (decision.effect === 'deny') {
      data[selection.name] = null;
      forbidden.push({ path: here, field: coordinate });
      continue;
    }
    if (!Object.hasOwn(source, selection.name)) throw new Error(`the inspector's answer lacks ${here.join('.')}`);
    const value = source[selection.name];
    if (decision.effect === 'mask' && decision.mask) {
      data[selection.name] = typeof value === 'string' ? maskedAsDescribed(decision.mask, value) : value;
    } else if (selection.children === null || value === null || value === undefined) {
      data[selection.name] = value;
    } else if (selection.list) {
      if (!Array.isArray(value)) throw new Error(`expected a list at ${here.join('.')}`);
      const visible = isOracleRecordType(selection.type)
        ? value.filter((item) =>
            isShownAsDescribed(selection.type, asObject(item, here.join('.')), view.records(selection.type), now),
          )
        : value;
      data[selection.name] = visible.map((item, index) =>
        childAnswer(asObject(item, here.join('.')), selection, view, now, [...here, index], forbidden),
      );
    } else {
      data[selection.name] = childAnswer(asObject(value, here.join('.')), selection, view, now, here, forbidden);
    }
  }
  return { data, forbidden };
}

function childAnswer(
  source: JsonObject,
  selection: FieldSelection,
  view: OracleView,
  now: Date,
  path: (string | number)[],
  forbidden: ExpectedForbidden[],
): JsonObject {
  const children = selection.children ?? [];
  if (children.length === 0) return { __typename: selection.type };
  return projectAnswer(source, children, view, now, path, forbidden).data;
}
