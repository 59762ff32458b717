/**
 * Schema checks: what changed between two supergraphs, sorted as breaking, dangerous or safe
 * (graphql-js's own change finders for the first two), and which consumers' registered persisted
 * operations (policies/operations/) the new schema would break. Like the schema checks of Apollo
 * GraphOS or Hive, except that Credence knows who uses what from the operations its consumers
 * registered rather than from traffic.
 */
import { execFileSync } from 'node:child_process';
import {
  findBreakingChanges,
  findDangerousChanges,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isIntrospectionType,
  parse,
  TypeInfo,
  validate,
  visit,
  visitWithTypeInfo,
  type GraphQLField,
  type GraphQLInputField,
  type GraphQLSchema,
} from 'graphql';
import { isFederationInternal } from '../policy/decision/api-schema.ts';

export type Severity = 'breaking' | 'dangerous' | 'safe';

export interface SchemaChange {
  severity: Severity;
  /** The schema coordinate changed (Type, Type.field, Type.field(arg:), Enum.VALUE). */
  coordinate: string;
  description: string;
}

export interface BrokenOperation {
  consumer: string;
  operation: string;
  /** Why it breaks: validation errors against the new schema, or the breaking changes it uses. */
  reasons: string[];
}

export interface SchemaCheckResult {
  changes: SchemaChange[];
  broken: BrokenOperation[];
}

/** A consumer's registered operations, by name (or hash), as text. */
export type RegisteredOperations = ReadonlyMap<string, ReadonlyMap<string, string>>;

/** The supergraph at a git ref, or an error naming the ref. */
export function supergraphAtRef(ref: string, options: { cwd: string; path?: string }): string {
  const path = options.path ?? 'schema/supergraph.graphql';
  try {
    return execFileSync('git', ['show', `${ref}:${path}`], {
      cwd: options.cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch {
    throw new Error(`${path} cannot be read at git ref "${ref}" (unknown ref, or a shallow clone without it).`);
  }
}

interface Described {
  kind: 'type' | 'field' | 'argument' | 'enumValue';
  description: string;
  deprecation?: string | undefined;
}

/** Every schema coordinate of the API schema a consumer can query, with its description and deprecation. */
function coordinates(schema: GraphQLSchema): Map<string, Described> {
  const found = new Map<string, Described>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (isIntrospectionType(type) || isFederationInternal(type.name)) continue;
    found.set(type.name, { kind: 'type', description: type.description ?? '' });
    if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
      const fields = Object.values(
        type.getFields() as Record<string, GraphQLField<unknown, unknown> | GraphQLInputField>,
      );
      for (const field of fields) {
        if (isFederationInternal(type.name, field.name)) continue;
        found.set(`${type.name}.${field.name}`, {
          kind: 'field',
          description: field.description ?? '',
          deprecation: field.deprecationReason ?? undefined,
        });
        for (const arg of 'args' in field ? field.args : [])
          found.set(`${type.name}.${field.name}(${arg.name}:)`, {
            kind: 'argument',
            description: arg.description ?? '',
          });
      }
    }
    if (isEnumType(type)) {
      for (const value of type.getValues())
        found.set(`${type.name}.${value.name}`, {
          kind: 'enumValue',
          description: value.description ?? '',
          deprecation: value.deprecationReason ?? undefined,
        });
    }
  }
  return found;
}

/** The coordinate a graphql-js change description starts with ("Query.subjects was removed."). */
function coordinateOf(description: string): string {
  return /^([_A-Za-z][_0-9A-Za-z]*(?:\.[_A-Za-z][_0-9A-Za-z]*)?)/.exec(description)?.[1] ?? '';
}

function safeChanges(before: GraphQLSchema, after: GraphQLSchema): SchemaChange[] {
  const old = coordinates(before);
  const changes: SchemaChange[] = [];
  for (const [coordinate, now] of coordinates(after)) {
    const was = old.get(coordinate);
    // An added argument or enum value is breaking or dangerous (graphql-js reports it), never only safe.
    if (!was) {
      if (now.kind === 'type' || now.kind === 'field')
        changes.push({ severity: 'safe', coordinate, description: `${coordinate} was added.` });
    } else {
      if (now.deprecation !== undefined && was.deprecation === undefined)
        changes.push({ severity: 'safe', coordinate, description: `${coordinate} was deprecated: ${now.deprecation}` });
      if (now.description !== was.description)
        changes.push({ severity: 'safe', coordinate, description: `${coordinate} has a new description.` });
    }
  }
  return changes;
}

/** The type and field coordinates an operation selects, read against a schema. */
function usedCoordinates(schema: GraphQLSchema, text: string): Set<string> {
  const used = new Set<string>();
  const typeInfo = new TypeInfo(schema);
  visit(
    parse(text),
    visitWithTypeInfo(typeInfo, {
      Field: (node) => {
        const parent = typeInfo.getParentType();
        if (parent) used.add(parent.name).add(`${parent.name}.${node.name.value}`);
      },
      Argument: (node) => {
        const field = typeInfo.getFieldDef();
        const parent = typeInfo.getParentType();
        if (field && parent) used.add(`${parent.name}.${field.name}(${node.name.value}:)`);
      },
    }),
  );
  return used;
}

/** Compares two API schemas; `operations` are the registered operations to check against the new one. */
export function checkSchemas(
  before: GraphQLSchema,
  after: GraphQLSchema,
  operations: RegisteredOperations,
): SchemaCheckResult {
  const breaking = findBreakingChanges(before, after).map(({ description }) => ({
    severity: 'breaking' as const,
    coordinate: coordinateOf(description),
    description,
  }));
  const dangerous = findDangerousChanges(before, after).map(({ description }) => ({
    severity: 'dangerous' as const,
    coordinate: coordinateOf(description),
    description,
  }));
  const changes = [...breaking, ...dangerous, ...safeChanges(before, after)];

  const broken: BrokenOperation[] = [];
  for (const [consumer, registered] of [...operations].sort(([a], [b]) => a.localeCompare(b))) {
    for (const [operation, text] of registered) {
      let reasons: string[];
      try {
        const used = usedCoordinates(before, text);
        reasons = [
          ...validate(after, parse(text)).map((error) => error.message),
          ...breaking.filter(({ coordinate }) => used.has(coordinate)).map(({ description }) => description),
        ];
      } catch (error) {
        reasons = [`does not parse: ${(error as Error).message}`];
      }
      if (reasons.length > 0) broken.push({ consumer, operation, reasons: [...new Set(reasons)] });
    }
  }
  return { changes, broken };
}

/** The report `npm run schema -- check` prints. */
export function formatSchemaCheck(result: SchemaCheckResult, labels: { before: string; after: string }): string {
  const lines = [`Schema check: ${labels.before} -> ${labels.after}`];
  for (const severity of ['breaking', 'dangerous', 'safe'] as const) {
    const of = result.changes.filter((change) => change.severity === severity);
    lines.push('', `${severity.toUpperCase()} (${of.length})`);
    for (const change of of) lines.push(`  - ${change.description}`);
  }
  lines.push('', `CONSUMERS AFFECTED (${new Set(result.broken.map(({ consumer }) => consumer)).size})`);
  for (const { consumer, operation, reasons } of result.broken) {
    lines.push(`  - ${consumer}: operation ${operation} would break`);
    for (const reason of reasons) lines.push(`      ${reason}`);
  }
  if (result.broken.length === 0) lines.push('  none of the registered persisted operations would break');
  return lines.join('\n');
}
