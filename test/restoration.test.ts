/**
 * Credit restoration end to end (R5, R6): a subject listed and visible on the public portal;
 * an application refused for a category never restored; an eligible one approved by the
 * department that made the listing; the listing gone from the portal and from
 * `applicableMeasures` at once (the very next requests), and still in the history a court may see. Penalties
 * are restored by the regulator that decided them, within the same rules.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { restorationSettings } from '../subgraphs/runtime/config.ts';
import { seedSubject } from '../subgraphs/runtime/seed-subjects.ts';
import { INSPECTOR, startFederation, type Caller, type Federation } from './support/federation.ts';

const BUREAU: Caller = { consumer: 'market-regulation-bureau', purpose: 'RECORD_KEEPING' };
const DESK: Caller = { consumer: 'restoration-desk', purpose: 'CREDIT_RESTORATION' };
const PORTAL: Caller = { consumer: 'public-portal', purpose: 'PUBLIC_DISCLOSURE' };
const PROCUREMENT: Caller = { consumer: 'procurement-centre', purpose: 'BIDDER_ELIGIBILITY' };
const COURT: Caller = { consumer: 'court-enforcement', purpose: 'ENFORCEMENT' };
const REGULATOR: Caller = { consumer: 'ecology-bureau', purpose: 'RECORD_KEEPING' };

const uscc = seedSubject(7).uscc;
const daysAgo = (days: number): string => new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10);

const LIST =
  'mutation ($input: SeriousDishonestyListingInput!) { recordSeriousDishonestyListing(input: $input) { id } }';
const APPLY =
  'mutation ($id: ID!, $uscc: ID!, $basisNumber: String!) { applyForCreditRestoration(listingId: $id, uscc: $uscc, basisNumber: $basisNumber, evidence: "整改完成，已消除不良影响") { id status pendingDays } }';
/** What an application for a listing this test made carries. */
const applicationFor = (id: string): Record<string, string> => ({ id, uscc, basisNumber: `京市监处〔2025〕${id}号` });
const DECIDE =
  'mutation ($id: ID!, $approve: Boolean!) { decideCreditRestoration(applicationId: $id, approve: $approve, reason: "已纠正失信行为并消除不良影响") { id status decidedOn } }';

function listingInput(id: string, listType: string): Record<string, unknown> {
  return {
    uscc,
    id,
    listType,
    reason: '严重失信行为',
    basis: { number: `京市监处〔2025〕${id}号`, issuedBy: '北京市市场监督管理局', issuedOn: daysAgo(420) },
    listedOn: daysAgo(400),
  };
}

describe('credit restoration end to end (R5, R6)', () => {
  let federation: Federation;
  const eligible = `RESTORE-${process.pid}`;
  const fraud = `FRAUD-${process.pid}`;

  before(async () => {
    federation = await startFederation({ subjects: 10 });
    for (const [id, type] of [
      [eligible, 'SERIOUS_ILLEGAL_DISHONESTY'],
      [fraud, 'ONLINE_FRAUD'],
    ] as const) {
      const { body } = await federation.query(LIST, { input: listingInput(id, type) }, BUREAU);
      assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    }
  });
  after(() => federation.close());

  async function portalListings(): Promise<string[]> {
    const { body } = await federation.query(
      `{ subject(uscc: "${uscc}") { seriousDishonestyListings { id } } }`,
      undefined,
      PORTAL,
    );
    return (
      (body.data?.subject as { seriousDishonestyListings: { id: string }[] | null }).seriousDishonestyListings ?? []
    ).map(({ id }) => id);
  }

  async function measureListings(): Promise<string[]> {
    const { body } = await federation.query(
      `{ subject(uscc: "${uscc}") { applicableMeasures { listing { id } } } }`,
      undefined,
      PROCUREMENT,
    );
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    return (body.data?.subject as { applicableMeasures: { listing: { id: string } }[] }).applicableMeasures.map(
      ({ listing }) => listing.id,
    );
  }

  it('shows the listing on the public portal and its measures to procurement', async () => {
    assert.ok((await portalListings()).includes(eligible));
    assert.ok((await measureListings()).includes(eligible));
  });

  it('refuses restoration of an online-fraud listing with the reason (R6)', async () => {
    const { body } = await federation.query(APPLY, applicationFor(fraud), DESK);
    assert.equal(body.errors?.[0]?.extensions?.code, 'NOT_RESTORABLE');
    assert.match(body.errors?.[0]?.message ?? '', /not restored/);
    assert.ok((await portalListings()).includes(fraud), 'still published');
  });

  // The bureau names an application; the listing behind it is another department's. The refusal
  // must not tell the bureau which listing (hence which subject) the application is about.
  it("refuses a decision on another department's listing as an unknown application (NOT_FOUND) without naming the listing", async () => {
    const { body } = await federation.query(
      '{ subjects(first: 10) { uscc seriousDishonestyListings { id listType listedOn removedOn restoredOn basis { number } } } }',
      undefined,
      INSPECTOR,
    );
    const listings = (
      body.data?.subjects as {
        uscc: string;
        seriousDishonestyListings: {
          id: string;
          listType: string;
          listedOn: string;
          removedOn: string | null;
          restoredOn: string | null;
          basis: { number: string };
        }[];
      }[]
    ).flatMap((subject) => subject.seriousDishonestyListings.map((listing) => ({ ...listing, uscc: subject.uscc })));
    // A seeded listing (recorded by no department of the demo policy) that may be applied for.
    const seeded = listings.find(
      (listing) =>
        !listing.id.includes(String(process.pid)) &&
        listing.removedOn === null &&
        listing.restoredOn === null &&
        !restorationSettings().nonRestorable.has(listing.listType) &&
        listing.listedOn <= daysAgo(restorationSettings().listingMinimumDays),
    );
    assert.ok(seeded, 'the seed has an eligible listing');
    const applied = await federation.query(
      APPLY,
      { id: seeded.id, uscc: seeded.uscc, basisNumber: seeded.basis.number },
      DESK,
    );
    assert.equal(applied.body.errors, undefined, JSON.stringify(applied.body.errors));
    const application = applied.body.data?.applyForCreditRestoration as { id: string };

    const refused = await federation.query(DECIDE, { id: application.id, approve: true }, BUREAU);
    const error = refused.body.errors?.[0];
    assert.equal(error?.extensions?.code, 'NOT_FOUND');
    assert.doesNotMatch(JSON.stringify(refused.body), new RegExp(seeded.id));
    assert.match(error?.message ?? '', new RegExp(application.id));
  });

  it('approves an eligible application by the listing department: gone from display and measures at once, kept in history', async () => {
    const applied = await federation.query(APPLY, applicationFor(eligible), DESK);
    assert.equal(applied.body.errors, undefined, JSON.stringify(applied.body.errors));
    const application = applied.body.data?.applyForCreditRestoration as {
      id: string;
      status: string;
      pendingDays: number;
    };
    assert.equal(application.status, 'PENDING');

    const pending = await federation.query('{ pendingRestorationApplications { id pendingDays } }', undefined, BUREAU);
    assert.deepEqual(pending.body.data?.pendingRestorationApplications, [{ id: application.id, pendingDays: 0 }]);

    const stranger = await federation.query(DECIDE, { id: application.id, approve: true }, REGULATOR);
    assert.equal(
      stranger.body.errors?.[0]?.extensions?.code,
      'GRAPHQL_VALIDATION_FAILED',
      'another department may not decide: for it the mutation does not exist',
    );

    const decided = await federation.query(DECIDE, { id: application.id, approve: true }, BUREAU);
    assert.equal(decided.body.errors, undefined, JSON.stringify(decided.body.errors));
    assert.equal((decided.body.data?.decideCreditRestoration as { status: string }).status, 'APPROVED');

    // At once: the very next requests after the approval no longer show it.
    assert.ok(!(await portalListings()).includes(eligible), 'public display stopped');
    assert.ok(!(await measureListings()).includes(eligible), 'its measures lifted');

    const { body } = await federation.query(
      `{ subject(uscc: "${uscc}") { seriousDishonestyListings { id restoredOn } } }`,
      undefined,
      COURT,
    );
    const history = (body.data?.subject as { seriousDishonestyListings: { id: string; restoredOn: string | null }[] })
      .seriousDishonestyListings;
    assert.ok(
      history.find((entry) => entry.id === eligible)?.restoredOn,
      'kept, marked restored, for a consumer allowed history',
    );
  });
});

describe('credit restoration of administrative penalties (R5, R6)', () => {
  let federation: Federation;
  const DRUGS: Caller = { consumer: 'drug-administration', purpose: 'RECORD_KEEPING' };
  const RECORD =
    'mutation ($input: AdministrativePenaltyInput!) { recordAdministrativePenalty(input: $input) { decisionNumber } }';
  const RESTORE =
    'mutation ($input: PenaltyRestorationInput!) { restoreAdministrativePenalty(input: $input) { decisionNumber restoredOn } }';
  const general = `京环罚〔2026〕G${process.pid}号`;
  const recent = `京环罚〔2026〕S${process.pid}号`;
  const vaccine = `京药监罚〔2025〕V${process.pid}号`;

  function penalty(
    decisionNumber: string,
    category: string,
    severity: string,
    decidedDaysAgo: number,
  ): Record<string, unknown> {
    return {
      uscc,
      decisionNumber,
      authority: category === 'VACCINE_QUALITY' ? '北京市药品监督管理局' : '北京市生态环境局',
      legalBasis: '相关法律条款',
      violation: '违法行为',
      category,
      penaltyType: 'FINE',
      fineAmount: 100000,
      severity,
      decidedOn: daysAgo(decidedDaysAgo),
    };
  }
  const restoration = (decisionNumber: string) => ({
    input: { decisionNumber, evidence: '已完成整改并缴纳罚款', reason: '已纠正失信行为并消除不良影响' },
  });

  before(async () => {
    federation = await startFederation({ subjects: 10 });
    for (const [input, caller] of [
      [penalty(general, 'POLLUTION', 'GENERAL', 120), REGULATOR],
      [penalty(recent, 'POLLUTION', 'SERIOUS', 120), REGULATOR],
      [penalty(vaccine, 'VACCINE_QUALITY', 'SERIOUS', 500), DRUGS],
    ] as const) {
      const { body } = await federation.query(RECORD, { input }, caller);
      assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    }
  });
  after(() => federation.close());

  async function portalPenalties(): Promise<string[]> {
    const { body } = await federation.query(
      `{ subject(uscc: "${uscc}") { administrativePenalties { decisionNumber } } }`,
      undefined,
      PORTAL,
    );
    return (
      body.data?.subject as { administrativePenalties: { decisionNumber: string }[] }
    ).administrativePenalties.map(({ decisionNumber }) => decisionNumber);
  }

  it("refuses a vaccine-quality penalty (NOT_RESTORABLE, R6), one before its minimum publication (TOO_EARLY), and another regulator's as unknown (RECORD_NOT_FOUND)", async () => {
    const excluded = await federation.query(RESTORE, restoration(vaccine), DRUGS);
    assert.equal(excluded.body.errors?.[0]?.extensions?.code, 'NOT_RESTORABLE');
    const early = await federation.query(RESTORE, restoration(recent), REGULATOR);
    assert.deepEqual(
      [early.body.errors?.[0]?.extensions?.code, early.body.errors?.[0]?.extensions?.eligibleFrom],
      ['TOO_EARLY', new Date(Date.now() - 120 * 86_400_000 + 365 * 86_400_000).toISOString().slice(0, 10)],
    );
    const stranger = await federation.query(RESTORE, restoration(general), DRUGS);
    assert.equal(stranger.body.errors?.[0]?.extensions?.code, 'RECORD_NOT_FOUND');
    const shown = await portalPenalties();
    assert.ok(
      [general, recent, vaccine].every((number) => shown.includes(number)),
      'all three still published',
    );
  });

  it('restores an eligible penalty: off public display at once, kept with its restoration date', async () => {
    assert.ok((await portalPenalties()).includes(general));
    const restored = await federation.query(RESTORE, restoration(general), REGULATOR);
    assert.equal(restored.body.errors, undefined, JSON.stringify(restored.body.errors));
    assert.deepEqual(restored.body.data?.restoreAdministrativePenalty, {
      decisionNumber: general,
      restoredOn: new Date().toISOString().slice(0, 10),
    });
    assert.ok(!(await portalPenalties()).includes(general), 'public display stopped');
    const { body } = await federation.query(
      `{ subject(uscc: "${uscc}") { administrativePenalties { decisionNumber restoredOn } } }`,
    );
    assert.ok(
      (
        body.data?.subject as { administrativePenalties: { decisionNumber: string; restoredOn: string | null }[] }
      ).administrativePenalties.find((entry) => entry.decisionNumber === general)?.restoredOn,
      'nothing deleted: the inspector still sees it, restored',
    );
    // Deciding again changes nothing.
    const again = await federation.query(RESTORE, restoration(general), REGULATOR);
    assert.deepEqual(again.body.data, restored.body.data);
  });
});
