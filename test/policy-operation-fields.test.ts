/**
 * The operation walker shared by the gateway, the subgraphs and the policy tools: every field an
 * operation asks for, with its type and response path.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  getNamedType,
  isCompositeType,
  isObjectType,
  parse,
  TypeInfo,
  validate,
  visit,
  visitWithTypeInfo,
} from 'graphql';
import type { GraphQLObjectType } from 'graphql';
import { buildApiSchema } from '../lib/policy/decision/api-schema.ts';
import { collectRequestedFields } from '../lib/policy/decision/operation-fields.ts';

const schema = buildApiSchema(readFileSync(new URL('../schema/supergraph.graphql', import.meta.url), 'utf8'));

function fields(query: string, operationName?: string): string[] {
  return collectRequestedFields(schema, parse(query), operationName).map(
    (field) => `${field.path.join('.')} ${field.typeName}.${field.fieldName}`,
  );
}

describe('collectRequestedFields', () => {
  it('reports aliases in paths and "@" for list levels', () => {
    assert.deepEqual(
      fields('{ list: subjects(first: 2) { code: uscc rep: legalRepresentative { name } annualReports { year } } }'),
      [
        'list Query.subjects',
        'list.@.code Subject.uscc',
        'list.@.rep Subject.legalRepresentative',
        'list.@.rep.name LegalRepresentative.name',
        'list.@.annualReports Subject.annualReports',
        'list.@.annualReports.@.year AnnualReport.year',
      ],
    );
  });

  it('expands named fragments and inline fragments in place, with and without a type condition', () => {
    const query = `query Q($u: ID!) {
      subject(uscc: $u) {
        ...Names
        ... on Subject { status }
        ... { address }
        legalRepresentative { ...Rep }
      }
    }
    fragment Names on Subject { name }
    fragment Rep on LegalRepresentative { idNumber ... on LegalRepresentative { phone } }`;
    assert.deepEqual(fields(query), [
      'subject Query.subject',
      'subject.name Subject.name',
      'subject.status Subject.status',
      'subject.address Subject.address',
      'subject.legalRepresentative Subject.legalRepresentative',
      'subject.legalRepresentative.idNumber LegalRepresentative.idNumber',
      'subject.legalRepresentative.phone LegalRepresentative.phone',
    ]);
  });

  it('counts fields under @include and @skip as requested, whatever the variables', () => {
    const query =
      'query($no: Boolean!) { subject(uscc: "x") { name @include(if: $no) taxPayments @skip(if: true) { amount } } }';
    assert.deepEqual(fields(query), [
      'subject Query.subject',
      'subject.name Subject.name',
      'subject.taxPayments Subject.taxPayments',
      'subject.taxPayments.@.amount TaxPayment.amount',
    ]);
  });

  it('reports a field once per place it is selected, and __typename with its type', () => {
    assert.deepEqual(fields('{ subject(uscc: "x") { __typename name ... on Subject { name } } }'), [
      'subject Query.subject',
      'subject.__typename Subject.__typename',
      'subject.name Subject.name',
      'subject.name Subject.name',
    ]);
  });

  it('keeps the field node, so that a gateway can cut it out', () => {
    const document = parse('{ subject(uscc: "x") { alias: name } }');
    const [, field] = collectRequestedFields(schema, document);
    assert.equal(field?.node.alias?.value, 'alias');
    assert.equal(field?.responseKey, 'alias');
  });

  it('selects the operation by name, and refuses ambiguity', () => {
    const query = 'query A { subject(uscc: "x") { name } } query B { subjects { status } }';
    assert.deepEqual(fields(query, 'B'), ['subjects Query.subjects', 'subjects.@.status Subject.status']);
    assert.throws(() => fields(query), /several operations/);
    assert.throws(() => fields(query, 'C'), /Unknown operation named "C"/);
    assert.throws(() => fields('fragment F on Subject { name }'), /no operation/);
  });

  it('survives documents that validation would refuse: unknown fields and fragment cycles', () => {
    assert.deepEqual(
      fields(
        '{ subject(uscc: "x") { nope { deeper } ...A } } fragment A on Subject { name ...B } fragment B on Subject { status ...A }',
      ),
      [
        'subject Query.subject',
        'subject.nope Subject.nope',
        'subject.name Subject.name',
        'subject.status Subject.status',
      ],
    );
  });

  it('does not walk into introspection', () => {
    assert.deepEqual(fields('{ __schema { types { name } } __type(name: "Subject") { name } }'), [
      '__schema Query.__schema',
      '__type Query.__type',
    ]);
  });

  it('agrees with graphql-js TypeInfo on any valid operation (property)', () => {
    const selection = (type: GraphQLObjectType, depth: number): fc.Arbitrary<string> => {
      const candidates = Object.values(type.getFields()).filter(
        (field) => depth > 0 || !isCompositeType(getNamedType(field.type)),
      );
      return fc.subarray(candidates, { minLength: 1 }).chain((chosen) =>
        fc
          .tuple(
            ...chosen.map((field) => {
              const named = getNamedType(field.type);
              const args = field.args.some((arg) => arg.name === 'uscc') ? '(uscc: "91110000600037341L")' : '';
              const body = isObjectType(named)
                ? selection(named, depth - 1).map((inner) => ` { ${inner} }`)
                : fc.constant('');
              return fc.tuple(fc.boolean(), fc.boolean(), body).map(([alias, fragment, inner]) => {
                const text = `${alias ? `a_${field.name}: ` : ''}${field.name}${args}${inner}`;
                return fragment ? `... on ${type.name} { ${text} }` : text;
              });
            }),
          )
          .map((parts) => parts.join(' ')),
      );
    };
    fc.assert(
      fc.property(selection(schema.getQueryType()!, 3), (body) => {
        const document = parse(`{ ${body} }`);
        assert.deepEqual(validate(schema, document), []);
        const expected: string[] = [];
        const typeInfo = new TypeInfo(schema);
        visit(
          document,
          visitWithTypeInfo(typeInfo, {
            Field(node) {
              expected.push(`${typeInfo.getParentType()?.name}.${node.name.value}`);
            },
          }),
        );
        const actual = collectRequestedFields(schema, document).map((field) => `${field.typeName}.${field.fieldName}`);
        assert.deepEqual(actual, expected);
      }),
      { numRuns: 200 },
    );
  });
});
