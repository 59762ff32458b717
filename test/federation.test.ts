/** The federation end to end through the gateway: joins, bad input, health, a department down. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FIRST_QUERY_LISTS, firstQuery, showcaseSubject } from '../scripts/stack.ts';
import { INSPECTOR, startFederation, type Federation } from './support/federation.ts';

describe('the federation through the gateway', () => {
  let federation: Federation;
  before(async () => {
    federation = await startFederation({ subjects: 60 });
  });
  after(() => federation.close());

  it("joins a subject's registry, court, tax, penalty and credit data in one query", async () => {
    const uscc = showcaseSubject();
    const { status, body } = await federation.query(firstQuery(uscc));
    assert.equal(status, 200);
    assert.equal(body.errors, undefined);
    const subject = body.data?.subject as Record<string, unknown[] | string | Record<string, unknown>>;
    assert.equal(typeof subject.name, 'string');
    // Each department answered its part (a subject may have no records in one of them).
    for (const field of FIRST_QUERY_LISTS) assert.ok(Array.isArray(subject[field]), `${field} answered`);
    assert.ok(
      (subject.administrativePenalties as unknown[]).length > 0 &&
        (subject.seriousDishonestyListings as unknown[]).length > 0,
    );
  });

  it('resolves an unknown but valid code to null without an error', async () => {
    const { body } = await federation.query(
      '{ subject(uscc: "91110000600037341L") { name taxViolations { caseNumber } } }',
    );
    assert.deepEqual(body.data, { subject: null });
    assert.equal(body.errors, undefined);
  });

  it('rejects an invalid code with BAD_USER_INPUT naming the failing position', async () => {
    const { body } = await federation.query('{ subject(uscc: "91110000600037341M") { name } }');
    const [error] = body.errors ?? [];
    assert.equal(error?.extensions?.code, 'BAD_USER_INPUT');
    assert.equal(error?.extensions?.position, 18);
    assert.match(error?.message ?? '', /Position 18/);
    assert.equal(body.data?.subject, null);
  });

  it('names position 3 for a letter in the division code and 0 for a wrong length', async () => {
    const letter = await federation.query('{ subject(uscc: "91A10000600037341L") { name } }');
    assert.equal(letter.body.errors?.[0]?.extensions?.position, 3);
    const short = await federation.query('{ subject(uscc: "9111") { name } }');
    assert.equal(short.body.errors?.[0]?.extensions?.position, 0);
    assert.match(short.body.errors?.[0]?.message ?? '', /18 characters/);
  });

  it('answers a malformed request body with 400 and a GraphQL error, not a stack trace', async () => {
    for (const body of ['{"query": {', '', 'null']) {
      const headers = {
        'content-type': 'application/json',
        'x-api-key': federation.apiKeys.get(INSPECTOR.consumer) ?? '',
      };
      const response = await fetch(federation.gateway.graphqlUrl, { method: 'POST', headers, body });
      const text = await response.text();
      assert.equal(response.status, 400, `status for ${JSON.stringify(body)}`);
      const parsed = JSON.parse(text) as { errors: { message: string; extensions: { code: string } }[] };
      assert.ok(parsed.errors[0]?.extensions.code, 'error has a code');
      assert.doesNotMatch(text, /at \w+ \(|node_modules|\.ts:\d+/, 'no stack trace');
    }
  });

  it('answers a syntax error without echoing schema hints', async () => {
    const { status, body } = await federation.query('{ subject(uscc: "91110000600037341L") { nam } }');
    assert.equal(status, 400);
    assert.equal(body.errors?.[0]?.extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
    assert.doesNotMatch(body.errors?.[0]?.message ?? '', /Did you mean/);
  });

  it('reports alive on /healthz and ready on /readyz with every department and store', async () => {
    const health = await fetch(`${federation.gateway.url}/healthz`);
    assert.equal(health.status, 200);
    const ready = await fetch(`${federation.gateway.url}/readyz`);
    const body = (await ready.json()) as { status: string; checks: Record<string, string> };
    assert.equal(ready.status, 200);
    assert.deepEqual(Object.keys(body.checks).sort(), [
      'accessLog',
      'sharedStore',
      'subgraph:audit',
      'subgraph:credit',
      'subgraph:judicial',
      'subgraph:penalties',
      'subgraph:registry',
      'subgraph:tax',
    ]);
  });

  it("with one department stopped, answers with the others' data plus an error naming it, and stays up", async () => {
    await federation.subgraphs.get('tax')?.close();
    const uscc = showcaseSubject();
    const { status, body } = await federation.query(
      `{ subject(uscc: "${uscc}") { name taxViolations { caseNumber } administrativePenalties { decisionNumber } } }`,
    );
    assert.equal(status, 200);
    const subject = body.data?.subject as Record<string, unknown>;
    assert.equal(typeof subject.name, 'string');
    assert.ok(Array.isArray(subject.administrativePenalties));
    assert.equal(subject.taxViolations, null);
    const [error] = body.errors ?? [];
    assert.equal(error?.extensions?.code, 'DEPARTMENT_UNAVAILABLE');
    assert.equal(error?.extensions?.department, 'tax');
    assert.doesNotMatch(
      JSON.stringify(body.errors),
      /127\.0\.0\.1|ECONNREFUSED/,
      'no internal address or transport error',
    );

    const ready = await fetch(`${federation.gateway.url}/readyz`);
    assert.equal(ready.status, 503);
    const again = await federation.query(`{ subject(uscc: "${uscc}") { name } }`);
    assert.equal((again.body.data?.subject as { name: string }).name, subject.name);
  });
});
