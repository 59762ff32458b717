/**
 * R1 to R3 through the gateway, as real consumers of the shipped policy see them:
 *
 * - R1: every field of the API schema belongs to exactly one item of the national catalog, and a
 *   policy over a schema with an uncatalogued field (or a catalog naming an unknown field) is
 *   refused with an error at the catalog's line and column;
 * - R2: `applicableMeasures` returns only measures of the national list, each with its legal basis
 *   and the listing that triggers it, and nothing for restored or ended listings: checked against
 *   the test inspector's view of every listing (history included) of 300 seeded subjects;
 * - R3: market and social measures are advisory, never mandatory.
 */
import type { CatalogItemValue } from '../subgraphs/credit/reference.ts';
import assert from 'node:assert/strict';
import { isFerretdb } from '../lib/stores/mongo.ts';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isEnumType, Kind, parse } from 'graphql';
import type { mongo } from 'mongoose';
import type { ObjectTypeDefinitionNode, ObjectTypeExtensionNode } from 'graphql';
import { buildApiSchema } from '../lib/policy/decision/api-schema.ts';
import { disclosureWindowsFromCatalog, loadCatalog, parseCatalog } from '../lib/policy/reference/catalog.ts';
import { catalogueableFields } from '../lib/policy/reference/catalog-coverage.ts';
import { loadPolicy, loadPolicyFromTexts, readPolicyDir } from '../lib/policy/loading/load-policy.ts';
import {
  ADVISORY_GROUPS,
  loadMeasures,
  MEASURE_BINDINGS,
  MEASURE_GROUPS,
  parseMeasures,
} from '../lib/policy/reference/measures.ts';
import type { Measure } from '../lib/policy/reference/measures.ts';
import { formatProblem } from '../lib/policy/loading/problems.ts';
import type { PolicyProblem } from '../lib/policy/loading/problems.ts';
import {
  DEFAULT_POLICIES_DIR,
  DEFAULT_SUPERGRAPH_PATH,
  policyCompiler,
} from '../lib/policy/releases/process-policy.ts';
import { CATALOG_CATEGORIES, CLASSIFICATIONS } from '../lib/policy/reference/catalog.ts';
import { DEFAULT_DISCLOSURE_WINDOWS } from '../lib/policy/decision/records.ts';
import { readPolicyBundle } from '../lib/policy/loading/bundle.ts';
import { main as policyCli } from '../scripts/policy.ts';
import { startFederation, type Caller, type Federation, type GraphQLResponse } from './support/federation.ts';

const SUBJECTS = 300;

const PUBLIC_PORTAL: Caller = { consumer: 'public-portal', purpose: 'PUBLIC_DISCLOSURE' };
const PROCUREMENT_CENTRE: Caller = { consumer: 'procurement-centre', purpose: 'BIDDER_ELIGIBILITY' };
const COURT_ENFORCEMENT: Caller = { consumer: 'court-enforcement', purpose: 'ENFORCEMENT' };
const CENTRAL_BANK: Caller = { consumer: 'central-bank', purpose: 'CREDIT_ASSESSMENT' };
const TAX_BUREAU: Caller = { consumer: 'tax-bureau', purpose: 'TAX_ADMINISTRATION' };

const SUPERGRAPH = readFileSync(DEFAULT_SUPERGRAPH_PATH, 'utf8');
const apiSchema = buildApiSchema(SUPERGRAPH);

// ── Answers ─────────────────────────────────────────────────────────────────────────────────

interface BasisValue {
  number: string;
  issuedBy: string;
  issuedOn: string;
}
interface ListingValue {
  id: string;
  listType: string;
  listedOn: string;
  removedOn: string | null;
  restoredOn: string | null;
  basis: BasisValue;
}
interface MeasureValue {
  code: string;
  name: string;
  group: string;
  legalBasis: string;
  listTypes: string[];
  binding: string;
}
interface ApplicableValue {
  measure: MeasureValue;
  listing: { id: string; listType: string; basis: BasisValue };
}

function dataOf<T>(response: GraphQLResponse, what: string): T {
  assert.equal(response.status, 200, `${what}: HTTP ${response.status} ${JSON.stringify(response.body.errors)}`);
  assert.equal(response.body.errors, undefined, `${what}: ${JSON.stringify(response.body.errors)}`);
  assert.ok(response.body.data, `${what}: no data`);
  return response.body.data as T;
}

const APPLICABLE =
  'applicableMeasures { measure { code name group legalBasis listTypes binding } listing { id listType basis { number issuedBy issuedOn } } }';
const LISTINGS =
  'seriousDishonestyListings { id listType listedOn removedOn restoredOn basis { number issuedBy issuedOn } }';

function hasPassed(date: string | null, now: Date): boolean {
  return date !== null && new Date(`${date}T00:00:00Z`) <= now;
}

function inForce(listing: ListingValue, now: Date): boolean {
  return !hasPassed(listing.removedOn, now) && !hasPassed(listing.restoredOn, now);
}

/** What R2 says a subject's applicable measures are, from the inspector's listings and the shipped list. */
function expectedMeasures(listings: readonly ListingValue[], measures: readonly Measure[], now: Date): string[] {
  return listings
    .filter((listing) => inForce(listing, now))
    .flatMap((listing) =>
      measures
        .filter((measure) => measure.listTypes.includes(listing.listType))
        .map((measure) => `${listing.id} ${measure.code}`),
    )
    .sort();
}

function pairs(applicable: readonly ApplicableValue[]): string[] {
  return applicable.map((entry) => `${entry.listing.id} ${entry.measure.code}`).sort();
}

function errorsAt(problems: readonly PolicyProblem[], file: string): PolicyProblem[] {
  return problems.filter((problem) => problem.file === file);
}

/** 1-based line and column of the first occurrence of `text`. */
function positionIn(source: string, text: string): { line: number; column: number } {
  const offset = source.indexOf(text);
  assert.ok(offset >= 0, `${text} is in the file`);
  const before = source.slice(0, offset).split('\n');
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
}

/** The shipped supergraph with one more field, that no catalog item covers, on a type. */
function supergraphWithExtraField(typeName: string, field: string): string {
  const pattern = new RegExp(`(type ${typeName}\\b[^{]*\\{\\n)`);
  assert.match(SUPERGRAPH, pattern);
  return SUPERGRAPH.replace(pattern, `$1  ${field}\n`);
}

// ── The federation ──────────────────────────────────────────────────────────────────────────

let federation: Federation;
const measuresList = loadMeasures().measures;
/** Every listing of every subject, history included, as the test inspector sees them. */
const listingsBySubject = new Map<string, ListingValue[]>();
/** Subjects whose listings include one in force, one restored and one ended. */
const samples: { current: string[]; restored: string[]; ended: string[]; mixed: string[]; noneInForce: string[] } = {
  current: [],
  restored: [],
  ended: [],
  mixed: [],
  noneInForce: [],
};

before(async () => {
  federation = await startFederation({ subjects: SUBJECTS });
  const { subjects } = dataOf<{ subjects: { uscc: string; seriousDishonestyListings: ListingValue[] }[] }>(
    await federation.query(`query All($first: Int!) { subjects(first: $first) { uscc ${LISTINGS} } }`, {
      first: SUBJECTS,
    }),
    'inspector listings',
  );
  const now = new Date();
  for (const subject of subjects) {
    const listings = subject.seriousDishonestyListings;
    listingsBySubject.set(subject.uscc, listings);
    const current = listings.some((listing) => inForce(listing, now));
    const restored = listings.some((listing) => hasPassed(listing.restoredOn, now));
    const ended = listings.some((listing) => hasPassed(listing.removedOn, now));
    if (current) samples.current.push(subject.uscc);
    if (restored) samples.restored.push(subject.uscc);
    if (ended) samples.ended.push(subject.uscc);
    if (current && (restored || ended)) samples.mixed.push(subject.uscc);
    if (listings.length > 0 && !current) samples.noneInForce.push(subject.uscc);
  }
  // Without these cases a check below could pass for want of data.
  for (const [name, codes] of Object.entries(samples))
    assert.ok(codes.length > 0, `the seed data has a subject with ${name} listings`);
});

after(async () => {
  await federation?.close();
});

// ── R1 ──────────────────────────────────────────────────────────────────────────────────────

describe('R1: every record type and exposed field maps to a catalog item; policy validation fails on a field without one', () => {
  it('the catalog the gateway serves covers every field of the API schema exactly once', async () => {
    const { catalog } = dataOf<{ catalog: CatalogItemValue[] }>(
      await federation.query(
        '{ catalog { code category classification department legalBasis recordType fields disclosureWindows { severity days } } }',
        undefined,
        PUBLIC_PORTAL,
      ),
      'catalog',
    );
    const owners = new Map<string, string[]>();
    for (const item of catalog)
      for (const field of item.fields) owners.set(field, [...(owners.get(field) ?? []), item.code]);
    const required = catalogueableFields(apiSchema);
    assert.ok(
      required.includes('Subject.applicableMeasures') && required.includes('Query.catalog'),
      "the catalog's own fields are covered too",
    );
    for (const field of required)
      assert.deepEqual(owners.get(field)?.length, 1, `${field}: ${JSON.stringify(owners.get(field) ?? [])}`);
    assert.deepEqual(
      [...owners.keys()].filter((field) => !required.includes(field)),
      [],
      'no item names a field the schema lacks',
    );
    for (const item of catalog) {
      assert.ok(
        CATALOG_CATEGORIES.includes(item.category as never) && CLASSIFICATIONS.includes(item.classification as never),
        item.code,
      );
      assert.ok(item.legalBasis.length > 0, `${item.code} has a legal basis`);
    }
  });

  it('each item names its source department, which defines every field of the item', () => {
    const defined = new Map<string, Set<string>>();
    for (const item of loadCatalog().items) {
      let fields = defined.get(item.department);
      if (!fields) {
        const sdl = parse(readFileSync(new URL(`../schema/${item.department}.graphql`, import.meta.url), 'utf8'));
        fields = new Set(
          sdl.definitions
            .filter(
              (node): node is ObjectTypeDefinitionNode | ObjectTypeExtensionNode =>
                node.kind === Kind.OBJECT_TYPE_DEFINITION || node.kind === Kind.OBJECT_TYPE_EXTENSION,
            )
            .flatMap((node) => (node.fields ?? []).map((field) => `${node.name.value}.${field.name.value}`)),
        );
        defined.set(item.department, fields);
      }
      for (const field of item.fields)
        assert.ok(fields.has(field), `${item.code}: ${field} is defined by ${item.department}`);
    }
  });

  it("every record type is catalogued, and the catalog's disclosure windows are the defaults of docs/domain.md", async () => {
    const catalog = loadCatalog();
    const recordTypes = catalog.items.flatMap((item) => (item.recordType ? [item.recordType] : []));
    assert.deepEqual(new Set(recordTypes).size, recordTypes.length, 'one item per record type');
    assert.deepEqual(disclosureWindowsFromCatalog(catalog), DEFAULT_DISCLOSURE_WINDOWS);
    const { catalog: served } = dataOf<{ catalog: CatalogItemValue[] }>(
      await federation.query(
        '{ catalog { code recordType kinds { field values } disclosureWindows { severity days } } }',
        undefined,
        PROCUREMENT_CENTRE,
      ),
      'catalog',
    );
    const penalties = served.find((item) => item.recordType === 'AdministrativePenalty');
    assert.deepEqual(penalties?.disclosureWindows, [
      { severity: 'MINOR', days: 0 },
      { severity: 'GENERAL', days: 365 },
      { severity: 'SERIOUS', days: 1095 },
    ]);
    assert.deepEqual(served.find((item) => item.recordType === 'SeriousDishonestyListing')?.disclosureWindows, [
      { severity: null, days: 1095 },
    ]);
    assert.equal(
      served.find((item) => item.code === 'CRD-CATALOG')?.disclosureWindows,
      null,
      'items that are not records have no window',
    );
    // The kinds each item includes, as the write path checks them (R1), are served to agencies too.
    assert.deepEqual(penalties?.kinds, {
      field: 'category',
      values: loadCatalog().items.find((item) => item.recordType === 'AdministrativePenalty')?.kinds?.values,
    });
    assert.equal(served.find((item) => item.recordType === 'TaxViolationCase')?.kinds, null);
  });

  it("the schema's enums list exactly the categories, classifications, groups and bindings the code validates", () => {
    const values = (name: string): string[] => {
      const type = apiSchema.getType(name);
      assert.ok(isEnumType(type), name);
      return type.getValues().map((value) => value.name);
    };
    assert.deepEqual(values('CatalogCategory'), [...CATALOG_CATEGORIES]);
    assert.deepEqual(values('InformationClassification'), [...CLASSIFICATIONS]);
    assert.deepEqual(values('MeasureGroup'), [...MEASURE_GROUPS]);
    assert.deepEqual(values('MeasureBinding'), [...MEASURE_BINDINGS]);
  });

  it('a schema with an uncatalogued field: validation fails naming the field, and the gateway and departments refuse the policy', async () => {
    const schema = buildApiSchema(supergraphWithExtraField('AnnualReport', 'auditorsNotes: String'));
    const result = await loadPolicy(DEFAULT_POLICIES_DIR, schema);
    assert.equal(result.ok, false);
    const problems = errorsAt(result.ok ? [] : result.errors, 'schema/catalog.yaml');
    assert.deepEqual(
      problems.map((problem) => problem.message),
      ['AnnualReport.auditorsNotes has no catalog item: every field of the schema must belong to one (R1)'],
    );
    assert.match(
      formatProblem(problems[0]!),
      /^schema\/catalog\.yaml:\d+:\d+: AnnualReport\.auditorsNotes has no catalog item/,
    );

    // What every gateway and department process compiles a policy version with.
    const compiled = await policyCompiler(supergraphWithExtraField('AnnualReport', 'auditorsNotes: String'))(
      await readPolicyBundle(DEFAULT_POLICIES_DIR),
    );
    assert.equal(compiled.ok, false);
    assert.ok(
      !compiled.ok && compiled.errors.some((error) => error.includes('AnnualReport.auditorsNotes has no catalog item')),
      'the runtime refuses it',
    );
  });

  it("npm run policy -- validate exits 1 with the error at the catalog's file, line and column", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'credence-r1-'));
    try {
      const supergraph = join(dir, 'supergraph.graphql');
      await writeFile(supergraph, supergraphWithExtraField('TaxPayment', 'refundedAmount: Float'));
      const out: string[] = [];
      const err: string[] = [];
      const code = await policyCli(['validate', '--supergraph', supergraph, '--dir', DEFAULT_POLICIES_DIR], {
        stdout: (text) => out.push(text),
        stderr: (text) => err.push(text),
        cwd: process.cwd(),
        env: {},
      });
      assert.equal(code, 1);
      const catalogText = readFileSync(new URL('../schema/catalog.yaml', import.meta.url), 'utf8');
      const { line, column } = positionIn(catalogText, 'items:');
      assert.ok(
        err.includes(
          `schema/catalog.yaml:${line}:${column}: TaxPayment.refundedAmount has no catalog item: every field of the schema must belong to one (R1) (add TaxPayment.refundedAmount to the fields of the item it belongs to in schema/catalog.yaml, or add an item for it)`,
        ),
        err.join('\n'),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a catalog item naming a field the schema lacks, or a field already in another item, fails at its line and column', async () => {
    const shipped = readFileSync(new URL('../schema/catalog.yaml', import.meta.url), 'utf8');
    const text = shipped
      .replace('TaxPayment.year, TaxPayment.amount]', 'TaxPayment.year, TaxPayment.amount, TaxPayment.amountRefunded]')
      .replace('fields: [LegalRepresentative.phone]', 'fields: [LegalRepresentative.phone, LegalRepresentative.name]');
    const parsed = parseCatalog('schema/catalog.yaml', text);
    assert.ok(parsed.ok);
    const policy = await readPolicyDir(DEFAULT_POLICIES_DIR);
    const result = loadPolicyFromTexts(policy, apiSchema, {
      referenceData: { catalog: parsed.catalog, measures: loadMeasures() },
    });
    assert.equal(result.ok, false);
    const problems = errorsAt(result.ok ? [] : result.errors, 'schema/catalog.yaml');
    assert.equal(problems.length, 2, problems.map(formatProblem).join('\n'));
    const unknown = positionIn(text, 'TaxPayment.amountRefunded');
    assert.equal(
      formatProblem(problems.find((problem) => problem.code === 'unknown-field')!),
      `schema/catalog.yaml:${unknown.line}:${unknown.column}: catalog item TAX-PAID names TaxPayment.amountRefunded, which the schema does not have (did you mean TaxPayment.amount?)`,
    );
    const twice = problems.find((problem) => problem.code === 'duplicate-id')!;
    assert.match(
      twice.message,
      /^LegalRepresentative\.name is already in catalog item REG-LEGAL-REPRESENTATIVE \(schema\/catalog\.yaml:\d+:\d+\)$/,
    );
  });

  it("record kinds an item lists must be values of the record type's enum field, checked at their line", async () => {
    const shipped = readFileSync(new URL('../schema/catalog.yaml', import.meta.url), 'utf8');
    const text = shipped.replace(
      'values: [POLLUTION, VACCINE_QUALITY,',
      'values: [POLLUTION, GAMBLING, VACCINE_QUALITY,',
    );
    const parsed = parseCatalog('schema/catalog.yaml', text);
    assert.ok(parsed.ok);
    const policy = await readPolicyDir(DEFAULT_POLICIES_DIR);
    const result = loadPolicyFromTexts(policy, apiSchema, {
      referenceData: { catalog: parsed.catalog, measures: loadMeasures() },
    });
    const problems = errorsAt(result.ok ? [] : result.errors, 'schema/catalog.yaml');
    const at = positionIn(text, 'GAMBLING');
    assert.deepEqual(problems.map(formatProblem), [
      `schema/catalog.yaml:${at.line}:${at.column}: GAMBLING is not a value of the schema's PenaltyCategory (one of POLLUTION, VACCINE_QUALITY, DRUG_QUALITY, FOOD_SAFETY, WORK_SAFETY, ILLEGAL_FUNDRAISING, ONLINE_FRAUD, PRICE_VIOLATION)`,
    ]);
  });
});

// ── R2 ──────────────────────────────────────────────────────────────────────────────────────

describe('R2: applicableMeasures returns only measures from the national list, each with its legal basis and the record that triggers it', () => {
  it('for every subject, exactly the listed measures of its listings in force, with group, legal basis, binding and the triggering listing (central bank)', async () => {
    const now = new Date();
    const { subjects } = dataOf<{ subjects: { uscc: string; applicableMeasures: ApplicableValue[] }[] }>(
      await federation.query(
        `query All($first: Int!) { subjects(first: $first) { uscc ${APPLICABLE} } }`,
        { first: SUBJECTS },
        CENTRAL_BANK,
      ),
      'measures',
    );
    const byCode = new Map(measuresList.map((measure) => [measure.code, measure]));
    let returned = 0;
    for (const subject of subjects) {
      const listings = listingsBySubject.get(subject.uscc) ?? [];
      assert.deepEqual(pairs(subject.applicableMeasures), expectedMeasures(listings, measuresList, now), subject.uscc);
      for (const { measure, listing } of subject.applicableMeasures) {
        const listed = byCode.get(measure.code);
        assert.ok(listed, `${measure.code} is in the national list`);
        assert.deepEqual(
          measure,
          { ...listed, listTypes: [...listed.listTypes] },
          `${measure.code} is served as the list states it`,
        );
        const record = listings.find((candidate) => candidate.id === listing.id);
        assert.ok(record && inForce(record, now), `${listing.id} is a listing of ${subject.uscc} in force`);
        assert.equal(listing.listType, record.listType);
        assert.ok(measure.listTypes.includes(listing.listType), `${measure.code} is triggered by ${listing.listType}`);
        assert.deepEqual(listing.basis, record.basis, 'the basis document of the triggering listing');
        returned += 1;
      }
    }
    assert.ok(returned > 0, 'some measures apply');
  });

  it('costs one database command for the listings and measures of 300 subjects (the listings loader is shared, no N+1)', async () => {
    const { connection } = federation.subgraphs.get('credit')!;
    const client = connection.getClient();
    const finds: string[] = [];
    const filters: string[] = [];
    const listener = (event: mongo.CommandStartedEvent): void => {
      if (event.commandName !== 'find') return;
      finds.push(String((event.command as Record<string, unknown>)['find']));
      filters.push(JSON.stringify((event.command as Record<string, unknown>)['filter']));
    };
    client.on('commandStarted', listener);
    try {
      const { subjects } = dataOf<{ subjects: unknown[] }>(
        await federation.query(
          `query All($first: Int!) { subjects(first: $first) { uscc seriousDishonestyListings { id } ${APPLICABLE} } }`,
          { first: SUBJECTS },
          CENTRAL_BANK,
        ),
        'measures',
      );
      assert.equal(subjects.length, SUBJECTS);
    } finally {
      client.off('commandStarted', listener);
    }
    if (!(await isFerretdb(connection))) {
      assert.deepEqual(finds, ['listings']);
      return;
    }
    // FerretDB reads the whole collection for $in: one equality per subject instead, each asked once.
    assert.ok(
      finds.every((collection) => collection === 'listings'),
      finds.join(', '),
    );
    assert.equal(new Set(filters).size, filters.length, 'no subject asked twice');
    assert.ok(finds.length <= SUBJECTS, `${finds.length} commands for ${SUBJECTS} subjects`);
  });

  it('nothing comes from restored or ended listings (procurement centre and court enforcement, which sees the history of listings)', async () => {
    const now = new Date();
    const query = `query One($uscc: ID!) { subject(uscc: $uscc) { ${LISTINGS} ${APPLICABLE} } }`;
    for (const uscc of [
      ...samples.mixed,
      ...samples.noneInForce,
      ...samples.restored.slice(0, 5),
      ...samples.ended.slice(0, 5),
    ]) {
      const listings = listingsBySubject.get(uscc) ?? [];
      const lapsed = new Set(listings.filter((listing) => !inForce(listing, now)).map((listing) => listing.id));
      assert.ok(lapsed.size > 0, uscc);
      for (const caller of [PROCUREMENT_CENTRE, COURT_ENFORCEMENT]) {
        const { subject } = dataOf<{
          subject: { seriousDishonestyListings: ListingValue[]; applicableMeasures: ApplicableValue[] };
        }>(await federation.query(query, { uscc }, caller), `${caller.consumer} ${uscc}`);
        assert.deepEqual(
          subject.applicableMeasures.filter((entry) => lapsed.has(entry.listing.id)),
          [],
          `${caller.consumer}: no measure of a restored or ended listing of ${uscc}`,
        );
        assert.deepEqual(
          pairs(subject.applicableMeasures),
          expectedMeasures(listings, measuresList, now),
          `${caller.consumer} ${uscc}`,
        );
        if (caller === COURT_ENFORCEMENT) {
          assert.ok(
            subject.seriousDishonestyListings.some((listing) => lapsed.has(listing.id)),
            'the court does see the lapsed listing in history, yet it triggers nothing',
          );
        }
      }
    }
    for (const uscc of samples.noneInForce) {
      const { subject } = dataOf<{ subject: { applicableMeasures: ApplicableValue[] } }>(
        await federation.query(query, { uscc }, PROCUREMENT_CENTRE),
        uscc,
      );
      assert.deepEqual(subject.applicableMeasures, [], `${uscc}: every listing lapsed, no measure applies`);
    }
  });

  it('measures are computed at query time: a listing restored now lifts its measures in the same second', async () => {
    const uscc = samples.current[0]!;
    const query = `query One($uscc: ID!) { subject(uscc: $uscc) { ${APPLICABLE} } }`;
    const before = dataOf<{ subject: { applicableMeasures: ApplicableValue[] } }>(
      await federation.query(query, { uscc }, PROCUREMENT_CENTRE),
      'before',
    );
    const listingId = before.subject.applicableMeasures[0]?.listing.id;
    assert.ok(listingId !== undefined, `${uscc} has measures`);
    const listings = federation.subgraphs
      .get('credit')!
      .connection.collection<{ _id: string; restoredOn: Date | null }>('listings');
    await listings.updateOne({ _id: listingId }, { $set: { restoredOn: new Date() } });
    try {
      const afterRestoration = dataOf<{ subject: { applicableMeasures: ApplicableValue[] } }>(
        await federation.query(query, { uscc }, PROCUREMENT_CENTRE),
        'after',
      );
      assert.deepEqual(
        afterRestoration.subject.applicableMeasures.filter((entry) => entry.listing.id === listingId),
        [],
      );
      assert.deepEqual(
        pairs(afterRestoration.subject.applicableMeasures),
        pairs(before.subject.applicableMeasures.filter((entry) => entry.listing.id !== listingId)),
      );
    } finally {
      await listings.updateOne({ _id: listingId }, { $set: { restoredOn: null } });
    }
  });

  it('the public portal sees measures of listings on public display only; a consumer without the field is refused', async () => {
    const now = new Date();
    const query = `query One($uscc: ID!) { subject(uscc: $uscc) { seriousDishonestyListings { id } ${APPLICABLE} } }`;
    for (const uscc of samples.mixed.slice(0, 5)) {
      const { subject } = dataOf<{
        subject: { seriousDishonestyListings: { id: string }[]; applicableMeasures: ApplicableValue[] };
      }>(await federation.query(query, { uscc }, PUBLIC_PORTAL), uscc);
      const displayed = new Set(subject.seriousDishonestyListings.map((listing) => listing.id));
      assert.ok(
        subject.applicableMeasures.every((entry) => displayed.has(entry.listing.id)),
        `${uscc}: no measure reveals a listing the portal does not display`,
      );
      assert.deepEqual(
        pairs(subject.applicableMeasures),
        expectedMeasures(
          (listingsBySubject.get(uscc) ?? []).filter((listing) => displayed.has(listing.id)),
          measuresList,
          now,
        ),
      );
    }
    // The tax bureau may see applicable measures under none of its purposes: for it the field does not exist.
    const refused = await federation.query(query, { uscc: samples.current[0] }, TAX_BUREAU);
    assert.equal(refused.body.data ?? null, null);
    assert.equal(refused.body.errors?.[0]?.extensions?.['code'], 'GRAPHQL_VALIDATION_FAILED');
    assert.match(refused.body.errors?.[0]?.message ?? '', /"(applicableMeasures|seriousDishonestyListings)"/);
  });
});

// ── R3 ──────────────────────────────────────────────────────────────────────────────────────

describe('R3: market and social measures are advisory, never mandatory', () => {
  it('the measures list the gateway serves marks every market and social measure advisory', async () => {
    const { measures } = dataOf<{ measures: MeasureValue[] }>(
      await federation.query('{ measures { code group binding legalBasis listTypes } }', undefined, CENTRAL_BANK),
      'measures',
    );
    assert.deepEqual(
      measures.map((measure) => measure.code),
      measuresList.map((measure) => measure.code),
    );
    const market = measures.filter((measure) => ADVISORY_GROUPS.has(measure.group as never));
    assert.ok(market.length > 0, 'the list has market and social measures');
    for (const measure of market) assert.equal(measure.binding, 'ADVISORY', measure.code);
    assert.deepEqual(
      [...new Set(measures.map((measure) => measure.group))].sort(),
      [...MEASURE_GROUPS].sort(),
      'all three groups are listed',
    );
  });

  it('applicable market and social measures come back advisory for every subject', async () => {
    const { subjects } = dataOf<{ subjects: { uscc: string; applicableMeasures: ApplicableValue[] }[] }>(
      await federation.query(
        `query All($first: Int!) { subjects(first: $first) { uscc ${APPLICABLE} } }`,
        { first: SUBJECTS },
        CENTRAL_BANK,
      ),
      'measures',
    );
    const market = subjects
      .flatMap((subject) => subject.applicableMeasures)
      .filter((entry) => entry.measure.group === 'MARKET_AND_SOCIAL');
    assert.ok(market.length > 0, 'some subjects have market and social measures');
    assert.deepEqual(
      market.filter((entry) => entry.measure.binding !== 'ADVISORY'),
      [],
    );
  });

  it('a measures list with a mandatory market or social measure is refused at its line and column', () => {
    const shipped = readFileSync(new URL('../schema/measures.yaml', import.meta.url), 'utf8');
    const start = shipped.indexOf('code: MS-MEDIA-REPORTING');
    const text = shipped.slice(0, start) + shipped.slice(start).replace('binding: ADVISORY', 'binding: MANDATORY');
    const result = parseMeasures('schema/measures.yaml', text);
    assert.equal(result.ok, false);
    const { line, column } = positionIn(text.slice(start), 'MANDATORY');
    const lineOfStart = text.slice(0, start).split('\n').length - 1;
    assert.deepEqual(result.ok ? [] : result.problems.map(formatProblem), [
      `schema/measures.yaml:${lineOfStart + line}:${column}: measure MS-MEDIA-REPORTING is a MARKET_AND_SOCIAL measure and must be ADVISORY (financial institutions, credit services, industry associations and media shall not be compelled to punish (R3))`,
    ]);
  });
});
