/**
 * The shared walkers (lib/graphql/): the one operation walk (fragments expanded in place, types
 * from the schema when there is one, cycles of spreads cut), the one answer walk (along a response
 * path, or over every object) and the one document hash. Their users have tests of their own
 * (policy-operation-fields, operation-limits, access-log-subjects, executed-document).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Kind, parse, print, type OperationDefinitionNode } from 'graphql';
import { buildApiSchema } from '../lib/policy/decision/api-schema.ts';
import { fragmentsOf, walkSelections } from '../lib/graphql/operation-walk.ts';
import { forEachAtPath, forEachObject } from '../lib/graphql/answer-walk.ts';
import { documentHash, printedDocumentHash } from '../lib/graphql/document-hash.ts';

const schema = buildApiSchema(readFileSync(new URL('../schema/supergraph.graphql', import.meta.url), 'utf8'));

function operationOf(query: string): { document: ReturnType<typeof parse>; operation: OperationDefinitionNode } {
  const document = parse(query);
  const operation = document.definitions.find(
    (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
  );
  assert.ok(operation);
  return { document, operation };
}

/** Every field the walk reaches, as `depth Type.field` (`? .field` without a type). */
function walked(query: string, withSchema: boolean): string[] {
  const { document, operation } = operationOf(query);
  const seen: string[] = [];
  walkSelections(
    {
      schema: withSchema ? schema : undefined,
      fragments: fragmentsOf(document),
      field: (field, parent, definition, depth: number) => {
        seen.push(`${depth} ${parent?.name ?? '?'}.${field.name.value}${definition ? '' : ' (no definition)'}`);
        return depth + 1;
      },
    },
    operation.selectionSet,
    withSchema ? (schema.getQueryType() ?? undefined) : undefined,
    0,
  );
  return seen;
}

describe('the operation walk', () => {
  it('expands inline fragments and spreads in place, typed by their condition', () => {
    assert.deepEqual(
      walked('{ subject(uscc: "x") { ...names ... on Subject { uscc } } } fragment names on Subject { name }', true),
      ['0 Query.subject', '1 Subject.name', '1 Subject.uscc'],
    );
  });

  it('walks without a schema, every type undefined', () => {
    assert.deepEqual(walked('{ subject(uscc: "x") { ...names } } fragment names on Subject { name }', false), [
      '0 ?.subject (no definition)',
      '1 ?.name (no definition)',
    ]);
  });

  it('does not expand a fragment again inside itself (a cycle ends)', () => {
    const seen = walked(
      '{ subject(uscc: "x") { ...a } } fragment a on Subject { name legalRepresentative { name } ...a }',
      true,
    );
    assert.deepEqual(seen, [
      '0 Query.subject',
      '1 Subject.name',
      '1 Subject.legalRepresentative',
      '2 LegalRepresentative.name',
    ]);
  });

  it('does not walk into a field whose step returns undefined', () => {
    const { document, operation } = operationOf('{ subject(uscc: "x") { name } catalog { code } }');
    const seen: string[] = [];
    walkSelections(
      { schema, fragments: fragmentsOf(document), field: (field) => void seen.push(field.name.value) },
      operation.selectionSet,
      schema.getQueryType() ?? undefined,
      null,
    );
    assert.deepEqual(seen, ['subject', 'catalog']);
  });

  it('reads the fragments of one document object once', () => {
    const { document } = operationOf('{ subject(uscc: "x") { ...a } } fragment a on Subject { name }');
    assert.equal(fragmentsOf(document), fragmentsOf(document));
    assert.deepEqual([...fragmentsOf(document).keys()], ['a']);
  });
});

describe('the answer walk along a path', () => {
  it('reaches every holder through lists, with the concrete path', () => {
    const data = { list: [{ rep: { id: '1' } }, { rep: null }, { rep: { id: '3' } }] };
    const reached: string[] = [];
    forEachAtPath(data, ['list', '@', 'rep', 'id'], (holder, key, at) =>
      reached.push(`${at.join('.')}=${String(holder[key])}`),
    );
    assert.deepEqual(reached, ['list.0.rep.id=1', 'list.2.rep.id=3']);
  });

  it('visits a missing last key (a denied field put back), but never walks through a key the answer does not hold', () => {
    const data: Record<string, unknown> = { subject: {} };
    forEachAtPath(data, ['subject', 'secret'], (holder, key) => void (holder[key] = null));
    assert.deepEqual(data, { subject: { secret: null } });
    const reached: unknown[] = [];
    forEachAtPath({}, ['__proto__', 'polluted'], (holder, key) => reached.push(key));
    forEachAtPath({}, ['constructor', 'name'], (holder, key) => reached.push(key));
    assert.deepEqual(reached, []);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('stops where a list is expected and an object is answered', () => {
    const reached: unknown[] = [];
    forEachAtPath({ list: { id: 1 } }, ['list', '@', 'id'], (holder, key) => reached.push(key));
    assert.deepEqual(reached, []);
  });
});

describe('the answer walk over every object', () => {
  it('visits each object once, parent before children, and walks what the visit left', () => {
    const data = { a: { b: [{ c: 1 }, { c: 2, drop: { deep: true } }] }, drop: { deep: true } };
    const order: string[] = [];
    forEachObject(data, (record) => {
      order.push(Object.keys(record).join(','));
      delete record.drop;
    });
    assert.deepEqual(order, ['a,drop', 'b', 'c', 'c,drop']);
    assert.deepEqual(data, { a: { b: [{ c: 1 }, { c: 2 }] } });
  });
});

describe('the document hash', () => {
  it('is SHA-256 hex of the text, as Apollo Server hashes a query', () => {
    assert.equal(
      documentHash('{ catalog { code } }'),
      createHash('sha256').update('{ catalog { code } }').digest('hex'),
    );
  });

  it('of a built document is the hash of its printed text, printed once per object', () => {
    const document = parse('{ catalog { code } }');
    assert.equal(printedDocumentHash(document), documentHash(print(document)));
    assert.equal(printedDocumentHash(document), printedDocumentHash(document));
  });
});
