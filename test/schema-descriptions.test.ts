/**
 * A documented schema: every type, field, argument, input field and enum value of the API schema
 * has a description (100%), every field a consumer can see carries its catalog item in that
 * consumer's schema, and the composed Subject carries the registry's description (the department
 * that owns registration), not the one of whichever department composition met first.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { isObjectType, Kind, parse, type ObjectTypeDefinitionNode } from 'graphql';
import { buildApiSchema } from '../lib/policy/decision/api-schema.ts';
import { loadPolicy } from '../lib/policy/loading/load-policy.ts';
import { DEFAULT_POLICIES_DIR, DEFAULT_SUPERGRAPH_PATH } from '../lib/policy/releases/process-policy.ts';
import { consumerSchema } from '../lib/schema/consumer-schema.ts';
import { descriptionCoverage } from '../lib/schema/description-coverage.ts';

const apiSchema = buildApiSchema(readFileSync(DEFAULT_SUPERGRAPH_PATH, 'utf8'));

describe('a documented schema', () => {
  it('description coverage is 100%: every type, field, argument, input field and enum value is described', () => {
    const coverage = descriptionCoverage(apiSchema);
    assert.deepEqual(coverage.missing, []);
    assert.ok(coverage.total >= 400, `counted ${coverage.total} coordinates`);
    for (const [kind, [described, total]] of Object.entries(coverage.byKind)) assert.equal(described, total, kind);
  });

  it('the coverage check finds a gap (a field without a description fails it)', () => {
    const gap = buildApiSchema(readFileSync(DEFAULT_SUPERGRAPH_PATH, 'utf8').replace('"""Registered address."""', ''));
    assert.deepEqual(descriptionCoverage(gap).missing, ['Subject.address']);
  });

  it('every field each consumer sees names its catalog item and disclosure rule', async () => {
    const loaded = await loadPolicy(DEFAULT_POLICIES_DIR, apiSchema);
    assert.ok(loaded.ok);
    let checked = 0;
    for (const consumer of loaded.policy.consumers.values()) {
      for (const purpose of consumer.purposes) {
        const view = loaded.policy.view(consumer.id, purpose);
        assert.ok(view);
        for (const type of Object.values(consumerSchema(apiSchema, view).getTypeMap())) {
          if (!isObjectType(type) || type.name.startsWith('__') || type.name === 'Mutation') continue;
          for (const field of Object.values(type.getFields())) {
            assert.match(
              field.description ?? '',
              /Catalog item [A-Z0-9-]+ \(.+; (PUBLIC|SHARED|RESTRICTED), from [a-z]+; .*(window|displayed).*\)/,
              `${consumer.id}/${purpose}: ${type.name}.${field.name}`,
            );
            checked += 1;
          }
        }
      }
    }
    assert.ok(checked > 500, `checked ${checked} fields`);
  });

  it("the composed Subject carries the registry's description", () => {
    const registry = parse(
      readFileSync(new URL('../schema/registry.graphql', import.meta.url), 'utf8'),
    ).definitions.find(
      (definition): definition is ObjectTypeDefinitionNode =>
        definition.kind === Kind.OBJECT_TYPE_DEFINITION && definition.name.value === 'Subject',
    );
    assert.ok(registry?.description);
    assert.equal(apiSchema.getType('Subject')?.description, registry.description.value);
    assert.doesNotMatch(apiSchema.getType('Subject')?.description ?? '', /credit office/);
  });
});
