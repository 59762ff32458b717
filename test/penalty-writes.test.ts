/**
 * Writes by departments (issue 4, item 2, for the regulators' penalties): a decision is recorded
 * once, by the department that made it, and a bad write changes nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ASSERTION_HEADER } from '../lib/identity/assertion.ts';
import { seedSubject } from '../subgraphs/runtime/seed-subjects.ts';
import { INSPECTOR, startFederation, type Federation, type GraphQLResponse } from './support/federation.ts';

const ECOLOGY = { consumer: 'ecology-bureau', purpose: 'RECORD_KEEPING' };
const DRUGS = { consumer: 'drug-administration', purpose: 'RECORD_KEEPING' };
const PORTAL = { consumer: 'public-portal', purpose: 'PUBLIC_DISCLOSURE' };

const RECORD = `mutation Record($input: AdministrativePenaltyInput!) {
  recordAdministrativePenalty(input: $input) { decisionNumber authority category severity fineAmount decidedOn }
}`;

const uscc = seedSubject(3).uscc;

function decision(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    uscc,
    decisionNumber: `京环罚〔2026〕${process.pid}号`,
    authority: '北京市生态环境局',
    legalBasis: '《中华人民共和国大气污染防治法》第九十九条',
    violation: '超标排放大气污染物',
    category: 'POLLUTION',
    penaltyType: 'FINE',
    fineAmount: 200000,
    severity: 'GENERAL',
    decidedOn: '2026-10-15',
    ...overrides,
  };
}

describe('penalty writes by regulators', () => {
  let federation: Federation;
  before(async () => {
    federation = await startFederation({ subjects: 10 });
  });
  after(() => federation.close());

  /** The subject's penalties as the inspector (who sees everything) reads them. */
  async function storedPenalties(): Promise<{ decisionNumber: string; fineAmount: number }[]> {
    const { body } = await federation.query(
      `{ subject(uscc: "${uscc}") { administrativePenalties { decisionNumber fineAmount } } }`,
      undefined,
      INSPECTOR,
    );
    return (body.data?.subject as { administrativePenalties: { decisionNumber: string; fineAmount: number }[] })
      .administrativePenalties;
  }

  function code(response: GraphQLResponse): unknown {
    return response.body.errors?.[0]?.extensions?.code;
  }

  it('records a decision of the calling regulator, visible at once to consumers allowed to see it', async () => {
    const before = await storedPenalties();
    const response = await federation.query(RECORD, { input: decision() }, ECOLOGY);
    assert.equal(response.body.errors, undefined, JSON.stringify(response.body.errors));
    assert.deepEqual(response.body.data?.recordAdministrativePenalty, {
      decisionNumber: decision().decisionNumber,
      authority: '北京市生态环境局',
      category: 'POLLUTION',
      severity: 'GENERAL',
      fineAmount: 200000,
      decidedOn: '2026-10-15',
    });
    const after = await storedPenalties();
    assert.equal(after.length, before.length + 1);
    assert.ok(after.some((penalty) => penalty.decisionNumber === decision().decisionNumber));
  });

  it('is idempotent on the decision number: the same decision again changes nothing', async () => {
    const before = await storedPenalties();
    const response = await federation.query(RECORD, { input: decision() }, ECOLOGY);
    assert.equal(response.body.errors, undefined);
    assert.deepEqual(await storedPenalties(), before);
  });

  // The gateway adds guards to every selection set of an operation with conditions (gateway/skip-guards.ts),
  // mutations included, and change nothing in the answer.
  it('answers a mutation whose selections carry conditions as GraphQL says, with nothing the gateway added', async () => {
    const response = await federation.query(
      `mutation Record($input: AdministrativePenaltyInput!, $all: Boolean!) {
      recordAdministrativePenalty(input: $input) @include(if: true) { decisionNumber @include(if: $all) fineAmount @skip(if: true) }
    }`,
      { input: decision(), all: false },
      ECOLOGY,
    );
    assert.equal(response.body.errors, undefined, JSON.stringify(response.body.errors));
    assert.deepEqual(response.body.data, { recordAdministrativePenalty: {} });
  });

  it('refuses another decision under a number already used (DUPLICATE_DECISION_NUMBER), data unchanged', async () => {
    const before = await storedPenalties();
    const response = await federation.query(RECORD, { input: decision({ fineAmount: 1 }) }, ECOLOGY);
    assert.equal(code(response), 'DUPLICATE_DECISION_NUMBER');
    assert.deepEqual(await storedPenalties(), before);
  });

  it("refuses a penalty in another authority's name or category (OUTSIDE_COMPETENCE), data unchanged", async () => {
    const before = await storedPenalties();
    const response = await federation.query(RECORD, { input: decision({ authority: '北京市药品监督管理局' }) }, DRUGS);
    assert.equal(code(response), 'OUTSIDE_COMPETENCE');
    assert.deepEqual(await storedPenalties(), before);
  });

  it('refuses an invalid code, naming the failing position, and writes nothing', async () => {
    const before = await storedPenalties();
    const response = await federation.query(
      RECORD,
      { input: decision({ uscc: '91110000600037341M', decisionNumber: 'X-1' }) },
      ECOLOGY,
    );
    assert.equal(code(response), 'BAD_USER_INPUT');
    assert.equal(response.body.errors?.[0]?.extensions?.position, 18);
    assert.deepEqual(await storedPenalties(), before);
  });

  it('refuses a non-restorable category recorded as less than SERIOUS (R6), and writes nothing', async () => {
    const before = await storedPenalties();
    const response = await federation.query(
      RECORD,
      { input: decision({ category: 'ONLINE_FRAUD', decisionNumber: 'X-2' }) },
      ECOLOGY,
    );
    assert.equal(code(response), 'BAD_USER_INPUT');
    assert.equal(response.body.errors?.[0]?.extensions?.field, 'severity');
    assert.deepEqual(await storedPenalties(), before);
  });

  it('is refused to a consumer the policy does not let write, before any side effect', async () => {
    const before = await storedPenalties();
    const response = await federation.query(RECORD, { input: decision({ decisionNumber: 'X-3' }) }, PORTAL);
    assert.equal(response.body.data?.recordAdministrativePenalty ?? null, null);
    assert.equal(code(response), 'GRAPHQL_VALIDATION_FAILED', 'for the portal the mutation does not exist');
    assert.deepEqual(await storedPenalties(), before);
  });

  it('is refused by the department itself to a validly asserted consumer the policy does not let write', async () => {
    const before = await storedPenalties();
    const penalties = federation.subgraphs.get('penalties');
    assert.ok(penalties);
    const request = { query: RECORD, variables: { input: decision({ decisionNumber: 'X-4' }) } };
    const assertion = federation.signAssertion(
      {
        consumer: PORTAL.consumer,
        purpose: PORTAL.purpose,
        policyVersion: federation.policies.current().version,
        requestId: 'direct-write',
      },
      { audience: 'penalties', request },
    );
    const response = await fetch(penalties.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [ASSERTION_HEADER]: assertion },
      body: JSON.stringify(request),
    });
    const body = (await response.json()) as GraphQLResponse['body'];
    assert.equal(body.errors?.[0]?.extensions?.code, 'FORBIDDEN');
    assert.deepEqual(await storedPenalties(), before);
  });
});
