/**
 * The gateway's policy check, before planning: what an operation asks for, set against what the
 * consumer may see under the declared purpose. In `reject` mode an operation with a denied field
 * is refused with the list of them; in `filter` mode the denied fields are cut out of the
 * document, so no department is ever asked for them, and answered as null with a FORBIDDEN error
 * at their path.
 *
 * A check depends only on (policy version, consumer view, operation), so it is computed once and
 * cached: a partner's repeated operation costs a map lookup.
 */
import {
  Kind,
  TypeInfo,
  print,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type FieldNode,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import type { ConsumerView } from '../lib/policy/decision/model.ts';
import { collectRequestedFields, type RequestedField } from '../lib/policy/decision/operation-fields.ts';
import { unusedAlias } from './added-selections.ts';
import { forEachAtPath } from '../lib/graphql/answer-walk.ts';
import { documentHash } from '../lib/graphql/document-hash.ts';
import { ErrorCode } from '../lib/error-registry.ts';

/** A denied selection: `Type.field` and where it sits in the response (`@` for list items). */
export interface DeniedSelection {
  coordinate: string;
  path: readonly string[];
}

/** What the access log records of an operation: `Type.field` answered, denied and masked, each sorted. */
export interface FieldAccounting {
  fields: string[];
  denied: string[];
  masked: string[];
}

export type PolicyVerdict = (
  | { kind: 'allowed' }
  /** Refused whole: the denied fields are `fields.denied`. */
  | { kind: 'rejected' }
  | {
      kind: 'filtered';
      denied: readonly DeniedSelection[];
      /** The document without the denied fields, or null when nothing is left to ask for. */
      document: DocumentNode | null;
      queryHash: string;
      /** The alias of the placeholders the filter selected (unused by the operation itself). */
      placeholder: string;
    }
) & {
  /** What the operation is answered under this verdict, for the access log (nothing, when rejected). */
  fields: FieldAccounting;
};

/** Selected in place of a selection set the filter emptied, so the document stays valid; removed from the answer. */
const PLACEHOLDER_ALIAS = '__credence_filtered';

const ALWAYS_ALLOWED = new Set(['__typename', '__schema', '__type']);

const sortedUnique = (values: Iterable<string>): string[] => [...new Set(values)].sort();

/** The view's decision on every requested field: the denied selections, and what the access log records. */
function decideFields(
  requested: readonly RequestedField[],
  view: ConsumerView,
): { denied: DeniedSelection[]; fields: FieldAccounting } {
  const denied: DeniedSelection[] = [];
  const answered: string[] = [];
  const masked: string[] = [];
  for (const { typeName, fieldName, path } of requested) {
    // Names starting with `__` are introspection's (GraphQL reserves them): no policy decides them.
    if (fieldName.startsWith('__')) continue;
    const coordinate = `${typeName}.${fieldName}`;
    const { effect } = view.field(typeName, fieldName);
    if (effect === 'deny') denied.push({ coordinate, path });
    else answered.push(coordinate);
    if (effect === 'mask') masked.push(coordinate);
  }
  return {
    denied,
    fields: {
      fields: sortedUnique(answered),
      denied: sortedUnique(denied.map(({ coordinate }) => coordinate)),
      masked: sortedUnique(masked),
    },
  };
}

/** What the access log records of an operation the policy check does not decide (introspection). */
export function accountFields(requested: readonly RequestedField[], view: ConsumerView): FieldAccounting {
  return decideFields(requested, view).fields;
}

/** Removes denied fields; a selection set left empty gets the placeholder so the document stays valid. */
function withoutDeniedFields(
  schema: GraphQLSchema,
  document: DocumentNode,
  view: ConsumerView,
  alias: string,
): DocumentNode {
  const placeholder: FieldNode = {
    kind: Kind.FIELD,
    alias: { kind: Kind.NAME, value: alias },
    name: { kind: Kind.NAME, value: '__typename' },
  };
  const typeInfo = new TypeInfo(schema);
  const filtered = visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const parent = typeInfo.getParentType();
        if (!parent || ALWAYS_ALLOWED.has(node.name.value)) return undefined;
        return view.field(parent.name, node.name.value).effect === 'deny' ? null : undefined;
      },
    }),
  );
  return visit(filtered, {
    SelectionSet: {
      leave(node: SelectionSetNode): SelectionSetNode | undefined {
        return node.selections.length === 0 ? { ...node, selections: [placeholder] } : undefined;
      },
    },
  });
}

function rootIsEmpty(document: DocumentNode, alias: string): boolean {
  return document.definitions.every(
    (definition) =>
      definition.kind !== Kind.OPERATION_DEFINITION ||
      definition.selectionSet.selections.every(
        (selection) => selection.kind === Kind.FIELD && selection.alias?.value === alias,
      ),
  );
}

export function checkOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | undefined,
  view: ConsumerView,
  mode: 'reject' | 'filter',
  requested: readonly RequestedField[] = collectRequestedFields(schema, document, operationName),
): PolicyVerdict {
  const { denied, fields } = decideFields(requested, view);
  if (denied.length === 0) return { kind: 'allowed', fields };
  if (mode === 'reject') return { kind: 'rejected', fields: { fields: [], denied: fields.denied, masked: [] } };
  const placeholder = unusedAlias(document, PLACEHOLDER_ALIAS);
  const filtered = withoutDeniedFields(schema, document, view, placeholder);
  const text = print(filtered);
  return {
    kind: 'filtered',
    denied,
    document: rootIsEmpty(filtered, placeholder) ? null : filtered,
    queryHash: documentHash(text),
    placeholder,
    fields,
  };
}

/** At most this many FORBIDDEN errors per answer: a denied field in a long list would repeat. */
const MAX_FORBIDDEN_ERRORS = 100;

export interface ForbiddenError {
  message: string;
  path: (string | number)[];
  extensions: { code: typeof ErrorCode.FORBIDDEN; field: string; purpose: string };
}

/**
 * Puts the denied fields back into the answer as null, with a FORBIDDEN error at each concrete
 * path, naming the purpose that denied it (another purpose of the consumer may allow it). The filter's
 * placeholders go with the gateway's other added selections (stages/strip-added.ts).
 */
export function restoreDeniedFields(
  data: Record<string, unknown> | null | undefined,
  denied: readonly DeniedSelection[],
  purpose: string,
): ForbiddenError[] {
  const errors: ForbiddenError[] = [];
  if (!data) return errors;
  for (const { coordinate, path } of denied) {
    forEachAtPath(data, path, (holder, key, at) => {
      holder[key] = null;
      if (errors.length < MAX_FORBIDDEN_ERRORS) {
        errors.push({
          message: `You are not allowed to see ${coordinate} for purpose ${purpose}.`,
          path: [...at],
          extensions: { code: ErrorCode.FORBIDDEN, field: coordinate, purpose },
        });
      }
    });
  }
  return errors;
}
