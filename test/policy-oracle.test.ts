/**
 * The policy is right, not only applied: every cell of the compiled policy against the access
 * matrix written out by hand (test/oracle/access-matrix.yaml), the masks against literal outputs,
 * and the record rules at the day before, on and after each boundary, at dates written here.
 *
 * The compiled policy is the thing under test; the expectations come from the oracle and from
 * this file only.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildApiSchema, policyFields, policyTypes } from '../lib/policy/decision/api-schema.ts';
import { disclosureWindowsByRecordType, loadCatalog } from '../lib/policy/reference/catalog.ts';
import { loadPolicy } from '../lib/policy/loading/load-policy.ts';
import { applyMask } from '../lib/policy/decision/masks.ts';
import type { CompiledPolicy, MaskName, RecordRule } from '../lib/policy/decision/model.ts';
import { formatProblem } from '../lib/policy/loading/problems.ts';
import { isRecordVisible, RECORD_TYPES } from '../lib/policy/decision/records.ts';
import {
  isShownAsDescribed,
  maskedAsDescribed,
  ORACLE_CONSUMERS,
  ORACLE_MASKS,
  ORACLE_RECORD_TYPES,
  oracleView,
  windowDaysAsDescribed,
  type RecordRuleName,
} from './oracle/oracle.ts';

const POLICIES = fileURLToPath(new URL('../policies/', import.meta.url));
const schema = buildApiSchema(readFileSync(new URL('../schema/supergraph.graphql', import.meta.url), 'utf8'));
const EVERY_FIELD = policyTypes(schema).flatMap((type) =>
  policyFields(type).map((field) => [type.name, field.name] as const),
);

function ruleName(rule: RecordRule): RecordRuleName {
  if (rule.disclosureWindow) return 'public-window';
  return rule.history ? 'history' : 'current';
}

function described(effect: string, mask: string | undefined): string {
  return effect === 'mask' ? `masked ${mask ?? '?'}` : effect;
}

/** A UTC day written out. */
const day = (text: string): Date => new Date(`${text}T00:00:00Z`);

describe('the compiled policy against the hand-written access matrix', () => {
  let policy: CompiledPolicy;
  before(async () => {
    const result = await loadPolicy(POLICIES, schema);
    assert.ok(result.ok, result.ok ? '' : result.errors.map(formatProblem).join('\n'));
    policy = result.policy;
  });

  it("has exactly the matrix's consumers, each with its mode and purposes", () => {
    const compiled = [...policy.consumers.values()]
      .map((consumer) => `${consumer.id} ${consumer.mode} ${[...consumer.purposes].sort().join(',')}`)
      .sort();
    const expected = ORACLE_CONSUMERS.map(
      (consumer) => `${consumer.id} ${consumer.mode} ${[...consumer.purposes].sort().join(',')}`,
    ).sort();
    assert.deepEqual(compiled, expected);
  });

  it('decides every field of the schema, for every consumer and every purpose, as the matrix says', () => {
    const purposes = [
      ...new Set([...policy.consumers.values()].flatMap((consumer) => consumer.purposes)),
      'AN_UNDECLARED_PURPOSE',
    ];
    const differences: string[] = [];
    let cells = 0;
    for (const consumer of policy.consumers.keys()) {
      for (const purpose of purposes) {
        const compiled = policy.view(consumer, purpose);
        const expected = oracleView(consumer, purpose);
        if (!compiled || !expected) {
          if (compiled || expected)
            differences.push(
              `${consumer} / ${purpose}: policy ${compiled ? 'allows' : 'refuses'} the purpose, matrix ${expected ? 'allows' : 'refuses'} it`,
            );
          continue;
        }
        for (const [typeName, fieldName] of EVERY_FIELD) {
          cells += 1;
          const got = compiled.field(typeName, fieldName);
          const want = expected.field(typeName, fieldName);
          const gotText = described(got.effect, got.mask);
          const wantText = described(want.effect, want.mask);
          if (gotText !== wantText)
            differences.push(
              `${consumer} / ${purpose}: ${typeName}.${fieldName}: policy ${gotText} (${got.ruleId ?? 'default deny'}), matrix ${wantText}`,
            );
        }
      }
    }
    assert.deepEqual(differences, []);
    assert.ok(cells > 12 * 150, `every cell was compared (${cells})`);
  });

  it('gives every consumer the record rule the matrix gives it, for every record type', () => {
    assert.deepEqual(
      [...ORACLE_RECORD_TYPES].sort(),
      Object.keys(RECORD_TYPES).sort(),
      'the matrix describes every record type',
    );
    const differences: string[] = [];
    for (const consumer of ORACLE_CONSUMERS) {
      for (const purpose of consumer.purposes) {
        const compiled = policy.view(consumer.id, purpose);
        const expected = oracleView(consumer.id, purpose);
        assert.ok(compiled && expected);
        for (const type of ORACLE_RECORD_TYPES) {
          const got = ruleName(compiled.records(type));
          if (got !== expected.records(type))
            differences.push(`${consumer.id} / ${purpose}: ${type}: policy ${got}, matrix ${expected.records(type)}`);
        }
      }
    }
    assert.deepEqual(differences, []);
  });

  it('uses the disclosure windows the matrix gives, per record type and severity', () => {
    const windows = disclosureWindowsByRecordType(loadCatalog());
    for (const type of ORACLE_RECORD_TYPES) {
      const configured = windows.get(type);
      assert.ok(configured, `${type} has windows`);
      for (const severity of ['MINOR', 'GENERAL', 'SERIOUS']) {
        const record = { severity };
        const got: number | undefined = RECORD_TYPES[type]?.severityField
          ? configured.bySeverity[severity]
          : configured.default;
        assert.equal(got, windowDaysAsDescribed(type, record), `${type} (${severity})`);
      }
    }
  });
});

describe('masks, against literal outputs', () => {
  it('ID_NUMBER keeps the first and last 4 characters: 4101**********1234', () => {
    assert.equal(applyMask('ID_NUMBER', '410105199001011234'), '4101**********1234');
    assert.equal(applyMask('ID_NUMBER', '11010519491231002X'), '1101**********002X');
    assert.equal(applyMask('ID_NUMBER', '12345678'), '********');
  });

  it('PHONE keeps the first 3 and last 4 digits', () => {
    assert.equal(applyMask('PHONE', '13812345678'), '138****5678');
    assert.equal(applyMask('PHONE', '1234567'), '*******');
  });

  it('NAME keeps the surname only, REDACT nothing', () => {
    assert.equal(applyMask('NAME', '张伟'), '张*');
    assert.equal(applyMask('NAME', '欧阳娜娜'), '欧***');
    assert.equal(applyMask('REDACT', '91110000600037341L'), '***');
  });

  it('never returns the raw value, and null stays null', () => {
    for (const mask of ['ID_NUMBER', 'PHONE', 'NAME', 'REDACT'] as const) {
      assert.notEqual(applyMask(mask, '410105199001011234'), '410105199001011234', mask);
      assert.equal(applyMask(mask, null), null);
    }
  });

  it('every mask of the matrix gives its example, in the product and as the matrix describes it', () => {
    assert.deepEqual([...ORACLE_MASKS.keys()].sort(), ['ID_NUMBER', 'NAME', 'PHONE', 'REDACT']);
    for (const [mask, { from, to }] of ORACLE_MASKS) {
      assert.equal(applyMask(mask as MaskName, from), to, `${mask} (product)`);
      assert.equal(maskedAsDescribed(mask, from), to, `${mask} (matrix)`);
    }
  });
});

describe('record rules at their boundaries, on dates written here', () => {
  let policy: CompiledPolicy;
  before(async () => {
    const result = await loadPolicy(POLICIES, schema);
    assert.ok(result.ok);
    policy = result.policy;
  });
  const windows = (): ReturnType<typeof disclosureWindowsByRecordType> => disclosureWindowsByRecordType(loadCatalog());

  /** The product's answer and the matrix's, which must both be `expected`. */
  const check = (
    consumer: string,
    purpose: string,
    type: string,
    record: Record<string, unknown>,
    now: string,
    expected: boolean,
  ): void => {
    const view = policy.view(consumer, purpose);
    const oracle = oracleView(consumer, purpose);
    assert.ok(view && oracle);
    const at = day(now);
    assert.equal(
      isRecordVisible(type, record, view.records(type), at, windows().get(type)),
      expected,
      `${consumer}: ${type} ${JSON.stringify(record)} on ${now} (product)`,
    );
    assert.equal(
      isShownAsDescribed(type, record, oracle.records(type), at),
      expected,
      `${consumer}: ${type} ${JSON.stringify(record)} on ${now} (matrix)`,
    );
  };

  it('a GENERAL penalty decided 2025-03-01 is on public display through 2026-02-28 and gone on 2026-03-01', () => {
    const penalty = { decidedOn: '2025-03-01', severity: 'GENERAL', restoredOn: null };
    check('public-portal', 'PUBLIC_DISCLOSURE', 'AdministrativePenalty', penalty, '2025-03-01', true);
    check('public-portal', 'PUBLIC_DISCLOSURE', 'AdministrativePenalty', penalty, '2026-02-28', true);
    check('public-portal', 'PUBLIC_DISCLOSURE', 'AdministrativePenalty', penalty, '2026-03-01', false);
    check('public-portal', 'PUBLIC_DISCLOSURE', 'AdministrativePenalty', penalty, '2026-03-02', false);
    // Sharing with the central bank has no window: still shared after public display ends.
    check('central-bank', 'CREDIT_ASSESSMENT', 'AdministrativePenalty', penalty, '2026-03-02', true);
  });

  it('a SERIOUS penalty decided 2024-01-10 is displayed through 2027-01-08 (1095 days) and gone on 2027-01-09', () => {
    const penalty = { decidedOn: '2024-01-10', severity: 'SERIOUS', restoredOn: null };
    check('public-portal', 'PUBLIC_DISCLOSURE', 'AdministrativePenalty', penalty, '2027-01-08', true);
    check('public-portal', 'PUBLIC_DISCLOSURE', 'AdministrativePenalty', penalty, '2027-01-09', false);
    check('public-portal', 'PUBLIC_DISCLOSURE', 'AdministrativePenalty', penalty, '2027-01-10', false);
  });

  it('a MINOR penalty is never displayed, even on its decision day, yet shared as current', () => {
    const penalty = { decidedOn: '2026-05-01', severity: 'MINOR', restoredOn: null };
    check('public-portal', 'PUBLIC_DISCLOSURE', 'AdministrativePenalty', penalty, '2026-05-01', false);
    check('public-portal', 'PUBLIC_DISCLOSURE', 'AdministrativePenalty', penalty, '2026-05-02', false);
    check('public-portal', 'PUBLIC_DISCLOSURE', 'AdministrativePenalty', penalty, '2026-07-31', false);
    check('procurement-centre', 'BIDDER_ELIGIBILITY', 'AdministrativePenalty', penalty, '2026-05-02', true);
  });

  it('a penalty restored on 2026-06-15 is shared the day before and not on or after that day', () => {
    const penalty = { decidedOn: '2026-01-10', severity: 'GENERAL', restoredOn: '2026-06-15' };
    for (const [consumer, purpose] of [
      ['central-bank', 'CREDIT_ASSESSMENT'],
      ['procurement-centre', 'BIDDER_ELIGIBILITY'],
      ['public-portal', 'PUBLIC_DISCLOSURE'],
    ] as const) {
      check(consumer, purpose, 'AdministrativePenalty', penalty, '2026-06-14', true);
      check(consumer, purpose, 'AdministrativePenalty', penalty, '2026-06-15', false);
      check(consumer, purpose, 'AdministrativePenalty', penalty, '2026-06-16', false);
    }
  });

  it("a listing removed on 2026-04-20 leaves current views on that day and stays in the court's history", () => {
    const listing = { listedOn: '2025-01-05', removedOn: '2026-04-20', restoredOn: null };
    check('central-bank', 'CREDIT_ASSESSMENT', 'SeriousDishonestyListing', listing, '2026-04-19', true);
    check('central-bank', 'CREDIT_ASSESSMENT', 'SeriousDishonestyListing', listing, '2026-04-20', false);
    check('central-bank', 'CREDIT_ASSESSMENT', 'SeriousDishonestyListing', listing, '2026-04-21', false);
    check('public-portal', 'PUBLIC_DISCLOSURE', 'SeriousDishonestyListing', listing, '2026-04-19', true);
    check('public-portal', 'PUBLIC_DISCLOSURE', 'SeriousDishonestyListing', listing, '2026-04-20', false);
    for (const now of ['2026-04-19', '2026-04-20', '2026-04-21'])
      check('court-enforcement', 'ENFORCEMENT', 'SeriousDishonestyListing', listing, now, true);
  });

  it('a listing restored on 2026-08-01 is history for the court only', () => {
    const listing = { listedOn: '2025-02-01', removedOn: null, restoredOn: '2026-08-01' };
    check('procurement-centre', 'BIDDER_ELIGIBILITY', 'SeriousDishonestyListing', listing, '2026-07-31', true);
    check('procurement-centre', 'BIDDER_ELIGIBILITY', 'SeriousDishonestyListing', listing, '2026-08-01', false);
    check('procurement-centre', 'BIDDER_ELIGIBILITY', 'SeriousDishonestyListing', listing, '2026-08-02', false);
    check('court-enforcement', 'ENFORCEMENT', 'SeriousDishonestyListing', listing, '2026-08-02', true);
  });

  it('a debtor entry listed 2023-06-01 is displayed through 2026-05-30 (1095 days), gone on 2026-05-31, still shared', () => {
    const entry = { listedOn: '2023-06-01', removedOn: null };
    check('public-portal', 'PUBLIC_DISCLOSURE', 'DishonestDebtorEntry', entry, '2026-05-30', true);
    check('public-portal', 'PUBLIC_DISCLOSURE', 'DishonestDebtorEntry', entry, '2026-05-31', false);
    check('public-portal', 'PUBLIC_DISCLOSURE', 'DishonestDebtorEntry', entry, '2026-06-01', false);
    check('central-bank', 'CREDIT_ASSESSMENT', 'DishonestDebtorEntry', entry, '2026-06-01', true);
  });

  it('a consumption restriction lifted on 2026-03-10 and a tax case decided 2023-03-10 at their boundaries', () => {
    const order = { issuedOn: '2025-10-01', liftedOn: '2026-03-10' };
    check('central-bank', 'CREDIT_ASSESSMENT', 'ConsumptionRestrictionOrder', order, '2026-03-09', true);
    check('central-bank', 'CREDIT_ASSESSMENT', 'ConsumptionRestrictionOrder', order, '2026-03-10', false);
    check('court-enforcement', 'ENFORCEMENT', 'ConsumptionRestrictionOrder', order, '2026-03-11', true);
    const taxCase = { decidedOn: '2023-03-10' };
    check('public-portal', 'PUBLIC_DISCLOSURE', 'TaxViolationCase', taxCase, '2026-03-08', true);
    check('public-portal', 'PUBLIC_DISCLOSURE', 'TaxViolationCase', taxCase, '2026-03-09', false);
    check('public-portal', 'PUBLIC_DISCLOSURE', 'TaxViolationCase', taxCase, '2026-03-10', false);
    check('tax-bureau', 'TAX_ADMINISTRATION', 'TaxViolationCase', taxCase, '2026-03-10', true);
  });

  it('an abnormal-operations entry removed on 2026-09-09 leaves the portal that day', () => {
    const entry = { listedOn: '2026-01-01', removedOn: '2026-09-09' };
    check('public-portal', 'PUBLIC_DISCLOSURE', 'AbnormalOperationEntry', entry, '2026-09-08', true);
    check('public-portal', 'PUBLIC_DISCLOSURE', 'AbnormalOperationEntry', entry, '2026-09-09', false);
    check('court-enforcement', 'ENFORCEMENT', 'AbnormalOperationEntry', entry, '2026-09-10', true);
  });
});
