/**
 * Random GraphQL operations for property tests, generated from the API schema, and the tools to
 * read an answer alongside them.
 *
 * fast-check generates a *plan* (which fields, aliases, fragments, directives, variable values);
 * `buildOperation` turns a plan into operation text that is valid against the schema by
 * construction (every result is checked with graphql-js `validate` anyway). Keeping plan and
 * printing apart lets fast-check shrink a failing plan while every shrunk operation stays valid.
 *
 * What the generator covers: aliases (also aliases that rename a field to another field's name),
 * named fragments (also spread several times), inline fragments with and without a type
 * condition, `@include`/`@skip` with literals and with Boolean variables (required, defaulted, or
 * defaulted and overridden), `subject(uscc: $code)` and `subjects(first: N)` roots.
 */
import fc, { type WeightedArbitrary } from 'fast-check';
import {
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  Kind,
  TypeInfo,
  getDirectiveValues,
  getNamedType,
  getVariableValues,
  isCompositeType,
  isObjectType,
  parse,
  print,
  validate,
  valueFromASTUntyped,
  visit,
  visitWithTypeInfo,
} from 'graphql';
import type {
  ASTNode,
  DocumentNode,
  FieldNode,
  FragmentDefinitionNode,
  GraphQLObjectType,
  GraphQLSchema,
  OperationDefinitionNode,
  SelectionNode,
  SelectionSetNode,
  ValueNode,
} from 'graphql';

// ── Plans ───────────────────────────────────────────────────────────────────────────────────

/** A directive argument: a literal, or one of the operation's Boolean variables `$b0`…`$b3`. */
export type Condition = { kind: 'literal'; value: boolean } | { kind: 'variable'; flag: number };

export interface Directives {
  include: Condition | null;
  skip: Condition | null;
}

export interface FieldPlan {
  kind: 'field';
  field: string;
  /** The alias asked for; the builder replaces it when it would make the operation invalid. */
  alias: string | null;
  /** `subjects(first:)` and `subjectConnection(first:)` only. */
  first: number | null;
  directives: Directives;
  /** Null for leaf fields. */
  selections: readonly SelectionPlan[] | null;
}

export interface InlineFragmentPlan {
  kind: 'inline';
  /** `... on Type { }` or just `... { }`. */
  typeCondition: boolean;
  directives: Directives;
  selections: readonly SelectionPlan[];
}

export interface SpreadPlan {
  kind: 'spread';
  /** Spread a fragment already defined on this type (the n-th, modulo), when there is one. */
  reuse: number | null;
  directives: Directives;
  /** The body of a new fragment otherwise. */
  selections: readonly SelectionPlan[];
}

export type SelectionPlan = FieldPlan | InlineFragmentPlan | SpreadPlan;

/**
 * A Boolean variable: `$b: Boolean!` given `value`; `$b: Boolean = value` not given; or
 * `$b: Boolean = !value` given `value`. Whichever the style, the variable's value is `value`.
 */
export interface FlagPlan {
  value: boolean;
  style: 'required' | 'default' | 'overridden';
}

export interface OperationPlan {
  name: string | null;
  /** The value of `$code`. */
  code: string;
  flags: readonly FlagPlan[];
  selections: readonly SelectionPlan[];
}

export const FLAG_COUNT = 4;
const MAX_FRAGMENT_NESTING = 2;
const MAX_DEPTH = 5;
/** Names that are no field's name, for aliases. The builder's fallback aliases start with `k_`. */
const PLAIN_ALIASES = ['a', 'b', 'item', 'value'] as const;

// ── Arbitraries ─────────────────────────────────────────────────────────────────────────────

const conditionArbitrary: fc.Arbitrary<Condition> = fc.oneof(
  fc.record({ kind: fc.constant('variable' as const), flag: fc.integer({ min: 0, max: FLAG_COUNT - 1 }) }),
  fc.record({ kind: fc.constant('literal' as const), value: fc.boolean() }),
);

const NO_DIRECTIVES: Directives = { include: null, skip: null };

const directivesArbitrary: fc.Arbitrary<Directives> = fc.oneof(
  { weight: 6, arbitrary: fc.constant(NO_DIRECTIVES) },
  { weight: 2, arbitrary: conditionArbitrary.map((include): Directives => ({ include, skip: null })) },
  { weight: 2, arbitrary: conditionArbitrary.map((skip): Directives => ({ include: null, skip })) },
  { weight: 1, arbitrary: fc.record({ include: conditionArbitrary, skip: conditionArbitrary }) },
);

export interface OperationArbitraryOptions {
  /** The subject codes `$code` takes. */
  code: fc.Arbitrary<string>;
  /** Largest `first` of `subjects(first:)`. */
  maxFirst: number;
  /** How often to pick `Type.field` relative to the others of its type (1 by default; 0: never). */
  fieldWeight?: (typeName: string, fieldName: string) => number;
}

/** Plans of operations against `schema` (its query type must have `subject(uscc:)` and `subjects(first:)`). */
export function operationPlanArbitrary(
  schema: GraphQLSchema,
  options: OperationArbitraryOptions,
): fc.Arbitrary<OperationPlan> {
  const queryType = schema.getQueryType();
  if (!queryType) throw new Error('the schema has no query type');
  const memo = new Map<string, fc.Arbitrary<SelectionPlan[]>>();

  const aliasArbitrary = (type: GraphQLObjectType, fieldName: string): fc.Arbitrary<string | null> => {
    const others = Object.keys(type.getFields()).filter((name) => name !== fieldName);
    return fc.oneof(
      { weight: 6, arbitrary: fc.constant(null) },
      // Renaming a field to another field's name (`name: phone`) is what a leak would hide behind.
      ...(others.length > 0 ? [{ weight: 2, arbitrary: fc.constantFrom(...others) }] : []),
      { weight: 1, arbitrary: fc.constantFrom(...PLAIN_ALIASES) },
      { weight: 1, arbitrary: fc.constant(fieldName) },
    );
  };

  const fieldArbitrary = (type: GraphQLObjectType, depth: number): fc.Arbitrary<FieldPlan> => {
    const choices: WeightedArbitrary<FieldPlan>[] = [];
    const weight = (fieldName: string): number => options.fieldWeight?.(type.name, fieldName) ?? 1;
    for (const field of Object.values(type.getFields())) {
      const named = getNamedType(field.type);
      const composite = isObjectType(named);
      if ((composite && depth + 1 >= MAX_DEPTH) || weight(field.name) <= 0) continue;
      choices.push({
        weight: weight(field.name),
        arbitrary: fc
          .record({
            alias: aliasArbitrary(type, field.name),
            first:
              field.name === 'subjects' || field.name === 'subjectConnection'
                ? fc.integer({ min: 1, max: options.maxFirst })
                : fc.constant(null),
            directives: directivesArbitrary,
            selections: composite ? selectionsArbitrary(named, 0, depth + 1) : fc.constant(null),
          })
          .map((parts): FieldPlan => ({ kind: 'field', field: field.name, ...parts })),
      });
    }
    choices.push({
      weight: 1,
      arbitrary: directivesArbitrary.map((directives): FieldPlan => ({
        kind: 'field',
        field: '__typename',
        alias: null,
        first: null,
        directives,
        selections: null,
      })),
    });
    return fc.oneof(...choices);
  };

  function selectionsArbitrary(type: GraphQLObjectType, nesting: number, depth: number): fc.Arbitrary<SelectionPlan[]> {
    const key = `${type.name}/${nesting}/${depth}`;
    const known = memo.get(key);
    if (known) return known;
    const items: WeightedArbitrary<SelectionPlan>[] = [{ weight: 10, arbitrary: fieldArbitrary(type, depth) }];
    if (nesting < MAX_FRAGMENT_NESTING) {
      const body = selectionsArbitrary(type, nesting + 1, depth);
      items.push(
        {
          weight: 1,
          arbitrary: fc
            .record({ typeCondition: fc.boolean(), directives: directivesArbitrary, selections: body })
            .map((parts): SelectionPlan => ({ kind: 'inline', ...parts })),
        },
        {
          weight: 2,
          arbitrary: fc
            .record({ reuse: fc.option(fc.nat(3)), directives: directivesArbitrary, selections: body })
            .map((parts): SelectionPlan => ({ kind: 'spread', ...parts })),
        },
      );
    }
    const arbitrary = fc.array(fc.oneof(...items), { minLength: 1, maxLength: type === queryType ? 2 : 3 });
    memo.set(key, arbitrary);
    return arbitrary;
  }

  return fc.record({
    name: fc.option(fc.constantFrom('Lookup', 'Check', 'Q')),
    code: options.code,
    flags: fc.array(
      fc.record({
        value: fc.boolean(),
        style: fc.constantFrom('required' as const, 'default' as const, 'overridden' as const),
      }),
      {
        minLength: FLAG_COUNT,
        maxLength: FLAG_COUNT,
      },
    ),
    selections: selectionsArbitrary(queryType, 0, 0),
  });
}

// ── Printing a plan ─────────────────────────────────────────────────────────────────────────

export interface BuiltOperation {
  /** The operation, printed by graphql-js. */
  text: string;
  document: DocumentNode;
  /** What to send as `variables`. */
  variables: Record<string, unknown>;
  operationName: string | undefined;
  /** The value of `$code` (also when the operation does not use it). */
  code: string;
}

/**
 * Prints a plan as a valid operation. Aliases are resolved per type over the whole document:
 * a response key means one field (with one set of arguments) on a given type everywhere, which
 * is what the rule "fields with the same response key must be mergeable" needs.
 */
export function buildOperation(schema: GraphQLSchema, plan: OperationPlan): BuiltOperation {
  const queryType = schema.getQueryType();
  if (!queryType) throw new Error('the schema has no query type');
  const keys = new Map<string, Map<string, string>>();
  const fragments: { name: string; type: string; text: string }[] = [];
  const usedFlags = new Set<number>();
  let usesCode = false;

  const responseKey = (type: GraphQLObjectType, wanted: string, field: string, identity: string): string => {
    const byKey = keys.get(type.name) ?? new Map<string, string>();
    keys.set(type.name, byKey);
    for (const candidate of [wanted, field, `k_${identity.replace(/\W+/g, '_')}`]) {
      const taken = byKey.get(candidate);
      if (taken === undefined || taken === identity) {
        byKey.set(candidate, identity);
        return candidate;
      }
    }
    throw new Error(`no response key for ${identity} on ${type.name}`);
  };

  const condition = (value: Condition): string => {
    if (value.kind === 'literal') return String(value.value);
    usedFlags.add(value.flag);
    return `$b${value.flag}`;
  };
  const directives = ({ include, skip }: Directives): string =>
    (include ? ` @include(if: ${condition(include)})` : '') + (skip ? ` @skip(if: ${condition(skip)})` : '');

  const selections = (type: GraphQLObjectType, plans: readonly SelectionPlan[]): string =>
    `{ ${plans.map((item) => selection(type, item)).join(' ')} }`;

  function selection(type: GraphQLObjectType, item: SelectionPlan): string {
    switch (item.kind) {
      case 'field': {
        if (item.field === '__typename') return `__typename${directives(item.directives)}`;
        const definition = type.getFields()[item.field];
        if (!definition) throw new Error(`${type.name}.${item.field} is not in the schema`);
        let args = '';
        if (item.field === 'subject' && type === queryType) {
          args = '(uscc: $code)';
          usesCode = true;
        } else if (item.first !== null) {
          args = `(first: ${item.first})`;
        }
        const key = responseKey(type, item.alias ?? item.field, item.field, item.field + args);
        const alias = key !== item.field || item.alias !== null ? `${key}: ` : '';
        const named = getNamedType(definition.type);
        const below = item.selections && isObjectType(named) ? ` ${selections(named, item.selections)}` : '';
        return `${alias}${item.field}${args}${directives(item.directives)}${below}`;
      }
      case 'inline':
        return `...${item.typeCondition ? ` on ${type.name}` : ''}${directives(item.directives)} ${selections(type, item.selections)}`;
      case 'spread': {
        const existing = fragments.filter((fragment) => fragment.type === type.name);
        let name: string;
        if (item.reuse !== null && existing.length > 0) {
          name = existing[item.reuse % existing.length]!.name;
        } else {
          // The body is printed (and its own fragments defined) before this fragment is
          // registered, so a fragment can only spread earlier ones: no cycles.
          const body = selections(type, item.selections);
          name = `F${fragments.length}_${type.name}`;
          fragments.push({ name, type: type.name, text: `fragment ${name} on ${type.name} ${body}` });
        }
        return `...${name}${directives(item.directives)}`;
      }
    }
  }

  const root = selections(queryType, plan.selections);
  const definitions: string[] = [];
  const variables: Record<string, unknown> = {};
  if (usesCode) {
    definitions.push('$code: ID!');
    variables.code = plan.code;
  }
  for (const index of [...usedFlags].sort()) {
    const flag = plan.flags[index] ?? { value: true, style: 'required' };
    if (flag.style === 'required') definitions.push(`$b${index}: Boolean!`);
    else definitions.push(`$b${index}: Boolean = ${flag.style === 'default' ? flag.value : !flag.value}`);
    if (flag.style !== 'default') variables[`b${index}`] = flag.value;
  }
  const header = `query${plan.name ? ` ${plan.name}` : ''}${definitions.length > 0 ? `(${definitions.join(', ')})` : ''}`;
  const source = [`${header} ${root}`, ...fragments.map((fragment) => fragment.text)].join('\n');
  const document = parse(source);
  const errors = validate(schema, document);
  if (errors.length > 0)
    throw new Error(`generated an invalid operation (${errors.map((error) => error.message).join('; ')}):\n${source}`);
  return { text: print(document), document, variables, operationName: plan.name ?? undefined, code: plan.code };
}

// ── Reading an answer alongside its operation ───────────────────────────────────────────────

/** The operation named `operationName`, or the first one. */
export function operationOf(document: DocumentNode, operationName?: string): OperationDefinitionNode {
  const operation = document.definitions.find(
    (definition): definition is OperationDefinitionNode =>
      definition.kind === Kind.OPERATION_DEFINITION && (!operationName || definition.name?.value === operationName),
  );
  if (!operation) throw new Error(`no operation ${operationName ?? ''} in the document`);
  return operation;
}

export function fragmentsOf(document: DocumentNode): Map<string, FragmentDefinitionNode> {
  return new Map(
    document.definitions.flatMap((definition) =>
      definition.kind === Kind.FRAGMENT_DEFINITION ? [[definition.name.value, definition] as const] : [],
    ),
  );
}

/** The variables as execution sees them (defaults applied), or throws. */
export function coercedVariables(
  schema: GraphQLSchema,
  document: DocumentNode,
  inputs: Record<string, unknown>,
  operationName?: string,
): Record<string, unknown> {
  const result = getVariableValues(schema, operationOf(document, operationName).variableDefinitions ?? [], inputs);
  if (result.errors)
    throw new Error(`variables do not coerce: ${result.errors.map((error) => error.message).join('; ')}`);
  return result.coerced;
}

function included(node: SelectionNode, variables: Record<string, unknown>): boolean {
  if (getDirectiveValues(GraphQLSkipDirective, node, variables)?.if === true) return false;
  return getDirectiveValues(GraphQLIncludeDirective, node, variables)?.if !== false;
}

/**
 * The fields an object of `typeName` gets in the answer, by response key, as GraphQL execution
 * collects them (CollectFields of the spec): `@skip`/`@include` decided with the variables,
 * fragments that apply to the type expanded. Unlike the policy's conservative view, skipped
 * fields are not there: this is what the answer holds.
 */
export function collectResponseFields(
  typeName: string,
  selectionSets: readonly SelectionSetNode[],
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  variables: Record<string, unknown>,
): Map<string, FieldNode[]> {
  const fields = new Map<string, FieldNode[]>();
  const visited = new Set<string>();
  const collect = (selectionSet: SelectionSetNode): void => {
    for (const selection of selectionSet.selections) {
      if (!included(selection, variables)) continue;
      switch (selection.kind) {
        case Kind.FIELD: {
          const key = selection.alias?.value ?? selection.name.value;
          fields.set(key, [...(fields.get(key) ?? []), selection]);
          break;
        }
        case Kind.INLINE_FRAGMENT:
          if (!selection.typeCondition || selection.typeCondition.name.value === typeName)
            collect(selection.selectionSet);
          break;
        case Kind.FRAGMENT_SPREAD: {
          const fragment = fragments.get(selection.name.value);
          if (!fragment || visited.has(fragment.name.value)) break;
          visited.add(fragment.name.value);
          if (fragment.typeCondition.name.value === typeName) collect(fragment.selectionSet);
          break;
        }
      }
    }
  };
  for (const selectionSet of selectionSets) collect(selectionSet);
  return fields;
}

/** The value of a field's argument (literals and variables). */
export function argumentValue(field: FieldNode, name: string, variables: Record<string, unknown>): unknown {
  const argument = field.arguments?.find((candidate) => candidate.name.value === name);
  return argument ? valueFromASTUntyped(argument.value, variables) : undefined;
}

/** Selects every field of a type, recursively: what a caller who sees everything asks for. */
export function fullSelection(schema: GraphQLSchema, typeName: string): string {
  const type = schema.getType(typeName);
  if (!type || !isObjectType(type)) throw new Error(`${typeName} is not an object type`);
  const fields = Object.values(type.getFields()).map((field) => {
    const named = getNamedType(field.type);
    return isCompositeType(named) ? `${field.name} ${fullSelection(schema, named.name)}` : field.name;
  });
  return `{ ${fields.join(' ')} }`;
}

// ── The same operation, shaped for one subgraph ─────────────────────────────────────────────

export interface SubgraphOperationOptions {
  /** The API schema the operation was written against. */
  apiSchema: GraphQLSchema;
  /** The subgraph's schema (federation fields included). */
  subgraphSchema: GraphQLSchema;
  /** Whether the subgraph serves the `subject`/`subjects` roots itself; otherwise they become `_entities`. */
  ownsRoots: boolean;
  /** The subject codes `subjects(first: n)` returns: the first n of these. */
  subjectCodes: readonly string[];
  variables: Record<string, unknown>;
}

function stringValue(value: string): ValueNode {
  return { kind: Kind.STRING, value };
}

function representation(code: string): ValueNode {
  return {
    kind: Kind.OBJECT,
    fields: [
      { kind: Kind.OBJECT_FIELD, name: { kind: Kind.NAME, value: '__typename' }, value: stringValue('Subject') },
      { kind: Kind.OBJECT_FIELD, name: { kind: Kind.NAME, value: 'uscc' }, value: stringValue(code) },
    ],
  };
}

/** `subject(uscc: $code) { … }` as `subject: _entities(representations: [{…}]) { ... on Subject { … } }`. */
function rootsAsEntities(document: DocumentNode, options: SubgraphOperationOptions): DocumentNode {
  const typeInfo = new TypeInfo(options.apiSchema);
  return visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node): FieldNode | undefined {
        if (typeInfo.getParentType() !== options.apiSchema.getQueryType() || !node.selectionSet) return undefined;
        let codes: readonly string[];
        if (node.name.value === 'subject') codes = [String(argumentValue(node, 'uscc', options.variables))];
        else if (node.name.value === 'subjects')
          codes = options.subjectCodes.slice(0, Number(argumentValue(node, 'first', options.variables) ?? 20));
        else return undefined;
        return {
          kind: Kind.FIELD,
          alias: node.alias ?? { kind: Kind.NAME, value: node.name.value },
          name: { kind: Kind.NAME, value: '_entities' },
          arguments: [
            {
              kind: Kind.ARGUMENT,
              name: { kind: Kind.NAME, value: 'representations' },
              value: { kind: Kind.LIST, values: codes.map(representation) },
            },
          ],
          directives: node.directives ?? [],
          selectionSet: {
            kind: Kind.SELECTION_SET,
            selections: [
              {
                kind: Kind.INLINE_FRAGMENT,
                typeCondition: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: 'Subject' } },
                directives: [],
                selectionSet: node.selectionSet,
              },
            ],
          },
        };
      },
    }),
  );
}

const TYPENAME: FieldNode = { kind: Kind.FIELD, name: { kind: Kind.NAME, value: '__typename' } };

/** Names of fragments spread and variables used anywhere in `node`. */
function usages(node: ASTNode): { fragments: Set<string>; variables: Set<string> } {
  const fragments = new Set<string>();
  const variables = new Set<string>();
  visit(node, {
    FragmentSpread: (spread) => void fragments.add(spread.name.value),
    VariableDefinition: () => false,
    Variable: (variable) => void variables.add(variable.name.value),
  });
  return { fragments, variables };
}

/**
 * The part of an API operation one subgraph can answer, as a valid operation of that subgraph:
 * its roots as `_entities` where the subgraph does not own them, fields and fragments of types
 * the subgraph does not have removed, selection sets left empty given `__typename`, unused
 * fragments and variables dropped. Throws when the result does not validate.
 */
export function subgraphOperation(
  document: DocumentNode,
  options: SubgraphOperationOptions,
): { document: DocumentNode; text: string; variables: Record<string, unknown> } {
  const schema = options.subgraphSchema;
  let shaped = options.ownsRoots ? document : rootsAsEntities(document, options);
  const foreignFragments = new Set(
    shaped.definitions.flatMap((definition) =>
      definition.kind === Kind.FRAGMENT_DEFINITION && !isObjectType(schema.getType(definition.typeCondition.name.value))
        ? [definition.name.value]
        : [],
    ),
  );
  const typeInfo = new TypeInfo(schema);
  shaped = visit(
    shaped,
    visitWithTypeInfo(typeInfo, {
      FragmentDefinition: (node) => (foreignFragments.has(node.name.value) ? null : undefined),
      FragmentSpread: (node) => (foreignFragments.has(node.name.value) ? null : undefined),
      InlineFragment: (node) =>
        node.typeCondition && !isCompositeType(schema.getType(node.typeCondition.name.value)) ? null : undefined,
      Field(node) {
        if (node.name.value === '__typename') return undefined;
        const parent = typeInfo.getParentType();
        return parent && 'getFields' in parent && parent.getFields()[node.name.value] ? undefined : null;
      },
    }),
  );
  shaped = visit(shaped, {
    SelectionSet: { leave: (node) => (node.selections.length === 0 ? { ...node, selections: [TYPENAME] } : undefined) },
  });
  // Fragments used only by removed selections, and variables used only there, go too.
  const definitions = fragmentsOf(shaped);
  const used = new Set<string>();
  const pending = [...usages(operationOf(shaped)).fragments];
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    const fragment = definitions.get(name);
    if (used.has(name) || !fragment) continue;
    used.add(name);
    pending.push(...usages(fragment).fragments);
  }
  shaped = {
    ...shaped,
    definitions: shaped.definitions.filter(
      (definition) => definition.kind !== Kind.FRAGMENT_DEFINITION || used.has(definition.name.value),
    ),
  };
  const usedVariables = new Set<string>();
  for (const definition of shaped.definitions) for (const name of usages(definition).variables) usedVariables.add(name);
  shaped = visit(shaped, {
    VariableDefinition: (node) => (usedVariables.has(node.variable.name.value) ? undefined : null),
  });

  const errors = validate(schema, shaped);
  const text = print(shaped);
  if (errors.length > 0)
    throw new Error(
      `subgraph operation does not validate (${errors.map((error) => error.message).join('; ')}):\n${text}`,
    );
  const variables = Object.fromEntries(Object.entries(options.variables).filter(([name]) => usedVariables.has(name)));
  return { document: shaped, text, variables };
}
