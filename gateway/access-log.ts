/**
 * The access-log stage of the pipeline: after execution, before the answer leaves. What the
 * request was (consumer, purpose, policy version, operation), what it was answered (fields per
 * type, denied and masked fields, the subjects it named or received) and how it ended are written
 * to the access log (lib/access-log/writer.ts); only once the store has acknowledged the record is
 * the answer released. If the record cannot be written, the consumer gets ACCESS_LOG_UNAVAILABLE
 * (HTTP 503) and no data: an access that cannot be accounted for does not happen.
 *
 * Requests refused before execution by authentication (no verified identity) are not recorded
 * here; they are in the operator's log with the key id or the failed check.
 */
import type { GatewayExecutionResult } from '@apollo/server-gateway-interface';
import {
  GraphQLError, Kind,
  type DocumentNode, type FragmentDefinitionNode, type SelectionSetNode, type ValueNode,
} from 'graphql';
import { ErrorCode } from '../lib/errors.ts';
import { KEY_FIELD } from '../lib/policy/api-schema.ts';
import { selectOperation } from '../lib/policy/operation-fields.ts';
import type { AccessEntry, AccessOutcome } from '../lib/access-log/record.ts';
import type { AccessLogWriter } from '../lib/access-log/writer.ts';
import type { FieldAccounting, PolicyVerdict } from './policy-check.ts';
import type { RequestIdentity } from './policy-gateway.ts';

/** One executed request, as the policy stage saw it. */
export interface ExecutedRequest {
  /** The operation as executed, whose answer `result` is (with every subject's code selected). */
  answeredDocument: DocumentNode;
  operationName: string | undefined;
  /** SHA-256 of the operation text (Apollo Server's query hash). */
  queryHash: string;
  variables: Record<string, unknown> | undefined;
  identity: RequestIdentity;
  /** null for introspection, answered from the consumer's own schema. */
  verdict: PolicyVerdict | null;
  /** The fields answered, denied and masked, as decided with the verdict (and cached with it). */
  fields: FieldAccounting;
  result: GatewayExecutionResult;
  startedAt: Date;
  durationMs: number;
}

export interface AccessRecorder {
  /** The answer to release: the result once recorded, or ACCESS_LOG_UNAVAILABLE without data. */
  record(request: ExecutedRequest): Promise<GatewayExecutionResult>;
}

/** Argument and input keys that name a subject. */
const SUBJECT_KEYS = new Set([KEY_FIELD.fieldName, 'subject']);
/** A code is 18 characters; anything much longer is not one and is not copied into the log. */
const MAX_CODE_LENGTH = 32;

function addCode(codes: Set<string>, key: string | undefined, value: unknown): void {
  if (key !== undefined && SUBJECT_KEYS.has(key) && typeof value === 'string' && value.length <= MAX_CODE_LENGTH) codes.add(value);
}

function codesInValue(codes: Set<string>, value: unknown, key: string | undefined): void {
  if (Array.isArray(value)) for (const item of value) codesInValue(codes, item, key);
  else if (value !== null && typeof value === 'object') for (const [name, item] of Object.entries(value)) codesInValue(codes, item, name);
  else addCode(codes, key, value);
}

function codesInArgument(codes: Set<string>, node: ValueNode, key: string, variables: Record<string, unknown>): void {
  switch (node.kind) {
    case Kind.STRING: return addCode(codes, key, node.value);
    case Kind.VARIABLE: return codesInValue(codes, variables[node.name.value], key);
    case Kind.LIST: return node.values.forEach((item) => codesInArgument(codes, item, key, variables));
    case Kind.OBJECT: return node.fields.forEach((field) => codesInArgument(codes, field.value, field.name.value, variables));
    default: return undefined;
  }
}

/** Appends a value of the answer to `level`, list items one by one (lists of lists flattened). */
function addToLevel(level: unknown[], value: unknown): void {
  if (Array.isArray(value)) for (const item of value) addToLevel(level, item);
  else level.push(value);
}

/**
 * The subjects a request touched: codes in its arguments (`uscc`, `subject`, at any depth of an
 * input) and every `uscc` field of its answer, read through the operation so that aliases can
 * neither hide a code nor pass something else off as one.
 *
 * The answer is walked a level at a time: a selection set is applied to every value at its level
 * at once (all items of a list together), so each field's arguments are read once, however many
 * items there are. A selection set reached only through empty lists is not read at all.
 */
export function touchedSubjects(document: DocumentNode, operationName: string | undefined, variables: Record<string, unknown> | undefined, data: unknown): string[] {
  const codes = new Set<string>();
  const variableValues = variables ?? {};
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  // The fragments being expanded on the way down to the current selection set.
  const active = new Set<string>();
  const walk = (selectionSet: SelectionSetNode, level: readonly unknown[]): void => {
    if (level.length === 0) return;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        for (const argument of selection.arguments ?? []) codesInArgument(codes, argument.value, argument.name.value, variableValues);
        const responseKey = selection.alias?.value ?? selection.name.value;
        const isCode = selection.name.value === KEY_FIELD.fieldName;
        const below: unknown[] = [];
        for (const value of level) {
          const answered = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[responseKey] : undefined;
          if (isCode) addCode(codes, KEY_FIELD.fieldName, answered);
          if (selection.selectionSet) addToLevel(below, answered);
        }
        if (selection.selectionSet) walk(selection.selectionSet, below);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        walk(selection.selectionSet, level);
      } else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (!fragment || active.has(name)) continue;
        active.add(name);
        walk(fragment.selectionSet, level);
        active.delete(name);
      }
    }
  };
  const root: unknown[] = [];
  addToLevel(root, data);
  walk(selectOperation(document, operationName).selectionSet, root);
  return [...codes].sort();
}

function outcomeOf(verdict: PolicyVerdict | null, result: GatewayExecutionResult): AccessOutcome {
  if (verdict?.kind === 'rejected') return 'REJECTED';
  const hasData = result.data !== null && result.data !== undefined && Object.keys(result.data).length > 0;
  const hasErrors = (result.errors?.length ?? 0) > 0;
  if (!hasData) return 'FAILED';
  return hasErrors ? 'PARTIAL' : 'ANSWERED';
}

export function accessLogUnavailable(): GatewayExecutionResult {
  return {
    errors: [new GraphQLError('The access log cannot be written at the moment, so no data is released. Retry shortly.', {
      extensions: { code: ErrorCode.ACCESS_LOG_UNAVAILABLE, http: { status: 503 } },
    })],
  };
}

export function createAccessRecorder(writer: AccessLogWriter): AccessRecorder {
  return {
    async record(request) {
      const { identity, result, fields } = request;
      const entry: AccessEntry = {
        at: request.startedAt,
        requestId: identity.requestId,
        consumer: identity.consumer.id,
        purpose: identity.purpose,
        policyVersion: identity.policy.version,
        operationName: request.operationName ?? null,
        operationHash: request.queryHash,
        outcome: outcomeOf(request.verdict, result),
        fields: fields.fields,
        subjects: touchedSubjects(request.answeredDocument, request.operationName, request.variables, result.data),
        deniedFields: fields.denied,
        maskedFields: fields.masked,
        durationMs: Math.round(request.durationMs),
      };
      try {
        await writer.append(entry);
        return result;
      } catch {
        // The writer has logged why; the consumer learns only that nothing is released.
        return accessLogUnavailable();
      }
    },
  };
}
