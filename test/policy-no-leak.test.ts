/**
 * Acceptance test of the privacy policy: **no leak**.
 *
 * fast-check generates valid operations from the API schema (test/support/operations.ts):
 * aliases, named and inline fragments, `@include`/`@skip` on literals and Boolean variables,
 * `subject(uscc: $code)` on seeded subjects and `subjects(first: N)`. Each goes to the gateway as
 * one consumer and purpose of the policy in force (all of them, the test inspector included, and
 * now and then a purpose the consumer does not have); half of them also go straight to one
 * department's subgraph, with a bad credential or a valid assertion.
 *
 * The oracle. Ground truth is what the test inspector (every field, every record, no mask) gets
 * for each seeded subject, fetched once before the run and checked against the store (read with
 * the driver) and the seed generator. An answer is read alongside its operation (response keys
 * with aliases, fragments, and `@skip`/`@include` decided with the variables, as GraphQL
 * execution collects fields) and every value is set against what the hand-written access matrix
 * (test/oracle/access-matrix.yaml, not the compiled policy, which is what is tested) says that
 * consumer sees under that purpose, and against the truth:
 *  - a denied field is null, never a value;
 *  - a masked field is in masked form (masking it again, as the matrix describes the mask,
 *    changes nothing: false for a raw ID number, phone or name) and is the mask of the true value;
 *  - a record list holds exactly the true records the record rule lets through: each returned
 *    record must match, field by field, a distinct record the matrix's rule shows (decided
 *    at the moment before the request and the moment after, so a disclosure window closing
 *    mid-request cannot fail the test); one that matches only a hidden record, or more records
 *    than the rule lets through, is a leak. Matching on content rather than position is sound
 *    whatever order records of equal dates come in, and needs no identifying field selected;
 *  - every other value is the true value (so lost data is caught too, as a "wrong" answer).
 * Around the data: in reject mode an operation with a denied field anywhere (also under `@skip`:
 * counted conservatively, by the test's own walk of the operation) gets no data and a FORBIDDEN error listing exactly the
 * denied fields; in filter mode each denied selection is null wherever it sits in the answer,
 * with a FORBIDDEN error at that path and no other error; an undeclared purpose gets 403; no
 * answer carries a stack trace.
 * Straight to a subgraph (the operation cut down to what that subgraph serves: its own roots, or
 * `_entities` for Subject): without an assertion, with a forged one (its own key, or the
 * gateway's key id), a tampered, an expired one, one for a purpose or consumer the policy does
 * not allow, one under an unknown policy version, or forged identity headers, the answer is
 * 401/403/503 with no data and none of the subject's values. With a valid assertion the subgraph
 * enforces the policy by itself: a denied field refuses the whole operation, else the oracle above.
 *
 * Two Apollo gateway defects are not excused: an object whose every field is skipped must come
 * back `{}`, as GraphQL says (gateway/skip-guards.ts), and a field aliased like the entity key
 * `uscc` must keep its own value (gateway/key-aliases.ts).
 *
 * Failures print the fast-check seed and path and, per failing case, the consumer, purpose,
 * operation, variables and answer. Replay with NO_LEAK_SEED=<seed> (add NO_LEAK_PATH=<path> to
 * go straight to the shrunk case); NO_LEAK_OPERATIONS=<n> runs fewer or more operations.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import {
  getNamedType,
  isAbstractType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  parse,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import {
  ASSERTION_HEADER,
  createAssertionSigner,
  generateAssertionKeyPair,
  type AssertionBinding,
  type AssertionIdentity,
  type AssertionSigner,
} from '../lib/identity/assertion.ts';
import { buildApiSchema } from '../lib/policy/decision/api-schema.ts';
import { DEFAULT_SUPERGRAPH_PATH } from '../lib/policy/releases/process-policy.ts';
import { departments } from '../subgraphs/departments.ts';
import { departmentSchema } from '../subgraphs/runtime/server.ts';
import { seedSubject, type RiskProfile } from '../subgraphs/runtime/seed-subjects.ts';
import {
  everythingView,
  isOracleRecordType,
  isShownAsDescribed,
  maskedAsDescribed,
  ORACLE_CONSUMERS,
  oracleView,
  recordStateFields,
  type ExpectedField,
  type OracleView,
  type RecordRuleName,
} from './oracle/oracle.ts';
import type { ConsumerView } from '../lib/policy/decision/model.ts';
import { INSPECTOR, NO_LIMITS, startFederation, type Federation } from './support/federation.ts';
import { addPurposeSeeingEverything, publishPolicyChange } from './support/policy-change.ts';
import { namedFields } from './support/requested-fields.ts';
import { assertInspectorHoldsTheTruth } from './support/store-truth.ts';
import {
  argumentValue,
  buildOperation,
  coercedVariables,
  collectResponseFields,
  fragmentsOf,
  fullSelection,
  operationOf,
  operationPlanArbitrary,
  subgraphOperation,
  type BuiltOperation,
} from './support/operations.ts';

const SUBJECTS = 60;
const OPERATIONS = Number(process.env.NO_LEAK_OPERATIONS ?? 10_000);
const SEED = process.env.NO_LEAK_SEED ? Number(process.env.NO_LEAK_SEED) : Math.floor(Math.random() * 2 ** 31);
/** Cases per fast-check run; each run sends its cases with CONCURRENCY requests in flight. */
const BATCH = 16;
const CONCURRENCY = 8;
const MAX_FIRST = 3;
/** The gateway writes at most this many FORBIDDEN errors into one answer (policy-check.ts). */
const MAX_FORBIDDEN_ERRORS = 100;
const FEDERATION_FIELDS = new Set(['_entities', '_service']);
/** The only entity type: what `_entities` returns here. */
const ENTITY_TYPE = 'Subject';
const ALLOWED: ExpectedField = { effect: 'allow' };

/**
 * What a caller must see: the hand-written access matrix (test/oracle/), never the compiled
 * policy, which is what is tested; the test inspector sees everything. Undefined: the purpose is
 * not the caller's.
 */
/**
 * The consumers given a second purpose, TESTING (test/support/policy-change.ts), under which
 * they see every field no rule for all their purposes denies. The purpose is the test's
 * scaffolding, never called: it only makes the fields denied under their own purpose exist.
 */
const SECOND_PURPOSE: ReadonlySet<string> = new Set(['public-portal', 'central-bank']);

/**
 * Whether a field exists for a consumer: the matrix lets it see the field under one of its own
 * purposes, or the test's second purpose does (read from the compiled policy: scaffolding, not
 * the policy under test).
 */
function existsFor(
  consumer: string,
  typeName: string,
  fieldName: string,
  secondPurpose: ReadonlyMap<string, ConsumerView>,
): boolean {
  if (consumer === INSPECTOR.consumer) return true;
  if (
    secondPurpose.get(consumer)?.field(typeName, fieldName).effect !== undefined &&
    secondPurpose.get(consumer)?.field(typeName, fieldName).effect !== 'deny'
  )
    return true;
  const purposes = ORACLE_CONSUMERS.find(({ id }) => id === consumer)?.purposes ?? [];
  return purposes.some((purpose) => oracleView(consumer, purpose)?.field(typeName, fieldName).effect !== 'deny');
}

function expectedView(consumer: string, purpose: string): OracleView | undefined {
  if (consumer === INSPECTOR.consumer)
    return purpose === INSPECTOR.purpose ? everythingView(consumer, purpose) : undefined;
  return oracleView(consumer, purpose);
}
const STACK_TRACE = /\n\s+at |\bat [\w.<>]+ \(|node_modules|\.ts:\d+|"stacktrace"|"exception"/;

const apiSchema = buildApiSchema(readFileSync(DEFAULT_SUPERGRAPH_PATH, 'utf8'));
/**
 * The departments holding credit data. The access log (the audit subgraph) is left out here: it
 * grows with every request, so it has no fixed truth to compare answers with; who may read it is
 * tested in access-log.test.ts and policies/tests.
 */
const ACCESS_LOG_ROOTS = new Set(['accessLog', 'accessRecords', 'subjectAccessReport']);
const subgraphSchemas = new Map(
  departments
    .filter(({ name }) => name !== 'audit')
    .map((department) => [department.name, departmentSchema(department)] as const),
);

// ── Answers ─────────────────────────────────────────────────────────────────────────────────

type JsonObject = Record<string, unknown>;

interface GraphQLErrorBody {
  message: string;
  path?: (string | number)[];
  extensions?: Record<string, unknown>;
}

interface Answer {
  status: number;
  text: string;
  data: unknown;
  errors: GraphQLErrorBody[];
}

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function post(url: string, headers: Record<string, string>, payload: JsonObject): Promise<Answer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(payload),
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const parsed = isJsonObject(body) ? body : {};
  return {
    status: response.status,
    text,
    data: parsed.data,
    errors: Array.isArray(parsed.errors) ? (parsed.errors as GraphQLErrorBody[]) : [],
  };
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** Runs `run` over `items` with at most `limit` in flight; results in item order. */
async function runPool<T, R>(items: readonly T[], limit: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await run(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

// ── The oracle ──────────────────────────────────────────────────────────────────────────────

/** An operation as sent: its document, variables and the name of the operation to run. */
interface SentOperation {
  document: DocumentNode;
  variables: Record<string, unknown>;
  operationName?: string | undefined;
}

interface Problem {
  /** leak: something the policy hides came back; wrong: the answer differs from the truth otherwise. */
  kind: 'leak' | 'wrong';
  path: string;
  message: string;
}

/** What the test inspector sees: every seeded subject by code, and the first subjects in code order. */
interface Truth {
  subjects: ReadonlyMap<string, JsonObject>;
  ordered: readonly JsonObject[];
  /** Root fields without arguments (the catalog, the measures list): the inspector's answer. */
  roots: ReadonlyMap<string, unknown>;
}

interface Stats {
  gatewayOperations: number;
  refused: number;
  filtered: number;
  /** Operations asking for a field the consumer may see under none of its purposes (validation fails). */
  hidden: number;
  purposeRefused: number;
  deniedNulls: number;
  masked: number;
  records: number;
  recordsWithheld: number;
  direct: Map<string, number>;
  callers: Map<string, number>;
}

function newStats(): Stats {
  return {
    gatewayOperations: 0,
    refused: 0,
    filtered: 0,
    hidden: 0,
    purposeRefused: 0,
    deniedNulls: 0,
    masked: 0,
    records: 0,
    recordsWithheld: 0,
    direct: new Map(),
    callers: new Map(),
  };
}

function count(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/** One answer being read: the operation, whose view decides, and where problems go. */
interface Reading {
  schema: GraphQLSchema;
  view: OracleView;
  fragments: ReadonlyMap<string, FragmentDefinitionNode>;
  /** Coerced: defaults applied. */
  variables: Record<string, unknown>;
  /** Filter mode: the gateway removed the denied fields from the operation. */
  filtered: boolean;
  /** Just before the request was sent and just after its answer came. */
  times: readonly [Date, Date];
  truth: Truth;
  problems: Problem[];
  stats: Stats;
}

function selectionSetsOf(nodes: readonly FieldNode[]): SelectionSetNode[] {
  return nodes.flatMap((node) => (node.selectionSet ? [node.selectionSet] : []));
}

/** The true value of a root field: the subject(s) its arguments name. */
function rootTruth(reading: Reading, field: FieldNode): unknown {
  switch (field.name.value) {
    case 'subject':
      return reading.truth.subjects.get(String(argumentValue(field, 'uscc', reading.variables))) ?? null;
    case 'subjects':
      return reading.truth.ordered.slice(0, Number(argumentValue(field, 'first', reading.variables) ?? 20));
    case 'subjectConnection': {
      // The same subjects as a connection: each subject's cursor is its code.
      const first = Number(argumentValue(field, 'first', reading.variables) ?? 20);
      const nodes = reading.truth.ordered.slice(0, first);
      return {
        edges: nodes.map((node) => ({ cursor: node.uscc, node })),
        pageInfo: { hasNextPage: first < SUBJECTS, endCursor: nodes.at(-1)?.uscc ?? null },
      };
    }
    case '_entities': {
      const representations = argumentValue(field, 'representations', reading.variables);
      return (Array.isArray(representations) ? representations : []).map((representation) =>
        isJsonObject(representation) ? (reading.truth.subjects.get(String(representation.uscc)) ?? null) : null,
      );
    }
    default:
      return reading.truth.roots.get(field.name.value);
  }
}

function decide(reading: Reading, type: GraphQLObjectType, fieldName: string): ExpectedField {
  if (type === reading.schema.getQueryType() && FEDERATION_FIELDS.has(fieldName)) return ALLOWED;
  return reading.view.field(type.name, fieldName);
}

/** Reads an object of the answer: each response key against the policy and the truth. */
function checkObject(
  reading: Reading,
  type: GraphQLObjectType,
  selectionSets: readonly SelectionSetNode[],
  actual: unknown,
  truthOf: (field: FieldNode) => unknown,
  path: string,
): void {
  if (!isJsonObject(actual)) {
    reading.problems.push({ kind: 'wrong', path, message: `expected a ${type.name} object, got ${show(actual)}` });
    return;
  }
  const fields = collectResponseFields(type.name, selectionSets, reading.fragments, reading.variables);
  for (const [key, nodes] of fields) {
    const node = nodes[0]!;
    const fieldName = node.name.value;
    const value = actual[key];
    const at = `${path}.${key}`;
    if (fieldName === '__typename') {
      if (value !== type.name)
        reading.problems.push({
          kind: 'wrong',
          path: at,
          message: `__typename is ${show(value)}, expected ${type.name}`,
        });
      continue;
    }
    // Introspection (`__schema`, `__type`) describes the consumer's schema, not a subject: not read here.
    if (fieldName.startsWith('__')) continue;
    const definition = type.getFields()[fieldName];
    if (!definition) {
      reading.problems.push({ kind: 'wrong', path: at, message: `${type.name}.${fieldName} is not in the schema` });
      continue;
    }
    const coordinate = `${type.name}.${fieldName}`;
    const decision = decide(reading, type, fieldName);
    if (decision.effect === 'deny') {
      if (value !== null && value !== undefined) {
        reading.problems.push({
          kind: 'leak',
          path: at,
          message: `${coordinate} is denied to ${reading.view.key} but came back as ${show(value)}`,
        });
      } else {
        reading.stats.deniedNulls++;
      }
      continue;
    }
    const truth = truthOf(node);
    if (decision.effect === 'mask' && decision.mask) checkMasked(reading, decision.mask, value, truth, at, coordinate);
    else checkValue(reading, definition.type, nodes, value, truth, at, coordinate);
  }
  for (const [key, value] of Object.entries(actual)) {
    // Filter mode answers a denied field null even where @skip left it out: null is fine.
    if (!fields.has(key) && value !== null) {
      reading.problems.push({
        kind: 'leak',
        path: `${path}.${key}`,
        message: `the operation does not ask for "${key}" here, but it came back as ${show(value)}`,
      });
    }
  }
}

function checkMasked(
  reading: Reading,
  mask: string,
  value: unknown,
  truth: unknown,
  path: string,
  coordinate: string,
): void {
  const expected = maskedAsDescribed(mask, String(truth));
  if (value === null || value === undefined) {
    if (truth !== null && truth !== undefined)
      reading.problems.push({
        kind: 'wrong',
        path,
        message: `masked ${coordinate} is missing; expected ${show(expected)}`,
      });
    return;
  }
  // A value the mask would change is not in masked form: a raw value, the true one or another's.
  if (
    typeof value !== 'string' ||
    maskedAsDescribed(mask, value) !== value ||
    (value === truth && expected !== truth)
  ) {
    reading.problems.push({
      kind: 'leak',
      path,
      message: `${coordinate} must be masked with ${mask} for ${reading.view.key}, but came back as ${show(value)}`,
    });
    return;
  }
  if (value !== expected)
    reading.problems.push({
      kind: 'wrong',
      path,
      message: `masked ${coordinate} is ${show(value)}; the mask of the true value is ${show(expected)}`,
    });
  reading.stats.masked++;
}

function checkValue(
  reading: Reading,
  type: GraphQLOutputType,
  nodes: readonly FieldNode[],
  actual: unknown,
  truth: unknown,
  path: string,
  coordinate: string,
): void {
  const nullable = isNonNullType(type) ? type.ofType : type;
  if (actual === null || actual === undefined) {
    if (actual === undefined || (truth !== null && truth !== undefined)) {
      reading.problems.push({
        kind: 'wrong',
        path,
        message: `${coordinate} is ${actual === undefined ? 'missing' : 'null'}; expected ${show(truth)}`,
      });
    }
    return;
  }
  if (truth === null || truth === undefined) {
    reading.problems.push({
      kind: 'leak',
      path,
      message: `${coordinate} came back as ${show(actual)}, but it has no value for the inspector`,
    });
    return;
  }
  if (isListType(nullable)) {
    if (!Array.isArray(actual) || !Array.isArray(truth)) {
      reading.problems.push({ kind: 'wrong', path, message: `${coordinate} should be a list, got ${show(actual)}` });
      return;
    }
    const itemType = getNamedType(nullable.ofType);
    if (isObjectType(itemType)) {
      checkObjectList(reading, itemType, nodes, actual, truth, path);
      return;
    }
    if (actual.length !== truth.length)
      reading.problems.push({
        kind: 'wrong',
        path,
        message: `${coordinate} has ${actual.length} items; the truth has ${truth.length}`,
      });
    actual.forEach((item, index) =>
      checkValue(reading, nullable.ofType, nodes, item, truth[index], `${path}.${index}`, coordinate),
    );
    return;
  }
  const objectType = isObjectType(nullable)
    ? nullable
    : isAbstractType(nullable)
      ? reading.schema.getType(ENTITY_TYPE)
      : undefined;
  if (objectType && isObjectType(objectType)) {
    const source = isJsonObject(truth) ? truth : {};
    checkObject(reading, objectType, selectionSetsOf(nodes), actual, (field) => source[field.name.value], path);
    return;
  }
  if (!isDeepStrictEqual(actual, truth))
    reading.problems.push({
      kind: 'wrong',
      path,
      message: `${coordinate} is ${show(actual)}; the truth is ${show(truth)}`,
    });
}

function recordId(type: GraphQLObjectType, record: JsonObject): string {
  const idField = Object.values(type.getFields()).find((field) => getNamedType(field.type).name === 'ID');
  return idField ? `${idField.name} ${show(record[idField.name])}` : show(record);
}

function describeRule(rule: RecordRuleName): string {
  return `${rule}, as the access matrix says`;
}

/**
 * An object that carries a record (an applicable measure and the listing that triggers it) is
 * visible only with that record: otherwise it would reveal a record the record rule hides.
 */
function carriedRecordsVisible(reading: Reading, type: GraphQLObjectType, item: JsonObject, now: Date): boolean {
  return Object.values(type.getFields()).every((field) => {
    const target = getNamedType(field.type).name;
    const carried = item[field.name];
    return (
      isListType(isNonNullType(field.type) ? field.type.ofType : field.type) ||
      !isOracleRecordType(target) ||
      !isJsonObject(carried) ||
      isShownAsDescribed(target, carried, reading.view.records(target), now)
    );
  });
}

/**
 * A list of objects: each returned item must match (all selected fields, as the policy shows
 * them) a distinct true item; for records, one the record rule lets through. Items are matched by
 * content, not position: lists are sorted by date, and items of equal dates come in any order.
 */
function checkObjectList(
  reading: Reading,
  type: GraphQLObjectType,
  nodes: readonly FieldNode[],
  actual: readonly unknown[],
  truth: readonly unknown[],
  path: string,
): void {
  const rule: RecordRuleName = isOracleRecordType(type.name) ? reading.view.records(type.name) : 'history';
  const records = truth.filter(isJsonObject);
  const [before, after] = reading.times.map(
    (now) =>
      new Set(
        records.filter(
          (record) =>
            isShownAsDescribed(type.name, record, rule, now) && carriedRecordsVisible(reading, type, record, now),
        ),
      ),
  );
  const visible = records.filter((record) => before?.has(record) || after?.has(record));
  const hidden = records.filter((record) => !visible.includes(record));
  const selectionSets = selectionSetsOf(nodes);
  const matches = (item: unknown, record: JsonObject): boolean => {
    const probe: Reading = { ...reading, problems: [], stats: newStats() };
    checkObject(probe, type, selectionSets, item, (field) => record[field.name.value], path);
    return probe.problems.length === 0;
  };
  const unmatched = [...visible];
  actual.forEach((item, index) => {
    const at = `${path}.${index}`;
    const match = unmatched.findIndex((record) => matches(item, record));
    if (match >= 0) {
      unmatched.splice(match, 1);
      return;
    }
    const withheld = hidden.find((record) => matches(item, record));
    if (withheld) {
      reading.problems.push({
        kind: 'leak',
        path: at,
        message: `${type.name} ${recordId(type, withheld)} is hidden from ${reading.view.key} by its record rule (${describeRule(rule)}), but came back`,
      });
      return;
    }
    // No record fits: say why against the record at this place (this also reports masks and denials).
    const nearest = visible[index] ?? hidden[0] ?? {};
    checkObject(reading, type, selectionSets, item, (field) => nearest[field.name.value], at);
    if (!reading.problems.some((problem) => problem.path === at || problem.path.startsWith(`${at}.`))) {
      reading.problems.push({ kind: 'wrong', path: at, message: `${type.name} ${show(item)} matches no true record` });
    }
  });
  if (actual.length > visible.length) {
    reading.problems.push({
      kind: 'leak',
      path,
      message: `${actual.length} ${type.name} records came back; the record rule (${describeRule(rule)}) lets ${visible.length} of ${records.length} through`,
    });
  } else if (actual.length < Math.min(before?.size ?? 0, after?.size ?? 0)) {
    reading.problems.push({
      kind: 'wrong',
      path,
      message: `${actual.length} ${type.name} records came back; the record rule lets ${visible.length} of ${records.length} through`,
    });
  }
  if (isOracleRecordType(type.name)) {
    reading.stats.records += actual.length;
    reading.stats.recordsWithheld += hidden.length;
  }
}

/** Fields policies decide: not `__typename` or introspection, not federation's entry points. */
function isPolicySubject(fieldName: string): boolean {
  return !fieldName.startsWith('__') && !FEDERATION_FIELDS.has(fieldName);
}

/** `Type.field` of every denied field the operation selects (under @skip/@include too), sorted. */
function deniedCoordinates(
  schema: GraphQLSchema,
  document: DocumentNode,
  view: OracleView,
  operationName?: string,
): string[] {
  const denied = namedFields(schema, document, operationName)
    .filter((field) => isPolicySubject(field.fieldName))
    .filter((field) => view.field(field.typeName, field.fieldName).effect === 'deny')
    .map((field) => `${field.typeName}.${field.fieldName}`);
  return [...new Set(denied)].sort();
}

/** The concrete answer paths (list indexes filled in) of a policy path, where its parent object exists. */
function concretePaths(data: unknown, path: readonly string[]): (string | number)[][] {
  const out: (string | number)[][] = [];
  const walk = (value: unknown, depth: number, concrete: (string | number)[]): void => {
    const segment = path[depth];
    if (segment === undefined) return;
    if (segment === '@') {
      if (Array.isArray(value)) value.forEach((item, index) => walk(item, depth + 1, [...concrete, index]));
      return;
    }
    if (!isJsonObject(value)) return;
    if (depth === path.length - 1) out.push([...concrete, segment]);
    else walk(value[segment], depth + 1, [...concrete, segment]);
  };
  walk(data, 0, []);
  return out;
}

function valueAt(data: unknown, path: readonly (string | number)[]): unknown {
  let value = data;
  for (const segment of path)
    value =
      isJsonObject(value) || Array.isArray(value) ? (value as Record<string | number, unknown>)[segment] : undefined;
  return value;
}

function checkNoStackTrace(answer: Answer, problems: Problem[]): void {
  if (STACK_TRACE.test(answer.text))
    problems.push({ kind: 'leak', path: '(body)', message: 'the answer carries a stack trace or internal detail' });
}

function checkNoData(answer: Answer, problems: Problem[], why: string): void {
  if (answer.data !== undefined && answer.data !== null) {
    problems.push({ kind: 'leak', path: 'data', message: `${why}, yet the answer has data ${show(answer.data)}` });
  }
}

/** A subgraph refusing a request that did not come from the gateway: its status, no data, no value of the subject. */
function checkSubgraphRefusal(
  answer: Answer,
  statuses: readonly number[],
  secrets: readonly string[],
  problems: Problem[],
): void {
  if (!statuses.includes(answer.status))
    problems.push({
      kind: 'wrong',
      path: '(status)',
      message: `expected HTTP ${statuses.join(' or ')}, got ${answer.status}`,
    });
  checkNoData(answer, problems, 'the request has no valid assertion');
  if (typeof answer.errors[0]?.extensions?.code !== 'string')
    problems.push({ kind: 'wrong', path: 'errors', message: 'a refusal must carry an error code' });
  const leaked = secrets.filter((secret) => answer.text.includes(secret));
  if (leaked.length > 0)
    problems.push({
      kind: 'leak',
      path: '(body)',
      message: `the refusal contains values of the subject: ${show(leaked)}`,
    });
}

/** Reject mode (and subgraphs): no data, and a FORBIDDEN error listing exactly the denied fields. */
function checkRefused(answer: Answer, denied: readonly string[], problems: Problem[]): void {
  checkNoData(answer, problems, `the operation asks for denied ${denied.join(', ')}`);
  const forbidden = answer.errors.find((error) => error.extensions?.code === 'FORBIDDEN');
  if (!forbidden) {
    problems.push({
      kind: 'wrong',
      path: 'errors',
      message: `expected a FORBIDDEN error listing ${denied.join(', ')}`,
    });
  } else if (!isDeepStrictEqual(forbidden.extensions?.deniedFields, denied)) {
    problems.push({
      kind: 'wrong',
      path: 'errors',
      message: `FORBIDDEN lists ${show(forbidden.extensions?.deniedFields)}; expected ${show(denied)}`,
    });
  }
}

/** Filter mode: each denied selection is null where it sits, with a FORBIDDEN error at that path, and no other error. */
function checkFiltered(
  schema: GraphQLSchema,
  operation: SentOperation,
  view: OracleView,
  answer: Answer,
  problems: Problem[],
): void {
  const deniedFields = namedFields(schema, operation.document, operation.operationName).filter(
    (field) => isPolicySubject(field.fieldName) && view.field(field.typeName, field.fieldName).effect === 'deny',
  );
  const coordinates = new Set(deniedFields.map((field) => `${field.typeName}.${field.fieldName}`));
  const expected = new Set<string>();
  for (const field of deniedFields) {
    for (const path of concretePaths(answer.data, field.path)) {
      expected.add(JSON.stringify(path));
      const value = valueAt(answer.data, path);
      if (value !== null)
        problems.push({
          kind: 'leak',
          path: ['data', ...path].join('.'),
          message: `denied ${field.typeName}.${field.fieldName} should be null here, got ${show(value)}`,
        });
    }
  }
  const errorPaths = new Set<string>();
  for (const error of answer.errors) {
    const field = error.extensions?.field;
    if (error.extensions?.code !== 'FORBIDDEN' || typeof field !== 'string' || !coordinates.has(field)) {
      problems.push({ kind: 'wrong', path: 'errors', message: `unexpected error ${show(error)}` });
    }
    errorPaths.add(JSON.stringify(error.path ?? []));
  }
  for (const path of errorPaths)
    if (!expected.has(path))
      problems.push({ kind: 'wrong', path: 'errors', message: `FORBIDDEN error at ${path}, where no denied field is` });
  if (answer.errors.length < MAX_FORBIDDEN_ERRORS) {
    for (const path of expected)
      if (!errorPaths.has(path))
        problems.push({ kind: 'wrong', path: 'errors', message: `no FORBIDDEN error at ${path}` });
  }
}

/** Reads the data of an answer that the policy lets through (in full or filtered). */
function checkData(reading: Reading, operation: SentOperation, answer: Answer): void {
  const queryType = reading.schema.getQueryType();
  if (!queryType) throw new Error('no query type');
  const root = operationOf(operation.document, operation.operationName).selectionSet;
  checkObject(reading, queryType, [root], answer.data, (field) => rootTruth(reading, field), 'data');
}

// ── Cases ───────────────────────────────────────────────────────────────────────────────────

/** How a request reaches a subgraph without the gateway. */
const ATTACKS = {
  'no-assertion': [401],
  'forged-headers': [401],
  'forged-own-key': [401],
  'forged-gateway-key-id': [401],
  tampered: [401],
  expired: [401],
  'denied-purpose': [403],
  'unknown-consumer': [403],
  'unknown-policy-version': [503],
  valid: [200],
} as const satisfies Record<string, readonly number[]>;
type Attack = keyof typeof ATTACKS;

interface Caller {
  consumer: string;
  purpose: string;
}

interface NoLeakCase {
  caller: Caller;
  operation: BuiltOperation;
  subgraph: string;
  /** How the operation is also sent straight to `subgraph`, if it is. */
  attack: Attack | null;
}

interface Failure {
  target: string;
  caller: Caller;
  text: string;
  variables: Record<string, unknown>;
  answer: Answer;
  problems: Problem[];
}

function formatFailure(failure: Failure): string {
  const leak = failure.problems.some((problem) => problem.kind === 'leak');
  return [
    `${leak ? 'LEAK' : 'WRONG ANSWER'}: ${failure.target} as ${failure.caller.consumer} / ${failure.caller.purpose}`,
    ...failure.problems.slice(0, 12).map((problem) => `  ${problem.kind} at ${problem.path}: ${problem.message}`),
    ...(failure.problems.length > 12 ? [`  … ${failure.problems.length - 12} more`] : []),
    'operation:',
    failure.text.replace(/^/gm, '  '),
    `variables: ${JSON.stringify(failure.variables)}`,
    `answer (HTTP ${failure.answer.status}): ${failure.answer.text.length > 4000 ? `${failure.answer.text.slice(0, 4000)}…` : failure.answer.text}`,
  ].join('\n');
}

/**
 * How often the generator picks a field for a caller: denied fields rarely (one is enough to
 * refuse an operation), masked fields and fields that lead to one often (only a few exist).
 */
function fieldWeight(view: OracleView | undefined, typeName: string, fieldName: string): number {
  if (typeName === 'Query' && ACCESS_LOG_ROOTS.has(fieldName)) return 0;
  if (!view) return 1;
  const decision = view.field(typeName, fieldName);
  if (decision.effect === 'deny') return 1;
  if (decision.effect === 'mask') return 20;
  const type = apiSchema.getType(typeName);
  const field = isObjectType(type) ? type.getFields()[fieldName] : undefined;
  return field && leadsToMask(view, getNamedType(field.type).name) ? 20 : 6;
}

/** Whether a type has, or leads to, a field masked for this view. */
function leadsToMask(view: OracleView, typeName: string, visiting: ReadonlySet<string> = new Set()): boolean {
  const type = apiSchema.getType(typeName);
  if (!isObjectType(type) || visiting.has(typeName)) return false;
  return Object.values(type.getFields()).some(
    (field) =>
      view.field(typeName, field.name).effect === 'mask' ||
      (view.field(typeName, field.name).effect !== 'deny' &&
        leadsToMask(view, getNamedType(field.type).name, new Set([...visiting, typeName]))),
  );
}

/** Seeded subject codes, the serious (records everywhere) and troubled ones more often. */
function codeArbitrary(): fc.Arbitrary<string> {
  const byRisk = new Map<RiskProfile, string[]>();
  for (let index = 0; index < SUBJECTS; index++) {
    const subject = seedSubject(index);
    byRisk.set(subject.risk, [...(byRisk.get(subject.risk) ?? []), subject.uscc]);
  }
  const weights: Record<RiskProfile, number> = { serious: 5, troubled: 3, minor: 1, clean: 1 };
  return fc.oneof(
    ...[...byRisk].map(([risk, codes]) => ({ weight: weights[risk], arbitrary: fc.constantFrom(...codes) })),
  );
}

// ── The test ────────────────────────────────────────────────────────────────────────────────

describe('no leak: random operations through the gateway and straight to the subgraphs', () => {
  let federation: Federation;
  let truth: Truth;
  let callers: Caller[];
  let secondPurpose: ReadonlyMap<string, ConsumerView>;
  let forgedSigner: AssertionSigner;
  let forgedWithGatewayKeyId: AssertionSigner;

  before(async () => {
    federation = await startFederation({ subjects: SUBJECTS, gatewayLimits: NO_LIMITS });
    // Two consumers, one of each mode, may also see every field but the trade secrets under a
    // second purpose (never called with it): what they are denied under their own then exists for
    // them (refused or filtered); for the others it does not (validation fails, as for an unknown field).
    await addPurposeSeeingEverything(federation.policiesDir, [...SECOND_PURPOSE]);
    await publishPolicyChange(federation);
    const policy = federation.policies.current();
    secondPurpose = new Map(
      [...SECOND_PURPOSE].flatMap((consumer) => {
        const view = policy.view(consumer, 'TESTING');
        return view ? [[consumer, view] as const] : [];
      }),
    );
    assert.equal(secondPurpose.size, SECOND_PURPOSE.size, 'the second purpose is in force');
    callers = [
      ...ORACLE_CONSUMERS.flatMap((consumer) =>
        consumer.purposes.map((purpose) => ({ consumer: consumer.id, purpose })),
      ),
      { consumer: INSPECTOR.consumer, purpose: 'TESTING' },
    ];
    const full = fullSelection(apiSchema, 'Subject');
    const subjects = new Map<string, JsonObject>();
    await runPool(
      Array.from({ length: SUBJECTS }, (_, index) => seedSubject(index).uscc),
      CONCURRENCY,
      async (code) => {
        const { body } = await federation.query(`query($code: ID!) { subject(uscc: $code) ${full} }`, { code });
        assert.equal(body.errors, undefined, `truth for ${code}`);
        const subject = body.data?.subject;
        assert.ok(isJsonObject(subject), `subject ${code} is seeded`);
        subjects.set(code, subject);
      },
    );
    const { body } = await federation.query(`{ subjects(first: ${MAX_FIRST}) ${full} }`);
    assert.equal(body.errors, undefined);
    const ordered = body.data?.subjects;
    assert.ok(Array.isArray(ordered) && ordered.every(isJsonObject) && ordered.length === MAX_FIRST);
    const roots = new Map<string, unknown>();
    for (const field of Object.values(apiSchema.getQueryType()?.getFields() ?? {})) {
      if (field.args.length > 0) continue;
      const named = getNamedType(field.type);
      const answer = await federation.query(
        `{ ${field.name} ${isObjectType(named) ? fullSelection(apiSchema, named.name) : ''} }`,
      );
      assert.equal(answer.body.errors, undefined, `truth for ${field.name}`);
      roots.set(field.name, answer.body.data?.[field.name]);
    }
    truth = { subjects, ordered, roots };
    await assertInspectorHoldsTheTruth(federation.mongo.uri, subjects, SUBJECTS);

    const forged = generateAssertionKeyPair();
    forgedSigner = createAssertionSigner({ privateKey: forged.privateKeyPem, keyId: forged.keyId });
    const gatewayKeyId = JSON.parse(
      Buffer.from(
        federation
          .signAssertion(identity(INSPECTOR.consumer, 'TESTING'), { audience: 'registry', request: {} })
          .split('.')[0] ?? '',
        'base64url',
      ).toString(),
    ) as { kid: string };
    forgedWithGatewayKeyId = createAssertionSigner({ privateKey: forged.privateKeyPem, keyId: gatewayKeyId.kid });
  });
  after(() => federation.close());

  function identity(
    consumer: string,
    purpose: string,
    policyVersion = federation.policies.current().version,
  ): AssertionIdentity {
    return { consumer, purpose, policyVersion, requestId: randomUUID() };
  }

  function reading(
    schema: GraphQLSchema,
    view: OracleView,
    filtered: boolean,
    operation: SentOperation,
    times: readonly [Date, Date],
    stats: Stats,
  ): Reading {
    const { document, variables, operationName } = operation;
    return {
      schema,
      view,
      filtered,
      times,
      truth,
      stats,
      problems: [],
      fragments: fragmentsOf(document),
      variables: coercedVariables(schema, document, variables, operationName),
    };
  }

  /** Sends an operation to the gateway as a caller and reads the answer with the oracle. */
  async function throughGateway(
    caller: Caller,
    operation: BuiltOperation,
    stats: Stats,
  ): Promise<{ answer: Answer; problems: Problem[] }> {
    const key = federation.apiKeys.get(caller.consumer);
    assert.ok(key, `API key of ${caller.consumer}`);
    const sent = new Date();
    const answer = await post(
      federation.gateway.graphqlUrl,
      { 'x-api-key': key, 'x-credence-purpose': caller.purpose },
      {
        query: operation.text,
        variables: operation.variables,
        ...(operation.operationName ? { operationName: operation.operationName } : {}),
      },
    );
    return { answer, problems: judgeGatewayAnswer(caller, operation, answer, [sent, new Date()], stats) };
  }

  /** What is wrong with the gateway's answer to an operation, for a caller. */
  function judgeGatewayAnswer(
    caller: Caller,
    operation: BuiltOperation,
    answer: Answer,
    times: readonly [Date, Date],
    stats: Stats,
  ): Problem[] {
    const problems: Problem[] = [];
    checkNoStackTrace(answer, problems);
    stats.gatewayOperations++;
    const view = expectedView(caller.consumer, caller.purpose);
    if (view) count(stats.callers, view.key);
    if (!view) {
      stats.purposeRefused++;
      if (answer.status !== 403)
        problems.push({
          kind: 'wrong',
          path: '(status)',
          message: `purpose ${caller.purpose} is not allowed to ${caller.consumer}: expected 403, got ${answer.status}`,
        });
      checkNoData(answer, problems, 'the purpose is not allowed');
      return problems;
    }
    const mode = view.mode;
    // A field the consumer may see under none of its purposes does not exist for it: the operation fails validation.
    // Validation reads the whole document: every operation in it, not only the one executed.
    const operationNames = operation.document.definitions.flatMap((definition) =>
      definition.kind === Kind.OPERATION_DEFINITION ? [definition.name?.value] : [],
    );
    const deniedInDocument = [
      ...new Set(operationNames.flatMap((name) => deniedCoordinates(apiSchema, operation.document, view, name))),
    ];
    const hidden = deniedInDocument.filter((coordinate) => {
      const [typeName = '', fieldName = ''] = coordinate.split('.');
      return !existsFor(caller.consumer, typeName, fieldName, secondPurpose);
    });
    // A type condition on an object type none of whose fields the consumer may see names a type that does not exist for it.
    const unknownType = /^Unknown type "(\w+)"\.$/.exec(answer.errors[0]?.message ?? '')?.[1];
    const hiddenType =
      unknownType !== undefined &&
      operation.text.includes(`on ${unknownType}`) &&
      isObjectType(apiSchema.getType(unknownType)) &&
      Object.keys((apiSchema.getType(unknownType) as GraphQLObjectType).getFields()).every(
        (fieldName) => !existsFor(caller.consumer, unknownType, fieldName, secondPurpose),
      );
    if (hidden.length > 0 || hiddenType) {
      stats.hidden++;
      const what = hiddenType ? `type ${unknownType}` : hidden.join(', ');
      checkNoData(answer, problems, `the operation asks for ${what}, which the consumer may never see`);
      if (answer.status !== 400 || answer.errors[0]?.extensions?.code !== 'GRAPHQL_VALIDATION_FAILED') {
        problems.push({
          kind: 'wrong',
          path: 'errors',
          message: `expected 400 GRAPHQL_VALIDATION_FAILED for ${what}, got ${answer.status} ${show(answer.errors)}`,
        });
      }
      return problems;
    }
    const denied = deniedCoordinates(apiSchema, operation.document, view, operation.operationName);
    if (denied.length > 0 && mode === 'reject') {
      stats.refused++;
      checkRefused(answer, denied, problems);
      return problems;
    }
    if (denied.length > 0) {
      stats.filtered++;
      checkFiltered(apiSchema, operation, view, answer, problems);
    } else if (answer.errors.length > 0) {
      problems.push({
        kind: 'wrong',
        path: 'errors',
        message: `an allowed operation got errors: ${show(answer.errors)}`,
      });
    }
    const read = reading(apiSchema, view, denied.length > 0, operation, times, stats);
    checkData(read, operation, answer);
    return [...problems, ...read.problems];
  }

  function assertionFor(attack: Attack, caller: Caller, call: AssertionBinding): Record<string, string> {
    const inspector = (): AssertionIdentity => identity(INSPECTOR.consumer, 'TESTING');
    switch (attack) {
      case 'no-assertion':
        return {};
      case 'forged-headers':
        // What a caller who skips the gateway might hope a subgraph trusts.
        return {
          'x-consumer': INSPECTOR.consumer,
          'x-credence-consumer': INSPECTOR.consumer,
          'x-credence-purpose': 'TESTING',
          'x-purpose': 'TESTING',
          'x-api-key': federation.apiKeys.get(INSPECTOR.consumer) ?? '',
          'x-forwarded-for': '127.0.0.1',
        };
      case 'forged-own-key':
        return { [ASSERTION_HEADER]: forgedSigner.sign(inspector(), call) };
      case 'forged-gateway-key-id':
        return { [ASSERTION_HEADER]: forgedWithGatewayKeyId.sign(inspector(), call) };
      case 'tampered': {
        // The caller's real assertion with the inspector's identity and a later expiry pasted into its claims.
        const [header, claims, signature] = federation
          .signAssertion(identity(caller.consumer, caller.purpose), call)
          .split('.');
        const original = JSON.parse(Buffer.from(claims ?? '', 'base64url').toString()) as { exp: number };
        const changed = { ...original, sub: INSPECTOR.consumer, purpose: 'TESTING', exp: original.exp + 3600 };
        return {
          [ASSERTION_HEADER]: `${header}.${Buffer.from(JSON.stringify(changed)).toString('base64url')}.${signature}`,
        };
      }
      case 'expired':
        return { [ASSERTION_HEADER]: federation.signAssertion(inspector(), call, new Date(Date.now() - 120_000)) };
      case 'denied-purpose': {
        const other =
          callers.find(
            ({ purpose }) =>
              !expectedView(caller.consumer, purpose) &&
              !(purpose === 'TESTING' && SECOND_PURPOSE.has(caller.consumer)),
          )?.purpose ?? 'NO_SUCH_PURPOSE';
        return { [ASSERTION_HEADER]: federation.signAssertion(identity(caller.consumer, other), call) };
      }
      case 'unknown-consumer':
        return { [ASSERTION_HEADER]: federation.signAssertion(identity('intruder', caller.purpose), call) };
      case 'unknown-policy-version':
        return {
          [ASSERTION_HEADER]: federation.signAssertion(
            identity(INSPECTOR.consumer, 'TESTING', '0000000000000000'),
            call,
          ),
        };
      case 'valid':
        return { [ASSERTION_HEADER]: federation.signAssertion(identity(caller.consumer, caller.purpose), call) };
    }
  }

  /** String values of the subjects an operation may be about, none of which may appear in a refusal. */
  function secretsOf(code: string): string[] {
    const secrets: string[] = [];
    const walk = (value: unknown): void => {
      if (typeof value === 'string' && value.length >= 8 && !truth.subjects.has(value)) secrets.push(value);
      else if (Array.isArray(value)) value.forEach(walk);
      else if (isJsonObject(value)) Object.values(value).forEach(walk);
    };
    walk([truth.subjects.get(code), truth.ordered]);
    return secrets;
  }

  /** Sends the subgraph-shaped operation straight to one subgraph and reads the answer. */
  async function straightToSubgraph(
    caller: Caller,
    operation: BuiltOperation,
    subgraphName: string,
    attack: Attack,
    stats: Stats,
  ): Promise<{ answer: Answer; problems: Problem[]; text: string; variables: Record<string, unknown> }> {
    const subgraph = federation.subgraphs.get(subgraphName);
    const schema = subgraphSchemas.get(subgraphName);
    assert.ok(subgraph && schema, subgraphName);
    const shaped = subgraphOperation(operation.document, {
      apiSchema,
      subgraphSchema: schema,
      ownsRoots: Boolean(schema.getQueryType()?.getFields().subject),
      subjectCodes: truth.ordered.map((subject) => String(subject.uscc)),
      variables: operation.variables,
    });
    const sent = new Date();
    const body = {
      query: shaped.text,
      variables: shaped.variables,
      ...(operation.operationName ? { operationName: operation.operationName } : {}),
    };
    const answer = await post(
      subgraph.graphqlUrl,
      assertionFor(attack, caller, { audience: subgraphName, request: body }),
      body,
    );
    const received = new Date();
    count(stats.direct, attack);
    const problems: Problem[] = [];
    checkNoStackTrace(answer, problems);
    const view = expectedView(caller.consumer, caller.purpose);
    if (attack !== 'valid' || !view) {
      // A valid assertion for a purpose the consumer does not have is refused like a forged one.
      checkSubgraphRefusal(answer, attack === 'valid' ? [403] : ATTACKS[attack], secretsOf(operation.code), problems);
      return { answer, problems, ...shaped };
    }
    // A valid assertion: the subgraph enforces the policy by itself, refusing any denied field.
    const denied = deniedCoordinates(schema, shaped.document, view, operation.operationName);
    if (denied.length > 0) {
      checkRefused(answer, denied, problems);
      return { answer, problems, ...shaped };
    }
    if (answer.status !== 200 || answer.errors.length > 0)
      problems.push({
        kind: 'wrong',
        path: 'errors',
        message: `an allowed operation got HTTP ${answer.status} and errors ${show(answer.errors)}`,
      });
    const sentOperation = { ...shaped, operationName: operation.operationName };
    const read = reading(schema, view, false, sentOperation, [sent, received], stats);
    checkData(read, sentOperation, answer);
    return { answer, problems: [...problems, ...read.problems], ...shaped };
  }

  async function runCase(testCase: NoLeakCase, stats: Stats): Promise<Failure[]> {
    const failures: Failure[] = [];
    const { caller, operation } = testCase;
    const gateway = await throughGateway(caller, operation, stats);
    if (gateway.problems.length > 0)
      failures.push({ target: 'gateway', caller, text: operation.text, variables: operation.variables, ...gateway });
    if (testCase.attack === null) return failures;
    const direct = await straightToSubgraph(caller, operation, testCase.subgraph, testCase.attack, stats);
    if (direct.problems.length > 0)
      failures.push({ target: `subgraph ${testCase.subgraph} (${testCase.attack})`, caller, ...direct });
    return failures;
  }

  /**
   * Cases for every caller of the policy (and, now and then, a consumer declaring a purpose it
   * does not have). Operations lean towards fields the caller may see (6 to 1), so that most
   * reach the data instead of being refused for their first denied field.
   */
  function caseArbitrary(): fc.Arbitrary<NoLeakCase> {
    const code = codeArbitrary();
    const attacks = Object.keys(ATTACKS).filter((attack) => attack !== 'valid') as Attack[];
    const forCaller = (caller: fc.Arbitrary<Caller>, view: OracleView | undefined) =>
      fc.record({
        caller,
        plan: operationPlanArbitrary(apiSchema, {
          code,
          maxFirst: MAX_FIRST,
          fieldWeight: (typeName, fieldName) => fieldWeight(view, typeName, fieldName),
        }),
        subgraph: fc.constantFrom(...subgraphSchemas.keys()),
        // Half the operations also go straight to a subgraph: half of those with a valid assertion.
        attack: fc.oneof(
          { weight: 2, arbitrary: fc.constant(null) },
          { weight: 1, arbitrary: fc.constantFrom(...attacks) },
          { weight: 1, arbitrary: fc.constant<Attack>('valid') },
        ),
      });
    // A consumer with the test's second purpose may use it: that pair is no mismatch (and is never called).
    const mismatched = callers.flatMap(({ consumer }) =>
      callers
        .filter(
          ({ purpose }) => !expectedView(consumer, purpose) && !(purpose === 'TESTING' && SECOND_PURPOSE.has(consumer)),
        )
        .map(({ purpose }) => ({ consumer, purpose })),
    );
    return fc
      .oneof(
        ...callers.map((caller) => ({
          weight: 6,
          arbitrary: forCaller(fc.constant(caller), expectedView(caller.consumer, caller.purpose)),
        })),
        { weight: 1, arbitrary: forCaller(fc.constantFrom(...mismatched), undefined) },
      )
      .map(({ caller, plan, subgraph, attack }): NoLeakCase => {
        const operation = buildOperation(apiSchema, plan);
        return {
          caller,
          operation,
          subgraph,
          attack,
          [fc.toStringMethod]: () =>
            `${caller.consumer}/${caller.purpose}${attack ? `, ${subgraph} ${attack}` : ''}, variables ${JSON.stringify(operation.variables)}:\n${operation.text}`,
        } as NoLeakCase;
      });
  }

  it(`answers ${OPERATIONS} random operations as the policy says, and subgraphs answer nothing without the gateway`, async (t) => {
    const stats = newStats();
    const started = Date.now();
    t.diagnostic(`seed ${SEED} (replay with NO_LEAK_SEED=${SEED})`);
    await fc.assert(
      fc.asyncProperty(fc.array(caseArbitrary(), { minLength: BATCH, maxLength: BATCH }), async (cases) => {
        const failures = (await runPool(cases, CONCURRENCY, (testCase) => runCase(testCase, stats))).flat();
        if (failures.length > 0) throw new Error(failures.map(formatFailure).join('\n\n'));
      }),
      {
        seed: SEED,
        numRuns: Math.ceil(OPERATIONS / BATCH),
        includeErrorInReport: true,
        ...(process.env.NO_LEAK_PATH ? { path: process.env.NO_LEAK_PATH } : {}),
      },
    );

    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const direct = [...stats.direct.values()].reduce((sum, value) => sum + value, 0);
    t.diagnostic(
      `${stats.gatewayOperations} gateway operations and ${direct} direct subgraph requests in ${seconds} s`,
    );
    t.diagnostic(
      `gateway: ${stats.refused} refused (reject mode), ${stats.filtered} filtered (filter mode), ${stats.hidden} with a field never visible to the consumer, ${stats.purposeRefused} with a purpose not allowed`,
    );
    t.diagnostic(
      `checked ${stats.deniedNulls} denied fields answered null, ${stats.masked} masked values, ${stats.records} records (${stats.recordsWithheld} true records withheld by record rules)`,
    );
    t.diagnostic(`direct: ${[...stats.direct].map(([attack, n]) => `${attack} ${n}`).join(', ')}`);
    t.diagnostic(`callers: ${[...stats.callers].map(([caller, n]) => `${caller} ${n}`).join(', ')}`);

    // The run must have exercised what it claims to check.
    assert.ok(stats.gatewayOperations >= OPERATIONS, 'all operations were sent');
    for (const caller of callers)
      assert.ok((stats.callers.get(`${caller.consumer}/${caller.purpose}`) ?? 0) > 0, `${caller.consumer} was tried`);
    if (OPERATIONS >= 1000) {
      for (const [what, n] of Object.entries({
        refused: stats.refused,
        filtered: stats.filtered,
        hidden: stats.hidden,
        deniedNulls: stats.deniedNulls,
        masked: stats.masked,
        records: stats.records,
        recordsWithheld: stats.recordsWithheld,
      })) {
        assert.ok(n > 0, `the run exercised ${what}`);
      }
      for (const attack of Object.keys(ATTACKS))
        assert.ok((stats.direct.get(attack) ?? 0) > 0, `the run tried ${attack}`);
    }
  });

  // ── Regressions: cases worth keeping whatever the random run draws ──────────────────────

  const PORTAL: Caller = { consumer: 'public-portal', purpose: 'PUBLIC_DISCLOSURE' };
  const BANK: Caller = { consumer: 'central-bank', purpose: 'CREDIT_ASSESSMENT' };
  const COURT: Caller = { consumer: 'court-enforcement', purpose: 'ENFORCEMENT' };
  const PRIVACY: Caller = { consumer: 'privacy-office', purpose: 'AUDIT' };
  const serious = (): string => {
    const index = Array.from({ length: SUBJECTS }, (_, i) => i).find((i) => seedSubject(i).risk === 'serious');
    return seedSubject(index ?? 0).uscc;
  };

  function operation(text: string, variables: Record<string, unknown> = {}): BuiltOperation {
    const document = parse(text);
    return {
      text,
      document,
      variables,
      operationName: undefined,
      code: typeof variables.code === 'string' ? variables.code : '',
    };
  }

  /** Sends through the gateway, asserts the oracle is satisfied, and returns the answer for more checks. */
  async function clean(caller: Caller, text: string, variables: Record<string, unknown> = {}): Promise<Answer> {
    const { answer, problems } = await throughGateway(caller, operation(text, variables), newStats());
    assert.deepEqual(problems, [], formatFailure({ target: 'gateway', caller, text, variables, answer, problems }));
    return answer;
  }

  function errorAt(answer: Answer, path: readonly (string | number)[]): GraphQLErrorBody | undefined {
    return answer.errors.find((error) => isDeepStrictEqual(error.path, path));
  }

  function trueSubject(code: string): JsonObject {
    const subject = truth.subjects.get(code);
    assert.ok(subject);
    return subject;
  }

  it("an alias that renames a denied field to an allowed field's name is still denied", async () => {
    const code = serious();
    const filtered = await clean(
      PORTAL,
      'query($code: ID!) { subject(uscc: $code) { legalRepresentative { name: phone } } }',
      { code },
    );
    assert.deepEqual(filtered.data, { subject: { legalRepresentative: { name: null } } });
    assert.equal(
      errorAt(filtered, ['subject', 'legalRepresentative', 'name'])?.extensions?.field,
      'LegalRepresentative.phone',
    );

    // Annual reports exist for the bank under none of its purposes: refused as a field that does not exist.
    const refused = await clean(BANK, 'query($code: ID!) { subject(uscc: $code) { name: annualReports { year } } }', {
      code,
    });
    assert.equal(refused.data ?? null, null);
    assert.equal(refused.errors[0]?.message, 'Cannot query field "annualReports" on type "Subject".');
  });

  it("an allowed field aliased to a denied field's name is answered, as the allowed field", async () => {
    const code = serious();
    const answer = await clean(
      PORTAL,
      'query($code: ID!) { subject(uscc: $code) { legalRepresentative { phone: name } } }',
      { code },
    );
    const representative = trueSubject(code).legalRepresentative as JsonObject;
    assert.deepEqual(answer.data, { subject: { legalRepresentative: { phone: representative.name } } });
  });

  it('a masked field spread twice through one fragment and once under an alias is masked, once', async () => {
    const code = serious();
    const answer = await clean(
      PORTAL,
      `query($code: ID!) { subject(uscc: $code) { legalRepresentative { ...Id ...Id name: idNumber } } }
      fragment Id on LegalRepresentative { idNumber }`,
      { code },
    );
    const raw = String((trueSubject(code).legalRepresentative as JsonObject).idNumber);
    const masked = `${raw.slice(0, 4)}**********${raw.slice(-4)}`;
    assert.equal(raw.length, 18);
    assert.deepEqual(answer.data, { subject: { legalRepresentative: { idNumber: masked, name: masked } } });
  });

  it('a denied field only under @skip(if: true) still counts: refused in reject mode, null with an error in filter mode', async () => {
    const code = serious();
    // The court may see annual reports and tax paid under none of its purposes: they do not exist for it, skipped or not.
    const refused = await clean(
      COURT,
      'query($code: ID!) { subject(uscc: $code) { name annualReports @skip(if: true) { year } } }',
      { code },
    );
    assert.equal(refused.errors[0]?.message, 'Cannot query field "annualReports" on type "Subject".');
    const byVariable = await clean(
      COURT,
      'query($code: ID!, $show: Boolean!) { subject(uscc: $code) { name taxPayments @include(if: $show) { amount } } }',
      { code, show: false },
    );
    assert.equal(byVariable.errors[0]?.message, 'Cannot query field "taxPayments" on type "Subject".');
    // The bank may see pending applications under its second purpose: skipped, they still count, and are refused.
    const bankRefused = await clean(
      BANK,
      'query($code: ID!) { subject(uscc: $code) { name } pendingRestorationApplications @skip(if: true) { id } }',
      { code },
    );
    assert.equal(bankRefused.errors[0]?.extensions?.code, 'FORBIDDEN', JSON.stringify(bankRefused.errors));

    const filtered = await clean(
      PORTAL,
      'query($code: ID!) { subject(uscc: $code) { legalRepresentative { name phone @skip(if: true) } } }',
      { code },
    );
    const representative = trueSubject(code).legalRepresentative as JsonObject;
    assert.deepEqual(filtered.data, { subject: { legalRepresentative: { name: representative.name, phone: null } } });
    assert.equal(errorAt(filtered, ['subject', 'legalRepresentative', 'phone'])?.extensions?.code, 'FORBIDDEN');
  });

  it("filter mode: a selection set left empty, and a denied root, come back null without the filter's placeholder", async () => {
    const code = serious();
    const answer = await clean(
      PORTAL,
      'query($code: ID!) { subject(uscc: $code) { legalRepresentative { phone } } subjects(first: 2) { uscc } }',
      { code },
    );
    assert.deepEqual(answer.data, { subject: { legalRepresentative: { phone: null } }, subjects: null });
    assert.doesNotMatch(answer.text, /__credence_filtered/);
  });

  it('records a rule hides are withheld, and the seeded data has such records for every record rule without history', async () => {
    const subjectType = apiSchema.getType('Subject');
    assert.ok(isObjectType(subjectType));
    const lists = Object.values(subjectType.getFields()).filter((field) =>
      isOracleRecordType(getNamedType(field.type).name),
    );
    for (const caller of callers) {
      const view = expectedView(caller.consumer, caller.purpose);
      assert.ok(view);
      for (const field of lists) {
        const recordType = getNamedType(field.type) as GraphQLObjectType;
        const rule = view.records(recordType.name);
        // Without history a rule hides ended and restored records (types with only a start date
        // have none); with a window, old ones too.
        const canHide =
          rule === 'public-window' || (rule === 'current' && recordStateFields(recordType.name).length > 1);
        if (view.field('Subject', field.name).effect === 'deny' || !canHide) continue;
        // A subject the inspector sees more records of than this consumer may.
        const code = [...truth.subjects].find(([, subject]) => {
          const records = (subject[field.name] ?? []) as JsonObject[];
          return records.some((record) => !isShownAsDescribed(recordType.name, record, rule, new Date()));
        })?.[0];
        assert.ok(code, `the seed has ${recordType.name} records hidden from ${view.key}`);
        const visibleFields = Object.keys(recordType.getFields()).filter(
          (name) =>
            view.field(recordType.name, name).effect !== 'deny' &&
            !isObjectType(getNamedType(recordType.getFields()[name]!.type)),
        );
        if (visibleFields.length === 0) continue;
        await clean(
          caller,
          `query($code: ID!) { subject(uscc: $code) { ${field.name} { ${visibleFields.join(' ')} } } }`,
          { code },
        );
      }
    }
  });

  // Apollo's query planner fetches the entity key `uscc` and `__typename` under their own names to
  // join departments, and answered a field the caller aliased so with its own value
  // (apollographql/federation#3036); the gateway moves such aliases out of its way (gateway/key-aliases.ts).
  it('a field aliased like the entity key or __typename keeps its value, in its place', async () => {
    const code = serious();
    const subject = trueSubject(code);
    const listings = (subject.seriousDishonestyListings as JsonObject[]).map(({ id }) => ({ id }));
    const { body } = await federation.query(
      'query($code: ID!) { subject(uscc: $code) { uscc: name seriousDishonestyListings { id } } }',
      { code },
    );
    assert.deepEqual(body.data?.subject, { uscc: subject.name, seriousDishonestyListings: listings });
    const typename = await federation.query(
      'query($code: ID!) { subject(uscc: $code) { seriousDishonestyListings { id } __typename: name code: uscc } }',
      { code },
    );
    assert.equal(
      JSON.stringify(typename.body.data?.subject),
      JSON.stringify({ seriousDishonestyListings: listings, __typename: subject.name, code }),
    );
    // In filter mode the denied field under the moved alias is put back null, under the caller's key.
    const filtered = await federation.query(
      'query($code: ID!) { subject(uscc: $code) { uscc: legalRepresentative { phone } name } }',
      { code },
      PORTAL,
    );
    assert.deepEqual(filtered.body.data?.subject, { uscc: { phone: null }, name: subject.name });
    assert.deepEqual(
      filtered.body.errors?.map(({ path }) => path),
      [['subject', 'uscc', 'phone']],
    );
  });

  // GraphQL answers `{}` for an object whose every field is skipped; Apollo answers null
  // (apollographql/federation#1791), which the gateway's guards prevent (gateway/skip-guards.ts).
  it('a list whose every field is skipped is answered as a list of empty objects', async () => {
    const code = serious();
    const entries = trueSubject(code).dishonestDebtorEntries as JsonObject[];
    const { body } = await federation.query(
      'query($code: ID!, $show: Boolean!) { subject(uscc: $code) { dishonestDebtorEntries @include(if: $show) { court @skip(if: true) } } }',
      { code, show: true },
    );
    assert.deepEqual(body.data?.subject, { dishonestDebtorEntries: entries.map(() => ({})) });
  });

  // Under a root field with a condition, Apollo's planner dropped a field whose selections
  // contradict its own condition, and the non-null root with it: the whole answer was null.
  it('a root field with a condition keeps a child whose every field is skipped', async () => {
    const text =
      'query($b0: Boolean!, $b1: Boolean!) { catalog @include(if: $b1) { code: disclosureWindows @skip(if: $b0) { __typename @include(if: $b0) } } }';
    const { body } = await federation.query(text, { b0: false, b1: true });
    const plain = await federation.query('{ catalog { disclosureWindows { __typename } } }');
    const items = plain.body.data?.catalog as JsonObject[];
    assert.ok(
      items.some(({ disclosureWindows }) => Array.isArray(disclosureWindows) && disclosureWindows.length > 0),
      'the catalog has disclosure windows',
    );
    assert.equal(body.errors, undefined);
    assert.deepEqual(body.data, {
      catalog: items.map(({ disclosureWindows }) => ({
        code: Array.isArray(disclosureWindows) ? disclosureWindows.map(() => ({})) : null,
      })),
    });
    const skipped = await federation.query(text, { b0: false, b1: false });
    assert.deepEqual(skipped.body.data, {});
  });

  // The guards' alias must never be one the caller uses, or removing them would remove its field.
  it('a field the caller aliases like the skip guards is kept', async () => {
    const code = serious();
    const { body } = await federation.query(
      'query($code: ID!, $show: Boolean!) { subject(uscc: $code) { __credence_guard: name name @include(if: $show) } }',
      { code, show: false },
    );
    assert.deepEqual(body.data?.subject, { __credence_guard: trueSubject(code).name });
  });

  // In filter mode, when no denied field has a place in the answer (here the subject does not
  // exist), there is no FORBIDDEN error to report, and an empty `errors` is not valid GraphQL.
  it('filter mode: an answer with no error has no "errors" entry', async () => {
    const { body } = await federation.query(
      'query($code: ID!) { subject(uscc: $code) { legalRepresentative { phone } } }',
      { code: seedSubject(SUBJECTS + 1000).uscc },
      PORTAL,
    );
    assert.deepEqual(body.data, { subject: null });
    assert.ok(body.errors === undefined || body.errors.length > 0, `errors: ${JSON.stringify(body.errors)}`);
  });

  // The filter's placeholder alias must never be one the caller uses, or removing placeholders
  // from the answer would remove the caller's own field.
  it("filter mode: a field the caller aliases like the filter's placeholder is kept", async () => {
    const code = serious();
    const { body } = await federation.query(
      'query($code: ID!) { subject(uscc: $code) { __credence_filtered: name legalRepresentative { phone } } }',
      { code },
      PORTAL,
    );
    assert.equal((body.data?.subject as JsonObject | undefined)?.__credence_filtered, trueSubject(code).name);
  });

  it('a document with several operations is decided for the one named', async () => {
    const code = serious();
    const text =
      'query A($code: ID!) { subject(uscc: $code) { name } } query B($code: ID!) { subject(uscc: $code) { annualReports { year } } }';
    for (const [caller, operationName] of [
      [BANK, 'A'],
      [BANK, 'B'],
      [PORTAL, 'B'],
      [BANK, 'A'],
    ] as const) {
      const sent = { ...operation(text, { code }), operationName };
      const { answer, problems } = await throughGateway(caller, sent, newStats());
      assert.deepEqual(
        problems,
        [],
        formatFailure({ target: 'gateway', caller, text, variables: { code }, answer, problems }),
      );
    }
  });

  it('the oracle itself flags a doctored answer: a raw ID number, a denied phone, a hidden record, a key not asked for', async () => {
    // A record list, and a subject with a record in it the portal's record rule hides.
    const view = expectedView(PORTAL.consumer, PORTAL.purpose);
    assert.ok(view);
    const subjectType = apiSchema.getType('Subject');
    assert.ok(isObjectType(subjectType));
    let found: { field: string; idField: string; code: string; hidden: JsonObject } | undefined;
    for (const field of Object.values(subjectType.getFields())) {
      const recordType = getNamedType(field.type);
      if (
        !isObjectType(recordType) ||
        !isOracleRecordType(recordType.name) ||
        view.field('Subject', field.name).effect === 'deny'
      )
        continue;
      const idField = Object.values(recordType.getFields()).find(
        (candidate) => getNamedType(candidate.type).name === 'ID',
      )?.name;
      for (const [code, subject] of truth.subjects) {
        const hidden = ((subject[field.name] ?? []) as JsonObject[]).find(
          (record) => !isShownAsDescribed(recordType.name, record, view.records(recordType.name), new Date()),
        );
        if (hidden && idField && !found) found = { field: field.name, idField, code, hidden };
      }
    }
    assert.ok(found, 'a record hidden from the portal');
    const { field, idField, code, hidden } = found;
    const sent = operation(
      `query($code: ID!) { subject(uscc: $code) { legalRepresentative { idNumber phone } ${field} { ${idField} } } }`,
      { code },
    );
    const { answer, problems } = await throughGateway(PORTAL, sent, newStats());
    assert.deepEqual(
      problems,
      [],
      formatFailure({ target: 'gateway', caller: PORTAL, text: sent.text, variables: { code }, answer, problems }),
    );

    const representative = trueSubject(code).legalRepresentative as JsonObject;
    const doctored = structuredClone(answer);
    const subject = (doctored.data as { subject: JsonObject }).subject;
    subject.legalRepresentative = { idNumber: representative.idNumber, phone: representative.phone };
    subject[field] = [...(subject[field] as JsonObject[]), { [idField]: hidden[idField] }];
    subject.name = trueSubject(code).name;
    const flagged = judgeGatewayAnswer(PORTAL, sent, doctored, [new Date(), new Date()], newStats());
    const leaks = flagged.filter((problem) => problem.kind === 'leak').map((problem) => problem.path);
    for (const path of [
      'data.subject.legalRepresentative.idNumber',
      'data.subject.legalRepresentative.phone',
      `data.subject.${field}`,
      'data.subject.name',
    ]) {
      assert.ok(
        leaks.some((leak) => leak.startsWith(path)),
        `flags ${path}: ${JSON.stringify(flagged, null, 1)}`,
      );
    }
  });

  it('an unknown subject code is null, with no error', async () => {
    const answer = await clean(
      BANK,
      'query($code: ID!) { subject(uscc: $code) { name administrativePenalties { decisionNumber } } }',
      { code: seedSubject(SUBJECTS + 1000).uscc },
    );
    assert.deepEqual(answer.data, { subject: null });
  });

  it('introspection shows a consumer only the fields it may see', async () => {
    const portal = await clean(PORTAL, '{ __type(name: "LegalRepresentative") { fields { name } } }');
    assert.deepEqual(portal.data, { __type: { fields: [{ name: 'name' }, { name: 'idNumber' }] } });
    const privacy = await clean(PRIVACY, '{ __type(name: "Subject") { fields { name } } }');
    assert.deepEqual(privacy.data, { __type: { fields: [{ name: 'uscc' }] } });
  });

  it('a subgraph given a valid assertion refuses fields the asserted consumer may not see, by itself', async () => {
    const code = serious();
    const { answer, problems, text, variables } = await straightToSubgraph(
      PRIVACY,
      operation('query($code: ID!) { subject(uscc: $code) { taxPayments { amount } legalRepresentative { phone } } }', {
        code,
      }),
      'tax',
      'valid',
      newStats(),
    );
    assert.deepEqual(
      problems,
      [],
      formatFailure({ target: 'subgraph tax', caller: PRIVACY, text, variables, answer, problems }),
    );
    assert.match(text, /_entities/);
    assert.deepEqual(answer.errors[0]?.extensions?.deniedFields, ['Subject.taxPayments', 'TaxPayment.amount']);
  });
});
