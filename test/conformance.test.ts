/**
 * Conformance on a foreign supergraph, in CI (issue 20): the rich test schema's three subgraphs
 * (test/fixtures/rich/: an interface, a union, @requires, @provides, a nested key) served as
 * plain Apollo subgraphs, not Credence departments, composed into a supergraph of their own. In
 * front of them, the harness of docs/conformance.md runs Credence's gateway stages (a catalog
 * drafted by scaffold, a policy allowing its test consumer everything, every rewrite on) and the
 * bare @apollo/gateway; random operations with every fragment form, aliases named like the
 * planner's keys and `@skip`/`@include` must get the same answers from both, except where the
 * bare gateway is wrong and Credence is right (a caller's alias named like an entity key).
 * The Guild's federation gateway audit runs through the same harness locally
 * (`npm run conformance`), never in CI.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { composeServices } from '@apollo/composition';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph';
import fc from 'fast-check';
import { buildApiSchema } from '../lib/policy/decision/api-schema.ts';
import { abstractSelectionsArbitrary, printAbstractOperation } from './support/abstract-operations.ts';
import {
  conformanceCatalog,
  conformancePolicy,
  startConformanceGateway,
  type ConformanceGateway,
} from './conformance/gateway.ts';
import { PRODUCTS, WAREHOUSES } from './fixtures/rich/data.ts';
import { RICH_DEPARTMENTS } from './fixtures/rich/index.ts';

process.env.LOG_LEVEL ??= 'silent';
const OPERATIONS = Number(process.env.CONFORMANCE_OPERATIONS ?? 300);
const IDS = [...PRODUCTS.map(({ id }) => id), 'missing'];

interface Answer {
  data?: unknown;
  errors?: { message: string }[];
  extensions?: Record<string, unknown>;
}

describe("conformance: Credence's gateway stages on a foreign supergraph answer as the bare gateway", () => {
  const servers: ApolloServer[] = [];
  let bare: ConformanceGateway;
  let credence: ConformanceGateway;
  let supergraphSdl: string;

  const ask = async (
    gateway: ConformanceGateway,
    query: string,
    variables: Record<string, unknown> = {},
  ): Promise<Answer> => {
    const response = await fetch(gateway.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as Answer;
  };

  before(async () => {
    const subgraphs = [];
    for (const department of RICH_DEPARTMENTS) {
      if (!department.sdl) throw new Error(`${department.name} has no SDL`);
      const server = new ApolloServer({
        schema: buildSubgraphSchema([
          { typeDefs: department.sdl, resolvers: department.resolvers as GraphQLResolverMap<unknown> },
        ]),
      });
      const { url } = await startStandaloneServer(server, { listen: { port: 0, host: '127.0.0.1' } });
      servers.push(server);
      subgraphs.push({ name: department.name, url, typeDefs: department.sdl });
    }
    const composed = composeServices(subgraphs);
    if (composed.errors) throw new Error(composed.errors.map((error) => error.message).join('; '));
    supergraphSdl = composed.supergraphSdl;
    bare = await startConformanceGateway({ supergraphSdl, mode: 'bare', port: 0 });
    credence = await startConformanceGateway({ supergraphSdl, mode: 'credence', port: 0 });
  });
  after(async () => {
    await credence?.close();
    await bare?.close();
    for (const server of servers) await server.stop();
  });

  it('the harness drafts a catalog covering the foreign supergraph and a policy allowing its test consumer every field', () => {
    const catalog = conformanceCatalog(supergraphSdl);
    assert.doesNotMatch(catalog, /: TODO$/m);
    assert.match(catalog, /code: CONFORMANCE-PRODUCT\n[\s\S]*?fields: \[Product\.id, Product\.name, Product\.price\]/);
    const { view } = conformancePolicy(supergraphSdl);
    for (const coordinate of [
      'Product.price',
      'Book.price',
      'Supplier.taxNumber',
      'Warehouse.manager',
      'Query.search',
    ]) {
      const [typeName = '', fieldName = ''] = coordinate.split('.');
      assert.equal(view.field(typeName, fieldName).effect, 'allow', coordinate);
    }
  });

  it("a caller's alias named like an entity key, a nested key's field or a @requires field: Credence answers it, the bare gateway answers the key", async () => {
    const query = '{ warehouses { site { code: country } manager } }';
    const expected = { warehouses: WAREHOUSES.map(({ site, manager }) => ({ site: { code: site.country }, manager })) };
    const answer = await ask(credence, query);
    assert.deepEqual({ data: answer.data, errors: answer.errors }, { data: expected, errors: undefined });
    // apollographql/federation#3036: the planner's own `code` (the key) is answered instead.
    assert.notDeepEqual((await ask(bare, query)).data, expected);
  });

  it('an object whose every field is skipped: Credence answers it empty, as GraphQL says; the bare gateway nulls the whole answer', async () => {
    const text =
      'query Q($flag: Boolean!) { products @include(if: $flag) { ... on Gadget @include(if: false) { warrantyMonths } } }';
    const answer = await ask(credence, text, { flag: true });
    assert.deepEqual(
      { data: answer.data, errors: answer.errors },
      { data: { products: PRODUCTS.map(() => ({})) }, errors: undefined },
    );
    // apollographql/federation#1791: Apollo's answer post-processing nulls the non-null list, and with it the whole answer.
    const bareAnswer = await ask(bare, text, { flag: true });
    assert.equal(bareAnswer.data, null);
  });

  it(`answers ${OPERATIONS} random operations over interfaces, unions, @requires, @provides and nested keys as the bare gateway does`, async () => {
    const schema = buildApiSchema(supergraphSdl);
    const differences: string[] = [];
    await fc.assert(
      fc.asyncProperty(
        abstractSelectionsArbitrary(schema, ['products', 'product', 'search', 'warehouses'], { ids: IDS }),
        fc.nat(IDS.length * 2),
        async (selections, idIndex) => {
          const operation = printAbstractOperation(schema, selections, IDS, idIndex);
          fc.pre(operation !== undefined);
          if (!operation) return;
          const [a, b] = await Promise.all([
            ask(bare, operation.text, operation.variables),
            ask(credence, operation.text, operation.variables),
          ]);
          if (isDeepStrictEqual(a.data, b.data) && (a.errors === undefined) === (b.errors === undefined)) return;
          // Where the bare gateway answers a planner's key for a caller's alias, Credence may differ (the test above).
          if (/\b(id|site|code|country|weightGrams)\s*:/.test(operation.text) && b.errors === undefined) return;
          // Where every field of an object is skipped, the bare gateway nulls the answer (its `valueCompletion`
          // extension says so, apollographql/federation#1791) and Credence answers the empty object (the test above).
          if (a.extensions?.valueCompletion !== undefined && b.errors === undefined && b.data !== null) return;
          differences.push(`${operation.text}\nbare: ${JSON.stringify(a)}\ncredence: ${JSON.stringify(b)}`);
          assert.fail(differences.at(-1));
        },
      ),
      { numRuns: OPERATIONS, maxSkipsPerRun: 10 },
    );
  });
});
