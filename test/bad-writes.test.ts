/**
 * Bad writes (issue 4, acceptance): a missing basis document, a record type the catalog does not
 * list, an invalid code, another department's record and a duplicate decision number each get
 * their own error, and every document of every department database is the same afterwards.
 *
 * This federation runs on a catalog edition that no longer includes work-safety penalties (set
 * through CREDENCE_CATALOG_PATH, as a deployment would), so that recording one is a write of a
 * kind the catalog does not list.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_CATALOG_PATH } from '../lib/policy/reference/catalog.ts';
import { seedSubject } from '../subgraphs/runtime/seed-subjects.ts';
import {
  INSPECTOR,
  startFederation,
  type Caller,
  type Federation,
  type GraphQLResponse,
} from './support/federation.ts';
import { storeSnapshot } from './support/store-snapshot.ts';

const ECOLOGY: Caller = { consumer: 'ecology-bureau', purpose: 'RECORD_KEEPING' };
const DRUGS: Caller = { consumer: 'drug-administration', purpose: 'RECORD_KEEPING' };
const COURT: Caller = { consumer: 'people-court', purpose: 'RECORD_KEEPING' };
const BUREAU: Caller = { consumer: 'market-regulation-bureau', purpose: 'RECORD_KEEPING' };

const uscc = seedSubject(2).uscc;
const daysAgo = (days: number): string => new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10);

const PENALTY =
  'mutation ($input: AdministrativePenaltyInput!) { recordAdministrativePenalty(input: $input) { decisionNumber } }';
const DEBTOR =
  'mutation ($input: DishonestDebtorEntryInput!) { recordDishonestDebtorEntry(input: $input) { caseNumber } }';
const LISTING =
  'mutation ($input: SeriousDishonestyListingInput!) { recordSeriousDishonestyListing(input: $input) { id } }';
const REMOVE_LISTING =
  'mutation ($input: ListingRemovalInput!) { removeSeriousDishonestyListing(input: $input) { id } }';

const decisionNumber = `京环罚〔2026〕${process.pid}号`;

function penalty(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    uscc,
    decisionNumber,
    authority: '北京市生态环境局',
    legalBasis: '《中华人民共和国大气污染防治法》第九十九条',
    violation: '超标排放大气污染物',
    category: 'POLLUTION',
    penaltyType: 'FINE',
    fineAmount: 200000,
    severity: 'GENERAL',
    decidedOn: daysAgo(3),
    ...overrides,
  };
}

function debtorEntry(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    uscc,
    caseNumber: `(2026)京0105执${process.pid}号`,
    court: '北京市朝阳区人民法院',
    basis: { number: '(2025)京0105民初8812号', issuedBy: '北京市朝阳区人民法院', issuedOn: daysAgo(120) },
    obligation: '支付货款及利息',
    performanceStatus: 'NOT_PERFORMED',
    responsiblePerson: { name: '王伟', idNumber: '11010519491231002X', phone: '13800138000' },
    listedOn: daysAgo(10),
    ...overrides,
  };
}

/** The shipped catalog, as an edition that no longer includes work-safety penalties. */
function catalogWithoutWorkSafety(dir: string): string {
  const shipped = readFileSync(DEFAULT_CATALOG_PATH, 'utf8');
  const edition = shipped.replace('FOOD_SAFETY, WORK_SAFETY, ILLEGAL_FUNDRAISING', 'FOOD_SAFETY, ILLEGAL_FUNDRAISING');
  assert.notEqual(edition, shipped);
  const path = join(dir, 'catalog.yaml');
  writeFileSync(path, edition);
  return path;
}

describe('bad writes get their own error, and the data is unchanged afterwards', () => {
  let federation: Federation;
  const dir = mkdtempSync(join(tmpdir(), 'credence-catalog-'));
  before(async () => {
    process.env.CREDENCE_CATALOG_PATH = catalogWithoutWorkSafety(dir);
    federation = await startFederation({ subjects: 10 });
    // The decision another department will try to overwrite, and a number to reuse. That it
    // shows in the snapshot proves the snapshot sees writes.
    const empty = await storeSnapshot(federation.mongo.uri);
    const recorded = await federation.query(PENALTY, { input: penalty() }, ECOLOGY);
    assert.equal(recorded.body.errors, undefined, JSON.stringify(recorded.body.errors));
    const written = await storeSnapshot(federation.mongo.uri);
    assert.ok(Object.keys(written).length >= 10, 'the snapshot covers every department collection');
    assert.notDeepEqual(written, empty, 'a good write changes the snapshot');
  });
  after(async () => {
    await federation.close();
    delete process.env.CREDENCE_CATALOG_PATH;
    rmSync(dir, { recursive: true, force: true });
  });

  /** Sends a write that must be refused with `code`; asserts no data came back and no document changed anywhere. */
  async function refusedWithoutChange(
    query: string,
    input: Record<string, unknown>,
    caller: Caller,
    code: string,
  ): Promise<GraphQLResponse> {
    const before = await storeSnapshot(federation.mongo.uri);
    const response = await federation.query(query, { input }, caller);
    assert.equal(response.body.errors?.[0]?.extensions?.code, code, JSON.stringify(response.body.errors));
    assert.equal(response.body.data ?? null, null, 'a refused write returns no data');
    assert.deepEqual(await storeSnapshot(federation.mongo.uri), before, 'no document was written, changed or removed');
    return response;
  }

  it('a listing or debtor entry without its basis document: BASIS_DOCUMENT_REQUIRED naming what is missing (R4)', async () => {
    const listing = await refusedWithoutChange(
      LISTING,
      {
        uscc,
        id: `SDL-BAD-${process.pid}`,
        listType: 'SERIOUS_ILLEGAL_DISHONESTY',
        reason: '提交虚假材料',
        listedOn: daysAgo(1),
      },
      BUREAU,
      'BASIS_DOCUMENT_REQUIRED',
    );
    assert.deepEqual(listing.body.errors?.[0]?.extensions?.missing, ['number', 'issuedBy', 'issuedOn']);
    const entry = await refusedWithoutChange(
      DEBTOR,
      debtorEntry({ basis: { number: '(2025)京0105民初8812号', issuedOn: daysAgo(120) } }),
      COURT,
      'BASIS_DOCUMENT_REQUIRED',
    );
    assert.deepEqual(entry.body.errors?.[0]?.extensions?.missing, ['issuedBy']);
  });

  it('a kind of record the catalog in force does not include: NOT_IN_CATALOG (R1)', async () => {
    const response = await refusedWithoutChange(
      PENALTY,
      penalty({ decisionNumber: `${decisionNumber}-ws`, category: 'WORK_SAFETY' }),
      ECOLOGY,
      'NOT_IN_CATALOG',
    );
    const { recordType, catalogItem, category } = response.body.errors?.[0]?.extensions ?? {};
    assert.deepEqual(
      { recordType, catalogItem, category },
      { recordType: 'AdministrativePenalty', catalogItem: 'PEN-ADMINISTRATIVE-PENALTY', category: 'WORK_SAFETY' },
    );
  });

  it('an invalid code: BAD_USER_INPUT naming the position that fails', async () => {
    const wrongCheck = `${uscc.slice(0, 17)}${uscc.endsWith('0') ? '1' : '0'}`;
    const response = await refusedWithoutChange(
      PENALTY,
      penalty({ uscc: wrongCheck, decisionNumber: `${decisionNumber}-2` }),
      ECOLOGY,
      'BAD_USER_INPUT',
    );
    assert.deepEqual(
      [response.body.errors?.[0]?.extensions?.field, response.body.errors?.[0]?.extensions?.position],
      ['input.uscc', 18],
    );
    const short = await refusedWithoutChange(DEBTOR, debtorEntry({ uscc: '9111' }), COURT, 'BAD_USER_INPUT');
    assert.equal(short.body.errors?.[0]?.extensions?.position, 0);
  });

  it("a write outside the department's competence (OUTSIDE_COMPETENCE); another department's record answered as unknown (RECORD_NOT_FOUND)", async () => {
    await refusedWithoutChange(PENALTY, penalty({ authority: '北京市药品监督管理局' }), DRUGS, 'OUTSIDE_COMPETENCE');
    // Seeded listings were made by departments other than the demo market-regulation bureau.
    const seeded = await federation.query(
      '{ subjects(first: 10) { seriousDishonestyListings { id removedOn } } }',
      undefined,
      INSPECTOR,
    );
    const listing = (
      seeded.body.data?.subjects as { seriousDishonestyListings: { id: string; removedOn: string | null }[] }[]
    )
      .flatMap((subject) => subject.seriousDishonestyListings)
      .find((candidate) => candidate.removedOn === null);
    assert.ok(listing, 'the seed has a current listing');
    await refusedWithoutChange(
      REMOVE_LISTING,
      { id: listing.id, removedOn: daysAgo(0), reason: 'LISTED_IN_ERROR' },
      BUREAU,
      'RECORD_NOT_FOUND',
    );
  });

  it('a duplicate decision number with other content: DUPLICATE_DECISION_NUMBER', async () => {
    const response = await refusedWithoutChange(
      PENALTY,
      penalty({ fineAmount: 1 }),
      ECOLOGY,
      'DUPLICATE_DECISION_NUMBER',
    );
    assert.equal(response.body.errors?.[0]?.extensions?.number, decisionNumber);
  });

  it('the same write again is not an error and changes nothing (idempotent)', async () => {
    const before = await storeSnapshot(federation.mongo.uri);
    const again = await federation.query(PENALTY, { input: penalty() }, ECOLOGY);
    assert.equal(again.body.errors, undefined);
    assert.deepEqual(again.body.data, { recordAdministrativePenalty: { decisionNumber } });
    assert.deepEqual(await storeSnapshot(federation.mongo.uri), before);
  });
});
