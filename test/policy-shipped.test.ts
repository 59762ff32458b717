/**
 * The policy shipped in policies/: it validates against the shipped supergraph without warnings,
 * it says what the consumer matrix of the domain says, and the files beside it are in step with it.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { hashApiKey } from '../lib/identity/api-keys.ts';
import { buildApiSchema, policyFields, policyTypes } from '../lib/policy/decision/api-schema.ts';
import { generatedJsonSchemaFiles } from '../lib/policy/officers/json-schema.ts';
import { loadPolicy } from '../lib/policy/loading/load-policy.ts';
import type { CompiledPolicy, ConsumerView } from '../lib/policy/decision/model.ts';
import { formatProblem } from '../lib/policy/loading/problems.ts';
import { RECORD_TYPES } from '../lib/policy/decision/records.ts';

const POLICIES = fileURLToPath(new URL('../policies/', import.meta.url));
const schema = buildApiSchema(readFileSync(new URL('../schema/supergraph.graphql', import.meta.url), 'utf8'));

describe('the shipped policy', () => {
  let policy: CompiledPolicy;
  const view = (consumer: string, purpose: string): ConsumerView => {
    const found = policy.view(consumer, purpose);
    assert.ok(found, `${consumer} may use ${purpose}`);
    return found;
  };
  const effect = (v: ConsumerView, coordinate: string): string => {
    const [typeName, fieldName] = coordinate.split('.') as [string, string];
    const decision = v.field(typeName, fieldName);
    return decision.effect === 'mask' ? `mask ${decision.mask ?? ''}` : decision.effect;
  };

  before(async () => {
    const result = await loadPolicy(POLICIES, schema);
    assert.ok(result.ok, result.ok ? '' : result.errors.map(formatProblem).join('\n'));
    assert.deepEqual(result.warnings.map(formatProblem), []);
    policy = result.policy;
  });

  it('validates against the shipped supergraph, without warnings', () => {
    assert.match(policy.version, /^[0-9a-f]{16}$/);
    assert.deepEqual(
      [...policy.consumers.keys()],
      [
        'public-portal',
        'procurement-centre',
        'court-enforcement',
        'tax-bureau',
        'central-bank',
        'privacy-office',
        'privacy-office-reviewer',
        'ecology-bureau',
        'drug-administration',
        'market-regulation-bureau',
        'people-court',
        'tax-inspection',
        'restoration-desk',
      ],
    );
  });

  it('public portal: public fields, ID numbers masked, no phones, no trade secrets, disclosure windows', () => {
    const portal = view('public-portal', 'PUBLIC_DISCLOSURE');
    assert.equal(policy.consumers.get('public-portal')?.mode, 'filter');
    assert.equal(effect(portal, 'LegalRepresentative.idNumber'), 'mask ID_NUMBER');
    assert.equal(effect(portal, 'IndividualDebtor.idNumber'), 'mask ID_NUMBER');
    assert.equal(effect(portal, 'LegalRepresentative.phone'), 'deny');
    assert.equal(effect(portal, 'IndividualDebtor.phone'), 'deny');
    assert.equal(effect(portal, 'AnnualReport.revenue'), 'deny');
    assert.equal(effect(portal, 'TaxPayment.amount'), 'deny');
    for (const field of [
      'Query.subject',
      'Subject.name',
      'Subject.status',
      'SeriousDishonestyListing.basis',
      'AdministrativePenalty.severity',
    ]) {
      assert.equal(effect(portal, field), 'allow', field);
    }
    for (const typeName of Object.keys(RECORD_TYPES)) {
      assert.deepEqual(
        { ...portal.records(typeName), ruleId: null },
        { ruleId: null, history: false, disclosureWindow: true },
        typeName,
      );
    }
  });

  it('procurement centre: serious listings with basis documents, no personal ID numbers, no financials', () => {
    const procurement = view('procurement-centre', 'BIDDER_ELIGIBILITY');
    for (const field of [
      'SeriousDishonestyListing.listType',
      'SeriousDishonestyListing.basis',
      'BasisDocument.number',
      'BasisDocument.issuedBy',
      'AdministrativePenalty.severity',
      'Subject.name',
    ]) {
      assert.equal(effect(procurement, field), 'allow', field);
    }
    for (const field of [
      'LegalRepresentative.idNumber',
      'IndividualDebtor.idNumber',
      'AnnualReport.revenue',
      'AnnualReport.profit',
      'TaxPayment.amount',
    ]) {
      assert.equal(effect(procurement, field), 'deny', field);
    }
    assert.equal(procurement.records('SeriousDishonestyListing').history, false);
  });

  it('court enforcement: identity and contact, debtor details, history; never tax paid or financials', () => {
    const court = view('court-enforcement', 'ENFORCEMENT');
    for (const field of [
      'LegalRepresentative.name',
      'LegalRepresentative.idNumber',
      'LegalRepresentative.phone',
      'IndividualDebtor.idNumber',
      'IndividualDebtor.phone',
      'DishonestDebtorEntry.obligation',
    ]) {
      assert.equal(effect(court, field), 'allow', field);
    }
    for (const field of ['TaxPayment.amount', 'Subject.taxPayments', 'AnnualReport.revenue', 'Subject.annualReports']) {
      assert.equal(effect(court, field), 'deny', field);
    }
    for (const typeName of [
      'DishonestDebtorEntry',
      'ConsumptionRestrictionOrder',
      'SeriousDishonestyListing',
      'AbnormalOperationEntry',
    ]) {
      assert.equal(court.records(typeName).history, true, typeName);
    }
    assert.deepEqual(policy.consumers.get('court-enforcement')?.jwt, [
      { issuer: 'https://idp.court.example', subject: 'court-enforcement' },
    ]);
  });

  it('tax bureau: tax records with amounts and tax paid, registry data; no court personal details', () => {
    const tax = view('tax-bureau', 'TAX_ADMINISTRATION');
    for (const field of [
      'TaxViolationCase.amountInvolved',
      'TaxViolationCase.penaltyAmount',
      'TaxPayment.amount',
      'TaxCreditRating.rating',
      'Subject.registeredCapital',
      'LegalRepresentative.name',
    ]) {
      assert.equal(effect(tax, field), 'allow', field);
    }
    for (const field of [
      'IndividualDebtor.name',
      'IndividualDebtor.idNumber',
      'IndividualDebtor.phone',
      'DishonestDebtorEntry.responsiblePerson',
    ]) {
      assert.equal(effect(tax, field), 'deny', field);
    }
  });

  it('central bank: lists and penalties currently shared, no restored records, no personal ID numbers', () => {
    const bank = view('central-bank', 'CREDIT_ASSESSMENT');
    for (const field of [
      'SeriousDishonestyListing.listType',
      'AdministrativePenalty.fineAmount',
      'DishonestDebtorEntry.caseNumber',
      'AbnormalOperationEntry.reason',
    ]) {
      assert.equal(effect(bank, field), 'allow', field);
    }
    assert.equal(effect(bank, 'LegalRepresentative.idNumber'), 'deny');
    assert.equal(effect(bank, 'IndividualDebtor.idNumber'), 'deny');
    for (const typeName of Object.keys(RECORD_TYPES)) {
      assert.equal(bank.records(typeName).history, false, `${typeName}: restored records are no longer shared`);
    }
  });

  it('privacy office: the whole access log and no business field at all', () => {
    const office = view('privacy-office', 'AUDIT');
    const accessLog = (coordinate: string): boolean =>
      /^(AccessLogPage|AccessRecord|AccessRecordConnection|AccessRecordEdge|AccessedFields|SubjectAccessReport|PageInfo)\.|^Query\.(accessLog|accessRecords|subjectAccessReport)$/.test(
        coordinate,
      );
    const fields = policyTypes(schema).flatMap((type) =>
      policyFields(type).map((field) => ({
        coordinate: `${type.name}.${field.name}`,
        effect: office.field(type.name, field.name).effect,
      })),
    );
    assert.deepEqual(
      fields
        .filter(({ coordinate, effect }) => !accessLog(coordinate) && effect !== 'deny')
        .map(({ coordinate }) => coordinate),
      ['Query.subject', 'Subject.uscc'],
    );
    const logFields = fields.filter(({ coordinate }) => accessLog(coordinate));
    assert.ok(logFields.length >= 25);
    assert.deepEqual(
      logFields.filter(({ effect }) => effect !== 'allow'),
      [],
    );
  });

  it("officers: the privacy office's two consumers hold the officer role, and nobody else does", () => {
    const officers = [...policy.consumers.values()]
      .filter((consumer) => consumer.roles?.includes('officer'))
      .map((consumer) => consumer.id);
    assert.deepEqual(officers, ['privacy-office', 'privacy-office-reviewer']);
    assert.deepEqual(view('privacy-office-reviewer', 'AUDIT').field('Query', 'accessLog').effect, 'allow');
  });

  it('nobody but the privacy office sees the access log', () => {
    for (const [consumer, purpose] of [
      ['public-portal', 'PUBLIC_DISCLOSURE'],
      ['procurement-centre', 'BIDDER_ELIGIBILITY'],
      ['court-enforcement', 'ENFORCEMENT'],
      ['tax-bureau', 'TAX_ADMINISTRATION'],
      ['central-bank', 'CREDIT_ASSESSMENT'],
    ] as const) {
      for (const field of ['accessLog', 'subjectAccessReport'])
        assert.equal(effect(view(consumer, purpose), `Query.${field}`), 'deny', `${consumer} ${field}`);
    }
  });

  it('refuses every purpose a consumer has not declared', () => {
    assert.equal(policy.view('public-portal', 'ENFORCEMENT'), undefined);
    assert.equal(policy.view('tax-bureau', 'CREDIT_ASSESSMENT'), undefined);
  });
});

describe('files beside the policy', () => {
  it('the JSON Schemas are current (run `npm run policy -- schema` after changing the SDL)', () => {
    for (const [name, text] of Object.entries(generatedJsonSchemaFiles(schema))) {
      assert.equal(readFileSync(`${POLICIES}${name}`, 'utf8'), text, name);
    }
  });

  it('every YAML file names its JSON Schema on its first line, so that editors validate it', () => {
    const files = [
      ...readdirSync(POLICIES)
        .filter((name) => name.endsWith('.yaml'))
        .map((name) => [name, './policy.schema.json']),
      ...readdirSync(`${POLICIES}tests`)
        .filter((name) => name.endsWith('.yaml'))
        .map((name) => [`tests/${name}`, '../policy-test.schema.json']),
    ];
    assert.ok(files.length >= 8);
    for (const [name, schemaPath] of files) {
      assert.equal(
        readFileSync(`${POLICIES}${name!}`, 'utf8').split('\n')[0],
        `# yaml-language-server: $schema=${schemaPath!}`,
        name,
      );
    }
  });

  it('the demo keys in demo-keys.md are the keys whose hashes consumers.yaml holds', async () => {
    const result = await loadPolicy(POLICIES, schema);
    assert.ok(result.ok);
    const rows = [
      ...readFileSync(`${POLICIES}demo-keys.md`, 'utf8').matchAll(
        /^\| ([a-z-]+) \| ([a-z0-9-]+) \| `(cred_[A-Za-z0-9_-]+)` \|$/gm,
      ),
    ];
    const listed = [...result.policy.consumers.values()].flatMap((consumer) =>
      consumer.apiKeys.map((key) => `${consumer.id} ${key.id} ${key.sha256}`),
    );
    assert.deepEqual(
      rows.map(([, consumer, id, key]) => `${consumer!} ${id!} ${hashApiKey(key!)}`).sort(),
      listed.sort(),
    );
  });

  it('the issuer key set holds a public key only', () => {
    const jwks = JSON.parse(readFileSync(`${POLICIES}keys/court-idp.jwks.json`, 'utf8')) as {
      keys: Record<string, unknown>[];
    };
    assert.equal(jwks.keys.length, 1);
    assert.equal(jwks.keys[0]?.['d'], undefined);
    assert.equal(jwks.keys[0]?.['alg'], 'ES256');
  });
});
