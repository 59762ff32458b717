/**
 * Policy tests (`policies/tests/*.yaml`): a consumer, a purpose and a query, with the fields
 * expected visible, masked and denied. Like OPA's policy tests, they pin down what a policy
 * means, so that a change that shows or hides more than intended fails before it is deployed.
 *
 * Each expected list that a case gives must match exactly the requested fields with that
 * outcome; a list left out is not checked.
 */
import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import { parse } from 'graphql';
import type { GraphQLSchema } from 'graphql';
import type { CompiledPolicy, MaskName } from '../decision/model.ts';
import { explainOperation } from './explain.ts';
import type { ExplainedField } from './explain.ts';
import { policyTestJsonSchema } from './json-schema.ts';
import type { PolicyProblem } from '../loading/problems.ts';
import { parseYamlFile, positionOf, schemaProblems } from '../loading/yaml-source.ts';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

interface RawTestFile {
  consumer?: string;
  purpose?: string;
  cases: {
    name: string;
    consumer?: string;
    purpose?: string;
    query: string;
    operationName?: string;
    refused?: boolean;
    visible?: string[];
    masked?: string[] | Record<string, MaskName>;
    denied?: string[];
    records?: Record<string, { history?: boolean; disclosureWindow?: boolean }>;
  }[];
}

export interface PolicyTestCase {
  file: string;
  line: number;
  column: number;
  name: string;
  consumer: string;
  purpose: string;
  query: string;
  operationName?: string;
  refused: boolean;
  visible?: readonly string[];
  /** Field -> expected mask, or null when any mask will do. */
  masked?: ReadonlyMap<string, MaskName | null>;
  denied?: readonly string[];
  records?: Readonly<Record<string, { history?: boolean; disclosureWindow?: boolean }>>;
}

export interface PolicyTestResult {
  testCase: PolicyTestCase;
  passed: boolean;
  /** One line per difference between expectation and policy. */
  failures: string[];
}

let validateTestFile: ValidateFunction<RawTestFile> | undefined;

/** Parses test files (name relative to the policies folder -> text). */
export function parsePolicyTestFiles(texts: ReadonlyMap<string, string>): {
  cases: PolicyTestCase[];
  problems: PolicyProblem[];
} {
  validateTestFile ??= new Ajv({ allErrors: true, verbose: true, allowUnionTypes: true }).compile<RawTestFile>(
    policyTestJsonSchema(),
  );
  const cases: PolicyTestCase[] = [];
  const problems: PolicyProblem[] = [];
  for (const name of [...texts.keys()].sort()) {
    const parsed = parseYamlFile(name, texts.get(name) ?? '');
    problems.push(...parsed.problems);
    if (parsed.problems.length > 0) continue;
    const shape = schemaProblems(parsed.file, validateTestFile);
    problems.push(...shape);
    const data = parsed.file.data;
    if (shape.length > 0 || !validateTestFile(data)) continue;
    data.cases.forEach((raw, index) => {
      const { line, column } = positionOf(parsed.file, { file: name, path: ['cases', index] });
      const consumer = raw.consumer ?? data.consumer;
      const purpose = raw.purpose ?? data.purpose;
      if (consumer === undefined || purpose === undefined) {
        problems.push({
          severity: 'error',
          code: 'schema',
          file: name,
          line,
          column,
          message: `case "${raw.name}" names no ${consumer === undefined ? 'consumer' : 'purpose'}`,
          hint: 'set it on the case, or once at the top of the file',
        });
        return;
      }
      const masked =
        raw.masked === undefined
          ? undefined
          : Array.isArray(raw.masked)
            ? new Map(raw.masked.map((field) => [field, null]))
            : new Map(Object.entries(raw.masked));
      cases.push({
        file: name,
        line,
        column,
        name: raw.name,
        consumer,
        purpose,
        query: raw.query,
        ...(raw.operationName !== undefined ? { operationName: raw.operationName } : {}),
        refused: raw.refused ?? false,
        ...(raw.visible ? { visible: raw.visible } : {}),
        ...(masked ? { masked } : {}),
        ...(raw.denied ? { denied: raw.denied } : {}),
        ...(raw.records ? { records: raw.records } : {}),
      });
    });
  }
  return { cases, problems };
}

type Outcome = 'visible' | 'masked' | 'denied';

function outcomeOf(field: ExplainedField): Outcome {
  return field.effect === 'allow' ? 'visible' : field.effect === 'mask' ? 'masked' : 'denied';
}

function describeActual(field: ExplainedField | undefined): string {
  if (!field) return 'not requested by the query';
  const outcome = field.effect === 'mask' ? `masked ${field.mask ?? ''}` : outcomeOf(field);
  return `${outcome} (${field.ruleId ?? 'default deny'})`;
}

export function runPolicyTest(
  policy: CompiledPolicy,
  schema: GraphQLSchema,
  testCase: PolicyTestCase,
): PolicyTestResult {
  const failures: string[] = [];
  const result = (): PolicyTestResult => ({ testCase, passed: failures.length === 0, failures });
  let document;
  try {
    document = parse(testCase.query);
  } catch (error) {
    failures.push(`the query does not parse: ${(error as Error).message}`);
    return result();
  }
  const explanation = explainOperation(policy, schema, {
    consumer: testCase.consumer,
    purpose: testCase.purpose,
    document,
    ...(testCase.operationName !== undefined ? { operationName: testCase.operationName } : {}),
  });
  if (explanation.kind === 'invalid') {
    failures.push(...explanation.errors.map((error) => `the query is not valid: ${error}`));
    return result();
  }
  if (explanation.kind === 'refused') {
    if (!testCase.refused) failures.push(`expected an answer, but the request is refused: ${explanation.reason}`);
    return result();
  }
  if (testCase.refused) {
    failures.push(`expected the request to be refused, but ${testCase.consumer} may use ${testCase.purpose}`);
    return result();
  }

  // One outcome per Type.field: a field selected in several places is decided the same everywhere.
  const actual = new Map<string, ExplainedField>();
  for (const field of explanation.fields) if (!actual.has(field.coordinate)) actual.set(field.coordinate, field);
  const expected = new Map<string, { outcome: Outcome; mask: MaskName | null }>();
  for (const field of testCase.visible ?? []) expected.set(field, { outcome: 'visible', mask: null });
  for (const [field, mask] of testCase.masked ?? []) expected.set(field, { outcome: 'masked', mask });
  for (const field of testCase.denied ?? []) expected.set(field, { outcome: 'denied', mask: null });
  const checked: Record<Outcome, boolean> = {
    visible: testCase.visible !== undefined,
    masked: testCase.masked !== undefined,
    denied: testCase.denied !== undefined,
  };

  for (const [coordinate, expectation] of expected) {
    const field = actual.get(coordinate);
    const matches =
      field !== undefined &&
      outcomeOf(field) === expectation.outcome &&
      (expectation.mask === null || field.mask === expectation.mask);
    if (!matches) {
      const wanted =
        expectation.outcome === 'masked' && expectation.mask ? `masked ${expectation.mask}` : expectation.outcome;
      failures.push(`${coordinate}: expected ${wanted}, got ${describeActual(field)}`);
    }
  }
  for (const [coordinate, field] of actual) {
    const outcome = outcomeOf(field);
    if (checked[outcome] && !expected.has(coordinate))
      failures.push(`${coordinate}: ${describeActual(field)}, but not listed under ${outcome}`);
  }
  for (const [typeName, expectation] of Object.entries(testCase.records ?? {})) {
    const rule = policy.view(testCase.consumer, testCase.purpose)?.records(typeName);
    if (!rule) continue;
    for (const key of ['history', 'disclosureWindow'] as const) {
      const wanted = expectation[key];
      if (wanted !== undefined && rule[key] !== wanted) {
        failures.push(`${typeName} records: expected ${key} ${wanted}, got ${rule[key]} (${rule.ruleId ?? 'default'})`);
      }
    }
  }
  return result();
}

export function runPolicyTests(
  policy: CompiledPolicy,
  schema: GraphQLSchema,
  cases: readonly PolicyTestCase[],
): PolicyTestResult[] {
  return cases.map((testCase) => runPolicyTest(policy, schema, testCase));
}

export function formatPolicyTestResults(results: readonly PolicyTestResult[]): string {
  const lines: string[] = [];
  for (const { testCase, passed, failures } of results) {
    lines.push(
      `${passed ? 'pass' : 'FAIL'}  ${testCase.consumer} / ${testCase.purpose}: ${testCase.name}  (${testCase.file}:${testCase.line})`,
    );
    for (const failure of failures) lines.push(`        ${failure}`);
  }
  const failed = results.filter((result) => !result.passed).length;
  lines.push('', `${results.length - failed} passed, ${failed} failed`);
  return lines.join('\n');
}

/** The test files of a policies folder (`tests/*.yaml`, by path); none when it has no tests folder. */
export async function readPolicyTestFiles(dir: string): Promise<Map<string, string>> {
  const testsDir = join(dir, 'tests');
  const names = await readdir(testsDir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  const yaml = names.filter((name) => name.endsWith('.yaml') || name.endsWith('.yml')).sort();
  return new Map(
    await Promise.all(
      yaml.map(async (name) => [`tests/${name}`, await readFile(join(testsDir, name), 'utf8')] as const),
    ),
  );
}
