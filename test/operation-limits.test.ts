/**
 * Operation limits on the real API schema, without servers: each limit refuses with its own code
 * at the first value over it and lets the value at it through; list sizes count in the cost; a
 * fragment bomb is refused after bounded work; the standard introspection query and a full page
 * of subjects pass the defaults.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { getIntrospectionQuery, parse } from 'graphql';
import { buildApiSchema } from '../lib/policy/decision/api-schema.ts';
import { selectOperation } from '../lib/policy/decision/operation-fields.ts';
import { DEFAULT_SUPERGRAPH_PATH } from '../lib/policy/releases/process-policy.ts';
import { DEFAULT_CONSUMER_LIMITS, DEFAULT_LIST_SIZE } from '../gateway/config.ts';
import { checkOperationLimits, checkSourceLimits, limitsFor, type Limits } from '../gateway/operation-limits.ts';

const schema = buildApiSchema(readFileSync(DEFAULT_SUPERGRAPH_PATH, 'utf8'));
const USCC = '914201060001CLJU0L';

function check(query: string, limits: Partial<Limits> = {}, variables?: Record<string, unknown>): string | undefined {
  const all = limitsFor(limits, DEFAULT_CONSUMER_LIMITS);
  const document = parse(query);
  return (
    checkSourceLimits(query, all)?.code ??
    checkOperationLimits({ schema, document, operation: selectOperation(document), variables }, all, DEFAULT_LIST_SIZE)
      ?.code
  );
}

/** An operation `levels` fields deep (2 or 3): the schema's own paths are shallow, so tests lower the limit instead. */
function nested(levels: 2 | 3): string {
  return levels === 3
    ? `{ subject(uscc: "${USCC}") { administrativePenalties { decisionNumber } } }`
    : `{ subject(uscc: "${USCC}") { name } }`;
}

describe('operation limits', () => {
  it('passes the standard introspection query and a full page of subjects with every department under the defaults', () => {
    assert.equal(check(getIntrospectionQuery()), undefined);
    assert.equal(
      check(`{ subjects(first: 100) { uscc name legalRepresentative { name }
      dishonestDebtorEntries { caseNumber } taxViolations { caseNumber } administrativePenalties { decisionNumber severity }
      seriousDishonestyListings { listType basis { number issuedBy } } } }`),
      undefined,
    );
  });

  it('refuses depth over the limit with QUERY_TOO_DEEP and accepts it at the limit', () => {
    assert.equal(check(nested(3), { depth: 3 }), undefined);
    assert.equal(check(nested(3), { depth: 2 }), 'QUERY_TOO_DEEP');
    assert.equal(check(nested(2), { depth: 2 }), undefined);
  });

  it('counts introspection depth too: a deep ofType chain is QUERY_TOO_DEEP', () => {
    const chain = (n: number): string => (n === 0 ? 'name' : `name ofType { ${chain(n - 1)} }`);
    assert.equal(check(`{ __schema { types { fields { type { ${chain(20)} } } } } }`), 'QUERY_TOO_DEEP');
  });

  it('refuses aliases over the limit with TOO_MANY_ALIASES, counted through fragments', () => {
    const aliases = (n: number): string => Array.from({ length: n }, (_, i) => `a${i}: name`).join(' ');
    assert.equal(check(`{ subject(uscc: "${USCC}") { ${aliases(5)} } }`, { aliases: 5 }), undefined);
    assert.equal(check(`{ subject(uscc: "${USCC}") { ${aliases(6)} } }`, { aliases: 5 }), 'TOO_MANY_ALIASES');
    assert.equal(
      check(`{ subject(uscc: "${USCC}") { ...F ...F } } fragment F on Subject { ${aliases(3)} }`, { aliases: 5 }),
      'TOO_MANY_ALIASES',
    );
  });

  it('refuses root fields over the limit with TOO_MANY_ROOT_FIELDS', () => {
    const roots = (n: number): string =>
      `{ ${Array.from({ length: n }, (_, i) => `s${i}: subject(uscc: "${USCC}") { name }`).join(' ')} }`;
    assert.equal(check(roots(3), { rootFields: 3, aliases: 100 }), undefined);
    assert.equal(check(roots(4), { rootFields: 3, aliases: 100 }), 'TOO_MANY_ROOT_FIELDS');
  });

  it('counts list sizes in the cost: first as a literal, as a variable, and the declared default', () => {
    // subjects (1) + 100 x (uscc + name) = 201
    assert.equal(check('{ subjects(first: 100) { uscc name } }', { cost: 201 }), undefined);
    assert.equal(check('{ subjects(first: 100) { uscc name } }', { cost: 200 }), 'QUERY_TOO_COMPLEX');
    assert.equal(
      check('query Q($n: Int!) { subjects(first: $n) { uscc name } }', { cost: 200 }, { n: 100 }),
      'QUERY_TOO_COMPLEX',
    );
    assert.equal(check('query Q($n: Int!) { subjects(first: $n) { uscc name } }', { cost: 200 }, { n: 10 }), undefined);
    // The declared default of first is 20: 1 + 20 x 2 = 41.
    assert.equal(check('{ subjects { uscc name } }', { cost: 41 }), undefined);
    assert.equal(check('{ subjects { uscc name } }', { cost: 40 }), 'QUERY_TOO_COMPLEX');
    // A list without a size argument counts the default list size: 1 + 1 + 5 x 1 = 7.
    assert.equal(
      check(`{ subject(uscc: "${USCC}") { administrativePenalties { decisionNumber } } }`, {
        cost: 3 + DEFAULT_LIST_SIZE - 1,
      }),
      undefined,
    );
  });

  it('refuses a fragment bomb as QUERY_TOO_COMPLEX without expanding it', () => {
    // 2^60 leaves: a walk that expanded them would never end, so this answer at all shows that
    // the walk stops at the cost limit (no clock needed).
    const levels = 60;
    const fragments = Array.from(
      { length: levels },
      (_, i) => `fragment F${i} on Subject { ${i === levels - 1 ? 'name' : `...F${i + 1} ...F${i + 1}`} }`,
    );
    assert.equal(
      check(`{ subject(uscc: "${USCC}") { ...F0 } } ${fragments.join(' ')}`, {
        tokens: 100_000,
        documentBytes: 100_000,
      }),
      'QUERY_TOO_COMPLEX',
    );
  });

  it('refuses a document over its byte size with DOCUMENT_TOO_LARGE and over its tokens with TOO_MANY_TOKENS', () => {
    const padded = `{ subject(uscc: "${USCC}") { name } } #${'x'.repeat(1000)}`;
    assert.equal(check(padded, { documentBytes: 1000 }), 'DOCUMENT_TOO_LARGE');
    assert.equal(check(padded, { documentBytes: 2000 }), undefined);
    // { subject ( uscc : "…" ) { name } } = 11 tokens
    assert.equal(check(`{ subject(uscc: "${USCC}") { name } }`, { tokens: 11 }), undefined);
    assert.equal(check(`{ subject(uscc: "${USCC}") { name } }`, { tokens: 10 }), 'TOO_MANY_TOKENS');
  });

  it("takes a consumer's own limits over the defaults, field by field", () => {
    const limits = limitsFor({ depth: 3 }, DEFAULT_CONSUMER_LIMITS);
    assert.equal(limits.depth, 3);
    assert.equal(limits.cost, DEFAULT_CONSUMER_LIMITS.cost);
  });
});
