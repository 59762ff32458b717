/**
 * Writes by departments (issue 4, item 2): courts list judgment debtors, the tax authority records
 * major tax-violation cases, market regulation lists subjects with abnormal operations, and each
 * removes its entries on the grounds the law gives. Every write goes through the gateway as the
 * department's own consumer, and what it wrote is checked as other consumers see it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { completeUscc } from '../lib/uscc.ts';
import { seedSubject } from '../subgraphs/runtime/seed-subjects.ts';
import {
  INSPECTOR,
  startFederation,
  type Caller,
  type Federation,
  type GraphQLResponse,
} from './support/federation.ts';

const COURT: Caller = { consumer: 'people-court', purpose: 'RECORD_KEEPING' };
const TAX: Caller = { consumer: 'tax-inspection', purpose: 'RECORD_KEEPING' };
const BUREAU: Caller = { consumer: 'market-regulation-bureau', purpose: 'RECORD_KEEPING' };
const PORTAL: Caller = { consumer: 'public-portal', purpose: 'PUBLIC_DISCLOSURE' };
const ENFORCEMENT: Caller = { consumer: 'court-enforcement', purpose: 'ENFORCEMENT' };

const uscc = seedSubject(4).uscc;
const today = new Date().toISOString().slice(0, 10);
const daysAgo = (days: number): string => new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10);

const RECORD_DEBTOR = `mutation ($input: DishonestDebtorEntryInput!) {
  recordDishonestDebtorEntry(input: $input) { caseNumber court performanceStatus listedOn removedOn basis { number issuedBy issuedOn } responsiblePerson { name } }
}`;
const REMOVE_DEBTOR = `mutation ($input: DebtorEntryRemovalInput!) {
  removeDishonestDebtorEntry(input: $input) { caseNumber removedOn removalReason }
}`;
const RECORD_TAX = `mutation ($input: TaxViolationCaseInput!) {
  recordTaxViolationCase(input: $input) { caseNumber violationType amountInvolved penaltyAmount decidedOn decision { number } }
}`;
const RECORD_ABNORMAL = `mutation ($input: AbnormalOperationEntryInput!) {
  recordAbnormalOperationEntry(input: $input) { id reason listedOn listedBy removedOn }
}`;
const REMOVE_ABNORMAL = `mutation ($input: AbnormalOperationRemovalInput!) {
  removeAbnormalOperationEntry(input: $input) { id removedOn removalReason }
}`;
const REMOVE_LISTING = `mutation ($input: ListingRemovalInput!) {
  removeSeriousDishonestyListing(input: $input) { id removedOn removalReason }
}`;

const caseNumber = `(2026)京0105执${process.pid}号`;

function debtorEntry(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    uscc,
    caseNumber,
    court: '北京市朝阳区人民法院',
    basis: { number: '(2025)京0105民初8812号', issuedBy: '北京市朝阳区人民法院', issuedOn: daysAgo(120) },
    obligation: '支付货款及利息',
    performanceStatus: 'NOT_PERFORMED',
    // A valid resident ID number: check character computed by GB 11643.
    responsiblePerson: { name: '王伟', idNumber: '11010519491231002X', phone: '13800138000' },
    listedOn: daysAgo(10),
    ...overrides,
  };
}

function code(response: GraphQLResponse): unknown {
  return response.body.errors?.[0]?.extensions?.code;
}

function ok(response: GraphQLResponse): Record<string, unknown> {
  assert.equal(response.body.errors, undefined, JSON.stringify(response.body.errors));
  return response.body.data as Record<string, unknown>;
}

describe('writes by departments: courts, tax and market regulation, and removals on legal grounds', () => {
  let federation: Federation;
  before(async () => {
    federation = await startFederation({ subjects: 10 });
  });
  after(() => federation.close());

  async function subjectAs<T>(caller: Caller, selection: string): Promise<T> {
    const data = ok(await federation.query(`{ subject(uscc: "${uscc}") { ${selection} } }`, undefined, caller));
    return data.subject as T;
  }

  describe('courts: the list of dishonest judgment debtors', () => {
    it('a court lists a debtor on its basis document; the portal shows the entry with the name only', async () => {
      const data = ok(await federation.query(RECORD_DEBTOR, { input: debtorEntry() }, COURT));
      assert.deepEqual(data.recordDishonestDebtorEntry, {
        caseNumber,
        court: '北京市朝阳区人民法院',
        performanceStatus: 'NOT_PERFORMED',
        listedOn: daysAgo(10),
        removedOn: null,
        basis: { number: '(2025)京0105民初8812号', issuedBy: '北京市朝阳区人民法院', issuedOn: daysAgo(120) },
        responsiblePerson: { name: '王伟' },
      });
      const portal = await subjectAs<{
        dishonestDebtorEntries: { caseNumber: string; responsiblePerson: { name: string; idNumber: string } }[];
      }>(PORTAL, 'dishonestDebtorEntries { caseNumber responsiblePerson { name idNumber } }');
      const listed = portal.dishonestDebtorEntries.find((entry) => entry.caseNumber === caseNumber);
      assert.ok(listed, 'the new entry is on the portal at once');
      assert.equal(listed.responsiblePerson.name, '王伟');
      assert.equal(listed.responsiblePerson.idNumber, '1101**********002X', 'the portal sees the ID number masked');
    });

    it('the court does not get the personal data it submitted echoed back (its policy denies it: for it the fields do not exist)', async () => {
      const response = await federation.query(
        `mutation ($input: DishonestDebtorEntryInput!) {
        recordDishonestDebtorEntry(input: $input) { caseNumber responsiblePerson { idNumber phone } } }`,
        { input: debtorEntry() },
        COURT,
      );
      assert.equal(code(response), 'GRAPHQL_VALIDATION_FAILED');
    });

    it('refuses an ID number whose check character is wrong, without repeating the number', async () => {
      const response = await federation.query(
        RECORD_DEBTOR,
        {
          input: debtorEntry({
            caseNumber: `${caseNumber}-2`,
            responsiblePerson: { name: '王伟', idNumber: '110105194912310021', phone: '13800138000' },
          }),
        },
        COURT,
      );
      assert.equal(code(response), 'BAD_USER_INPUT');
      assert.equal(response.body.errors?.[0]?.extensions?.field, 'responsiblePerson.idNumber');
      assert.doesNotMatch(JSON.stringify(response.body), /110105194912310021/);
    });

    it('refuses to list a debtor who has performed the obligation', async () => {
      const response = await federation.query(
        RECORD_DEBTOR,
        { input: debtorEntry({ caseNumber: `${caseNumber}-3`, performanceStatus: 'PERFORMED' }) },
        COURT,
      );
      assert.equal(code(response), 'BAD_USER_INPUT');
      assert.equal(response.body.errors?.[0]?.extensions?.field, 'performanceStatus');
    });

    it('removes the entry when the obligation is performed: off the portal, still in the history enforcement may see', async () => {
      const removal = { caseNumber, removedOn: today, reason: 'OBLIGATION_PERFORMED' };
      const data = ok(await federation.query(REMOVE_DEBTOR, { input: removal }, COURT));
      assert.deepEqual(data.removeDishonestDebtorEntry, {
        caseNumber,
        removedOn: today,
        removalReason: 'OBLIGATION_PERFORMED',
      });

      const portal = await subjectAs<{ dishonestDebtorEntries: { caseNumber: string }[] }>(
        PORTAL,
        'dishonestDebtorEntries { caseNumber }',
      );
      assert.ok(
        !portal.dishonestDebtorEntries.some((entry) => entry.caseNumber === caseNumber),
        'a removed entry leaves public display',
      );
      const enforcement = await subjectAs<{
        dishonestDebtorEntries: { caseNumber: string; removedOn: string; removalReason: string }[];
      }>(ENFORCEMENT, 'dishonestDebtorEntries { caseNumber removedOn removalReason }');
      assert.deepEqual(
        enforcement.dishonestDebtorEntries.find((entry) => entry.caseNumber === caseNumber),
        { caseNumber, removedOn: today, removalReason: 'OBLIGATION_PERFORMED' },
      );

      // The same removal again is harmless; another one is refused.
      ok(await federation.query(REMOVE_DEBTOR, { input: removal }, COURT));
      assert.equal(
        code(await federation.query(REMOVE_DEBTOR, { input: { ...removal, reason: 'LISTED_IN_ERROR' } }, COURT)),
        'ALREADY_REMOVED',
      );
    });

    it('a removal cannot precede the listing, nor be dated in the future; an unknown case is RECORD_NOT_FOUND', async () => {
      const listed = `${caseNumber}-4`;
      ok(await federation.query(RECORD_DEBTOR, { input: debtorEntry({ caseNumber: listed }) }, COURT));
      const early = await federation.query(
        REMOVE_DEBTOR,
        { input: { caseNumber: listed, removedOn: daysAgo(30), reason: 'OBLIGATION_PERFORMED' } },
        COURT,
      );
      assert.deepEqual([code(early), early.body.errors?.[0]?.extensions?.field], ['BAD_USER_INPUT', 'removedOn']);
      const future = await federation.query(
        REMOVE_DEBTOR,
        { input: { caseNumber: listed, removedOn: '2999-01-01', reason: 'OBLIGATION_PERFORMED' } },
        COURT,
      );
      assert.deepEqual([code(future), future.body.errors?.[0]?.extensions?.field], ['BAD_USER_INPUT', 'removedOn']);
      const unknown = await federation.query(
        REMOVE_DEBTOR,
        { input: { caseNumber: 'no-such-case', removedOn: today, reason: 'OBLIGATION_PERFORMED' } },
        COURT,
      );
      assert.equal(code(unknown), 'RECORD_NOT_FOUND');
    });

    it('seeded entries belong to the demo court: it may remove them', async () => {
      const subjects = ok(
        await federation.query(
          '{ subjects(first: 10) { uscc dishonestDebtorEntries { caseNumber removedOn } } }',
          undefined,
          INSPECTOR,
        ),
      );
      const current = (
        subjects.subjects as {
          uscc: string;
          dishonestDebtorEntries: { caseNumber: string; removedOn: string | null }[];
        }[]
      )
        .filter((subject) => subject.uscc !== uscc)
        .flatMap((subject) => subject.dishonestDebtorEntries)
        .find((entry) => entry.removedOn === null);
      assert.ok(current, 'the seed has a current entry');
      const data = ok(
        await federation.query(
          REMOVE_DEBTOR,
          { input: { caseNumber: current.caseNumber, removedOn: today, reason: 'SETTLEMENT_PERFORMED' } },
          COURT,
        ),
      );
      assert.deepEqual(data.removeDishonestDebtorEntry, {
        caseNumber: current.caseNumber,
        removedOn: today,
        removalReason: 'SETTLEMENT_PERFORMED',
      });
    });
  });

  describe('tax: major tax-violation cases', () => {
    const taxCase = {
      uscc,
      caseNumber: `京税稽罚〔2026〕${process.pid}号`,
      violationType: 'FALSE_INVOICING',
      amountInvolved: 3_200_000,
      penaltyAmount: 1_600_000,
      decision: {
        number: `京税稽罚〔2026〕${process.pid}号`,
        issuedBy: '国家税务总局北京市税务局第一稽查局',
        issuedOn: daysAgo(5),
      },
      decidedOn: daysAgo(5),
    };

    it('the tax authority records a case on its decision document; the portal shows it inside its window', async () => {
      const data = ok(await federation.query(RECORD_TAX, { input: taxCase }, TAX));
      assert.deepEqual(data.recordTaxViolationCase, {
        caseNumber: taxCase.caseNumber,
        violationType: 'FALSE_INVOICING',
        amountInvolved: 3_200_000,
        penaltyAmount: 1_600_000,
        decidedOn: daysAgo(5),
        decision: { number: taxCase.caseNumber },
      });
      const portal = await subjectAs<{ taxViolations: { caseNumber: string }[] }>(
        PORTAL,
        'taxViolations { caseNumber }',
      );
      assert.ok(portal.taxViolations.some((violation) => violation.caseNumber === taxCase.caseNumber));
      // Idempotent on the case number.
      ok(await federation.query(RECORD_TAX, { input: taxCase }, TAX));
      assert.equal(
        code(await federation.query(RECORD_TAX, { input: { ...taxCase, penaltyAmount: 1 } }, TAX)),
        'DUPLICATE_DECISION_NUMBER',
      );
    });

    it('refuses a case without its decision document (BASIS_DOCUMENT_REQUIRED) and negative amounts', async () => {
      const missing = await federation.query(
        RECORD_TAX,
        { input: { ...taxCase, caseNumber: 'T-2', decision: { number: 'X', issuedOn: daysAgo(5) } } },
        TAX,
      );
      assert.deepEqual(
        [code(missing), missing.body.errors?.[0]?.extensions?.missing],
        ['BASIS_DOCUMENT_REQUIRED', ['issuedBy']],
      );
      const negative = await federation.query(
        RECORD_TAX,
        { input: { ...taxCase, caseNumber: 'T-3', amountInvolved: -1 } },
        TAX,
      );
      assert.deepEqual(
        [code(negative), negative.body.errors?.[0]?.extensions?.field],
        ['BAD_USER_INPUT', 'amountInvolved'],
      );
    });

    it('only the tax authority may record cases: another department is refused by policy', async () => {
      assert.equal(
        code(await federation.query(RECORD_TAX, { input: { ...taxCase, caseNumber: 'T-4' } }, COURT)),
        'GRAPHQL_VALIDATION_FAILED',
      );
    });
  });

  describe('market regulation: the abnormal-operations list', () => {
    const entry = {
      uscc,
      id: `AO-TEST-${process.pid}`,
      reason: 'UNREACHABLE_AT_ADDRESS',
      listedOn: daysAgo(20),
      listedBy: '北京市朝阳区市场监督管理局',
    };

    it('lists a registered subject; the portal shows the entry', async () => {
      const data = ok(await federation.query(RECORD_ABNORMAL, { input: entry }, BUREAU));
      assert.deepEqual(data.recordAbnormalOperationEntry, {
        id: entry.id,
        reason: 'UNREACHABLE_AT_ADDRESS',
        listedOn: daysAgo(20),
        listedBy: entry.listedBy,
        removedOn: null,
      });
      const portal = await subjectAs<{ abnormalOperations: { id: string }[] }>(PORTAL, 'abnormalOperations { id }');
      assert.ok(portal.abnormalOperations.some((listed) => listed.id === entry.id));
    });

    it('refuses a subject it has not registered (SUBJECT_NOT_FOUND), even with a valid code', async () => {
      const unregistered = completeUscc('91110000MA000000');
      const response = await federation.query(
        RECORD_ABNORMAL,
        { input: { ...entry, id: 'AO-X', uscc: unregistered } },
        BUREAU,
      );
      assert.equal(code(response), 'SUBJECT_NOT_FOUND');
    });

    it('removes an entry only on the ground it was listed for (REMOVAL_NOT_ALLOWED otherwise), then it leaves the portal', async () => {
      const wrong = await federation.query(
        REMOVE_ABNORMAL,
        { input: { id: entry.id, removedOn: today, reason: 'ANNUAL_REPORT_FILED' } },
        BUREAU,
      );
      assert.equal(code(wrong), 'REMOVAL_NOT_ALLOWED');
      assert.deepEqual(wrong.body.errors?.[0]?.extensions?.allowedReasons, ['REACHABLE_AT_ADDRESS', 'LISTED_IN_ERROR']);
      const data = ok(
        await federation.query(
          REMOVE_ABNORMAL,
          { input: { id: entry.id, removedOn: today, reason: 'REACHABLE_AT_ADDRESS' } },
          BUREAU,
        ),
      );
      assert.deepEqual(data.removeAbnormalOperationEntry, {
        id: entry.id,
        removedOn: today,
        removalReason: 'REACHABLE_AT_ADDRESS',
      });
      const portal = await subjectAs<{ abnormalOperations: { id: string }[] }>(PORTAL, 'abnormalOperations { id }');
      assert.ok(!portal.abnormalOperations.some((listed) => listed.id === entry.id));
      const history = await subjectAs<{ abnormalOperations: { id: string; removalReason: string }[] }>(
        ENFORCEMENT,
        'abnormalOperations { id removalReason }',
      );
      assert.deepEqual(
        history.abnormalOperations.find((listed) => listed.id === entry.id),
        { id: entry.id, removalReason: 'REACHABLE_AT_ADDRESS' },
      );
    });
  });

  describe('credit office: a listing removed when its basis is revoked', () => {
    it('the listing department removes its listing; its measures are lifted at once', async () => {
      const id = `SDL-REMOVE-${process.pid}`;
      ok(
        await federation.query(
          `mutation ($input: SeriousDishonestyListingInput!) { recordSeriousDishonestyListing(input: $input) { id } }`,
          {
            input: {
              uscc,
              id,
              listType: 'SERIOUS_ILLEGAL_DISHONESTY',
              reason: '提交虚假材料骗取登记且情节严重',
              basis: { number: '京市监处〔2026〕90号', issuedBy: '北京市市场监督管理局', issuedOn: daysAgo(40) },
              listedOn: daysAgo(30),
            },
          },
          BUREAU,
        ),
      );
      const measuresOf = async (): Promise<string[]> =>
        (
          await subjectAs<{ applicableMeasures: { listing: { id: string } }[] }>(
            INSPECTOR,
            'applicableMeasures { listing { id } }',
          )
        ).applicableMeasures.map((measure) => measure.listing.id);
      assert.ok((await measuresOf()).includes(id));
      const data = ok(
        await federation.query(REMOVE_LISTING, { input: { id, removedOn: today, reason: 'BASIS_REVOKED' } }, BUREAU),
      );
      assert.deepEqual(data.removeSeriousDishonestyListing, { id, removedOn: today, removalReason: 'BASIS_REVOKED' });
      assert.ok(!(await measuresOf()).includes(id), 'no measure from a removed listing');
    });
  });
});
