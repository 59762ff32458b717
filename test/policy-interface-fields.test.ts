/**
 * A rule on an interface field holds for its implementations, and a rule on an implementation's
 * field holds through the interface (lib/policy/decision/interface-fields.ts): compiled decisions on the
 * rich test schema, and the validation warning that shows the officer where rules disagree.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildApiSchema } from '../lib/policy/decision/api-schema.ts';
import { parseCatalog } from '../lib/policy/reference/catalog.ts';
import { loadMeasures } from '../lib/policy/reference/measures.ts';
import { loadPolicyFromTexts } from '../lib/policy/loading/load-policy.ts';
import { catalogWith, composeWith } from './support/rich-federation.ts';
import { RICH_DEPARTMENTS } from './fixtures/rich/index.ts';

const supergraphSdl = composeWith(RICH_DEPARTMENTS);
const schema = buildApiSchema(supergraphSdl);
const catalog = parseCatalog('catalog.yaml', catalogWith(supergraphSdl, 'rich-test'));
assert.ok(catalog.ok);
const referenceData = { catalog: catalog.catalog, measures: loadMeasures() };

function load(rules: string) {
  return loadPolicyFromTexts(
    {
      'rich.yaml': [
        'purposes:',
        '  - { id: READING, description: Reading. }',
        'consumers:',
        '  - id: reader',
        '    name: Reader',
        '    purposes: [READING]',
        '    mode: reject',
        '    credentials: { apiKeys: [{ id: reader, sha256: "' + '1'.repeat(64) + '" }] }',
        'rules:',
        rules,
      ].join('\n'),
    },
    schema,
    { referenceData },
  );
}

describe('interface fields and their implementations are decided alike', () => {
  it('a deny on an interface field denies the field of every implementation, and validation says so', () => {
    const result = load(
      [
        '  - { id: products, description: Products., consumers: [reader], allow: [Query.products, Product.id, Book.*, Gadget.*] }',
        '  - { id: no-prices, description: No prices., consumers: [reader], deny: [Product.price] }',
      ].join('\n'),
    );
    assert.ok(result.ok, result.ok ? '' : result.errors.map((error) => error.message).join('\n'));
    const view = result.policy.view('reader', 'READING');
    assert.equal(view?.field('Book', 'price').effect, 'deny');
    assert.equal(view?.field('Gadget', 'price').effect, 'deny');
    assert.equal(view?.field('Book', 'isbn').effect, 'allow');
    const warnings = result.warnings
      .filter((warning) => warning.code === 'interface-mismatch')
      .map((warning) => warning.message);
    assert.ok(
      warnings.some((message) =>
        /^Book\.price is allow for reader \(READING\) but Product\.price is deny/.test(message),
      ),
      warnings.join('\n'),
    );
  });

  it("a deny on one implementation's field denies the interface field, not the other implementation's", () => {
    const result = load(
      '  - { id: products, description: Products., consumers: [reader], allow: [Query.products, Product.*, Book.*, Gadget.id] }',
    );
    assert.ok(result.ok);
    const view = result.policy.view('reader', 'READING');
    assert.equal(view?.field('Product', 'name').effect, 'deny', "a name through the interface may be a gadget's");
    assert.equal(view?.field('Book', 'name').effect, 'allow', "a name on Book is a book's");
    assert.ok(
      result.warnings.some(
        (warning) => warning.code === 'interface-mismatch' && warning.message.startsWith('Product.name is allow'),
      ),
    );
  });

  it('interface and implementations decided alike: no warning', () => {
    const result = load(
      '  - { id: products, description: Products., consumers: [reader], allow: [Query.products, Product.*, Book.*, Gadget.*] }',
    );
    assert.ok(result.ok);
    assert.deepEqual(
      result.warnings.filter((warning) => warning.code === 'interface-mismatch'),
      [],
    );
  });
});
