/**
 * Each consumer of the domain's consumer matrix, queried through the gateway, sees exactly its column.
 *
 * Each consumer also has a second purpose under which it sees every field, so that what it is
 * denied under its own purpose exists for it and gets its mode's answer.
 *
 * Two layers per consumer:
 * - the column as the hand-written access matrix states it (test/oracle/access-matrix.yaml, never
 *   the compiled policy, which is what is tested): an operation asking for every field the matrix
 *   shows the consumer gets exactly those fields, with the test inspector's values (masked as the
 *   matrix describes the mask, records cut by the matrix's record rules); asking for every field
 *   of the schema gets the mode's answer for the denied ones (filter: null and FORBIDDEN at each
 *   path; reject: refused, naming every denied field, no data);
 * - the matrix's own points, written out here independently of the rules, against real data:
 *   what each consumer must and must never see.
 *
 * Expected answers are computed from what the test inspector (every field, every record) gets
 * for the same subjects, itself checked first against the store (read with the driver) and the
 * seed generator. The subjects are serious-risk ones with records in every department,
 * plus, for each interesting case (a restored penalty, a restored listing, a penalty past its
 * disclosure window, ended entries...), a subject that has one; `before` fails if the seed data
 * lacks a case, so no check here can pass for want of data.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parse } from 'graphql';
import { collectRequestedFields } from '../lib/policy/decision/operation-fields.ts';
import type { ConsumerView } from '../lib/policy/decision/model.ts';
import { seedSubject, type SeedSubject } from '../subgraphs/runtime/seed-subjects.ts';
import {
  isShownAsDescribed,
  maskedAsDescribed,
  oracleView,
  recordStateFields,
  type OracleView,
  type RecordRuleName,
} from './oracle/oracle.ts';
import { startFederation, type Federation, type GraphQLResponse } from './support/federation.ts';
import { addPurposeSeeingEverything, publishPolicyChange } from './support/policy-change.ts';
import { assertInspectorHoldsTheTruth } from './support/store-truth.ts';
import {
  coordinates,
  everyField,
  loadApiSchema,
  projectAnswer,
  seenFields,
  subjectQuery,
  subjectsQuery,
  visibleFields,
  type ExpectedForbidden,
  type JsonObject,
} from './support/policy-operations.ts';

const SUBJECTS = 300;

interface MatrixConsumer {
  id: string;
  purpose: string;
  mode: 'filter' | 'reject';
}

const PUBLIC_PORTAL: MatrixConsumer = { id: 'public-portal', purpose: 'PUBLIC_DISCLOSURE', mode: 'filter' };
const PROCUREMENT_CENTRE: MatrixConsumer = { id: 'procurement-centre', purpose: 'BIDDER_ELIGIBILITY', mode: 'reject' };
const COURT_ENFORCEMENT: MatrixConsumer = { id: 'court-enforcement', purpose: 'ENFORCEMENT', mode: 'reject' };
const TAX_BUREAU: MatrixConsumer = { id: 'tax-bureau', purpose: 'TAX_ADMINISTRATION', mode: 'reject' };
const CENTRAL_BANK: MatrixConsumer = { id: 'central-bank', purpose: 'CREDIT_ASSESSMENT', mode: 'reject' };
const PRIVACY_OFFICE: MatrixConsumer = { id: 'privacy-office', purpose: 'AUDIT', mode: 'reject' };

/** The record lists of a subject: the Subject field, the record type, and the field naming a record. */
const RECORD_LISTS = {
  abnormalOperations: { type: 'AbnormalOperationEntry', id: 'id' },
  dishonestDebtorEntries: { type: 'DishonestDebtorEntry', id: 'caseNumber' },
  consumptionRestrictions: { type: 'ConsumptionRestrictionOrder', id: 'caseNumber' },
  taxViolations: { type: 'TaxViolationCase', id: 'caseNumber' },
  administrativePenalties: { type: 'AdministrativePenalty', id: 'decisionNumber' },
  seriousDishonestyListings: { type: 'SeriousDishonestyListing', id: 'id' },
} as const;
type RecordList = keyof typeof RECORD_LISTS;
const ALL_RECORD_LISTS = Object.keys(RECORD_LISTS) as RecordList[];

/** The matrix's record rules (test/oracle/access-matrix.yaml). */
const CURRENT: RecordRuleName = 'current';
const PUBLIC_DISPLAY: RecordRuleName = 'public-window';
const HISTORY: RecordRuleName = 'history';

/** Lists a subject with "records everywhere" has at least one of. */
const LISTS_EVERYWHERE = [...ALL_RECORD_LISTS, 'annualReports', 'taxPayments', 'taxCreditRatings'];

// ── Reading answers ─────────────────────────────────────────────────────────────────────────

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function objectAt(value: unknown, where: string): JsonObject {
  assert.ok(isObject(value), `${where}: expected an object, got ${JSON.stringify(value)}`);
  return value;
}

function listAt(value: unknown, where: string): JsonObject[] {
  assert.ok(Array.isArray(value), `${where}: expected a list, got ${JSON.stringify(value)}`);
  return value.map((item, index) => objectAt(item, `${where}[${index}]`));
}

function textOf(value: unknown): string {
  assert.equal(typeof value, 'string');
  return value as string;
}

/** Whether a date field holds a day that has come (an end or restoration in force). */
function hasPassed(value: unknown, now: Date): boolean {
  return typeof value === 'string' && new Date(value) <= now;
}

/** The FORBIDDEN errors of an answer, as sorted `path field` lines; fails on any other error. */
function forbiddenErrors(body: GraphQLResponse['body']): string[] {
  return (body.errors ?? [])
    .map((error) => {
      assert.equal(error.extensions?.code, 'FORBIDDEN', `only FORBIDDEN errors expected, got ${JSON.stringify(error)}`);
      return `${(error.path ?? []).join('.')} ${String(error.extensions.field)}`;
    })
    .sort();
}

function expectedForbidden(forbidden: readonly ExpectedForbidden[]): string[] {
  return forbidden.map(({ path, field }) => `${path.join('.')} ${field}`).sort();
}

/** The selection printed for each record list: its id and every field record rules read. */
function recordSelection(list: RecordList): string {
  const { type, id } = RECORD_LISTS[list];
  return `${list} { ${[...new Set([id, ...recordStateFields(type)])].join(' ')} }`;
}

function recordsQuery(lists: readonly RecordList[]): string {
  return `query Records($uscc: ID!) { subject(uscc: $uscc) { uscc ${lists.map(recordSelection).join(' ')} } }`;
}

function idsOf(records: readonly JsonObject[], list: RecordList): string[] {
  return records.map((record) => textOf(record[RECORD_LISTS[list].id]));
}

// ── The suite ───────────────────────────────────────────────────────────────────────────────

describe('each consumer of the matrix sees exactly its column', () => {
  let federation: Federation;
  /** What the test inspector gets for every seeded subject: every field, every record. */
  const inspector = new Map<string, JsonObject>();
  /** Serious-risk subjects with records in every department. */
  const everywhere: SeedSubject[] = [];
  /** Those, and one subject for each case worth checking. */
  const sample: SeedSubject[] = [];

  const inspectorSubject = (subject: SeedSubject): JsonObject => {
    const found = inspector.get(subject.uscc);
    assert.ok(found, `the inspector's answer has ${subject.uscc}`);
    return found;
  };
  const inspectorRecords = (
    subject: SeedSubject,
    list: RecordList | 'annualReports' | 'taxPayments' | 'taxCreditRatings',
  ): JsonObject[] => listAt(inspectorSubject(subject)[list], `inspector ${subject.uscc}.${list}`);
  /** The inspector's records of a list that a consumer with `rule` should see. */
  const expectedRecords = (subject: SeedSubject, list: RecordList, rule: RecordRuleName, now: Date): JsonObject[] =>
    inspectorRecords(subject, list).filter((record) => isShownAsDescribed(RECORD_LISTS[list].type, record, rule, now));

  /** What the hand-written matrix says the consumer sees (never the compiled policy: that is what is tested). */
  const viewOf = (consumer: MatrixConsumer): OracleView => {
    const view = oracleView(consumer.id, consumer.purpose);
    assert.ok(view, `the matrix gives ${consumer.id} ${consumer.purpose}`);
    assert.equal(view.mode, consumer.mode);
    return view;
  };
  /** The consumer's views under each of its purposes: a field none of them shows does not exist for it. */
  const viewsOf = (consumer: MatrixConsumer): ConsumerView[] => {
    const policy = federation.policies.current();
    return (policy.consumers.get(consumer.id)?.purposes ?? [])
      .map((purpose) => policy.view(consumer.id, purpose))
      .filter((view) => view !== undefined);
  };
  /** Of `Type.field` coordinates, those the consumer may see under none of its purposes. */
  const hiddenFrom = (consumer: MatrixConsumer, fields: readonly string[]): string[] =>
    fields.filter((coordinate) => {
      const [typeName = '', fieldName = ''] = coordinate.split('.');
      return viewsOf(consumer).every((view) => view.field(typeName, fieldName).effect === 'deny');
    });
  const ask = (consumer: MatrixConsumer, query: string, subject: SeedSubject): Promise<GraphQLResponse> =>
    federation.query(query, { uscc: subject.uscc }, { consumer: consumer.id, purpose: consumer.purpose });

  /** An answered query: 200, no error, the subject. */
  const answered = async (consumer: MatrixConsumer, query: string, subject: SeedSubject): Promise<JsonObject> => {
    const { status, body } = await ask(consumer, query, subject);
    assert.equal(status, 200, `${consumer.id} / ${subject.uscc}: ${JSON.stringify(body.errors)}`);
    assert.equal(body.errors, undefined, `${consumer.id} / ${subject.uscc}: no error`);
    return objectAt(body.data?.subject, `${consumer.id} / ${subject.uscc}: subject`);
  };

  /**
   * A query a reject-mode consumer is refused: FORBIDDEN naming the denied fields, no data; or,
   * when it asks for a field the consumer may see under none of its purposes, a validation
   * failure as for a field that does not exist, naming that field (then `denied` is every such
   * field the query asks for).
   */
  const refused = async (
    consumer: MatrixConsumer,
    query: string,
    subject: SeedSubject,
  ): Promise<{ denied: string[]; text: string }> => {
    const { status, body } = await ask(consumer, query, subject);
    const text = JSON.stringify(body);
    const unknown = /^Cannot query field "(\w+)" on type "(\w+)"\.$/.exec(body.errors?.[0]?.message ?? '');
    if (status === 400) {
      assert.equal(body.errors?.[0]?.extensions?.code, 'GRAPHQL_VALIDATION_FAILED', text);
      assert.ok(unknown, `a field that does not exist for ${consumer.id} (${text})`);
      assert.deepEqual(
        hiddenFrom(consumer, [`${unknown[2]}.${unknown[1]}`]),
        [`${unknown[2]}.${unknown[1]}`],
        'it is one the consumer may never see',
      );
      assert.equal(body.data ?? null, null, `${consumer.id}: no data`);
      const asked = [
        ...new Set(
          collectRequestedFields(loadApiSchema(), parse(query)).map(
            ({ typeName, fieldName }) => `${typeName}.${fieldName}`,
          ),
        ),
      ];
      return { denied: hiddenFrom(consumer, asked), text };
    }
    assert.equal(status, 403, `${consumer.id}: refused by policy (${text})`);
    assert.equal(body.data ?? null, null, `${consumer.id}: no data`);
    assert.equal(body.errors?.length, 1, `${consumer.id}: one error`);
    const error = body.errors?.[0];
    assert.equal(error?.extensions?.code, 'FORBIDDEN');
    const denied = error?.extensions?.deniedFields;
    assert.ok(Array.isArray(denied), 'the error lists the denied fields');
    for (const field of denied) assert.ok(error?.message.includes(String(field)), `the message names ${String(field)}`);
    return { denied: denied.map(String), text };
  };

  before(async () => {
    federation = await startFederation({ subjects: SUBJECTS });
    // Each consumer may also see every field under a second purpose: under its own, a denied field
    // then exists for it and gets its mode's answer (a field it may see under no purpose at all
    // fails validation as an unknown one: test/adversarial.test.ts).
    await addPurposeSeeingEverything(
      federation.policiesDir,
      [PUBLIC_PORTAL, PROCUREMENT_CENTRE, COURT_ENFORCEMENT, TAX_BUREAU, CENTRAL_BANK, PRIVACY_OFFICE].map(
        ({ id }) => id,
      ),
    );
    await publishPolicyChange(federation);
    const { status, body } = await federation.query(subjectsQuery(everyField()), { first: SUBJECTS });
    assert.equal(status, 200, JSON.stringify(body.errors));
    assert.equal(body.errors, undefined);
    for (const subject of listAt(body.data?.subjects, 'inspector subjects'))
      inspector.set(textOf(subject.uscc), subject);
    assert.equal(inspector.size, SUBJECTS, 'the inspector sees every seeded subject');
    // The inspector's answers are the truth below only because they are what the store and the
    // seed generator hold: checked here, without the gateway.
    await assertInspectorHoldsTheTruth(federation.mongo.uri, inspector, SUBJECTS);

    const subjects = Array.from({ length: SUBJECTS }, (_, index) => seedSubject(index));
    everywhere.push(
      ...subjects.filter(
        (subject) =>
          subject.risk === 'serious' &&
          LISTS_EVERYWHERE.every((list) => listAt(inspectorSubject(subject)[list], list).length > 0),
      ),
    );
    assert.ok(
      everywhere.length >= 3,
      `at least 3 serious subjects with records everywhere, found ${everywhere.length}`,
    );
    sample.push(...everywhere);

    const now = new Date();
    const records = (subject: SeedSubject, list: RecordList): JsonObject[] => inspectorRecords(subject, list);
    const cases: [string, (subject: SeedSubject) => boolean][] = [
      [
        'a restored administrative penalty',
        (s) => records(s, 'administrativePenalties').some((r) => hasPassed(r.restoredOn, now)),
      ],
      [
        'a restored serious-dishonesty listing',
        (s) => records(s, 'seriousDishonestyListings').some((r) => hasPassed(r.restoredOn, now)),
      ],
      [
        'a removed serious-dishonesty listing',
        (s) => records(s, 'seriousDishonestyListings').some((r) => hasPassed(r.removedOn, now)),
      ],
      [
        'a current GENERAL or SERIOUS penalty past its disclosure window',
        (s) =>
          records(s, 'administrativePenalties').some(
            (r) =>
              r.severity !== 'MINOR' &&
              isShownAsDescribed('AdministrativePenalty', r, CURRENT, now) &&
              !isShownAsDescribed('AdministrativePenalty', r, PUBLIC_DISPLAY, now),
          ),
      ],
      [
        'a current MINOR penalty (never published)',
        (s) =>
          records(s, 'administrativePenalties').some(
            (r) => r.severity === 'MINOR' && isShownAsDescribed('AdministrativePenalty', r, CURRENT, now),
          ),
      ],
      [
        'a removed dishonest-debtor entry',
        (s) => records(s, 'dishonestDebtorEntries').some((r) => hasPassed(r.removedOn, now)),
      ],
      [
        'a lifted consumption-restriction order',
        (s) => records(s, 'consumptionRestrictions').some((r) => hasPassed(r.liftedOn, now)),
      ],
      [
        'a removed abnormal-operations entry',
        (s) => records(s, 'abnormalOperations').some((r) => hasPassed(r.removedOn, now)),
      ],
    ];
    for (const [name, has] of cases) {
      const chosen = everywhere.find(has) ?? subjects.find(has);
      assert.ok(chosen, `the seed data (${SUBJECTS} subjects) has a subject with ${name}: seed more subjects`);
      if (!sample.includes(chosen)) sample.push(chosen);
    }
  });
  after(() => federation.close());

  // ── The column as the hand-written matrix states it ──────────────────────────────────────

  /** The tests every consumer gets: its column as the hand-written matrix states it. */
  const matrixColumn = (consumer: MatrixConsumer): void => {
    it("gets every field its view shows, with the inspector's values, masked where masked, and only the records its rules keep", async () => {
      const view = viewOf(consumer);
      const selections = visibleFields(view);
      const query = subjectQuery(selections);
      for (const subject of sample) {
        const got = await answered(consumer, query, subject);
        const expected = projectAnswer(inspectorSubject(subject), selections, view, new Date());
        assert.deepEqual(expected.forbidden, [], 'the operation asks for no denied field');
        assert.deepEqual(got, expected.data, `${consumer.id} / ${subject.uscc}`);
      }
    });

    it('fails validation, as for an unknown field, when asking for every field of the schema, some of which it may see under no purpose', async () => {
      const hidden = hiddenFrom(consumer, coordinates(everyField()));
      const [subject] = everywhere;
      assert.ok(subject);
      const { status, body } = await ask(consumer, subjectQuery(everyField()), subject);
      if (hidden.length === 0) return assert.notEqual(status, 400);
      assert.equal(status, 400, JSON.stringify(body));
      assert.equal(body.errors?.[0]?.extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
      assert.equal(body.data ?? null, null);
    });

    if (consumer.mode === 'filter') {
      it('answers every denied field that exists for it as null, with FORBIDDEN at its path, and the rest as usual', async () => {
        const view = viewOf(consumer);
        const fields = seenFields(viewsOf(consumer));
        const query = subjectQuery(fields);
        for (const subject of sample) {
          const { status, body } = await ask(consumer, query, subject);
          const expected = projectAnswer(inspectorSubject(subject), fields, view, new Date());
          assert.equal(status, 200);
          assert.ok(expected.forbidden.length > 0, 'the schema has fields this consumer is denied');
          assert.deepEqual(body.data?.subject, expected.data, `${consumer.id} / ${subject.uscc}`);
          assert.deepEqual(
            forbiddenErrors(body),
            expectedForbidden(expected.forbidden),
            `${consumer.id} / ${subject.uscc}: FORBIDDEN errors`,
          );
        }
      });
    } else {
      it('refuses an operation asking for every field that exists for it, naming exactly the denied ones, with no data', async () => {
        const view = viewOf(consumer);
        const fields = seenFields(viewsOf(consumer));
        const deniedFields = coordinates(fields).filter((coordinate) => {
          const [typeName = '', fieldName = ''] = coordinate.split('.');
          return view.field(typeName, fieldName).effect === 'deny';
        });
        assert.ok(deniedFields.length > 0, 'the schema has fields this consumer is denied');
        const [subject] = everywhere;
        assert.ok(subject);
        const { denied, text } = await refused(consumer, subjectQuery(fields), subject);
        assert.deepEqual(denied, deniedFields);
        assert.ok(!text.includes(subject.name), 'nothing of the subject in the answer');
      });
    }

    it('may list subjects (Query.subjects) only if its view allows it, and then sees the same column for each', async () => {
      const view = viewOf(consumer);
      const listing = { first: SUBJECTS };
      const caller = { consumer: consumer.id, purpose: consumer.purpose };
      if (view.field('Query', 'subjects').effect === 'deny') {
        const { body } = await federation.query(
          'query Subjects($first: Int!) { subjects(first: $first) { uscc } }',
          listing,
          caller,
        );
        if (consumer.mode === 'filter') {
          assert.deepEqual(body.data, { subjects: null });
          assert.deepEqual(forbiddenErrors(body), ['subjects Query.subjects']);
        } else {
          assert.equal(body.data ?? null, null);
          assert.deepEqual(body.errors?.[0]?.extensions?.deniedFields, ['Query.subjects']);
        }
        return;
      }
      const selections = visibleFields(view);
      const { status, body } = await federation.query(subjectsQuery(selections), listing, caller);
      assert.equal(status, 200, JSON.stringify(body.errors));
      assert.equal(body.errors, undefined);
      const now = new Date();
      const got = listAt(body.data?.subjects, 'subjects');
      assert.equal(got.length, SUBJECTS);
      for (const subject of got) {
        const expected = projectAnswer(
          objectAt(inspector.get(textOf(subject.uscc)), 'inspector'),
          selections,
          view,
          now,
        );
        assert.deepEqual(subject, expected.data, `${consumer.id} / ${String(subject.uscc)}`);
      }
    });
  };

  // ── Each consumer: its matrix column, then the matrix's points written out ─────────────

  describe('public-portal (PUBLIC_DISCLOSURE, filter mode)', () => {
    const consumer = PUBLIC_PORTAL;
    matrixColumn(consumer);
    const ID_NUMBER_MASKED = /^[0-9]{4}\*{10}[0-9X]{4}$/;

    it('shows ID numbers masked like 4101**********1234 and never a phone number', async () => {
      const query = `query Persons($uscc: ID!) { subject(uscc: $uscc) {
        legalRepresentative { name idNumber phone }
        dishonestDebtorEntries { caseNumber responsiblePerson { name idNumber phone } } } }`;
      let listedPersons = 0;
      for (const subject of everywhere) {
        const { body } = await ask(consumer, query, subject);
        const text = JSON.stringify(body);
        const got = objectAt(body.data?.subject, 'subject');
        const representative = objectAt(got.legalRepresentative, 'legalRepresentative');
        const clear = objectAt(inspectorSubject(subject).legalRepresentative, 'inspector legalRepresentative');
        assert.match(textOf(representative.idNumber), ID_NUMBER_MASKED);
        assert.equal(representative.idNumber, maskedAsDescribed('ID_NUMBER', textOf(clear.idNumber)));
        assert.equal(representative.idNumber, maskedAsDescribed('ID_NUMBER', subject.legalRepresentative.idNumber));
        assert.equal(representative.name, subject.legalRepresentative.name);
        assert.equal(representative.phone, null);
        const expectedErrors = ['subject.legalRepresentative.phone LegalRepresentative.phone'];
        listAt(got.dishonestDebtorEntries, 'dishonestDebtorEntries').forEach((entry, index) => {
          const person = objectAt(entry.responsiblePerson, 'responsiblePerson');
          assert.match(textOf(person.idNumber), ID_NUMBER_MASKED);
          assert.equal(person.phone, null);
          expectedErrors.push(`subject.dishonestDebtorEntries.${index}.responsiblePerson.phone IndividualDebtor.phone`);
          listedPersons += 1;
        });
        assert.deepEqual(forbiddenErrors(body), expectedErrors.sort());
        assert.ok(!text.includes(subject.legalRepresentative.phone), 'the phone number appears nowhere');
        assert.ok(!text.includes(subject.legalRepresentative.idNumber), 'the full ID number appears nowhere');
      }
      assert.ok(listedPersons > 0, 'some listed persons were shown (masked)');
    });

    it('never shows annual-report financials or tax paid (trade secrets): they do not exist for it', async () => {
      const query =
        'query Secrets($uscc: ID!) { subject(uscc: $uscc) { name annualReports { year revenue profit totalAssets } taxPayments { year amount } } }';
      for (const subject of everywhere) {
        const { status, body } = await ask(consumer, query, subject);
        assert.equal(status, 400);
        assert.deepEqual(
          body.errors?.map(({ message, extensions }) => [message, extensions?.code]),
          [['Cannot query field "annualReports" on type "Subject".', 'GRAPHQL_VALIDATION_FAILED']],
        );
        assert.equal(body.data ?? null, null);
        const text = JSON.stringify(body);
        for (const report of inspectorRecords(subject, 'annualReports'))
          assert.ok(!text.includes(String(report.revenue)), 'no revenue figure');
        for (const payment of inspectorRecords(subject, 'taxPayments'))
          assert.ok(!text.includes(String(payment.amount)), 'no tax figure');
      }
    });

    it('shows penalties and list entries only inside their disclosure window and not restored, removed or ended', async () => {
      const hidden = { restored: 0, pastWindow: 0, minor: 0, ended: 0 };
      const shown = { administrativePenalties: 0, seriousDishonestyListings: 0 };
      for (const subject of sample) {
        const got = await answered(consumer, recordsQuery(ALL_RECORD_LISTS), subject);
        const now = new Date();
        for (const list of ALL_RECORD_LISTS) {
          const records = listAt(got[list], list);
          const expected = expectedRecords(subject, list, PUBLIC_DISPLAY, now);
          assert.deepEqual(idsOf(records, list), idsOf(expected, list), `${subject.uscc}.${list}`);
          for (const record of records) {
            for (const end of ['removedOn', 'liftedOn', 'restoredOn'])
              assert.ok(!hasPassed(record[end], now), `${subject.uscc}.${list}: no record with ${end} passed`);
          }
          if (list === 'administrativePenalties' || list === 'seriousDishonestyListings') shown[list] += records.length;
          const shownIds = new Set(idsOf(records, list));
          for (const record of inspectorRecords(subject, list).filter(
            (r) => !shownIds.has(textOf(r[RECORD_LISTS[list].id])),
          )) {
            if (hasPassed(record.restoredOn, now)) hidden.restored += 1;
            else if (hasPassed(record.removedOn, now) || hasPassed(record.liftedOn, now)) hidden.ended += 1;
            else if (record.severity === 'MINOR') hidden.minor += 1;
            else hidden.pastWindow += 1;
          }
        }
      }
      for (const [kind, count] of Object.entries(hidden))
        assert.ok(count > 0, `the sample has ${kind} records the portal does not show`);
      for (const [list, count] of Object.entries(shown)) assert.ok(count > 0, `the portal does show some ${list}`);
    });
  });

  describe('procurement-centre (BIDDER_ELIGIBILITY, reject mode)', () => {
    const consumer = PROCUREMENT_CENTRE;
    matrixColumn(consumer);

    it('sees current serious-dishonesty listings with the basis documents they rest on, and no ended or restored one', async () => {
      const query =
        'query Listings($uscc: ID!) { subject(uscc: $uscc) { seriousDishonestyListings { id listType listedOn removedOn restoredOn basis { number issuedBy issuedOn } } } }';
      let shown = 0;
      let withheld = 0;
      for (const subject of sample) {
        const got = await answered(consumer, query, subject);
        const expected: JsonObject[] = expectedRecords(subject, 'seriousDishonestyListings', CURRENT, new Date()).map(
          ({ id, listType, listedOn, removedOn, restoredOn, basis }) => ({
            id,
            listType,
            listedOn,
            removedOn,
            restoredOn,
            basis,
          }),
        );
        assert.deepEqual(got.seriousDishonestyListings, expected, subject.uscc);
        for (const listing of expected) {
          const basis = objectAt(listing.basis, 'basis');
          for (const part of ['number', 'issuedBy', 'issuedOn'])
            assert.ok(textOf(basis[part]).length > 0, `basis.${part} is given`);
        }
        shown += expected.length;
        withheld += inspectorRecords(subject, 'seriousDishonestyListings').length - expected.length;
      }
      assert.ok(shown > 0, 'some listings are shown');
      assert.ok(withheld > 0, 'the sample has ended or restored listings, which are withheld');
    });

    it('is refused personal ID numbers, of legal representatives and of listed persons', async () => {
      const [subject] = everywhere;
      assert.ok(subject);
      const representative = await refused(
        consumer,
        'query Q($uscc: ID!) { subject(uscc: $uscc) { legalRepresentative { idNumber } } }',
        subject,
      );
      assert.ok(representative.denied.includes('LegalRepresentative.idNumber'));
      assert.ok(!representative.text.includes(subject.legalRepresentative.idNumber));
      const listed = await refused(
        consumer,
        'query Q($uscc: ID!) { subject(uscc: $uscc) { dishonestDebtorEntries { responsiblePerson { idNumber } } } }',
        subject,
      );
      assert.ok(listed.denied.includes('IndividualDebtor.idNumber'));
      assert.ok(!listed.text.includes(subject.legalRepresentative.idNumber));
    });

    it('is refused financials: annual reports and tax paid', async () => {
      const [subject] = everywhere;
      assert.ok(subject);
      const { denied } = await refused(
        consumer,
        'query Q($uscc: ID!) { subject(uscc: $uscc) { annualReports { revenue profit totalAssets } taxPayments { amount } } }',
        subject,
      );
      for (const field of [
        'AnnualReport.revenue',
        'AnnualReport.profit',
        'AnnualReport.totalAssets',
        'TaxPayment.amount',
      ]) {
        assert.ok(denied.includes(field), `${field} is denied`);
      }
    });
  });

  describe('court-enforcement (ENFORCEMENT, reject mode)', () => {
    const consumer = COURT_ENFORCEMENT;
    matrixColumn(consumer);

    it("sees the legal representative's and listed persons' identity and contact in clear", async () => {
      const query = `query Persons($uscc: ID!) { subject(uscc: $uscc) {
        legalRepresentative { name idNumber phone }
        dishonestDebtorEntries { caseNumber responsiblePerson { name idNumber phone } } } }`;
      for (const subject of everywhere) {
        const got = await answered(consumer, query, subject);
        assert.deepEqual(got.legalRepresentative, { ...subject.legalRepresentative });
        assert.deepEqual(got.legalRepresentative, inspectorSubject(subject).legalRepresentative);
        assert.deepEqual(
          got.dishonestDebtorEntries,
          inspectorRecords(subject, 'dishonestDebtorEntries').map(({ caseNumber, responsiblePerson }) => ({
            caseNumber,
            responsiblePerson,
          })),
        );
      }
    });

    it("sees the debtor's history: removed, lifted and restored entries included", async () => {
      const lists: RecordList[] = [
        'abnormalOperations',
        'dishonestDebtorEntries',
        'consumptionRestrictions',
        'seriousDishonestyListings',
      ];
      const past = { removedDebtorEntries: 0, liftedRestrictions: 0, endedListings: 0, restoredListings: 0 };
      for (const subject of sample) {
        const got = await answered(consumer, recordsQuery(lists), subject);
        const now = new Date();
        for (const list of lists) {
          const records = listAt(got[list], list);
          assert.deepEqual(
            idsOf(records, list),
            idsOf(expectedRecords(subject, list, HISTORY, now), list),
            `${subject.uscc}.${list}`,
          );
          assert.deepEqual(
            idsOf(records, list),
            idsOf(inspectorRecords(subject, list), list),
            `${subject.uscc}.${list}: the whole history`,
          );
        }
        past.removedDebtorEntries += listAt(got.dishonestDebtorEntries, 'dishonestDebtorEntries').filter((r) =>
          hasPassed(r.removedOn, now),
        ).length;
        past.liftedRestrictions += listAt(got.consumptionRestrictions, 'consumptionRestrictions').filter((r) =>
          hasPassed(r.liftedOn, now),
        ).length;
        past.endedListings += listAt(got.seriousDishonestyListings, 'seriousDishonestyListings').filter((r) =>
          hasPassed(r.removedOn, now),
        ).length;
        past.restoredListings += listAt(got.seriousDishonestyListings, 'seriousDishonestyListings').filter((r) =>
          hasPassed(r.restoredOn, now),
        ).length;
      }
      for (const [kind, count] of Object.entries(past)) assert.ok(count > 0, `history shown includes ${kind}`);
    });

    it('is refused tax paid and annual-report financials', async () => {
      const [subject] = everywhere;
      assert.ok(subject);
      const { denied } = await refused(
        consumer,
        'query Q($uscc: ID!) { subject(uscc: $uscc) { name annualReports { revenue } taxPayments { amount } } }',
        subject,
      );
      for (const field of [
        'Subject.annualReports',
        'AnnualReport.revenue',
        'Subject.taxPayments',
        'TaxPayment.amount',
      ]) {
        assert.ok(denied.includes(field), `${field} is denied`);
      }
    });
  });

  describe('tax-bureau (TAX_ADMINISTRATION, reject mode)', () => {
    const consumer = TAX_BUREAU;
    matrixColumn(consumer);

    it('sees major tax-violation cases with amounts and decisions, and tax paid', async () => {
      const query = `query Tax($uscc: ID!) { subject(uscc: $uscc) {
        taxViolations { caseNumber violationType amountInvolved penaltyAmount decidedOn decision { number issuedBy issuedOn } }
        taxPayments { year amount } } }`;
      for (const subject of everywhere) {
        const got = await answered(consumer, query, subject);
        const cases = inspectorRecords(subject, 'taxViolations').map(
          ({ caseNumber, violationType, amountInvolved, penaltyAmount, decidedOn, decision }) => ({
            caseNumber,
            violationType,
            amountInvolved,
            penaltyAmount,
            decidedOn,
            decision,
          }),
        );
        assert.deepEqual(got.taxViolations, cases, `${subject.uscc}.taxViolations`);
        assert.deepEqual(got.taxPayments, inspectorRecords(subject, 'taxPayments'), `${subject.uscc}.taxPayments`);
        for (const taxCase of cases) assert.ok(Number(taxCase.amountInvolved) > 0, 'amounts are given');
      }
    });

    it('sees registry data, the legal representative and annual-report financials included', async () => {
      const query = `query Registry($uscc: ID!) { subject(uscc: $uscc) {
        name entityType status address registeredCapital establishedOn
        legalRepresentative { name idNumber phone } annualReports { year revenue profit totalAssets } } }`;
      for (const subject of everywhere) {
        const got = await answered(consumer, query, subject);
        const {
          name,
          entityType,
          status,
          address,
          registeredCapital,
          establishedOn,
          legalRepresentative,
          annualReports,
        } = inspectorSubject(subject);
        assert.deepEqual(got, {
          name,
          entityType,
          status,
          address,
          registeredCapital,
          establishedOn,
          legalRepresentative,
          annualReports,
        });
      }
    });

    it('is refused the natural persons named in court records', async () => {
      const [subject] = everywhere;
      assert.ok(subject);
      const { denied, text } = await refused(
        consumer,
        'query Q($uscc: ID!) { subject(uscc: $uscc) { dishonestDebtorEntries { caseNumber responsiblePerson { name idNumber phone } } } }',
        subject,
      );
      for (const field of [
        'DishonestDebtorEntry.responsiblePerson',
        'IndividualDebtor.name',
        'IndividualDebtor.idNumber',
        'IndividualDebtor.phone',
      ]) {
        assert.ok(denied.includes(field), `${field} is denied`);
      }
      assert.ok(!text.includes(subject.legalRepresentative.idNumber));
    });
  });

  describe('central-bank (CREDIT_ASSESSMENT, reject mode)', () => {
    const consumer = CENTRAL_BANK;
    matrixColumn(consumer);

    it('gets no restored, removed or ended record: sharing stops with them', async () => {
      const withheld = { restoredPenalties: 0, restoredListings: 0 };
      let shared = 0;
      for (const subject of sample) {
        const got = await answered(consumer, recordsQuery(ALL_RECORD_LISTS), subject);
        const now = new Date();
        for (const list of ALL_RECORD_LISTS) {
          const records = listAt(got[list], list);
          assert.deepEqual(
            idsOf(records, list),
            idsOf(expectedRecords(subject, list, CURRENT, now), list),
            `${subject.uscc}.${list}`,
          );
          for (const record of records) {
            for (const end of ['removedOn', 'liftedOn', 'restoredOn'])
              assert.ok(!hasPassed(record[end], now), `${subject.uscc}.${list}: no record with ${end} passed`);
          }
          shared += records.length;
        }
        withheld.restoredPenalties += inspectorRecords(subject, 'administrativePenalties').filter((r) =>
          hasPassed(r.restoredOn, now),
        ).length;
        withheld.restoredListings += inspectorRecords(subject, 'seriousDishonestyListings').filter((r) =>
          hasPassed(r.restoredOn, now),
        ).length;
      }
      assert.ok(shared > 0, 'current records are shared');
      for (const [kind, count] of Object.entries(withheld))
        assert.ok(count > 0, `the sample has ${kind}, which are withheld`);
    });

    it('is refused personal ID numbers, of legal representatives and of listed persons', async () => {
      const [subject] = everywhere;
      assert.ok(subject);
      const { denied, text } = await refused(
        consumer,
        'query Q($uscc: ID!) { subject(uscc: $uscc) { legalRepresentative { name idNumber } dishonestDebtorEntries { responsiblePerson { idNumber } } } }',
        subject,
      );
      assert.ok(denied.includes('LegalRepresentative.idNumber'));
      assert.ok(denied.includes('IndividualDebtor.idNumber'));
      assert.ok(!text.includes(subject.legalRepresentative.idNumber));
    });
  });

  describe('privacy-office (AUDIT, reject mode)', () => {
    const consumer = PRIVACY_OFFICE;
    matrixColumn(consumer);

    it('can confirm that a code belongs to a subject, and nothing more', async () => {
      for (const subject of everywhere) {
        assert.deepEqual(await answered(consumer, 'query Q($uscc: ID!) { subject(uscc: $uscc) { uscc } }', subject), {
          uscc: subject.uscc,
        });
      }
    });

    it('is refused every business field of a subject, one by one', async () => {
      const [subject] = everywhere;
      assert.ok(subject);
      const fields = everyField().filter((field) => field.name !== 'uscc');
      assert.ok(fields.length > 10, 'Subject has business fields');
      for (const field of fields) {
        const selection = field.children === null ? field.name : `${field.name} { __typename }`;
        const { denied } = await refused(
          consumer,
          `query Q($uscc: ID!) { subject(uscc: $uscc) { uscc ${selection} } }`,
          subject,
        );
        assert.deepEqual(denied, [`Subject.${field.name}`]);
      }
    });
  });
});
