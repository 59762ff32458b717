/**
 * Answers that say what happened to them: `extensions.credence.masked` lists the response paths
 * of masked values; RateLimit-Policy and RateLimit (IETF draft) on answers and on 429 refusals;
 * a filter-mode refusal names the purpose; records withheld by a record rule are not announced
 * (docs/frontend.md, "Withheld records": their count can itself be personal information).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GraphQLError } from 'graphql';
import type { HeaderMap } from '@apollo/server';
import { createLogger } from '../lib/logger.ts';
import type { Consumer } from '../lib/policy/decision/model.ts';
import { connectSharedStore, type SharedStore } from '../lib/stores/shared-store.ts';
import { DEFAULT_CONSUMER_LIMITS } from '../gateway/config.ts';
import { createRateLimits } from '../gateway/rate-limits.ts';
import { startFederation, type Federation } from './support/federation.ts';
import { addPurposeSeeingEverything } from './support/policy-change.ts';

interface Answer {
  status: number;
  headers: Headers;
  body: {
    data?: Record<string, unknown> | null;
    errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
    extensions?: { credence?: Record<string, unknown> };
  };
}

describe('answers that say what happened to them', () => {
  let federation: Federation;
  let uscc: string;

  const ask = async (consumer: string, query: string, purpose?: string): Promise<Answer> => {
    const response = await fetch(federation.gateway.graphqlUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-api-key': federation.apiKeys.get(consumer) ?? '',
        ...(purpose ? { 'x-credence-purpose': purpose } : {}),
      },
      body: JSON.stringify({ query }),
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as Answer['body'] };
  };

  before(async () => {
    // The portal (filter mode) gets a second purpose, so that a field denied under its own is filtered, not unknown.
    federation = await startFederation({
      subjects: 12,
      preparePolicies: (dir) => addPurposeSeeingEverything(dir, ['public-portal']),
    });
    // A subject with dishonest-debtor entries (their responsible person's ID number is masked for the portal).
    const listed = await federation.query('{ subjects(first: 12) { uscc dishonestDebtorEntries { caseNumber } } }');
    const subjects = listed.body.data?.subjects as { uscc: string; dishonestDebtorEntries: unknown[] }[];
    const withEntries = subjects.find((subject) => subject.dishonestDebtorEntries.length > 0);
    assert.ok(withEntries, 'the seed has a subject with dishonest-debtor entries');
    uscc = withEntries.uscc;
  });
  after(async () => {
    await federation?.close();
  });

  it('masked paths: extensions.credence.masked lists the path of every masked value, aliases and list indexes as answered', async () => {
    const answer = await ask(
      'public-portal',
      `{
      s: subject(uscc: "${uscc}") {
        legalRepresentative { name id: idNumber }
        dishonestDebtorEntries { caseNumber responsiblePerson { name idNumber } }
      }
    }`,
    );
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const subject = answer.body.data?.s as {
      legalRepresentative: { id: string };
      dishonestDebtorEntries: { responsiblePerson: { idNumber: string } }[];
    };
    const entries = subject.dishonestDebtorEntries;
    assert.match(subject.legalRepresentative.id, /^\d{4}\*+[\dX]{4}$/);
    const expected = [
      ['s', 'legalRepresentative', 'id'],
      ...entries.map((_entry, index) => ['s', 'dishonestDebtorEntries', index, 'responsiblePerson', 'idNumber']),
    ];
    assert.deepEqual(answer.body.extensions?.credence?.masked, expected);
    for (const entry of entries) assert.match(entry.responsiblePerson.idNumber, /\*/);
  });

  it('masked paths: an answer with nothing masked has no masked list', async () => {
    const answer = await ask(
      'court-enforcement',
      `{ subject(uscc: "${uscc}") { legalRepresentative { name idNumber } } }`,
    );
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.extensions?.credence?.masked, undefined);
    assert.doesNotMatch(JSON.stringify(answer.body.data), /\*/);
  });

  it('filter-mode refusals name the purpose that denies the field', async () => {
    const answer = await ask(
      'public-portal',
      `{ subject(uscc: "${uscc}") { name legalRepresentative { phone } } }`,
      'PUBLIC_DISCLOSURE',
    );
    const forbidden = answer.body.errors?.find((error) => error.extensions?.code === 'FORBIDDEN');
    assert.ok(forbidden, JSON.stringify(answer.body));
    assert.equal(
      forbidden.message,
      'You are not allowed to see LegalRepresentative.phone for purpose PUBLIC_DISCLOSURE. You may see LegalRepresentative.phone under TESTING: declare that purpose in X-Credence-Purpose.',
    );
    assert.equal(forbidden.extensions?.purpose, 'PUBLIC_DISCLOSURE');
    assert.deepEqual(forbidden.path, ['subject', 'legalRepresentative', 'phone']);
    assert.equal((answer.body.data?.subject as { name: string }).name.length > 0, true, 'the rest is answered');
  });

  it('rate-limit headers: RateLimit-Policy and RateLimit (IETF draft) on every counted answer', async () => {
    const first = await ask('central-bank', `{ subject(uscc: "${uscc}") { name } }`);
    const second = await ask('central-bank', `{ subject(uscc: "${uscc}") { name } }`);
    const { requestsPerMinute, requestsPerDay } = DEFAULT_CONSUMER_LIMITS;
    for (const answer of [first, second]) {
      assert.equal(
        answer.headers.get('ratelimit-policy'),
        `"minute";q=${requestsPerMinute};w=60, "day";q=${requestsPerDay};w=86400`,
      );
      assert.match(answer.headers.get('ratelimit') ?? '', /^"minute";r=\d+;t=\d+, "day";r=\d+;t=\d+$/);
    }
    const left = (answer: Answer, window: string): number =>
      Number(new RegExp(`"${window}";r=(\\d+)`).exec(answer.headers.get('ratelimit') ?? '')?.[1]);
    // One request more counted in the day (the day window does not roll over between two requests).
    assert.equal(left(second, 'day'), left(first, 'day') - 1);
    assert.ok(left(first, 'minute') < requestsPerMinute);
  });

  it('rate-limit headers: a request refused before authentication is not counted and carries none', async () => {
    const response = await fetch(federation.gateway.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'cred_wrong' },
      body: '{"query":"{ __typename }"}',
    });
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('ratelimit'), null);
  });

  it('withheld records are not announced: the answer names no count and no hint of records left out', async () => {
    // The portal sees records inside their disclosure window only; the inspector sees all.
    const query = `{ subject(uscc: "${uscc}") { dishonestDebtorEntries { caseNumber } administrativePenalties { decisionNumber } } }`;
    const everything = await federation.query(query);
    const portal = await ask('public-portal', query);
    assert.deepEqual(
      Object.keys(portal.body.extensions?.credence ?? {})
        .filter((key) => key !== 'masked')
        .sort(),
      ['policyVersion', 'requestId'],
    );
    assert.equal(portal.body.errors, undefined);
    assert.doesNotMatch(JSON.stringify(portal.body), /withheld|hidden|omitted/i);
    assert.ok(JSON.stringify(everything.body.data).length >= JSON.stringify(portal.body.data).length);
  });
});

describe('rate-limit headers on a refusal', () => {
  let store: SharedStore;
  before(async () => {
    store = await connectSharedStore(createLogger('test'));
  });
  after(async () => {
    await store?.close();
  });

  it('a 429 carries Retry-After, RateLimit-Policy and RateLimit with nothing left', async () => {
    const limits = createRateLimits({
      sharedStore: store,
      namespace: `credence-test-headers-${process.pid}-${Date.now()}`,
      log: createLogger('test'),
    });
    const consumer: Consumer = {
      id: 'headers',
      name: 'headers',
      purposes: [],
      mode: 'reject',
      apiKeys: [],
      jwt: [],
      anonymous: false,
    };
    const tight = { ...DEFAULT_CONSUMER_LIMITS, requestsPerMinute: 1000, requestsPerDay: 2 };
    await limits.consume(consumer, tight);
    await limits.consume(consumer, tight);
    const refusal = await limits.consume(consumer, tight).then(
      () => undefined,
      (error: unknown) => error,
    );
    limits.close();
    assert.ok(refusal instanceof GraphQLError);
    assert.equal(refusal.extensions.code, 'QUOTA_EXCEEDED');
    const headers = (refusal.extensions.http as { headers: HeaderMap }).headers;
    assert.equal(headers.get('ratelimit-policy'), '"minute";q=1000;w=60, "day";q=2;w=86400');
    assert.match(headers.get('ratelimit') ?? '', /^"minute";r=997;t=\d+, "day";r=0;t=\d+$/);
    assert.ok(Number(headers.get('retry-after')) > 0);
  });
});
