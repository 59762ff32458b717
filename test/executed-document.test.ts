/**
 * What the gateway hands to Apollo, without servers (the answers are tested through the real
 * federation in policy-no-leak.test.ts): an ordinary operation goes through unchanged, under its
 * own hash, so Apollo's plan cache is untouched; conditions get guards, clashing aliases are moved
 * and put back in place, and nothing added is ever under a key the caller uses.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GraphQLError, parse, print } from 'graphql';
import { executedDocument } from '../gateway/executed-document.ts';
import { restoreKeys } from '../gateway/stages/key-aliases.ts';
import { removeAliased } from '../gateway/added-selections.ts';
import { loadApiSchema } from './support/policy-operations.ts';

const schema = loadApiSchema();

function executed(query: string, accessLog = false) {
  return executedDocument(schema, parse(query), 'hash-of-the-operation', { accessLog });
}

const flat = (query: string): string => print(parse(query)).replace(/\s+/g, ' ');

describe('the executed document', () => {
  it('is the operation itself, under its own hash, when nothing needs adding', () => {
    const document = parse('query($code: ID!) { subject(uscc: $code) { name code: uscc } catalog { code } }');
    const result = executedDocument(schema, document, 'hash-of-the-operation', { accessLog: false });
    assert.equal(result.document, document);
    assert.equal(result.answered, document);
    assert.equal(result.queryHash, 'hash-of-the-operation');
    assert.deepEqual(result.added, []);
    assert.equal(result.renamed.size, 0);
  });

  it('guards every selection set of an operation with a condition, the root included', () => {
    const result = executed('query($b: Boolean!) { catalog @include(if: $b) { disclosureWindows { days @skip(if: $b) } } }');
    assert.equal(flat(print(result.document)), flat(`query($b: Boolean!) {
      catalog @include(if: $b) { disclosureWindows { days @skip(if: $b) __credence_guard: __typename } __credence_guard: __typename }
      __credence_guard: __typename
    }`));
    assert.deepEqual(result.added, ['__credence_guard']);
    assert.notEqual(result.queryHash, 'hash-of-the-operation');
  });

  it('never adds under an alias the caller uses', () => {
    const result = executed('query($b: Boolean!) { catalog { __credence_guard: code name @skip(if: $b) } }', true);
    assert.deepEqual(result.added, ['__credence_guard1']);
    assert.match(print(result.document), /__credence_guard: code/);
  });

  it('with the access log on, selects every subject\'s code under its own alias, after the guards', () => {
    const result = executed('query($b: Boolean!) { subjects(first: 2) { name @include(if: $b) } }', true);
    assert.deepEqual(result.added, ['__credence_guard', '__credence_subject']);
    assert.match(print(result.document), /name @include\(if: \$b\)\s+__credence_guard: __typename\s+__credence_subject: uscc/);
  });

  it('moves a field aliased like the entity key or __typename, and keeps the rest', () => {
    const result = executed('query($code: ID!) { subject(uscc: $code) { uscc: name __typename: status legalRepresentative { uscc: name } } }');
    assert.equal(flat(print(result.document)), flat(`query($code: ID!) {
      subject(uscc: $code) { __credence_as_uscc: name __credence_as_typename: status legalRepresentative { uscc: name } }
    }`));
    assert.equal(print(result.answered), print(parse('query($code: ID!) { subject(uscc: $code) { uscc: name __typename: status legalRepresentative { uscc: name } } }')));
    assert.deepEqual([...result.renamed], [['__credence_as_uscc', 'uscc'], ['__credence_as_typename', '__typename']]);
  });
});

describe('the answer', () => {
  it('gets the caller\'s keys back, in the caller\'s order, in data and in error paths', () => {
    const renamed = new Map([['__credence_as_uscc', 'uscc']]);
    const answer = restoreKeys({
      data: { subjects: [{ a: 1, __credence_as_uscc: 'name 1', b: 2 }, { a: 3, __credence_as_uscc: null, b: 4 }] },
      errors: [new GraphQLError('Department unavailable.', { path: ['subjects', 1, '__credence_as_uscc'], extensions: { code: 'DEPARTMENT_UNAVAILABLE' } })],
    }, renamed);
    assert.equal(JSON.stringify(answer.data), JSON.stringify({ subjects: [{ a: 1, uscc: 'name 1', b: 2 }, { a: 3, uscc: null, b: 4 }] }));
    assert.deepEqual(answer.errors?.map(({ path, extensions }) => ({ path, code: extensions.code })), [{ path: ['subjects', 1, 'uscc'], code: 'DEPARTMENT_UNAVAILABLE' }]);
  });

  it('loses what the gateway added, at every depth', () => {
    const data = { a: { x: 1, g: 'T', s: 'code', list: [{ g: 'U', y: 2 }] }, g: 'Query' };
    removeAliased(data, ['g', 's']);
    assert.deepEqual(data, { a: { x: 1, list: [{ y: 2 }] } });
  });
});
