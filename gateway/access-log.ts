/**
 * The access log's records of the gateway's requests: after execution, before the answer leaves. What the
 * request was (consumer, purpose, policy version, operation), what it was answered (fields per
 * type, denied and masked fields, the subjects it named, received or changed) and how it ended are
 * written to the access log (lib/access-log/writer.ts); only once the store has acknowledged the
 * record is the answer released. If the record cannot be written, the consumer gets
 * ACCESS_LOG_UNAVAILABLE (HTTP 503) and no data: an access that cannot be accounted for does not
 * happen.
 *
 * Every request after authentication leaves a record, also one refused or failed before or during
 * execution (validation, limits, purpose, rate, an internal error): the access-recording stage of
 * the pipeline (stages/access-recording.ts) records those the execution did not. The subjects are the union of the codes in the arguments, the codes in the answer,
 * and the codes the departments report having served or changed (stages/department-calls.ts): the
 * departments can add subjects to a record, never remove one.
 *
 * Requests refused by authentication (no verified identity) are not recorded here; they are in
 * the operator's log with the key id or the failed check.
 */
import type { GatewayExecutionResult } from '@apollo/server-gateway-interface';
import type { GraphQLError } from 'graphql';
import { Kind, visit, type DocumentNode, type ValueNode } from 'graphql';
import { codedError, ErrorCode, LimitCode } from '../lib/error-registry.ts';
import { KEY_FIELD } from '../lib/policy/decision/api-schema.ts';
import { selectOperation } from '../lib/policy/decision/operation-fields.ts';
import { fragmentsOf, walkSelections, type OperationWalker } from '../lib/graphql/operation-walk.ts';
import { documentHash } from '../lib/graphql/document-hash.ts';
import { MAX_CODE_LENGTH } from '../lib/access-log/served-subjects.ts';
import type { AccessEntry, AccessOutcome } from '../lib/access-log/record.ts';
import type { AccessLogWriter } from '../lib/access-log/writer.ts';
import type { FieldAccounting, PolicyVerdict } from './policy-check.ts';
import type { RequestIdentity } from './stages/stage.ts';
import { currentTraceId, SPANS, traced, TRACERS } from '../lib/observability/tracing.ts';

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
  /** The codes the departments reported having served or changed for this request. */
  servedSubjects: ReadonlySet<string>;
  startedAt: Date;
  durationMs: number;
}

export interface AccessRecorder {
  /** The answer to release: the result once recorded, or ACCESS_LOG_UNAVAILABLE without data. */
  record(request: ExecutedRequest): Promise<GatewayExecutionResult>;
  /** Records a request that was refused or failed without being executed; false when the record could not be written. */
  recordRefused(request: RefusedRequest): Promise<boolean>;
}

/** A request refused or failed after authentication, before or instead of its execution. */
export interface RefusedRequest {
  identity: Pick<RequestIdentity, 'requestId' | 'purpose'> & { consumer: { id: string }; policy: { version: string } };
  operationName: string | null;
  /** The operation text as received (its SHA-256 is recorded), if there was one. */
  source: string | undefined;
  /** The parsed operation, when it was parsed: the subjects its arguments name are recorded. */
  document?: DocumentNode | undefined;
  variables?: Record<string, unknown> | undefined;
  errors: readonly { extensions?: Readonly<Record<string, unknown>> | undefined }[];
  startedAt: Date;
}

/** Argument and input keys that name a subject. */
const SUBJECT_KEYS = new Set([KEY_FIELD.fieldName, 'subject']);

/** Refusals (the request was not allowed), as opposed to failures: recorded as REJECTED. */
const REFUSAL_CODES = new Set<string>([
  ...Object.values(LimitCode),
  ErrorCode.FORBIDDEN,
  ErrorCode.RATE_LIMITED,
  ErrorCode.QUOTA_EXCEEDED,
  ErrorCode.OPERATION_NOT_REGISTERED,
  ErrorCode.VARIABLES_TOO_DEEP,
  ErrorCode.PURPOSE_NOT_ALLOWED,
]);

function addCode(codes: Set<string>, key: string | undefined, value: unknown): void {
  if (key !== undefined && SUBJECT_KEYS.has(key) && typeof value === 'string' && value.length <= MAX_CODE_LENGTH)
    codes.add(value);
}

/** The codes in a variable's value, walked with a stack of its own: a value nested however deep cannot overflow the call stack. */
function codesInValue(codes: Set<string>, value: unknown, key: string | undefined): void {
  const pending: [unknown, string | undefined][] = [[value, key]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [item, itemKey] = next;
    if (Array.isArray(item)) for (const element of item) pending.push([element, itemKey]);
    else if (item !== null && typeof item === 'object')
      for (const [name, field] of Object.entries(item)) pending.push([field, name]);
    else addCode(codes, itemKey, item);
  }
}

/** What a document's arguments say about subjects: the codes written in it, and the variables read under each key. */
interface SubjectArguments {
  literals: Set<string>;
  variables: [name: string, key: string][];
}

/** The subject arguments of one argument's value (literals, variables, lists and input objects), walked with a stack of its own. */
function readArgument(found: SubjectArguments, node: ValueNode, key: string): void {
  const pending: [ValueNode, string][] = [[node, key]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [value, valueKey] = next;
    if (value.kind === Kind.STRING) addCode(found.literals, valueKey, value.value);
    else if (value.kind === Kind.VARIABLE) found.variables.push([value.name.value, valueKey]);
    else if (value.kind === Kind.LIST) for (const item of value.values) pending.push([item, valueKey]);
    else if (value.kind === Kind.OBJECT)
      for (const field of value.fields) pending.push([field.value, field.name.value]);
  }
}

/** Per document (Apollo Server and the gateway reuse the parsed document of a repeated operation), read once. */
const subjectArgumentsCache = new WeakMap<DocumentNode, SubjectArguments>();

/**
 * The codes every argument of the document names (`uscc`, `subject`, at any depth of an input):
 * graphql-js's `visit` walks the document without recursion, and fragments are read where they
 * are defined, not expanded where they are spread. What the document says is read once per
 * document; only the variables are read per request.
 */
export function argumentSubjects(document: DocumentNode, variables: Record<string, unknown> | undefined): Set<string> {
  let found = subjectArgumentsCache.get(document);
  if (!found) {
    const read: SubjectArguments = { literals: new Set(), variables: [] };
    visit(document, {
      Argument: (argument) => {
        readArgument(read, argument.value, argument.name.value);
        return false;
      },
    });
    found = read;
    subjectArgumentsCache.set(document, found);
  }
  const codes = new Set(found.literals);
  for (const [name, key] of found.variables) codesInValue(codes, variables?.[name], key);
  return codes;
}

/** Appends the objects of a value of the answer to `level`, list items one by one (lists of lists flattened; nulls left out). */
function addToLevel(level: unknown[], value: unknown): void {
  if (Array.isArray(value)) for (const item of value) addToLevel(level, item);
  else if (value !== null && typeof value === 'object') level.push(value);
}

/**
 * The subjects a request touched: codes in its arguments (`uscc`, `subject`, at any depth of an
 * input) and every `uscc` field of its answer, read through the operation so that aliases can
 * neither hide a code nor pass something else off as one.
 *
 * The answer is walked a level at a time: a selection set is applied to every value at its level
 * at once (all items of a list together). A selection set reached only through empty lists or
 * nulls is not read at all; the answer is no deeper than the operation, which passed the depth
 * limit.
 */
export function touchedSubjects(
  document: DocumentNode,
  operationName: string | undefined,
  variables: Record<string, unknown> | undefined,
  data: unknown,
): string[] {
  const codes = argumentSubjects(document, variables);
  // Each selection set is applied to the answer's objects at its level (fragments expand in place).
  const walker: OperationWalker<unknown[]> = {
    fragments: fragmentsOf(document),
    field: (selection, _parent, _definition, level) => {
      const responseKey = selection.alias?.value ?? selection.name.value;
      const isCode = selection.name.value === KEY_FIELD.fieldName;
      const below: unknown[] = [];
      for (const value of level) {
        const answered = (value as Record<string, unknown>)[responseKey];
        if (isCode) addCode(codes, KEY_FIELD.fieldName, answered);
        if (selection.selectionSet) addToLevel(below, answered);
      }
      return below.length > 0 ? below : undefined;
    },
  };
  const root: unknown[] = [];
  addToLevel(root, data);
  if (root.length > 0) walkSelections(walker, selectOperation(document, operationName).selectionSet, undefined, root);
  return [...codes].sort();
}

/** The codes of the errors of an answer, sorted, each once. */
function errorCodesOf(
  errors: readonly { extensions?: Readonly<Record<string, unknown>> | undefined }[] | undefined,
): string[] {
  const codes = new Set<string>();
  for (const error of errors ?? []) {
    const code = error.extensions?.code;
    if (typeof code === 'string') codes.add(code);
  }
  return [...codes].sort();
}

function outcomeOf(verdict: PolicyVerdict | null, result: GatewayExecutionResult): AccessOutcome {
  if (verdict?.kind === 'rejected') return 'REJECTED';
  const hasData = result.data !== null && result.data !== undefined && Object.keys(result.data).length > 0;
  const hasErrors = (result.errors?.length ?? 0) > 0;
  if (!hasData) return 'FAILED';
  return hasErrors ? 'PARTIAL' : 'ANSWERED';
}

export function accessLogUnavailableError(): GraphQLError {
  return codedError(ErrorCode.ACCESS_LOG_UNAVAILABLE);
}

export function accessLogUnavailable(): GatewayExecutionResult {
  return { errors: [accessLogUnavailableError()] };
}

/** The request's trace id, where it is traced: the record names it, joining the trace to the access log (absent, not null, otherwise). */
function traceIdField(): { traceId?: string } {
  const traceId = currentTraceId();
  return traceId ? { traceId } : {};
}

export function createAccessRecorder(writer: AccessLogWriter): AccessRecorder {
  // With tracing on, each write in a span of its own (the group commit it joins is the writer's).
  const append = traced(TRACERS.gateway, SPANS.accessLogWrite, (entry: AccessEntry) => writer.append(entry), {
    failure: ErrorCode.ACCESS_LOG_UNAVAILABLE,
  });
  return {
    async record(request) {
      const { identity, result, fields } = request;
      const subjects = touchedSubjects(request.answeredDocument, request.operationName, request.variables, result.data);
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
        subjects:
          request.servedSubjects.size > 0 ? [...new Set([...subjects, ...request.servedSubjects])].sort() : subjects,
        deniedFields: fields.denied,
        maskedFields: fields.masked,
        errorCodes: errorCodesOf(result.errors),
        durationMs: Math.round(request.durationMs),
        ...traceIdField(),
      };
      try {
        await append(entry);
        return result;
      } catch {
        // The writer has logged why; the consumer learns only that nothing is released.
        return accessLogUnavailable();
      }
    },
    async recordRefused(request) {
      const errorCodes = errorCodesOf(request.errors);
      const subjects = request.document ? [...argumentSubjects(request.document, request.variables)].sort() : [];
      const entry: AccessEntry = {
        at: request.startedAt,
        requestId: request.identity.requestId,
        consumer: request.identity.consumer.id,
        purpose: request.identity.purpose,
        policyVersion: request.identity.policy.version,
        operationName: request.operationName,
        operationHash: documentHash(request.source ?? ''),
        outcome: errorCodes.some((code) => REFUSAL_CODES.has(code)) ? 'REJECTED' : 'FAILED',
        fields: [],
        subjects,
        deniedFields: [],
        maskedFields: [],
        errorCodes,
        durationMs: Date.now() - request.startedAt.getTime(),
        ...traceIdField(),
      };
      try {
        await append(entry);
        return true;
      } catch {
        return false;
      }
    },
  };
}
