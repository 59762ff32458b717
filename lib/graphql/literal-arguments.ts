/**
 * Literal arguments as variables. Partners often write the subject's code into the text of the
 * operation (`subject(uscc: "91…")`), so every request is a new document: planned afresh by the
 * gateway, parsed and validated afresh by each department. Here the literal scalar arguments of
 * fields become variables of the operation, so that requests differing only in those values
 * share one document shape, one policy decision, one query plan and one subgraph text per
 * department.
 *
 * Only what cannot change meaning is moved: a field's argument whose value is a scalar literal
 * (string, integer, float, boolean) of a built-in scalar type, declared with the argument's own
 * type; a built-in scalar coerces a variable's JSON value exactly as it coerces the literal.
 * Directive arguments (`@skip`, `@include`) stay, as do enums, lists, input objects and custom
 * scalars (whose literal and value coercions may differ). Documents with more than one operation
 * are left as they are: a fragment shared by two operations would need the variables in both.
 */
import {
  getNamedType,
  isSpecifiedScalarType,
  Kind,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type ArgumentNode,
  type DocumentNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ValueNode,
  type VariableDefinitionNode,
} from 'graphql';
import { parseType } from 'graphql';

/** An operation with its scalar literals moved into variables. */
export interface HoistedLiterals {
  /** The operation with `$<name>` where each literal stood, and a definition for each. */
  document: DocumentNode;
  /** The literals' values, by the names of their new variables. */
  values: Record<string, unknown>;
}

const VARIABLE_BASE = 'credenceLiteral';

/** The JSON value a variable needs to coerce as the literal did, or undefined for a literal that stays. */
function scalarValue(value: ValueNode): unknown {
  switch (value.kind) {
    case Kind.STRING:
      return value.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(value.value);
    case Kind.BOOLEAN:
      return value.value;
    default:
      return undefined;
  }
}

/** The variable names the document uses, so that the new ones can avoid them. */
function usedVariableNames(document: DocumentNode): Set<string> {
  const used = new Set<string>();
  visit(document, { Variable: (node) => void used.add(node.name.value) });
  return used;
}

/**
 * The document with its fields' scalar literals as variables, or null when it has none (or more
 * than one operation). The document must be valid against `schema`.
 */
export function hoistLiterals(schema: GraphQLSchema, document: DocumentNode): HoistedLiterals | null {
  const operations = document.definitions.filter((definition) => definition.kind === Kind.OPERATION_DEFINITION);
  if (operations.length !== 1) return null;
  const used = usedVariableNames(document);
  let next = 0;
  const freshName = (): string => {
    let name = `${VARIABLE_BASE}${next++}`;
    while (used.has(name)) name = `${VARIABLE_BASE}${next++}`;
    return name;
  };
  const values: Record<string, unknown> = {};
  const definitions: VariableDefinitionNode[] = [];
  const byLiteral = new Map<string, string>();
  const typeInfo = new TypeInfo(schema);
  let inDirective = 0;
  const hoisted = visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Directive: { enter: () => void inDirective++, leave: () => void inDirective-- },
      Argument: {
        leave(node: ArgumentNode): ArgumentNode | undefined {
          if (inDirective > 0) return undefined;
          const argument = typeInfo.getArgument();
          const value = scalarValue(node.value);
          if (!argument || value === undefined || !isSpecifiedScalarType(getNamedType(argument.type))) return undefined;
          // One variable per distinct literal: two fields merged under one response key must
          // still have the same arguments after the move, or the operation would no longer be valid.
          const typeName = String(argument.type);
          const literal = `${typeName}|${node.value.kind}|${String(value)}`;
          let name = byLiteral.get(literal);
          if (name === undefined) {
            name = freshName();
            byLiteral.set(literal, name);
            values[name] = value;
            definitions.push({
              kind: Kind.VARIABLE_DEFINITION,
              variable: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: name } },
              type: parseType(typeName, { noLocation: true }),
            });
          }
          return { ...node, value: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: name } } };
        },
      },
    }),
  );
  if (definitions.length === 0) return null;
  return {
    document: {
      ...hoisted,
      definitions: hoisted.definitions.map((definition) =>
        definition.kind === Kind.OPERATION_DEFINITION
          ? ({
              ...definition,
              variableDefinitions: [...(definition.variableDefinitions ?? []), ...definitions],
            } satisfies OperationDefinitionNode)
          : definition,
      ),
    },
    values,
  };
}
