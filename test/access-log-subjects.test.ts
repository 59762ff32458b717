/**
 * Every access names its subjects, and every request after authentication leaves a record
 * (issue 12), on real servers: mutations addressed by a record number and queries whose
 * arguments name no subject record the subjects whose data the departments served or changed
 * (as the departments report them, not as argument names suggest), and those accesses appear in
 * `subjectAccessReport`; requests refused or failed after authentication (validation, limits,
 * purpose, rate, policy, crashes) are recorded with their outcome and code; a variable nested
 * 40,000 levels deep is refused with HTTP 400 and recorded.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectAccessLogStore, type AccessLogCollections } from '../lib/access-log/store.ts';
import type { AccessRecordDocument } from '../lib/access-log/record.ts';
import { seedSubject } from '../subgraphs/runtime/seed-subjects.ts';
import {
  INSPECTOR,
  startFederation,
  type Caller,
  type Federation,
  type GraphQLResponse,
} from './support/federation.ts';

const COURT: Caller = { consumer: 'people-court', purpose: 'RECORD_KEEPING' };
const BUREAU: Caller = { consumer: 'market-regulation-bureau', purpose: 'RECORD_KEEPING' };
const REGULATOR: Caller = { consumer: 'ecology-bureau', purpose: 'RECORD_KEEPING' };
const TAX: Caller = { consumer: 'tax-inspection', purpose: 'RECORD_KEEPING' };
const DESK: Caller = { consumer: 'restoration-desk', purpose: 'CREDIT_RESTORATION' };
const CENTRAL_BANK: Caller = { consumer: 'central-bank', purpose: 'CREDIT_ASSESSMENT' };
const PRIVACY_OFFICE: Caller = { consumer: 'privacy-office', purpose: 'AUDIT' };
/** Used by the rate-limit case only, so that its minute's count is its own. */
const RATE_LIMITED: Caller = { consumer: 'tax-bureau', purpose: 'TAX_ADMINISTRATION' };
const REQUESTS_PER_MINUTE = 40;

const uscc = seedSubject(3).uscc;
const today = new Date().toISOString().slice(0, 10);
const daysAgo = (days: number): string => new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10);
const tag = String(process.pid);

const requestIdOf = (response: GraphQLResponse): string =>
  String(
    (response.body as { extensions?: { credence?: { requestId?: string } } }).extensions?.credence?.requestId ?? '',
  );

function ok(response: GraphQLResponse): Record<string, unknown> {
  assert.equal(response.body.errors, undefined, JSON.stringify(response.body.errors));
  return response.body.data as Record<string, unknown>;
}

describe('the subjects of every access, and a record of every request after authentication', () => {
  let federation: Federation;
  let store: AccessLogCollections;

  before(async () => {
    federation = await startFederation({ subjects: 8, gatewayLimits: { requestsPerMinute: REQUESTS_PER_MINUTE } });
    store = await connectAccessLogStore(federation.mongo.uri);
  });
  after(async () => {
    await store?.close();
    await federation?.close();
  });

  /** The newest record of `consumer` (for answers that carry no request id: refusals before execution). */
  const latestOf = async (consumer: string): Promise<AccessRecordDocument> => {
    const [record] = await store.records
      .find({ kind: 'ACCESS', consumer })
      .sort({ at: -1, seq: -1 })
      .limit(1)
      .toArray();
    assert.ok(record && record.kind === 'ACCESS', `a record of ${consumer}`);
    return record;
  };
  const recordOf = async (response: GraphQLResponse): Promise<AccessRecordDocument> => {
    const requestId = requestIdOf(response);
    assert.ok(requestId, 'the answer names its request id');
    const record = await store.records.findOne({ kind: 'ACCESS', requestId });
    assert.ok(record && record.kind === 'ACCESS', `the request ${requestId} is recorded`);
    return record;
  };
  /** The request ids `subjectAccessReport` lists for the subject. */
  const reportedRequests = async (code: string): Promise<string[]> => {
    const data = ok(
      await federation.query(
        'query ($uscc: ID!) { subjectAccessReport(uscc: $uscc) { accesses { requestId } } }',
        { uscc: code },
        PRIVACY_OFFICE,
      ),
    );
    return (data.subjectAccessReport as { accesses: { requestId: string }[] }).accesses.map(
      ({ requestId }) => requestId,
    );
  };
  /** A request answered without errors. */
  const answered = async (
    query: string,
    variables: Record<string, unknown>,
    caller: Caller,
  ): Promise<GraphQLResponse> => {
    const response = await federation.query(query, variables, caller);
    ok(response);
    return response;
  };
  /** The request is recorded with the subject, and the subject's access report lists it. */
  const expectSubject = async (response: GraphQLResponse, code = uscc): Promise<AccessRecordDocument> => {
    const record = await recordOf(response);
    assert.ok(record.subjects.includes(code), `the record names ${code}: ${JSON.stringify(record.subjects)}`);
    assert.ok((await reportedRequests(code)).includes(record.requestId), 'subjectAccessReport lists the access');
    return record;
  };

  describe('mutations addressed by a record number, and queries that name no subject', () => {
    const caseNumber = `(2026)京0105执S${tag}号`;
    const listingId = `SDL-SUBJECTS-${tag}`;
    const penaltyNumber = `京环罚〔2025〕S${tag}号`;
    const abnormalId = `AO-SUBJECTS-${tag}`;
    let applicationId = '';

    it('recordDishonestDebtorEntry', async () => {
      await expectSubject(
        await federation.query(
          `mutation ($input: DishonestDebtorEntryInput!) { recordDishonestDebtorEntry(input: $input) { caseNumber } }`,
          {
            input: {
              uscc,
              caseNumber,
              court: '北京市朝阳区人民法院',
              obligation: '支付货款及利息',
              performanceStatus: 'NOT_PERFORMED',
              basis: { number: '(2025)京0105民初8812号', issuedBy: '北京市朝阳区人民法院', issuedOn: daysAgo(120) },
              responsiblePerson: { name: '王伟', idNumber: '11010519491231002X', phone: '13800138000' },
              listedOn: daysAgo(10),
            },
          },
          COURT,
        ),
      );
    });

    it("removeDishonestDebtorEntry: addressed by its case number, the entry's subject is recorded", async () => {
      await expectSubject(
        await answered(
          `mutation ($input: DebtorEntryRemovalInput!) { removeDishonestDebtorEntry(input: $input) { caseNumber responsiblePerson { name } } }`,
          {
            input: { caseNumber, removedOn: today, reason: 'OBLIGATION_PERFORMED' },
          },
          COURT,
        ),
      );
    });

    it('recordAbnormalOperationEntry and removeAbnormalOperationEntry', async () => {
      await expectSubject(
        await federation.query(
          `mutation ($input: AbnormalOperationEntryInput!) { recordAbnormalOperationEntry(input: $input) { id } }`,
          {
            input: {
              uscc,
              id: abnormalId,
              reason: 'UNREACHABLE_AT_ADDRESS',
              listedOn: daysAgo(20),
              listedBy: '北京市朝阳区市场监督管理局',
            },
          },
          BUREAU,
        ),
      );
      await expectSubject(
        await answered(
          `mutation ($input: AbnormalOperationRemovalInput!) { removeAbnormalOperationEntry(input: $input) { id removedOn } }`,
          {
            input: { id: abnormalId, removedOn: today, reason: 'REACHABLE_AT_ADDRESS' },
          },
          BUREAU,
        ),
      );
    });

    it('recordTaxViolationCase', async () => {
      await expectSubject(
        await federation.query(
          `mutation ($input: TaxViolationCaseInput!) { recordTaxViolationCase(input: $input) { caseNumber } }`,
          {
            input: {
              uscc,
              caseNumber: `京税稽罚〔2026〕S${tag}号`,
              violationType: 'FALSE_INVOICING',
              amountInvolved: 1000,
              penaltyAmount: 500,
              decision: {
                number: `京税稽罚〔2026〕S${tag}号`,
                issuedBy: '国家税务总局北京市税务局第一稽查局',
                issuedOn: daysAgo(5),
              },
              decidedOn: daysAgo(5),
            },
          },
          TAX,
        ),
      );
    });

    it("recordAdministrativePenalty and restoreAdministrativePenalty: the restored penalty's subject is recorded", async () => {
      await expectSubject(
        await federation.query(
          `mutation ($input: AdministrativePenaltyInput!) { recordAdministrativePenalty(input: $input) { decisionNumber } }`,
          {
            input: {
              uscc,
              decisionNumber: penaltyNumber,
              authority: '北京市生态环境局',
              legalBasis: '相关法律条款',
              violation: '违法行为',
              category: 'POLLUTION',
              penaltyType: 'FINE',
              fineAmount: 100000,
              severity: 'GENERAL',
              decidedOn: daysAgo(120),
            },
          },
          REGULATOR,
        ),
      );
      await expectSubject(
        await answered(
          `mutation ($input: PenaltyRestorationInput!) { restoreAdministrativePenalty(input: $input) { decisionNumber restoredOn } }`,
          {
            input: {
              decisionNumber: penaltyNumber,
              evidence: '已完成整改并缴纳罚款',
              reason: '已纠正失信行为并消除不良影响',
            },
          },
          REGULATOR,
        ),
      );
    });

    it('recordSeriousDishonestyListing', async () => {
      await expectSubject(
        await federation.query(
          `mutation ($input: SeriousDishonestyListingInput!) { recordSeriousDishonestyListing(input: $input) { id } }`,
          {
            input: {
              uscc,
              id: listingId,
              listType: 'SERIOUS_ILLEGAL_DISHONESTY',
              reason: '严重失信行为',
              basis: { number: `京市监处〔2025〕S${tag}号`, issuedBy: '北京市市场监督管理局', issuedOn: daysAgo(420) },
              listedOn: daysAgo(400),
            },
          },
          BUREAU,
        ),
      );
    });

    it("applyForCreditRestoration: addressed by the listing id, the listing's subject is recorded", async () => {
      const response = await federation.query(
        'mutation ($id: ID!, $uscc: ID!, $basisNumber: String!) { applyForCreditRestoration(listingId: $id, uscc: $uscc, basisNumber: $basisNumber, evidence: "整改完成") { id status } }',
        { id: listingId, uscc, basisNumber: `京市监处〔2025〕S${tag}号` },
        DESK,
      );
      applicationId = (ok(response).applyForCreditRestoration as { id: string }).id;
      await expectSubject(response);
    });

    it('pendingRestorationApplications: a query with no argument records the subjects of the applications it lists', async () => {
      const response = await federation.query(
        '{ pendingRestorationApplications { id pendingDays } }',
        undefined,
        BUREAU,
      );
      const listed = (ok(response).pendingRestorationApplications as { id: string }[]).map(({ id }) => id);
      assert.ok(listed.includes(applicationId));
      await expectSubject(response);
    });

    it('decideCreditRestoration: addressed by the application id, the subject is recorded', async () => {
      const response = await federation.query(
        'mutation ($id: ID!) { decideCreditRestoration(applicationId: $id, approve: true, reason: "已纠正失信行为") { id status } }',
        { id: applicationId },
        BUREAU,
      );
      assert.equal((ok(response).decideCreditRestoration as { status: string }).status, 'APPROVED');
      await expectSubject(response);
    });

    it('removeSeriousDishonestyListing: addressed by the listing id, the subject is recorded', async () => {
      const other = `SDL-SUBJECTS-R-${tag}`;
      ok(
        await federation.query(
          `mutation ($input: SeriousDishonestyListingInput!) { recordSeriousDishonestyListing(input: $input) { id } }`,
          {
            input: {
              uscc,
              id: other,
              listType: 'SERIOUS_ILLEGAL_DISHONESTY',
              reason: '严重失信行为',
              basis: { number: `京市监处〔2026〕R${tag}号`, issuedBy: '北京市市场监督管理局', issuedOn: daysAgo(40) },
              listedOn: daysAgo(30),
            },
          },
          BUREAU,
        ),
      );
      await expectSubject(
        await answered(
          `mutation ($input: ListingRemovalInput!) { removeSeriousDishonestyListing(input: $input) { id removedOn } }`,
          {
            input: { id: other, removedOn: today, reason: 'BASIS_REVOKED' },
          },
          BUREAU,
        ),
      );
    });

    it('subject and subjects queries: the subjects named and the subjects answered', async () => {
      await expectSubject(
        await federation.query('query ($code: ID!) { subject(uscc: $code) { name } }', { code: uscc }, CENTRAL_BANK),
      );
      const listed = await federation.query('{ subjects(first: 2) { name } }', undefined, CENTRAL_BANK);
      const record = await recordOf(listed);
      assert.equal(record.subjects.length, 2);
      await expectSubject(listed, record.subjects[0]);
    });
  });

  describe('subjects written into the operation as literals (executed as one shape, the codes as variables)', () => {
    it('answers a literal operation as the same operation with variables, for several subjects, and records each subject', async () => {
      for (const index of [1, 2, 5]) {
        const code = seedSubject(index).uscc;
        const literal = await answered(
          `{ subject(uscc: "${code}") { uscc name administrativePenalties { decisionNumber } } }`,
          {},
          CENTRAL_BANK,
        );
        const variables = await answered(
          `query($code: ID!) { subject(uscc: $code) { uscc name administrativePenalties { decisionNumber } } }`,
          { code },
          CENTRAL_BANK,
        );
        assert.deepEqual(literal.body.data, variables.body.data);
        await expectSubject(literal, code);
      }
    });

    it('records a code named only in the text, for which no subject exists', async () => {
      const unknown = seedSubject(9_999).uscc; // a valid code; the federation holds 8 subjects
      const response = await answered(`{ subject(uscc: "${unknown}") { name } }`, {}, CENTRAL_BANK);
      assert.deepEqual(response.body.data, { subject: null });
      const record = await recordOf(response);
      assert.deepEqual(record.subjects, [unknown]);
    });
  });

  describe('requests refused or failed after authentication leave a record', () => {
    const expectRefusal = async (
      response: GraphQLResponse,
      consumer: string,
      code: string,
      outcome: string,
    ): Promise<AccessRecordDocument> => {
      assert.equal(response.body.errors?.[0]?.extensions?.code, code, JSON.stringify(response.body));
      const record = requestIdOf(response) ? await recordOf(response) : await latestOf(consumer);
      assert.equal(record.consumer, consumer);
      assert.equal(record.outcome, outcome);
      assert.deepEqual(record.errorCodes, [code]);
      return record;
    };

    it('a validation error (an unknown field) is recorded as FAILED with its code and the subject named', async () => {
      const response = await federation.query(
        `{ subject(uscc: "${uscc}") { name noSuchField } }`,
        undefined,
        CENTRAL_BANK,
      );
      const record = await expectRefusal(response, 'central-bank', 'GRAPHQL_VALIDATION_FAILED', 'FAILED');
      assert.deepEqual(record.subjects, [uscc]);
      assert.match(record.operationHash, /^[0-9a-f]{64}$/);
    });

    it('a syntax error is recorded', async () => {
      await expectRefusal(
        await federation.query('{ subject(uscc: ', undefined, CENTRAL_BANK),
        'central-bank',
        'GRAPHQL_PARSE_FAILED',
        'FAILED',
      );
    });

    it('an operation over a limit is recorded as REJECTED', async () => {
      const aliases = Array.from({ length: 31 }, (_, index) => `a${index}: name`).join(' ');
      await expectRefusal(
        await federation.query(`{ subject(uscc: "${uscc}") { ${aliases} } }`, undefined, CENTRAL_BANK),
        'central-bank',
        'TOO_MANY_ALIASES',
        'REJECTED',
      );
    });

    it('a purpose the consumer may not use is recorded as REJECTED', async () => {
      const response = await federation.query(`{ subject(uscc: "${uscc}") { name } }`, undefined, {
        consumer: 'central-bank',
        purpose: 'ENFORCEMENT',
      });
      assert.equal(response.status, 403);
      const record = await expectRefusal(response, 'central-bank', 'PURPOSE_NOT_ALLOWED', 'REJECTED');
      assert.equal(record.purpose, 'ENFORCEMENT');
    });

    it('a request over the rate limit is recorded as REJECTED', async () => {
      let refused: GraphQLResponse | undefined;
      for (let count = 0; count <= REQUESTS_PER_MINUTE && !refused; count++) {
        const response = await federation.query('{ catalog { code } }', undefined, RATE_LIMITED);
        if (response.status === 429) refused = response;
      }
      assert.ok(refused, 'refused once over the rate');
      await expectRefusal(refused, RATE_LIMITED.consumer, 'RATE_LIMITED', 'REJECTED');
    });

    it('a mutation refused by its department (NOT_RECORD_OWNER) is recorded with its code', async () => {
      const response = await federation.query(
        `mutation ($input: DebtorEntryRemovalInput!) { removeDishonestDebtorEntry(input: $input) { caseNumber } }`,
        {
          input: { caseNumber: `(2026)京0105执S${tag}号-unknown`, removedOn: today, reason: 'OBLIGATION_PERFORMED' },
        },
        COURT,
      );
      await expectRefusal(response, 'people-court', 'RECORD_NOT_FOUND', 'FAILED');
    });

    it('a variable nested 40,000 levels deep: HTTP 400 with a code, and recorded', async () => {
      const key = federation.apiKeys.get('central-bank') ?? '';
      const deep = `${'['.repeat(40_000)}"x"${']'.repeat(40_000)}`;
      const response = await fetch(federation.gateway.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': key, 'x-credence-purpose': 'CREDIT_ASSESSMENT' },
        body: `{"query":"query Deep($code: ID!) { subject(uscc: $code) { name } }","variables":{"code":${deep}}}`,
      });
      const body = (await response.json()) as GraphQLResponse['body'];
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.equal(body.errors?.[0]?.extensions?.code, 'VARIABLES_TOO_DEEP');
      const record = await latestOf('central-bank');
      assert.equal(record.operationName, 'Deep');
      assert.deepEqual(record.errorCodes, ['VARIABLES_TOO_DEEP']);
      assert.equal(record.outcome, 'REJECTED');
    });

    // Last: it stops a department for good.
    it('a department down: recorded as PARTIAL with DEPARTMENT_UNAVAILABLE and the subject', async () => {
      await federation.subgraphs.get('tax')?.close();
      const response = await federation.query(
        `{ subject(uscc: "${uscc}") { name taxViolations { caseNumber } } }`,
        undefined,
        INSPECTOR,
      );
      assert.equal(response.status, 200);
      const record = await expectRefusal(response, 'test-inspector', 'DEPARTMENT_UNAVAILABLE', 'PARTIAL');
      assert.deepEqual(record.subjects, [uscc]);
    });
  });
});
