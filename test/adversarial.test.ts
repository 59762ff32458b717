/**
 * The adversarial suite: hostile requests against a running federation, each answered with its
 * exact status and error code and nothing internal in the body, each followed by a good request
 * that must still be answered in full. Malformed and oversized bodies, transport tricks (batches,
 * GET mutations, CSRF-simple requests), operation bombs (deep, aliases, root fields, fragments,
 * tokens, size, list amplification), forged, expired and foreign tokens and assertions, purpose
 * spoofing, direct department access, injection payloads in every argument that reaches a store
 * query, rate limits and quotas, and persisted-operation misuse.
 *
 * The test's policy copy gives the tax bureau a rate of 3 requests a minute, the privacy office
 * a quota of 2 a day, and the procurement centre registered operations only.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ApolloServerPlugin } from '@apollo/server';
import { UnsecuredJWT } from 'jose';
import {
  ASSERTION_HEADER,
  createAssertionSigner,
  generateAssertionKeyPair,
  type AssertionIdentity,
} from '../lib/identity/assertion.ts';
import { LruCache } from '../lib/lru-cache.ts';
import {
  operationHash,
  operationsOfDocument,
  registerOperations,
} from '../lib/policy/decision/registered-operations.ts';
import { seedSubject } from '../subgraphs/runtime/seed-subjects.ts';
import { startFederation, type Federation } from './support/federation.ts';
import { assertRefused, post, send, type HttpAnswer } from './support/http.ts';
import { publishPolicyChange, setConsumerFields } from './support/policy-change.ts';
import { courtToken, newIssuerKey, type IssuerKey } from './support/tokens.ts';

const SUBJECT = seedSubject(1);
const GOOD_QUERY = `{ subject(uscc: "${SUBJECT.uscc}") { uscc name } }`;
const SUBJECT_BY_VARIABLE = 'query S($code: ID!) { subject(uscc: $code) { uscc name legalRepresentative { name } } }';
const PROCUREMENT_OPERATION = `query Bidder($code: ID!) { subject(uscc: $code) { uscc name } }`;
const RECORD_PENALTY = `mutation Record($input: AdministrativePenaltyInput!) {
  recordAdministrativePenalty(input: $input) { decisionNumber authority }
}`;

/** The store operators the injection cases try, each as a JSON object where a string is expected. */
const OPERATOR_OBJECTS: Record<string, unknown> = {
  $gt: { $gt: '' },
  $ne: { $ne: null },
  $where: { $where: 'this.uscc != ""' },
  $nor: { $nor: [{ uscc: 'x' }] },
  $expr: { $expr: { $eq: [1, 1] } },
};

function penaltyInput(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    uscc: seedSubject(3).uscc,
    decisionNumber: `ADV-${process.pid}-1`,
    authority: '北京市生态环境局',
    legalBasis: '《中华人民共和国大气污染防治法》第九十九条',
    violation: '超标排放大气污染物',
    category: 'POLLUTION',
    penaltyType: 'FINE',
    fineAmount: 1000,
    severity: 'GENERAL',
    decidedOn: '2026-10-15',
    ...overrides,
  };
}

/** How long the gateway waits for a department here, and how long the tax department holds an operation named Slow. */
const DEPARTMENT_TIMEOUT_MS = 5000;
const SLOW_OPERATION = /^Slow__/;

/** What a department received with its last call: the assertion and the body, as an eavesdropper on the way would capture them. */
interface CapturedCall {
  assertion: string;
  body: { query: string; variables?: Record<string, unknown>; operationName?: string };
}

/** A department's observer: captures each call's assertion and body; the tax department also holds operations named Slow past the gateway's timeout. */
function observe(department: string, captured: Map<string, CapturedCall>): ApolloServerPlugin {
  return {
    async requestDidStart({ request }) {
      const assertion = request.http?.headers.get(ASSERTION_HEADER);
      if (assertion && request.query) {
        captured.set(department, {
          assertion,
          body: {
            query: request.query,
            ...(request.variables ? { variables: request.variables } : {}),
            ...(request.operationName ? { operationName: request.operationName } : {}),
          },
        });
      }
      if (department === 'tax' && SLOW_OPERATION.test(request.operationName ?? ''))
        await sleep(DEPARTMENT_TIMEOUT_MS + 500);
    },
  };
}

/** A refusal with several errors (one per offending node), every one with the code. */
function assertEveryError(answer: HttpAnswer, status: number, code: string): void {
  assert.equal(answer.status, status, answer.text);
  assert.ok((answer.body.errors?.length ?? 0) > 0, answer.text);
  for (const error of answer.body.errors ?? []) assert.equal(error.extensions?.code, code, answer.text);
  assert.equal(answer.body.data ?? null, null);
}

/** An answer to a resolver-level refusal: the code, and no subject's data anywhere in it. */
function assertNoSubjectData(answer: HttpAnswer, status: number, code: string): void {
  assert.equal(answer.status, status, answer.text);
  assert.equal(answer.body.errors?.[0]?.extensions?.code, code, answer.text);
  for (const value of Object.values(answer.body.data ?? {})) assert.equal(value, null, `no data: ${answer.text}`);
  assert.doesNotMatch(answer.text, /stacktrace|node_modules|\.ts:\d+/);
}

describe('adversarial requests', () => {
  let federation: Federation;
  let issuerKey: IssuerKey;
  let registryUrl: string;
  const captured = new Map<string, CapturedCall>();

  const key = (consumer: string): string => {
    const value = federation.apiKeys.get(consumer);
    if (!value) throw new Error(`no key for ${consumer}`);
    return value;
  };
  const as = (consumer: string, purpose?: string): Record<string, string> => ({
    'x-api-key': key(consumer),
    ...(purpose ? { 'x-credence-purpose': purpose } : {}),
  });
  const gateway = (
    headers: Record<string, string>,
    query: string | undefined,
    variables?: Record<string, unknown>,
    extensions?: Record<string, unknown>,
  ): Promise<HttpAnswer> => post(federation.gateway.graphqlUrl, headers, query, variables, extensions);
  const raw = (init: RequestInit, path = '/graphql'): Promise<HttpAnswer> =>
    send(`${federation.gateway.url}${path}`, init);
  const bank = (
    query: string,
    variables?: Record<string, unknown>,
    extensions?: Record<string, unknown>,
  ): Promise<HttpAnswer> => gateway(as('central-bank'), query, variables, extensions);
  const identity = (
    consumer: string,
    purpose: string,
    policyVersion = federation.policies.current().version,
  ): AssertionIdentity => ({ consumer, purpose, policyVersion, requestId: `adversary-${consumer}` });

  /** After every hostile request: the gateway still answers a good one, in full. */
  async function assertStillServes(): Promise<void> {
    const answer = await bank(GOOD_QUERY);
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.body.errors, undefined, answer.text);
    assert.deepEqual(answer.body.data?.subject, { uscc: SUBJECT.uscc, name: SUBJECT.name });
  }

  /** One hostile request, its exact refusal, then a good request. */
  function hostile(
    name: string,
    status: number,
    code: string,
    request: () => Promise<HttpAnswer>,
    check = assertRefused,
  ): void {
    it(`${name}: ${status} ${code}`, async () => {
      check(await request(), status, code);
      await assertStillServes();
    });
  }

  before(async () => {
    federation = await startFederation({
      subjects: 10,
      subgraphTimeoutMs: DEPARTMENT_TIMEOUT_MS,
      subgraphPlugins: (department) => [observe(department, captured)],
    });
    registryUrl = federation.subgraphs.get('registry')?.graphqlUrl ?? '';
    issuerKey = await newIssuerKey('adversarial-court-idp');
    await writeFile(
      join(federation.policiesDir, 'keys', 'court-idp.jwks.json'),
      JSON.stringify({ keys: [issuerKey.jwk] }),
    );
    await setConsumerFields(federation.policiesDir, 'tax-bureau', { limits: { requestsPerMinute: 3 } });
    await setConsumerFields(federation.policiesDir, 'privacy-office', { limits: { requestsPerDay: 2 } });
    await setConsumerFields(federation.policiesDir, 'procurement-centre', { persistedOperationsOnly: true });
    // A consumer with two purposes, for the validation cases: it sees nothing under the second.
    await setConsumerFields(federation.policiesDir, 'court-enforcement', {
      purposes: ['ENFORCEMENT', 'TAX_ADMINISTRATION'],
    });
    await registerOperations(federation.policiesDir, 'procurement-centre', operationsOfDocument(PROCUREMENT_OPERATION));
    await publishPolicyChange(federation);
  });
  after(() => federation.close());

  describe('malformed requests and transport', () => {
    const json = { 'content-type': 'application/json' };
    hostile('malformed JSON', 400, 'BAD_REQUEST', () => raw({ method: 'POST', headers: json, body: '{"query": ' }));
    hostile('an empty JSON body', 400, 'BAD_REQUEST', () => raw({ method: 'POST', headers: json, body: '' }));
    hostile('a body over the size limit', 413, 'BAD_REQUEST', () =>
      raw({
        method: 'POST',
        headers: json,
        body: JSON.stringify({ query: `{ __typename } #${'x'.repeat(300 * 1024)}` }),
      }),
    );
    hostile('a text/plain body, as a cross-site form would send (CSRF)', 400, 'BAD_REQUEST', () =>
      raw({ method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ query: GOOD_QUERY }) }),
    );
    hostile('a batch of operations', 400, 'BATCHING_NOT_ALLOWED', () =>
      raw({
        method: 'POST',
        headers: { ...json, ...as('central-bank') },
        body: JSON.stringify([{ query: GOOD_QUERY }, { query: GOOD_QUERY }]),
      }),
    );
    hostile('a query that is not a string', 400, 'BAD_REQUEST', () =>
      raw({ method: 'POST', headers: { ...json, ...as('central-bank') }, body: '{"query": 5}' }),
    );
    hostile('a body without a query', 400, 'BAD_REQUEST', () =>
      raw({ method: 'POST', headers: { ...json, ...as('central-bank') }, body: '{}' }),
    );
    hostile('a mutation sent by GET', 405, 'BAD_REQUEST', () =>
      raw(
        { method: 'GET', headers: as('ecology-bureau', 'RECORD_KEEPING') },
        `/graphql?query=${encodeURIComponent(RECORD_PENALTY)}&variables=${encodeURIComponent(JSON.stringify({ input: penaltyInput() }))}`,
      ),
    );
    hostile('a GET without a header a cross-site page cannot set (CSRF)', 400, 'BAD_REQUEST', () =>
      raw({ method: 'GET' }, `/graphql?query=${encodeURIComponent(GOOD_QUERY)}`),
    );
    hostile('an unknown path', 404, 'NOT_FOUND', () => raw({ method: 'GET' }, '/admin'));
    hostile('a syntax error', 400, 'GRAPHQL_PARSE_FAILED', () => bank('{ subject(uscc: "x" { name }'));
    hostile('an unknown field (no schema hint in the answer)', 400, 'GRAPHQL_VALIDATION_FAILED', () =>
      bank(`{ subject(uscc: "${SUBJECT.uscc}") { nam } }`),
    );
    hostile('a variable of the wrong type', 400, 'BAD_USER_INPUT', () => bank(SUBJECT_BY_VARIABLE, { code: true }));
    hostile('an operation name the document does not have', 400, 'OPERATION_RESOLUTION_FAILURE', () =>
      send(federation.gateway.graphqlUrl, {
        method: 'POST',
        headers: { ...json, ...as('central-bank') },
        body: JSON.stringify({ query: GOOD_QUERY, operationName: 'Elsewhere' }),
      }),
    );
    hostile(
      'two anonymous operations',
      400,
      'GRAPHQL_VALIDATION_FAILED',
      () => bank(`${GOOD_QUERY} ${GOOD_QUERY}`),
      assertEveryError,
    );
    hostile(
      'introspection mixed with data',
      400,
      'BAD_REQUEST',
      () => bank(`{ __schema { queryType { name } } subject(uscc: "${SUBJECT.uscc}") { name } }`),
      (answer, _status, code) => {
        assert.equal(answer.body.errors?.[0]?.extensions?.code, code, answer.text);
        assert.equal(answer.body.data ?? null, null);
      },
    );

    it('sets the security headers on every answer, refusals included', async () => {
      for (const answer of [await bank(GOOD_QUERY), await raw({ method: 'GET' }, '/admin')]) {
        assert.equal(answer.headers.get('x-content-type-options'), 'nosniff');
        assert.equal(answer.headers.get('x-frame-options'), 'DENY');
        assert.equal(answer.headers.get('cache-control'), 'no-store');
        assert.match(answer.headers.get('content-security-policy') ?? '', /default-src 'none'/);
      }
    });
  });

  describe('operation bombs', () => {
    const ofTypes = (n: number): string => (n === 0 ? 'name' : `name ofType { ${ofTypes(n - 1)} }`);
    hostile('an introspection query 25 levels deep', 400, 'QUERY_TOO_DEEP', () =>
      bank(`{ __schema { types { fields { type { ${ofTypes(20)} } } } } }`),
    );
    hostile('an alias bomb of 500 aliases', 400, 'TOO_MANY_ALIASES', () =>
      bank(
        `{ subject(uscc: "${SUBJECT.uscc}") { ${Array.from({ length: 500 }, (_, i) => `a${i}: name`).join(' ')} } }`,
      ),
    );
    hostile('25 root fields', 400, 'TOO_MANY_ROOT_FIELDS', () => bank(`{ ${'__typename '.repeat(25)} }`));
    hostile('a fragment bomb (2^30 fields)', 400, 'QUERY_TOO_COMPLEX', () => {
      const fragments = Array.from(
        { length: 30 },
        (_, i) => `fragment F${i} on Subject { ${i === 29 ? 'name' : `...F${i + 1} ...F${i + 1}`} }`,
      );
      return bank(`{ subject(uscc: "${SUBJECT.uscc}") { ...F0 } } ${fragments.join(' ')}`);
    });
    hostile('a list amplification (first: 10,000,000 by a variable)', 400, 'QUERY_TOO_COMPLEX', () =>
      bank('query L($n: Int!) { subjects(first: $n) { uscc name } }', { n: 10_000_000 }),
    );
    hostile('a 40 KB document', 400, 'DOCUMENT_TOO_LARGE', () => bank(`${GOOD_QUERY} #${'x'.repeat(40 * 1024)}`));
    hostile('a token flood of 5,000 braces', 400, 'TOO_MANY_TOKENS', () => bank('{'.repeat(5000)));
    hostile('a fragment cycle', 400, 'GRAPHQL_VALIDATION_FAILED', () =>
      bank(
        `{ subject(uscc: "${SUBJECT.uscc}") { ...A } } fragment A on Subject { name ...B } fragment B on Subject { uscc ...A }`,
      ),
    );
    hostile(
      '200 repeated directives on one field',
      400,
      'GRAPHQL_VALIDATION_FAILED',
      () => bank(`{ subject(uscc: "${SUBJECT.uscc}") { name ${'@include(if: true) '.repeat(200)} } }`),
      assertEveryError,
    );
  });

  describe('credentials', () => {
    hostile('no credentials', 401, 'CREDENTIALS_REQUIRED', () => gateway({}, GOOD_QUERY));
    hostile('an unknown API key', 401, 'INVALID_API_KEY', () =>
      gateway({ 'x-api-key': 'cred_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }, GOOD_QUERY),
    );
    hostile('an operator object as the API key', 401, 'INVALID_API_KEY', () =>
      gateway({ 'x-api-key': JSON.stringify({ $ne: null }) }, GOOD_QUERY),
    );
    hostile('an API key and a token together', 401, 'AMBIGUOUS_CREDENTIALS', async () =>
      gateway({ ...as('court-enforcement'), authorization: `Bearer ${await courtToken(issuerKey)}` }, GOOD_QUERY),
    );
    hostile('a bearer token that is no JWT', 401, 'INVALID_TOKEN', () =>
      gateway({ authorization: 'Bearer not.a.token' }, GOOD_QUERY),
    );
    hostile('an unsigned token (alg none)', 401, 'INVALID_TOKEN', () =>
      gateway(
        {
          authorization: `Bearer ${new UnsecuredJWT({}).setIssuer('https://idp.court.example').setAudience('credence').setSubject('court-enforcement').setExpirationTime('5m').encode()}`,
        },
        GOOD_QUERY,
      ),
    );
    hostile("a token forged with another key under the issuer's key id", 401, 'INVALID_TOKEN', async () => {
      const forger = { ...(await newIssuerKey('adversarial-court-idp')) };
      return gateway({ authorization: `Bearer ${await courtToken(forger)}` }, GOOD_QUERY);
    });
    hostile('an expired token', 401, 'TOKEN_EXPIRED', async () =>
      gateway(
        { authorization: `Bearer ${await courtToken(issuerKey, { exp: Math.floor(Date.now() / 1000) - 3600 })}` },
        GOOD_QUERY,
      ),
    );
    hostile('a token of an issuer not in the policy', 401, 'UNKNOWN_ISSUER', async () =>
      gateway(
        { authorization: `Bearer ${await courtToken(issuerKey, { iss: 'https://idp.attacker.example' })}` },
        GOOD_QUERY,
      ),
    );
    hostile('a valid token for a subject that is no consumer', 401, 'UNKNOWN_SUBJECT', async () =>
      gateway({ authorization: `Bearer ${await courtToken(issuerKey, { sub: 'central-bank' })}` }, GOOD_QUERY),
    );
    hostile('identity claimed by headers only', 401, 'CREDENTIALS_REQUIRED', () =>
      gateway(
        { 'x-credence-consumer': 'central-bank', 'x-consumer-id': 'central-bank', 'x-forwarded-user': 'central-bank' },
        GOOD_QUERY,
      ),
    );
  });

  describe('purpose spoofing and denied fields', () => {
    hostile("another consumer's purpose", 403, 'PURPOSE_NOT_ALLOWED', () =>
      gateway(as('central-bank', 'ENFORCEMENT'), GOOD_QUERY),
    );
    hostile('a purpose that does not exist', 403, 'PURPOSE_NOT_ALLOWED', () =>
      gateway(as('central-bank', 'EVERYTHING'), GOOD_QUERY),
    );
    hostile('two purposes in one header', 403, 'PURPOSE_NOT_ALLOWED', () =>
      gateway(as('central-bank', 'CREDIT_ASSESSMENT, AUDIT'), GOOD_QUERY),
    );
    hostile(
      'a field the consumer may see under none of its purposes: as if it did not exist',
      400,
      'GRAPHQL_VALIDATION_FAILED',
      () => gateway(as('court-enforcement'), `{ subject(uscc: "${SUBJECT.uscc}") { annualReports { revenue } } }`),
    );
  });

  describe('direct access to a department', () => {
    const registry = (headers: Record<string, string>): Promise<HttpAnswer> => post(registryUrl, headers, GOOD_QUERY);
    const toRegistry = { audience: 'registry', request: { query: GOOD_QUERY } };
    hostile('no assertion', 401, 'ASSERTION_MISSING', () => registry({}));
    hostile('identity headers and an API key instead of an assertion', 401, 'ASSERTION_MISSING', () =>
      registry({
        'x-credence-consumer': 'central-bank',
        'x-credence-purpose': 'CREDIT_ASSESSMENT',
        ...as('central-bank'),
      }),
    );
    hostile('an assertion forged with another key', 401, 'ASSERTION_INVALID', () => {
      const stranger = generateAssertionKeyPair();
      return registry({
        [ASSERTION_HEADER]: createAssertionSigner({
          privateKey: stranger.privateKeyPem,
          keyId: federation.assertionKeys.keyId,
        }).sign(identity('central-bank', 'CREDIT_ASSESSMENT'), toRegistry),
      });
    });
    hostile('an assertion that is no token', 401, 'ASSERTION_INVALID', () =>
      registry({ [ASSERTION_HEADER]: 'eyJhbGciOiJub25lIn0.e30.' }),
    );
    hostile('an expired assertion', 401, 'ASSERTION_EXPIRED', () =>
      registry({
        [ASSERTION_HEADER]: federation.signAssertion(
          identity('central-bank', 'CREDIT_ASSESSMENT'),
          toRegistry,
          new Date(Date.now() - 120_000),
        ),
      }),
    );
    hostile('an assertion for a policy version never published', 503, 'POLICY_VERSION_UNAVAILABLE', () =>
      registry({
        [ASSERTION_HEADER]: federation.signAssertion(
          identity('central-bank', 'CREDIT_ASSESSMENT', '0000000000000000'),
          toRegistry,
        ),
      }),
    );
  });

  describe('injection payloads in every argument that reaches a query', () => {
    for (const [operator, payload] of Object.entries(OPERATOR_OBJECTS)) {
      hostile(`subject(uscc:) given ${operator} as a JSON object`, 400, 'BAD_USER_INPUT', () =>
        bank(SUBJECT_BY_VARIABLE, { code: payload }),
      );
      hostile(
        `subject(uscc:) given ${operator} as a string`,
        200,
        'BAD_USER_INPUT',
        () => bank(SUBJECT_BY_VARIABLE, { code: JSON.stringify(payload) }),
        assertNoSubjectData,
      );
    }
    hostile('subjects(after:) given $gt as a JSON object', 400, 'BAD_USER_INPUT', () =>
      bank('query P($after: ID) { subjects(first: 5, after: $after) { uscc } }', { after: OPERATOR_OBJECTS.$gt }),
    );
    hostile(
      'subjects(after:) given $ne as a string',
      200,
      'BAD_USER_INPUT',
      () => bank('query P($after: ID) { subjects(first: 5, after: $after) { uscc } }', { after: '{"$ne":null}' }),
      assertNoSubjectData,
    );
    hostile('subject(uscc:) given $nor as a GraphQL object literal', 400, 'GRAPHQL_PARSE_FAILED', () =>
      bank('{ subject(uscc: { $nor: [] }) { name } }'),
    );
    hostile('subject(uscc:) given an object literal', 400, 'GRAPHQL_VALIDATION_FAILED', () =>
      bank('{ subject(uscc: { gt: "" }) { name } }'),
    );
    hostile('a penalty input whose uscc is $ne', 400, 'BAD_USER_INPUT', () =>
      gateway(as('ecology-bureau', 'RECORD_KEEPING'), RECORD_PENALTY, {
        input: penaltyInput({ uscc: OPERATOR_OBJECTS.$ne }),
      }),
    );
    hostile('a penalty input whose decision number is $where', 400, 'BAD_USER_INPUT', () =>
      gateway(as('ecology-bureau', 'RECORD_KEEPING'), RECORD_PENALTY, {
        input: penaltyInput({ decisionNumber: OPERATOR_OBJECTS.$where }),
      }),
    );
    hostile('a penalty input with an extra $where field', 400, 'BAD_USER_INPUT', () =>
      gateway(as('ecology-bureau', 'RECORD_KEEPING'), RECORD_PENALTY, { input: { ...penaltyInput(), $where: '1' } }),
    );
    hostile('a penalty input with __proto__ (refused by the JSON parser)', 400, 'BAD_REQUEST', () =>
      gateway(as('ecology-bureau', 'RECORD_KEEPING'), RECORD_PENALTY, {
        input: JSON.parse(`{"__proto__": {"admin": true}, ${JSON.stringify(penaltyInput()).slice(1)}`) as Record<
          string,
          unknown
        >,
      }),
    );
    hostile(
      'a penalty input whose uscc is $gt as a string',
      200,
      'BAD_USER_INPUT',
      () =>
        gateway(as('ecology-bureau', 'RECORD_KEEPING'), RECORD_PENALTY, {
          input: penaltyInput({ uscc: '{"$gt":""}' }),
        }),
      assertNoSubjectData,
    );
    hostile(
      'a restoration application for listing $ne (as a string)',
      200,
      'NOT_FOUND',
      () =>
        gateway(
          as('restoration-desk', 'CREDIT_RESTORATION'),
          `mutation A($id: ID!, $basis: String!) { applyForCreditRestoration(listingId: $id, uscc: "${SUBJECT.uscc}", basisNumber: $basis, evidence: "paid") { id } }`,
          { id: '{"$ne":null}', basis: '{"$ne":null}' },
        ),
      assertNoSubjectData,
    );
    hostile('a restoration decision on application $gt (as a JSON object)', 400, 'BAD_USER_INPUT', () =>
      gateway(
        as('market-regulation-bureau', 'RECORD_KEEPING'),
        'mutation D($id: ID!) { decideCreditRestoration(applicationId: $id, approve: true, reason: "x") { id } }',
        { id: OPERATOR_OBJECTS.$gt },
      ),
    );
    hostile(
      'a restoration decision on application $where (as a string)',
      200,
      'NOT_FOUND',
      () =>
        gateway(
          as('market-regulation-bureau', 'RECORD_KEEPING'),
          'mutation D($id: ID!) { decideCreditRestoration(applicationId: $id, approve: true, reason: "x") { id } }',
          { id: '{"$where":"1"}' },
        ),
      assertNoSubjectData,
    );

    it('a decision number "{"$ne": …}" is a number like any other: it never matches the decision already recorded', async () => {
      const first = await gateway(as('ecology-bureau', 'RECORD_KEEPING'), RECORD_PENALTY, {
        input: penaltyInput({ decisionNumber: `ADV-${process.pid}-real` }),
      });
      assert.equal(first.body.errors, undefined, first.text);
      const payload = '{"$ne":"nothing"}';
      const second = await gateway(as('ecology-bureau', 'RECORD_KEEPING'), RECORD_PENALTY, {
        input: penaltyInput({ decisionNumber: payload }),
      });
      assert.equal(second.body.errors, undefined, second.text);
      assert.equal(
        (second.body.data?.recordAdministrativePenalty as { decisionNumber: string }).decisionNumber,
        payload,
      );
      await assertStillServes();
    });
  });

  describe('bad input a department refuses', () => {
    it("is answered with the department's own code, and never switches the department off for others (circuit breaker)", async () => {
      const record =
        'mutation ($input: AdministrativePenaltyInput!) { recordAdministrativePenalty(input: $input) { decisionNumber } }';
      const input = {
        uscc: SUBJECT.uscc,
        decisionNumber: `BAD-DATE-${process.pid}`,
        authority: '北京市生态环境局',
        legalBasis: '第九十九条',
        violation: '超标排放',
        category: 'POLLUTION',
        penaltyType: 'FINE',
        fineAmount: 1,
        severity: 'GENERAL',
        decidedOn: 'not-a-date',
      };
      // Twice the number of failures that opens a circuit (5 by default).
      for (let attempt = 0; attempt < 10; attempt++) {
        const answer = await gateway(as('ecology-bureau', 'RECORD_KEEPING'), record, { input });
        assert.equal(answer.body.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', answer.text);
        assert.equal(answer.body.errors?.[0]?.extensions?.department, 'penalties');
        assert.equal(
          answer.body.errors?.[0]?.extensions?.serviceName,
          undefined,
          'no second, uncontrolled naming of departments',
        );
      }
      const penalties = await bank(
        `{ subject(uscc: "${SUBJECT.uscc}") { administrativePenalties { decisionNumber } } }`,
      );
      assert.equal(penalties.body.errors, undefined, penalties.text);
      assert.ok(
        Array.isArray((penalties.body.data?.subject as { administrativePenalties: unknown[] }).administrativePenalties),
      );
    });
  });

  describe('rate limits, quotas and persisted operations', () => {
    it("answers the tax bureau's 4th request in a minute (its limit is 3) with 429 RATE_LIMITED and Retry-After; others are served", async () => {
      for (let i = 0; i < 3; i += 1) assert.equal((await gateway(as('tax-bureau'), GOOD_QUERY)).status, 200);
      const answer = await gateway(as('tax-bureau'), GOOD_QUERY);
      assertRefused(answer, 429, 'RATE_LIMITED');
      const retryAfter = Number(answer.headers.get('retry-after'));
      assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
      await assertStillServes();
    });

    it("answers the privacy office's 3rd request of the day (its quota is 2) with 429 QUOTA_EXCEEDED", async () => {
      for (let i = 0; i < 2; i += 1) assert.equal((await gateway(as('privacy-office'), '{ __typename }')).status, 200);
      const answer = await gateway(as('privacy-office'), '{ __typename }');
      assertRefused(answer, 429, 'QUOTA_EXCEEDED');
      assert.ok(Number(answer.headers.get('retry-after')) > 60);
      await assertStillServes();
    });

    const registeredHash = operationHash(operationsOfDocument(PROCUREMENT_OPERATION)[0]?.body ?? '');
    hostile('a persisted-only consumer sending an operation as text', 403, 'OPERATION_NOT_REGISTERED', () =>
      gateway(as('procurement-centre'), GOOD_QUERY),
    );
    hostile('an unknown hash', 400, 'PERSISTED_QUERY_NOT_FOUND', () =>
      post(
        federation.gateway.graphqlUrl,
        as('procurement-centre'),
        undefined,
        { code: SUBJECT.uscc },
        { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } },
      ),
    );
    hostile("another consumer's registered hash", 400, 'PERSISTED_QUERY_NOT_FOUND', () =>
      post(
        federation.gateway.graphqlUrl,
        as('central-bank'),
        undefined,
        { code: SUBJECT.uscc },
        { persistedQuery: { version: 1, sha256Hash: registeredHash } },
      ),
    );
    hostile('a hash that does not match the text sent', 400, 'BAD_REQUEST', () =>
      bank(GOOD_QUERY, undefined, { persistedQuery: { version: 1, sha256Hash: registeredHash } }),
    );
    hostile('a persisted query of an unsupported version', 400, 'BAD_REQUEST', () =>
      bank(GOOD_QUERY, undefined, { persistedQuery: { version: 2, sha256Hash: operationHash(GOOD_QUERY) } }),
    );

    it('serves the persisted-only consumer its registered operation by hash', async () => {
      const answer = await post(
        federation.gateway.graphqlUrl,
        as('procurement-centre'),
        undefined,
        { code: SUBJECT.uscc },
        { persistedQuery: { version: 1, sha256Hash: registeredHash } },
      );
      assert.equal(answer.status, 200, answer.text);
      assert.deepEqual(answer.body.data?.subject, { uscc: SUBJECT.uscc, name: SUBJECT.name });
    });
  });
  describe('boundaries that hold', () => {
    const department = (name: string): string => federation.subgraphs.get(name)?.graphqlUrl ?? '';
    const replay = (url: string, assertion: string, body: CapturedCall['body']): Promise<HttpAnswer> =>
      send(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [ASSERTION_HEADER]: assertion },
        body: JSON.stringify(body),
      });
    const ecology = (): Record<string, string> => as('ecology-bureau', 'RECORD_KEEPING');
    const drugs = (): Record<string, string> => as('drug-administration', 'RECORD_KEEPING');
    const RESTORE_PENALTY =
      'mutation R($input: PenaltyRestorationInput!) { restoreAdministrativePenalty(input: $input) { decisionNumber } }';
    const inspect = async (query: string): Promise<Record<string, unknown>> => {
      const answer = await federation.query(query);
      assert.equal(answer.body.errors, undefined, JSON.stringify(answer.body));
      return answer.body.data ?? {};
    };

    it('assertion replay: an assertion captured on its way to one department is refused by another department, with another query, and a second time (401)', async () => {
      const served = await bank(`{ subject(uscc: "${SUBJECT.uscc}") { name taxViolations { caseNumber } } }`);
      assert.equal(served.status, 200, served.text);
      const sent = captured.get('tax');
      assert.ok(sent, 'the tax department was called with an assertion');
      const elsewhere = await replay(department('registry'), sent.assertion, {
        query: '{ subjects(first: 500) { uscc name legalRepresentative { idNumber phone } } }',
      });
      assertRefused(elsewhere, 401, 'ASSERTION_AUDIENCE_MISMATCH');
      const otherQuery = await replay(department('tax'), sent.assertion, {
        ...sent.body,
        query: `${sent.body.query} `,
      });
      assertRefused(otherQuery, 401, 'ASSERTION_REQUEST_MISMATCH');
      const otherVariables = await replay(department('tax'), sent.assertion, {
        ...sent.body,
        variables: { ...sent.body.variables, extra: 1 },
      });
      assertRefused(otherVariables, 401, 'ASSERTION_REQUEST_MISMATCH');
      const again = await replay(department('tax'), sent.assertion, sent.body);
      assertRefused(again, 401, 'ASSERTION_REPLAYED');
      await assertStillServes();
    });

    hostile(
      "limits use coerced variable values: a variable's default of 10,000,000 is costed as sent",
      400,
      'QUERY_TOO_COMPLEX',
      () =>
        bank(
          'query L($n: Int = 10000000) { a1: subjects(first: $n) { uscc name } a2: subjects(first: $n) { uscc name } }',
        ),
    );

    it("departments bound their own work: an entity batch over the department's limit is refused by the department", async () => {
      const representations = Array.from({ length: 2001 }, (_, i) => ({
        __typename: 'Subject',
        uscc: seedSubject(i % 10).uscc,
      }));
      const body = {
        query:
          'query E($representations: [_Any!]!) { _entities(representations: $representations) { ... on Subject { uscc name } } }',
        variables: { representations },
      };
      const assertion = federation.signAssertion(
        { ...identity('test-inspector', 'TESTING'), requestId: `batch-${process.pid}` },
        { audience: 'registry', request: body },
      );
      const answer = await replay(department('registry'), assertion, body);
      assertRefused(answer, 400, 'QUERY_TOO_COMPLEX');
      await assertStillServes();
    });

    it("departments bound their own work: one consumer's operations timing out do not switch the department off for other consumers", async () => {
      // More slow operations than the failures that open a circuit (5 by default), all at once.
      const slow = await Promise.all(
        Array.from({ length: 7 }, () =>
          federation.query(`query Slow { subject(uscc: "${SUBJECT.uscc}") { taxViolations { caseNumber } } }`),
        ),
      );
      for (const answer of slow)
        assert.equal(answer.body.errors?.[0]?.extensions?.code, 'DEPARTMENT_UNAVAILABLE', JSON.stringify(answer.body));
      const other = await bank(`{ subject(uscc: "${SUBJECT.uscc}") { taxViolations { caseNumber } } }`);
      assert.equal(other.body.errors, undefined, other.text);
      assert.ok(Array.isArray((other.body.data?.subject as { taxViolations: unknown[] }).taxViolations));
    });

    it('memory: a cache bounded by size in bytes evicts the oldest entries once its byte budget is full', () => {
      const cache = new LruCache<string>({ maxEntries: 1000, maxBytes: 10_000 });
      for (let i = 0; i < 100; i += 1) cache.get(`key-${i}`, () => 'x'.repeat(1000), 1000);
      assert.ok(cache.bytes <= 10_000, `${cache.bytes} bytes held`);
      assert.ok(cache.size <= 10, `${cache.size} entries held`);
      let recomputed = false;
      cache.get(
        'key-99',
        () => {
          recomputed = true;
          return '';
        },
        0,
      );
      assert.equal(recomputed, false, 'the newest entry is kept');
    });

    it("competence: a regulator recording a penalty in another authority's name and category is refused (OUTSIDE_COMPETENCE), and nothing is written", async () => {
      const decisionNumber = `COMP-${process.pid}-drug`;
      const answer = await gateway(ecology(), RECORD_PENALTY, {
        input: penaltyInput({ decisionNumber, authority: '北京市药品监督管理局', category: 'DRUG_QUALITY' }),
      });
      assert.equal(answer.body.errors?.[0]?.extensions?.code, 'OUTSIDE_COMPETENCE', answer.text);
      assert.equal(answer.body.data?.recordAdministrativePenalty ?? null, null);
      const stored = await inspect(
        `{ subject(uscc: "${seedSubject(3).uscc}") { administrativePenalties { decisionNumber } } }`,
      );
      assert.ok(!JSON.stringify(stored).includes(decisionNumber), 'nothing written');
      const ownAuthorityOtherCategory = await gateway(ecology(), RECORD_PENALTY, {
        input: penaltyInput({ decisionNumber: `${decisionNumber}-2`, category: 'DRUG_QUALITY' }),
      });
      assert.equal(
        ownAuthorityOtherCategory.body.errors?.[0]?.extensions?.code,
        'OUTSIDE_COMPETENCE',
        ownAuthorityOtherCategory.text,
      );
    });

    it("competence: market regulation listing a judgment debtor, or on a court's basis document, is refused (OUTSIDE_COMPETENCE), and nothing is written", async () => {
      const list =
        'mutation L($input: SeriousDishonestyListingInput!) { recordSeriousDishonestyListing(input: $input) { id } }';
      const listing = (overrides: Record<string, unknown>) => ({
        uscc: seedSubject(4).uscc,
        id: `COMP-LIST-${process.pid}-${String(overrides.listType)}`,
        listType: 'SERIOUS_ILLEGAL_DISHONESTY',
        reason: '严重违法失信',
        basis: { number: '京市监罚〔2026〕1号', issuedBy: '北京市市场监督管理局', issuedOn: '2026-09-01' },
        listedOn: '2026-10-01',
        ...overrides,
      });
      const courtBasis = { number: '（2026）京01执1号', issuedBy: '北京市朝阳区人民法院', issuedOn: '2026-09-01' };
      for (const input of [
        listing({ listType: 'DISHONEST_JUDGMENT_DEBTOR', basis: courtBasis }),
        listing({ basis: courtBasis }),
      ]) {
        const answer = await gateway(as('market-regulation-bureau', 'RECORD_KEEPING'), list, { input });
        assert.equal(answer.body.errors?.[0]?.extensions?.code, 'OUTSIDE_COMPETENCE', answer.text);
      }
      const stored = await inspect(`{ subject(uscc: "${seedSubject(4).uscc}") { seriousDishonestyListings { id } } }`);
      assert.ok(!JSON.stringify(stored).includes('COMP-LIST'), 'nothing written');
    });

    it('competence: decision numbers are unique per issuing authority, so two authorities may use the same number', async () => {
      const decisionNumber = `SHARED-${process.pid}`;
      const first = await gateway(ecology(), RECORD_PENALTY, { input: penaltyInput({ decisionNumber }) });
      assert.equal(first.body.errors, undefined, first.text);
      const second = await gateway(drugs(), RECORD_PENALTY, {
        input: penaltyInput({ decisionNumber, authority: '北京市药品监督管理局', category: 'DRUG_QUALITY' }),
      });
      assert.equal(second.body.errors, undefined, second.text);
      assert.equal(
        (second.body.data?.recordAdministrativePenalty as { authority: string }).authority,
        '北京市药品监督管理局',
      );
      const again = await gateway(ecology(), RECORD_PENALTY, {
        input: penaltyInput({ decisionNumber, fineAmount: 2 }),
      });
      assert.equal(again.body.errors?.[0]?.extensions?.code, 'DUPLICATE_DECISION_NUMBER', again.text);
    });

    it("probing: another authority's decision number and a number never recorded get the same refusal", async () => {
      const decisionNumber = `PROBE-${process.pid}`;
      const recorded = await gateway(ecology(), RECORD_PENALTY, {
        input: penaltyInput({ decisionNumber, decidedOn: '2020-01-01' }),
      });
      assert.equal(recorded.body.errors, undefined, recorded.text);
      const restore = (number: string) =>
        gateway(drugs(), RESTORE_PENALTY, {
          input: { decisionNumber: number, evidence: '已整改', reason: '符合条件' },
        });
      const existing = await restore(decisionNumber);
      const missing = await restore(`${decisionNumber}-never`);
      const shape = (answer: HttpAnswer, number: string) =>
        JSON.stringify({ status: answer.status, errors: answer.body.errors, data: answer.body.data }).replaceAll(
          number,
          '<number>',
        );
      assert.equal(shape(existing, decisionNumber), shape(missing, `${decisionNumber}-never`));
      assert.equal(existing.body.errors?.[0]?.extensions?.code, 'RECORD_NOT_FOUND', existing.text);
    });

    it("probing: a restoration application must carry the applicant's code and basis document number; every other case gets one uniform refusal", async () => {
      const data = await inspect('{ subjects(first: 10) { uscc seriousDishonestyListings { id basis { number } } } }');
      const subjects = data.subjects as {
        uscc: string;
        seriousDishonestyListings: { id: string; basis: { number: string } }[];
      }[];
      const owner = subjects.find((subject) => subject.seriousDishonestyListings.length > 0);
      assert.ok(owner, 'a seeded subject with a listing');
      const listing = owner.seriousDishonestyListings[0]!;
      const other = subjects.find((subject) => subject.uscc !== owner.uscc)!;
      const apply = (listingId: string, uscc: string, basisNumber: string) =>
        gateway(
          as('restoration-desk', 'CREDIT_RESTORATION'),
          'mutation A($listingId: ID!, $uscc: ID!, $basisNumber: String!) { applyForCreditRestoration(listingId: $listingId, uscc: $uscc, basisNumber: $basisNumber, evidence: "已整改") { id status } }',
          { listingId, uscc, basisNumber },
        );
      const refusals = [
        await apply(listing.id, other.uscc, listing.basis.number),
        await apply(listing.id, owner.uscc, `${listing.basis.number}-x`),
        await apply(`${listing.id}-none`, owner.uscc, listing.basis.number),
        await apply(`SDL-${owner.uscc}-9`, owner.uscc, listing.basis.number),
      ];
      for (const refusal of refusals) {
        assert.equal(refusal.body.errors?.[0]?.extensions?.code, 'NOT_FOUND', refusal.text);
        assert.equal(
          JSON.stringify(refusal.body.errors?.map(({ message, extensions }) => ({ message, extensions }))),
          JSON.stringify(refusals[0]!.body.errors?.map(({ message, extensions }) => ({ message, extensions }))),
        );
      }
    });

    hostile('jwt lifetime: a token valid for 10 years', 401, 'INVALID_TOKEN', async () =>
      gateway(
        {
          authorization: `Bearer ${await courtToken(issuerKey, { exp: Math.floor(Date.now() / 1000) + 10 * 365 * 86_400 })}`,
        },
        GOOD_QUERY,
      ),
    );
    hostile('jwt lifetime: a token issued a year in the future', 401, 'INVALID_TOKEN', async () => {
      const iat = Math.floor(Date.now() / 1000) + 365 * 86_400;
      return gateway({ authorization: `Bearer ${await courtToken(issuerKey, { iat, exp: iat + 300 })}` }, GOOD_QUERY);
    });

    it('validation errors do not name hidden fields: a field the consumer may see under none of its purposes behaves like one that does not exist', async () => {
      const hidden = await bank('{ accessLog(first: 1) { bogus } }');
      const absent = await bank('{ accessLogs(first: 1) { bogus } }');
      assertRefused(hidden, 400, 'GRAPHQL_VALIDATION_FAILED');
      assert.equal(hidden.body.errors?.[0]?.message, 'Cannot query field "accessLog" on type "Query".');
      assert.equal(
        JSON.stringify(hidden.body.errors).replaceAll('accessLog', '<field>'),
        JSON.stringify(absent.body.errors).replaceAll('accessLogs', '<field>'),
      );
      const missingArgument = await gateway(as('court-enforcement'), '{ subject { name } }');
      assertRefused(missingArgument, 400, 'GRAPHQL_VALIDATION_FAILED');
      const underOtherPurpose = await gateway(
        as('court-enforcement', 'TAX_ADMINISTRATION'),
        `{ subject(uscc: "${SUBJECT.uscc}") { name dishonestDebtorEntries { caseNumber } } }`,
      );
      assertRefused(underOtherPurpose, 403, 'FORBIDDEN');
      assert.match(underOtherPurpose.body.errors?.[0]?.message ?? '', /ENFORCEMENT/);
      const neverVisible = await gateway(
        as('court-enforcement', 'TAX_ADMINISTRATION'),
        `{ subject(uscc: "${SUBJECT.uscc}") { annualReports { revenue } } }`,
      );
      assertRefused(neverVisible, 400, 'GRAPHQL_VALIDATION_FAILED');
      assert.equal(neverVisible.body.errors?.[0]?.message, 'Cannot query field "annualReports" on type "Subject".');
      assert.doesNotMatch(neverVisible.text, /AnnualReport\b|revenue/);
    });

    it('requestId on refusals: 401 and 403 answers carry the request id', async () => {
      for (const answer of [
        await gateway({}, GOOD_QUERY),
        await gateway(as('central-bank', 'ENFORCEMENT'), GOOD_QUERY),
      ]) {
        assert.ok([401, 403].includes(answer.status), answer.text);
        const credence = (answer.body as { extensions?: { credence?: { requestId?: unknown } } }).extensions?.credence;
        assert.match(String(credence?.requestId), /^[0-9a-f-]{36}$/, answer.text);
      }
    });
  });
});
