/**
 * Operation limits: what one operation may ask of the federation, decided before the policy
 * check and before any department is called. Two checks:
 *
 * - on the source text, before it is parsed: its size in bytes and its number of lexical tokens
 *   (counted by graphql-js's own lexer, stopping at the limit, so a huge document costs no more
 *   than the limit to refuse);
 * - on the parsed, validated operation: depth, aliases, root fields and estimated cost, in one
 *   walk that expands fragments and stops at the first limit exceeded. Every field costs 1 for
 *   each item of the lists it sits in (a list counts its `first`/`limit` argument, else the
 *   default list size), so the walk itself visits at most `cost` fields: a fragment bomb is
 *   refused after a bounded amount of work, never expanded.
 *
 * Each refusal is a GraphQL error with its own code and the limit in `extensions.limit`.
 */
import type { GraphQLError } from 'graphql';
import {
  Kind,
  Lexer,
  Source,
  TokenKind,
  getNullableType,
  isListType,
  type DocumentNode,
  type FieldNode,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ValueNode,
} from 'graphql';
import { codedError, LimitCode } from '../lib/error-registry.ts';
import { fragmentsOf, walkSelections, type OperationWalker } from '../lib/graphql/operation-walk.ts';
import type { ConsumerLimits } from '../lib/policy/decision/model.ts';

export type Limits = Readonly<Required<ConsumerLimits>>;

export interface LimitViolation {
  code: LimitCode;
  message: string;
  limit: number;
}

/** The limits of a consumer: its own where its policy entry sets them, the defaults elsewhere. */
export function limitsFor(consumerLimits: ConsumerLimits | undefined, defaults: Limits): Limits {
  return { ...defaults, ...consumerLimits };
}

/** Lexical tokens of a document, counted up to `max + 1` (enough to know it is too many). */
function countTokens(source: string, max: number): number {
  const lexer = new Lexer(new Source(source));
  let count = 0;
  try {
    while (lexer.advance().kind !== TokenKind.EOF && count <= max) count += 1;
  } catch {
    // A syntax error: the parser reports it with its own code.
  }
  return count;
}

/** Size and tokens of the source text, before it is parsed. */
export function checkSourceLimits(source: string, limits: Limits): LimitViolation | undefined {
  if (Buffer.byteLength(source) > limits.documentBytes) {
    return {
      code: LimitCode.DOCUMENT_TOO_LARGE,
      limit: limits.documentBytes,
      message: `The document is larger than ${limits.documentBytes} bytes.`,
    };
  }
  if (countTokens(source, limits.tokens) > limits.tokens) {
    return {
      code: LimitCode.TOO_MANY_TOKENS,
      limit: limits.tokens,
      message: `The document has more than ${limits.tokens} tokens.`,
    };
  }
  return undefined;
}

const LIST_SIZE_ARGUMENTS = new Set(['first', 'limit']);

/** Items a list field is counted as: its `first`/`limit` (literal, variable or declared default), else the default. */
function listSize(
  field: FieldNode,
  definition: GraphQLField<unknown, unknown> | undefined,
  variables: Readonly<Record<string, unknown>>,
  defaultListSize: number,
): number {
  const numberOf = (value: ValueNode | undefined): number | undefined => {
    if (value?.kind === Kind.INT) return Number.parseInt(value.value, 10);
    if (value?.kind === Kind.VARIABLE) {
      const variable = variables[value.name.value];
      return typeof variable === 'number' ? variable : undefined;
    }
    return undefined;
  };
  for (const argument of field.arguments ?? []) {
    if (!LIST_SIZE_ARGUMENTS.has(argument.name.value)) continue;
    const size = numberOf(argument.value);
    if (size !== undefined) return Math.max(1, size);
  }
  const declared = definition?.args.find((argument) => LIST_SIZE_ARGUMENTS.has(argument.name))?.defaultValue;
  return typeof declared === 'number' ? Math.max(1, declared) : defaultListSize;
}

class LimitExceeded extends Error {
  readonly violation: LimitViolation;
  constructor(violation: LimitViolation) {
    super(violation.message);
    this.violation = violation;
  }
}

export interface OperationToCheck {
  schema: GraphQLSchema;
  /** The document the operation is in (its fragments). */
  document: DocumentNode;
  /** The operation to be executed, as Apollo Server resolved it. */
  operation: OperationDefinitionNode;
  variables?: Readonly<Record<string, unknown>> | undefined;
}

/** Depth, aliases, root fields and cost of the operation to be executed; the first limit exceeded, if any. */
export function checkOperationLimits(
  operation: OperationToCheck,
  limits: Limits,
  defaultListSize: number,
): LimitViolation | undefined {
  const { schema, document, operation: definition } = operation;
  const variables = operation.variables ?? {};
  const rootType = schema.getRootType(definition.operation);
  if (!rootType) return undefined;

  let aliases = 0;
  let rootFields = 0;
  let cost = 0;
  const exceed = (code: LimitCode, limit: number, message: string): never => {
    throw new LimitExceeded({ code, limit, message });
  };

  // Each selection set is walked knowing its depth and the items each of its fields is counted for.
  const walker: OperationWalker<{ depth: number; multiplier: number }> = {
    schema,
    fragments: fragmentsOf(document),
    field: (selection, _parent, fieldDefinition, { depth, multiplier }) => {
      const fieldDepth = depth + 1;
      if (fieldDepth > limits.depth)
        exceed(LimitCode.QUERY_TOO_DEEP, limits.depth, `The operation is nested deeper than ${limits.depth} levels.`);
      if (selection.alias && ++aliases > limits.aliases)
        exceed(LimitCode.TOO_MANY_ALIASES, limits.aliases, `The operation has more than ${limits.aliases} aliases.`);
      if (depth === 0 && ++rootFields > limits.rootFields) {
        exceed(
          LimitCode.TOO_MANY_ROOT_FIELDS,
          limits.rootFields,
          `The operation selects more than ${limits.rootFields} root fields.`,
        );
      }
      cost += multiplier;
      if (cost > limits.cost)
        exceed(
          LimitCode.QUERY_TOO_COMPLEX,
          limits.cost,
          `The operation's estimated cost is above ${limits.cost}; ask for fewer items or fields.`,
        );
      if (!selection.selectionSet) return undefined;
      const items =
        fieldDefinition && isListType(getNullableType(fieldDefinition.type))
          ? listSize(selection, fieldDefinition, variables, defaultListSize)
          : 1;
      return { depth: fieldDepth, multiplier: multiplier * items };
    },
  };

  try {
    walkSelections(walker, definition.selectionSet, rootType, { depth: 0, multiplier: 1 });
  } catch (error) {
    if (error instanceof LimitExceeded) return error.violation;
    throw error;
  }
  return undefined;
}

export function limitError(violation: LimitViolation): GraphQLError {
  return codedError(violation.code, violation.message, { limit: violation.limit });
}
