/**
 * graphql-shield 7.6.5 works on this Node line. On Node 23+ it loads only thanks to the root
 * postinstall patch, and `chain()` and `race()` are the rules that called `util.isUndefined`.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { applyMiddleware } from 'graphql-middleware';
import { allow, chain, deny, race, rule, shield } from 'graphql-shield';
import { graphql, parse } from 'graphql';

const isOfficer = rule()(async (_parent, _args, context: { officer: boolean }) => context.officer);

const schema = applyMiddleware(
  buildSubgraphSchema([
    {
      typeDefs: parse('type Query { chained: String, raced: String, denied: String }'),
      resolvers: { Query: { chained: () => 'chained', raced: () => 'raced', denied: () => 'denied' } },
    },
  ]),
  shield(
    { Query: { chained: chain(allow, isOfficer), raced: race(deny, isOfficer), denied: deny, _service: allow } },
    { fallbackRule: deny },
  ),
);

it(`loads graphql-shield and runs chain() and race() on Node ${process.version}`, async () => {
  const officer = await graphql({ schema, source: '{ chained raced }', contextValue: { officer: true } });
  assert.equal(officer.errors, undefined);
  assert.deepEqual({ ...officer.data }, { chained: 'chained', raced: 'raced' });

  const other = await graphql({ schema, source: '{ chained raced denied }', contextValue: { officer: false } });
  assert.deepEqual({ ...other.data }, { chained: null, raced: null, denied: null });
  assert.equal(other.errors?.length, 3);
});
