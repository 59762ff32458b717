/**
 * No leak on a second, richer schema (issue 20): test/fixtures/rich/, three departments with an
 * interface (`Product`, implemented by the entities `Book` and `Gadget`), a union
 * (`SearchResult = Book | Gadget | Supplier`), `@requires` (shipping cost from inventory's
 * weight), `@provides` (a review's supplier name) and an entity keyed on a nested selection
 * (`Warehouse @key(fields: "site { country code }")`), run by Credence's own subgraph runtime
 * beside the shipped departments, behind the real gateway with every rewrite stage on (skip
 * guards, subject keys for the access log, key aliases, filter placeholders and their undo).
 *
 * The policy under test denies its two readers (one in reject mode, one in filter mode) a rule on
 * an interface field (`Product.price`), a field of one implementation (`Gadget.name`, so
 * `Product.name` too: the value through the interface may be a gadget's), a field of a union
 * member (`Supplier.taxNumber`) and a field of the nested-key entity resolved by another
 * department (`Warehouse.manager`). Every value so denied is unlike any other value of the data
 * (test/fixtures/rich/data.ts), so a leak shows whatever form the operation took.
 *
 * fast-check generates operations with every fragment form: inline fragments with and without a
 * type condition, on the interface, the union and each concrete type, named fragments, nested in
 * one another, aliases, `@include`/`@skip`. For each, the test inspector's answer is the truth
 * and:
 *  - no denied value appears anywhere in a reader's answer;
 *  - reject mode: an operation selecting a denied field anywhere (as the test's own walk of the
 *    operation finds it, `@skip` included) gets no data; any other gets exactly the truth;
 *  - filter mode: every value it gets is the truth's at the same place; errors are FORBIDDEN
 *    only; an operation selecting no denied field gets exactly the truth; nothing the gateway
 *    added for its own use (a placeholder, a guard) is left in the answer.
 * Fixed cases name each fragment form and each federation feature. NO_LEAK_RICH_OPERATIONS=<n>
 * runs more or fewer operations, NO_LEAK_RICH_SEED=<seed> replays a run.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import {
  getNamedType,
  isCompositeType,
  isObjectType,
  isInterfaceType,
  Kind,
  parse,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import { generateApiKey, hashApiKey } from '../lib/identity/api-keys.ts';
import { buildApiSchema } from '../lib/policy/decision/api-schema.ts';
import { abstractSelectionsArbitrary, printAbstractOperation } from './support/abstract-operations.ts';
import { writeRichSchema, type RichSchemaFiles } from './support/rich-federation.ts';
import { DENIED_VALUES, product, PRODUCTS, REVIEWS, WAREHOUSES } from './fixtures/rich/data.ts';
import type { Federation } from './support/federation.ts';

const OPERATIONS = Number(process.env.NO_LEAK_RICH_OPERATIONS ?? 400);
const SEED = process.env.NO_LEAK_RICH_SEED
  ? Number(process.env.NO_LEAK_RICH_SEED)
  : Math.floor(Math.random() * 2 ** 31);
const ROOTS = ['products', 'product', 'search', 'warehouses'] as const;
const IDS = [...PRODUCTS.map(({ id }) => id), 'missing'];

/** What the readers may not see, written by hand from the policy below (not read from the compiled policy, which is what is tested). */
const DENIED: ReadonlySet<string> = new Set([
  'Product.price',
  'Book.price',
  'Gadget.price',
  'Gadget.name',
  'Product.name',
  'Supplier.taxNumber',
  'Warehouse.manager',
]);

const READERS = { reject: 'rich-reader', filter: 'rich-filter' } as const;

function policyFile(keys: Record<string, string>): string {
  const consumer = (id: string, mode: string) => [
    `  - id: ${id}`,
    `    name: Rich schema reader (${mode})`,
    '    purposes: [RICH_TESTING, RICH_AUDIT]',
    '    defaultPurpose: RICH_TESTING',
    `    mode: ${mode}`,
    '    limits: { depth: 100, aliases: 100000, rootFields: 10000, cost: 1000000000, tokens: 1000000, documentBytes: 10000000, requestsPerMinute: 1000000000, requestsPerDay: 1000000000 }',
    '    credentials:',
    '      apiKeys:',
    `        - { id: ${id}, sha256: "${hashApiKey(keys[id] ?? '')}" }`,
  ];
  return [
    'purposes:',
    '  - id: RICH_TESTING',
    '    description: Reading the rich test schema.',
    '  - id: RICH_AUDIT',
    '    description: Scaffolding of the test, never declared - under it the denied fields exist for the readers, so that they are refused or filtered rather than unknown.',
    'consumers:',
    ...consumer(READERS.reject, 'reject'),
    ...consumer(READERS.filter, 'filter'),
    'rules:',
    '  - id: rich-readers-see-the-catalogue',
    '    description: Products, suppliers, reviews and warehouses; not who manages a warehouse, nor tax numbers.',
    `    consumers: [${READERS.reject}, ${READERS.filter}]`,
    '    purposes: [RICH_TESTING]',
    '    allow: [Query.products, Query.product, Query.search, Query.warehouses, Product.id, Product.name, Book.*, Gadget.id, Gadget.warrantyMonths, Gadget.weightGrams, Gadget.supplier, Gadget.shippingCost, Gadget.reviews, Supplier.id, Supplier.name, Review.*, Warehouse.site, Warehouse.stockCount, Site.*]',
    '  - id: rich-readers-never-see-prices',
    '    description: A rule on an interface field, which must hold through every fragment.',
    `    consumers: [${READERS.reject}, ${READERS.filter}]`,
    '    purposes: [RICH_TESTING]',
    '    deny: [Product.price]',
    '  - id: rich-audit-sees-everything',
    '    description: The scaffolding purpose.',
    `    consumers: [${READERS.reject}, ${READERS.filter}]`,
    '    purposes: [RICH_AUDIT]',
    '    allow: [Query.products, Query.product, Query.search, Query.warehouses, Product.*, Book.*, Gadget.*, Supplier.*, Review.*, Warehouse.*, Site.*]',
    '',
  ].join('\n');
}

// ── The test's own reading of an operation ──────────────────────────────────────────────────

/** Every `Type.field` the operation selects, on the type it is selected on, whatever its directives. */
function selectedCoordinates(schema: GraphQLSchema, document: DocumentNode): Set<string> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions)
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  const found = new Set<string>();
  const walk = (selectionSet: SelectionSetNode, typeName: string): void => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        if (selection.name.value === '__typename') continue;
        found.add(`${typeName}.${selection.name.value}`);
        const type = schema.getType(typeName);
        const field =
          type && (isObjectType(type) || isInterfaceType(type)) ? type.getFields()[selection.name.value] : undefined;
        const named = field && getNamedType(field.type);
        if (selection.selectionSet && named && isCompositeType(named)) walk(selection.selectionSet, named.name);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        walk(selection.selectionSet, selection.typeCondition?.name.value ?? typeName);
      } else {
        const fragment = fragments.get(selection.name.value);
        if (fragment) walk(fragment.selectionSet, fragment.typeCondition.name.value);
      }
    }
  };
  for (const definition of document.definitions)
    if (definition.kind === Kind.OPERATION_DEFINITION) walk(definition.selectionSet, 'Query');
  return found;
}

interface Answer {
  status: number;
  data: unknown;
  errors: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
  text: string;
}

/** Each leaf of an answer with its path. */
function leaves(value: unknown, path: (string | number)[] = []): { path: (string | number)[]; value: unknown }[] {
  if (Array.isArray(value)) return value.flatMap((item, index) => leaves(item, [...path, index]));
  if (value !== null && typeof value === 'object')
    return Object.entries(value).flatMap(([key, child]) => leaves(child, [...path, key]));
  return [{ path, value }];
}

function at(value: unknown, path: readonly (string | number)[]): unknown {
  let current = value;
  for (const segment of path)
    current =
      current !== null && typeof current === 'object'
        ? (current as Record<string | number, unknown>)[segment]
        : undefined;
  return current;
}

/** Why a reader's answer is wrong, or nothing. */
export function problemsOf(mode: 'reject' | 'filter', selectsDenied: boolean, truth: Answer, answer: Answer): string[] {
  const problems: string[] = [];
  for (const leaf of leaves(answer.data)) {
    if (DENIED_VALUES.has(leaf.value))
      problems.push(`LEAK: ${leaf.path.join('.')} is ${JSON.stringify(leaf.value)}, a denied value`);
    if (leaf.path.some((segment) => typeof segment === 'string' && segment.startsWith('__credence')))
      problems.push(`${leaf.path.join('.')}: the gateway's own selection is left in the answer`);
  }
  if (truth.status !== 200 || truth.errors.length > 0)
    problems.push(`the inspector's answer is not a clean truth: ${truth.text.slice(0, 300)}`);
  if (!selectsDenied) {
    if (answer.status !== 200 || answer.errors.length > 0 || !isDeepStrictEqual(answer.data, truth.data))
      problems.push(`selects nothing denied, so must equal the truth ${JSON.stringify(truth.data)}`);
    return problems;
  }
  if (mode === 'reject') {
    if (answer.data !== undefined && answer.data !== null)
      problems.push('selects a denied field: reject mode must answer no data');
    if (answer.errors.length === 0) problems.push('selects a denied field: reject mode must say why');
    return problems;
  }
  if (answer.errors.some((error) => error.extensions?.['code'] !== 'FORBIDDEN'))
    problems.push('filter mode: an error other than FORBIDDEN');
  for (const leaf of leaves(answer.data)) {
    if (leaf.value === null) continue;
    if (!isDeepStrictEqual(at(truth.data, leaf.path), leaf.value))
      problems.push(
        `${leaf.path.join('.')} is ${JSON.stringify(leaf.value)}; the truth there is ${JSON.stringify(at(truth.data, leaf.path))}`,
      );
  }
  return problems;
}

describe('no leak on a richer schema: interfaces, unions, @requires, @provides, nested keys', () => {
  const dir = mkdtempSync(join(tmpdir(), 'credence-rich-'));
  const keys: Record<string, string> = { [READERS.reject]: generateApiKey(), [READERS.filter]: generateApiKey() };
  let files: RichSchemaFiles;
  let schema: GraphQLSchema;
  let federation: Federation;

  const send = async (query: string, variables: Record<string, unknown>, consumer?: string): Promise<Answer> => {
    if (!consumer) {
      const response = await federation.query(query, variables);
      return {
        status: response.status,
        data: response.body.data,
        errors: response.body.errors ?? [],
        text: JSON.stringify(response.body),
      };
    }
    const response = await fetch(federation.gateway.graphqlUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-api-key': keys[consumer] ?? '',
        'x-credence-purpose': 'RICH_TESTING',
      },
      body: JSON.stringify({ query, variables }),
    });
    const text = await response.text();
    const body = JSON.parse(text) as { data?: unknown; errors?: Answer['errors'] };
    return { status: response.status, data: body.data, errors: body.errors ?? [], text };
  };

  /** The three answers to one operation, and what is wrong with the readers'. */
  const check = async (
    query: string,
    variables: Record<string, unknown> = {},
  ): Promise<{ problems: string[]; reject: Answer; filter: Answer; truth: Answer }> => {
    const selectsDenied = [...selectedCoordinates(schema, parse(query))].some((coordinate) => DENIED.has(coordinate));
    const [truth, reject, filter] = await Promise.all([
      send(query, variables),
      send(query, variables, READERS.reject),
      send(query, variables, READERS.filter),
    ]);
    const problems = [
      ...problemsOf('reject', selectsDenied, truth, reject).map(
        (problem) => `reject: ${problem}\n  answer: ${reject.text.slice(0, 400)}`,
      ),
      ...problemsOf('filter', selectsDenied, truth, filter).map(
        (problem) => `filter: ${problem}\n  answer: ${filter.text.slice(0, 400)}`,
      ),
    ];
    return { problems, reject, filter, truth };
  };
  const holds = async (query: string): Promise<{ reject: Answer; filter: Answer; truth: Answer }> => {
    const { problems, ...answers } = await check(query);
    assert.deepEqual(problems, [], `${query}\n${problems.join('\n')}`);
    return answers;
  };

  before(async () => {
    files = writeRichSchema(dir);
    schema = buildApiSchema(readFileSync(files.supergraphPath, 'utf8'));
    process.env.CREDENCE_CATALOG_PATH = files.catalogPath;
    const { startFederation } = await import('./support/federation.ts');
    federation = await startFederation({
      subjects: 2,
      extraDepartments: { departments: files.departments, supergraphPath: files.supergraphPath },
      preparePolicies: async (policiesDir) => writeFileSync(join(policiesDir, 'rich.yaml'), policyFile(keys)),
    });
  });
  after(async () => {
    await federation?.close();
    delete process.env.CREDENCE_CATALOG_PATH;
    rmSync(dir, { recursive: true, force: true });
  });

  it('a rule on an interface field holds through the interface: { products { price } }', async () => {
    const { reject, filter } = await holds('{ products { id price } }');
    assert.equal(reject.status, 403);
    assert.ok(filter.errors.length > 0);
  });

  it('a rule on an interface field holds through an inline fragment on a concrete type: ... on Book { price }', async () => {
    const { reject, filter } = await holds('{ products { id ... on Book { price } } }');
    assert.equal(reject.status, 403);
    assert.ok(
      filter.errors.length > 0 && filter.errors.every((error) => error.extensions?.['code'] === 'FORBIDDEN'),
      filter.text,
    );
  });

  it('a rule on an interface field holds through a named fragment on a concrete type, spread in a union', async () => {
    await holds('query { search { ...Priced } } fragment Priced on Gadget { id price }');
  });

  it("a rule on an implementation's field holds through the interface: Gadget.name asked as Product.name", async () => {
    const { filter } = await holds('{ products { id name } }');
    assert.ok(leaves(filter.data).every((leaf) => leaf.value !== 'GADGET-SECRET-sensor'));
  });

  it("an implementation's own allowed field stays allowed on it: ... on Book { name }", async () => {
    const { reject } = await holds('{ products { id ... on Book { name isbn } } }');
    assert.equal(reject.status, 200);
  });

  it("a rule on a union member's field holds through inline and named fragments, nested", async () => {
    await holds('{ search { ... on Supplier { taxNumber } } }');
    await holds(
      'query { search { ... on SearchResult { ... on Supplier { ...Tax } } } } fragment Tax on Supplier { id taxNumber }',
    );
    await holds('{ products { ... on Book { supplier { ... { taxNumber } } } } }');
  });

  it('nested fragments on the interface inside the union, with aliases renaming a denied field to an allowed one', async () => {
    await holds('{ search { ... on Product { ... on Gadget { id: price warrantyMonths } } } }');
    await holds('{ search { __typename ... on Book { price: isbn name: id } } }');
  });

  it('@requires: shipping cost from a weight fetched by the gateway, with and without the weight asked for', async () => {
    const { reject } = await holds(
      '{ products { ... on Book { shippingCost } ... on Gadget { shippingCost weightGrams } } }',
    );
    assert.equal(reject.status, 200);
  });

  it("@provides: a review's supplier name, provided by the reviews department", async () => {
    const { reject } = await holds(
      '{ product(id: "b1") { ... on Book { reviews { rating repliedBy { id name } } } } }',
    );
    assert.equal(reject.status, 200);
  });

  it('a nested entity key: warehouses with and without the field another department resolves and the policy denies', async () => {
    const allowed = await holds('{ warehouses { site { country code } stockCount } }');
    assert.equal(allowed.reject.status, 200);
    const denied = await holds('{ warehouses { site { code } manager } }');
    assert.equal(denied.reject.status, 403);
  });

  it("a field aliased like an entity key, a nested key's field or a @requires field keeps its own value, in its place", async () => {
    const cases: [string, unknown][] = [
      // Warehouse @key(fields: "site { country code }"), joined to shipping for the manager.
      [
        '{ warehouses { site: stockCount stockCount manager } }',
        { warehouses: WAREHOUSES.map(({ stockCount, manager }) => ({ site: stockCount, stockCount, manager })) },
      ],
      [
        '{ warehouses { site { code: country } manager } }',
        { warehouses: WAREHOUSES.map(({ site, manager }) => ({ site: { code: site.country }, manager })) },
      ],
      // Book @key(fields: "id"), joined to reviews.
      [
        '{ product(id: "b1") { ... on Book { id: isbn reviews { rating } } } }',
        {
          product: {
            id: product('b1')?.isbn,
            reviews: REVIEWS.filter(({ productId }) => productId === 'b1').map(({ rating }) => ({ rating })),
          },
        },
      ],
      // Book.shippingCost @requires(fields: "weightGrams").
      [
        '{ product(id: "b2") { ... on Book { weightGrams: isbn shippingCost } } }',
        { product: { weightGrams: product('b2')?.isbn, shippingCost: (product('b2')?.weightGrams ?? 0) / 100 } },
      ],
    ];
    for (const [query, expected] of cases) {
      const truth = await send(query, {});
      assert.deepEqual(
        { status: truth.status, data: truth.data, errors: truth.errors },
        { status: 200, data: expected, errors: [] },
        query,
      );
      await holds(query);
    }
  });

  it('skip guards on abstract selections: every field of a fragment on the interface skipped', async () => {
    await holds(
      '{ products { ... on Product @skip(if: true) { id } } search { ... on Book { id @include(if: false) } } }',
    );
  });

  it(`answers ${OPERATIONS} random operations with every fragment form as the policy says (seed ${SEED})`, async () => {
    const failures: string[] = [];
    let valid = 0;
    const property = fc.asyncProperty(
      abstractSelectionsArbitrary(schema, ROOTS, { ids: IDS }),
      fc.nat(IDS.length * 2),
      async (selections, idIndex) => {
        const operation = printAbstractOperation(schema, selections, IDS, idIndex);
        fc.pre(operation !== undefined);
        if (!operation) return true;
        valid++;
        const { problems } = await check(operation.text, operation.variables);
        if (problems.length > 0)
          failures.push(`${operation.text}\nvariables ${JSON.stringify(operation.variables)}\n${problems.join('\n')}`);
        return problems.length === 0;
      },
    );
    const details = await fc.check(property, {
      numRuns: OPERATIONS,
      seed: SEED,
      endOnFailure: true,
      maxSkipsPerRun: 10,
    });
    assert.deepEqual(
      failures.slice(0, 1),
      [],
      `seed ${SEED} path ${details.counterexamplePath ?? ''}: replay with NO_LEAK_RICH_SEED=${SEED}`,
    );
    assert.ok(
      !details.failed && valid >= OPERATIONS,
      `${valid} valid operations run of ${OPERATIONS}: ${details.errorInstance instanceof Error ? details.errorInstance.message : ''}`,
    );
  });
});
