/**
 * What the gateway hands to Apollo once the pipeline's rewriting stages (skip guards, subject
 * keys, key aliases) have prepared it, without servers (the answers are tested through the real
 * federation in policy-no-leak.test.ts): an ordinary operation goes through unchanged, under its
 * own hash, so Apollo's plan cache is untouched; conditions get guards, clashing aliases are moved
 * and put back in place, and nothing added is ever under a key the caller uses.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GraphQLError, parse, print } from 'graphql';
import type { GatewayExecutor, GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import type { DocumentNode } from 'graphql';
import { createPipeline } from '../gateway/pipeline.ts';
import { departmentCallsStage } from '../gateway/stages/department-calls.ts';
import { keyAliasesStage } from '../gateway/stages/key-aliases.ts';
import { skipGuardsStage } from '../gateway/stages/skip-guards.ts';
import { subjectKeysStage } from '../gateway/stages/subject-keys.ts';
import type { RequestIdentity } from '../gateway/stages/stage.ts';
import { executionOf } from './support/pipeline.ts';
import { restoreKeys } from '../gateway/stages/key-aliases.ts';
import { removeAliased } from '../gateway/added-selections.ts';

interface Executed {
  /** What Apollo was handed, and under which hash. */
  document: DocumentNode;
  queryHash: string;
  /** The document the answer matches once the key aliases stage has finished. */
  answered: DocumentNode | null;
  added: string[];
  /** The answer Apollo's `data` becomes once the stages have finished. */
  answer: unknown;
}

/** Runs the rewriting stages and the department calls stage, with Apollo's executor answering `data` and recording what it was handed. */
async function executeDocument(
  document: DocumentNode,
  accessLog: boolean,
  data: Record<string, unknown> = {},
): Promise<Executed> {
  let handed: GatewayGraphQLRequestContext | undefined;
  const executor: GatewayExecutor = async (requestContext) => {
    handed = requestContext;
    return { data: structuredClone(data) };
  };
  const stages = [skipGuardsStage, ...(accessLog ? [subjectKeysStage] : []), keyAliasesStage(), departmentCallsStage];
  const execution = executionOf(document, {} as RequestIdentity, executor, undefined, 'hash-of-the-operation');
  const answer = await createPipeline(stages).execute(execution);
  assert.ok(handed);
  return {
    document: handed.document,
    queryHash: handed.queryHash,
    answered: execution.document,
    added: execution.added,
    answer: answer.data,
  };
}

const executed = (query: string, accessLog = false): Promise<Executed> => executeDocument(parse(query), accessLog);

const flat = (query: string): string => print(parse(query)).replace(/\s+/g, ' ');

describe('the executed document', () => {
  it('is the operation itself, under its own hash, when nothing needs adding', async () => {
    const document = parse('query($code: ID!) { subject(uscc: $code) { name code: uscc } catalog { code } }');
    const data = { subject: { name: 'n', code: 'c' }, catalog: [{ code: 'x' }] };
    const result = await executeDocument(document, false, data);
    assert.equal(result.document, document);
    assert.equal(result.answered, document);
    assert.equal(result.queryHash, 'hash-of-the-operation');
    assert.deepEqual(result.added, []);
    // Nothing renamed: the answer is Apollo's, untouched.
    assert.deepEqual(result.answer, data);
  });

  it('guards every selection set of an operation with a condition, the root included', async () => {
    const result = await executed(
      'query($b: Boolean!) { catalog @include(if: $b) { disclosureWindows { days @skip(if: $b) } } }',
    );
    assert.equal(
      flat(print(result.document)),
      flat(`query($b: Boolean!) {
      catalog @include(if: $b) { disclosureWindows { days @skip(if: $b) __credence_guard: __typename } __credence_guard: __typename }
      __credence_guard: __typename
    }`),
    );
    assert.deepEqual(result.added, ['__credence_guard']);
    assert.notEqual(result.queryHash, 'hash-of-the-operation');
  });

  it('never adds under an alias the caller uses', async () => {
    const result = await executed(
      'query($b: Boolean!) { catalog { __credence_guard: code name @skip(if: $b) } }',
      true,
    );
    assert.deepEqual(result.added, ['__credence_guard1']);
    assert.match(print(result.document), /__credence_guard: code/);
  });

  it("with the access log on, selects every subject's code under its own alias, after the guards", async () => {
    const result = await executed('query($b: Boolean!) { subjects(first: 2) { name @include(if: $b) } }', true);
    assert.deepEqual(result.added, ['__credence_guard', '__credence_subject']);
    assert.match(
      print(result.document),
      /name @include\(if: \$b\)\s+__credence_guard: __typename\s+__credence_subject: uscc/,
    );
  });

  it('moves a field aliased like the entity key or __typename, and keeps the rest', async () => {
    const result = await executeDocument(
      parse(
        'query($code: ID!) { subject(uscc: $code) { uscc: name __typename: status legalRepresentative { uscc: name } } }',
      ),
      false,
      {
        subject: {
          __credence_as_uscc: 'name',
          __credence_as_typename: 'status',
          legalRepresentative: { uscc: 'representative' },
        },
      },
    );
    assert.equal(
      flat(print(result.document)),
      flat(`query($code: ID!) {
      subject(uscc: $code) { __credence_as_uscc: name __credence_as_typename: status legalRepresentative { uscc: name } }
    }`),
    );
    assert.ok(result.answered);
    assert.equal(
      print(result.answered),
      print(
        parse(
          'query($code: ID!) { subject(uscc: $code) { uscc: name __typename: status legalRepresentative { uscc: name } } }',
        ),
      ),
    );
    // Renamed back: __credence_as_uscc to uscc, __credence_as_typename to __typename, nothing else.
    assert.equal(
      JSON.stringify(result.answer),
      JSON.stringify({
        subject: { uscc: 'name', __typename: 'status', legalRepresentative: { uscc: 'representative' } },
      }),
    );
  });
});

describe('the answer', () => {
  it("gets the caller's keys back, in the caller's order, in data and in error paths", () => {
    const renamed = new Map([['__credence_as_uscc', 'uscc']]);
    const answer = restoreKeys(
      {
        data: {
          subjects: [
            { a: 1, __credence_as_uscc: 'name 1', b: 2 },
            { a: 3, __credence_as_uscc: null, b: 4 },
          ],
        },
        errors: [
          new GraphQLError('Department unavailable.', {
            path: ['subjects', 1, '__credence_as_uscc'],
            extensions: { code: 'DEPARTMENT_UNAVAILABLE' },
          }),
        ],
      },
      renamed,
    );
    assert.equal(
      JSON.stringify(answer.data),
      JSON.stringify({
        subjects: [
          { a: 1, uscc: 'name 1', b: 2 },
          { a: 3, uscc: null, b: 4 },
        ],
      }),
    );
    assert.deepEqual(
      answer.errors?.map(({ path, extensions }) => ({ path, code: extensions.code })),
      [{ path: ['subjects', 1, 'uscc'], code: 'DEPARTMENT_UNAVAILABLE' }],
    );
  });

  it('loses what the gateway added, at every depth', () => {
    const data = { a: { x: 1, g: 'T', s: 'code', list: [{ g: 'U', y: 2 }] }, g: 'Query' };
    removeAliased(data, ['g', 's']);
    assert.deepEqual(data, { a: { x: 1, list: [{ y: 2 }] } });
  });
});
