/**
 * Compilation: the views enforcement reads. Deny by default, the always-allowed key, wildcard
 * precedence, purposes and groups, record rules, consumers and the policy version.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { buildApiSchema, policyFields, policyTypes } from '../lib/policy/decision/api-schema.ts';
import { ALWAYS_ALLOWED_RULE_ID, policyVersion } from '../lib/policy/decision/compile.ts';
import { loadPolicyFromTexts } from '../lib/policy/loading/load-policy.ts';
import type { CompiledPolicy } from '../lib/policy/decision/model.ts';
import { DEFAULT_RECORD_RULE } from '../lib/policy/decision/model.ts';
import { formatProblem } from '../lib/policy/loading/problems.ts';

const schema = buildApiSchema(readFileSync(new URL('../schema/supergraph.graphql', import.meta.url), 'utf8'));

const CONSUMERS = `purposes:
  - id: ENFORCEMENT
    description: Enforcing judgments.
  - id: AUDIT
    description: Auditing.
consumers:
  - id: court
    name: Court
    purposes: [ENFORCEMENT]
    defaultPurpose: ENFORCEMENT
    mode: reject
    credentials:
      apiKeys:
        - id: court-1
          sha256: "${'a'.repeat(64)}"
          notBefore: 2026-01-01
          notAfter: 2026-12-31T18:00:00+08:00
        - id: court-0
          sha256: "${'c'.repeat(64)}"
          revoked: true
  - id: auditor
    name: Auditor
    purposes: [AUDIT, ENFORCEMENT]
    mode: filter
    anonymous: true
`;

const RULES = `groups:
  everyone: [court, auditor]
fieldSets:
  identity: [Query.subject, Subject.name, Subject.status]
rules:
  - id: identity
    description: Who the subject is.
    consumers: [everyone]
    allow: [set:identity, Subject.legalRepresentative]
  - id: rep-all
    description: The legal representative, in full...
    consumers: [court]
    allow: [LegalRepresentative.*]
  - id: rep-no-phone
    description: ...but not the phone (the specific pattern overrides the wildcard).
    consumers: [court]
    deny: [LegalRepresentative.phone]
  - id: rep-masked
    description: Auditors see names masked, under either purpose.
    consumers: [auditor]
    mask:
      LegalRepresentative.name: NAME
  - id: no-subject-data
    description: Auditing shows nothing of the subject...
    consumers: [auditor]
    purposes: [AUDIT]
    deny: [Subject.*]
  - id: audit-name
    description: ...but its address.
    consumers: [auditor]
    purposes: [AUDIT]
    allow: [Subject.address]
  - id: court-history
    description: Courts see history.
    consumers: [court]
    records:
      AdministrativePenalty: { history: true }
`;

function compile(rules = RULES, consumers = CONSUMERS): CompiledPolicy {
  const result = loadPolicyFromTexts(
    new Map([
      ['consumers.yaml', consumers],
      ['rules.yaml', rules],
    ]),
    schema,
  );
  assert.ok(result.ok, result.ok ? '' : result.errors.map(formatProblem).join('\n'));
  return result.policy;
}

describe('compiled views', () => {
  const policy = compile();
  const court = policy.view('court', 'ENFORCEMENT')!;
  const audit = policy.view('auditor', 'AUDIT')!;
  const auditEnforcement = policy.view('auditor', 'ENFORCEMENT')!;

  it('has one view per consumer and allowed purpose, and none otherwise', () => {
    assert.equal(court.key, 'court/ENFORCEMENT');
    assert.equal(court.consumer, 'court');
    assert.equal(court.purpose, 'ENFORCEMENT');
    assert.equal(policy.view('court', 'AUDIT'), undefined);
    assert.equal(policy.view('nobody', 'ENFORCEMENT'), undefined);
  });

  it('denies by default, with no rule id', () => {
    assert.deepEqual(court.field('Subject', 'address'), { effect: 'deny', ruleId: null });
    assert.deepEqual(court.field('AnnualReport', 'revenue'), { effect: 'deny', ruleId: null });
    assert.deepEqual(court.field('NoSuchType', 'name'), { effect: 'deny', ruleId: null });
    assert.deepEqual(court.field('Subject', 'noSuchField'), { effect: 'deny', ruleId: null });
  });

  it('always allows the federation key and __typename', () => {
    for (const view of [court, audit, auditEnforcement]) {
      assert.deepEqual(view.field('Subject', 'uscc'), { effect: 'allow', ruleId: ALWAYS_ALLOWED_RULE_ID });
      assert.equal(view.field('AnnualReport', '__typename').effect, 'allow');
    }
  });

  it('applies rules through groups and field sets', () => {
    assert.deepEqual(court.field('Query', 'subject'), { effect: 'allow', ruleId: 'identity' });
    assert.deepEqual(audit.field('Query', 'subject'), { effect: 'allow', ruleId: 'identity' });
    assert.deepEqual(auditEnforcement.field('Subject', 'status'), { effect: 'allow', ruleId: 'identity' });
  });

  it('lets a specific pattern override a wildcard, either way round', () => {
    assert.deepEqual(court.field('LegalRepresentative', 'idNumber'), { effect: 'allow', ruleId: 'rep-all' });
    assert.deepEqual(court.field('LegalRepresentative', 'phone'), { effect: 'deny', ruleId: 'rep-no-phone' });
    // Subject.* denied for AUDIT, Subject.address allowed: the specific allow wins.
    assert.deepEqual(audit.field('Subject', 'address'), { effect: 'allow', ruleId: 'audit-name' });
    assert.deepEqual(audit.field('Subject', 'establishedOn'), { effect: 'deny', ruleId: 'no-subject-data' });
  });

  it('masks', () => {
    assert.deepEqual(audit.field('LegalRepresentative', 'name'), {
      effect: 'mask',
      mask: 'NAME',
      ruleId: 'rep-masked',
    });
  });

  it('applies rules with purposes only under those purposes', () => {
    assert.deepEqual(auditEnforcement.field('Subject', 'address'), { effect: 'deny', ruleId: null });
    assert.deepEqual(
      audit.field('Subject', 'status'),
      { effect: 'allow', ruleId: 'identity' },
      'the specific allow beats the AUDIT wildcard deny',
    );
  });

  it('answers record rules, with the default for other types', () => {
    assert.deepEqual(court.records('AdministrativePenalty'), {
      ruleId: 'court-history',
      history: true,
      disclosureWindow: false,
    });
    assert.deepEqual(court.records('SeriousDishonestyListing'), DEFAULT_RECORD_RULE);
    assert.deepEqual(audit.records('AdministrativePenalty'), DEFAULT_RECORD_RULE);
  });

  it('decides every field of every type of the schema', () => {
    for (const type of policyTypes(schema)) {
      for (const field of policyFields(type)) {
        const decision = court.field(type.name, field.name);
        assert.ok(['allow', 'mask', 'deny'].includes(decision.effect));
      }
    }
  });

  it('hands out frozen decisions, so that no caller can change the policy', () => {
    assert.ok(Object.isFrozen(court.field('Subject', 'name')));
    assert.ok(Object.isFrozen(court.field('Subject', 'address')));
    assert.ok(Object.isFrozen(court.records('AdministrativePenalty')));
    assert.ok(Object.isFrozen(policy.consumers.get('court')));
  });

  it('compiles consumers and their credentials', () => {
    const consumer = policy.consumers.get('court')!;
    assert.equal(consumer.mode, 'reject');
    assert.equal(consumer.defaultPurpose, 'ENFORCEMENT');
    assert.deepEqual(consumer.purposes, ['ENFORCEMENT']);
    assert.equal(consumer.anonymous, false);
    assert.deepEqual(consumer.apiKeys, [
      {
        id: 'court-1',
        sha256: 'a'.repeat(64),
        notBefore: new Date('2026-01-01T00:00:00Z'),
        notAfter: new Date('2026-12-31T10:00:00Z'),
        revoked: false,
      },
      { id: 'court-0', sha256: 'c'.repeat(64), revoked: true },
    ]);
    const auditor = policy.consumers.get('auditor')!;
    assert.equal(auditor.anonymous, true);
    assert.equal(auditor.mode, 'filter');
    assert.deepEqual(auditor.apiKeys, []);
  });
});

describe('policy version', () => {
  it('is 16 hex digits, independent of the order files are given in', () => {
    const a = policyVersion(
      new Map([
        ['a.yaml', 'x: 1\n'],
        ['b.yaml', 'y: 2\n'],
      ]),
    );
    const b = policyVersion(
      new Map([
        ['b.yaml', 'y: 2\n'],
        ['a.yaml', 'x: 1\n'],
      ]),
    );
    assert.match(a, /^[0-9a-f]{16}$/);
    assert.equal(a, b);
  });

  it('changes with any change of content or file name', () => {
    const base = policyVersion(
      new Map([
        ['a.yaml', 'x: 1\n'],
        ['b.yaml', 'y: 2\n'],
      ]),
    );
    assert.notEqual(
      policyVersion(
        new Map([
          ['a.yaml', 'x: 1\n'],
          ['b.yaml', 'y: 3\n'],
        ]),
      ),
      base,
    );
    assert.notEqual(
      policyVersion(
        new Map([
          ['a.yaml', 'x: 1\n'],
          ['c.yaml', 'y: 2\n'],
        ]),
      ),
      base,
    );
    // The same bytes split differently between two files are a different policy.
    assert.notEqual(
      policyVersion(
        new Map([
          ['a.yaml', 'x: 1\ny'],
          ['b.yaml', ': 2\n'],
        ]),
      ),
      policyVersion(
        new Map([
          ['a.yaml', 'x: 1\n'],
          ['b.yaml', 'y: 2\n'],
        ]),
      ),
    );
  });

  it('is the version of the compiled policy, and a comment is a new version', () => {
    const policy = compile();
    assert.equal(
      policy.version,
      policyVersion(
        new Map([
          ['consumers.yaml', CONSUMERS],
          ['rules.yaml', RULES],
        ]),
      ),
    );
    assert.notEqual(compile(`${RULES}# reviewed\n`).version, policy.version);
  });
});
