/**
 * Policy validation: every kind of problem is reported at the file, line and column of the text
 * that causes it, with a message and a hint a privacy officer can act on.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { buildApiSchema } from '../lib/policy/decision/api-schema.ts';
import { loadPolicyFromTexts } from '../lib/policy/loading/load-policy.ts';
import type { PolicyLoadResult } from '../lib/policy/loading/load-policy.ts';
import { formatProblem } from '../lib/policy/loading/problems.ts';
import type { PolicyProblem, ProblemCode } from '../lib/policy/loading/problems.ts';

const schema = buildApiSchema(readFileSync(new URL('../schema/supergraph.graphql', import.meta.url), 'utf8'));
const HASH = (digit: string): string => digit.repeat(64);
const JWKS = JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }] });

const CONSUMERS = `purposes:
  - id: ENFORCEMENT
    description: Enforcing judgments.
  - id: AUDIT
    description: Auditing.
consumers:
  - id: court
    name: Court
    purposes: [ENFORCEMENT]
    mode: reject
    credentials:
      apiKeys:
        - id: court-1
          sha256: "${HASH('a')}"
  - id: auditor
    name: Auditor
    purposes: [AUDIT, ENFORCEMENT]
    mode: filter
    credentials:
      apiKeys:
        - id: auditor-1
          sha256: "${HASH('b')}"
`;

const BASE_RULES = `rules:
  - id: lookup
    description: Everyone may look a subject up.
    consumers: [court, auditor]
    allow: [Query.subject, Subject.name]
`;

function load(files: Record<string, string>): PolicyLoadResult {
  return loadPolicyFromTexts(
    new Map(Object.entries({ 'consumers.yaml': CONSUMERS, 'rules.yaml': BASE_RULES, ...files })),
    schema,
    {
      readReferencedFile: (path) => (path === 'keys/idp.jwks.json' ? JWKS : undefined),
    },
  );
}

function errors(result: PolicyLoadResult): PolicyProblem[] {
  assert.equal(result.ok, false, 'expected the policy to be refused');
  return result.ok ? [] : result.errors;
}

/** The 1-based line and column of the nth occurrence of a text in a file. */
function at(text: string, needle: string, occurrence = 1): { line: number; column: number } {
  let index = -1;
  for (let i = 0; i < occurrence; i++) {
    index = text.indexOf(needle, index + 1);
    assert.ok(index >= 0, `"${needle}" occurs ${occurrence} time(s)`);
  }
  const before = text.slice(0, index).split('\n');
  return { line: before.length, column: before.at(-1)!.length + 1 };
}

/** Asserts exactly one problem with that code, at that place, and returns it. */
function expectProblem(
  problems: readonly PolicyProblem[],
  code: ProblemCode,
  file: string,
  place: { line: number; column: number },
  message: RegExp,
  hint?: RegExp,
): PolicyProblem {
  const found = problems.filter((problem) => problem.code === code);
  assert.equal(found.length, 1, `one ${code} problem, got:\n${problems.map(formatProblem).join('\n')}`);
  const problem = found[0]!;
  assert.deepEqual(
    { file: problem.file, line: problem.line, column: problem.column },
    { file, ...place },
    formatProblem(problem),
  );
  assert.match(problem.message, message);
  if (hint) assert.match(problem.hint ?? '', hint);
  return problem;
}

function rules(...bodies: string[]): string {
  return `rules:\n${bodies.join('')}`;
}

function rule(id: string, body: string): string {
  return `  - id: ${id}\n    description: A rule.\n${body}`;
}

describe('policy validation', () => {
  it('accepts the base policy', () => {
    const result = load({});
    assert.ok(result.ok, result.ok ? '' : result.errors.map(formatProblem).join('\n'));
  });

  it('reports YAML syntax errors with their position', () => {
    const text = 'rules:\n  - id: a\n   description: misaligned\n';
    const problem = errors(load({ 'rules.yaml': text }))[0]!;
    assert.equal(problem.code, 'yaml-syntax');
    assert.equal(problem.file, 'rules.yaml');
    assert.equal(problem.line, 3);
  });

  it('reports unknown keys with a suggestion, and missing keys', () => {
    const text = rules(rule('a', '    consumers: [court]\n    alow: [Subject.name]\n'));
    const problems = errors(load({ 'rules.yaml': text }));
    assert.ok(problems.every((problem) => problem.code === 'schema'));
    const unknown = problems.find((problem) => problem.message === 'unknown key "alow"');
    assert.deepEqual(unknown && { line: unknown.line, column: unknown.column, hint: unknown.hint }, {
      ...at(text, 'alow'),
      hint: 'did you mean allow?',
    });
    const missing = problems.find((problem) => problem.message === 'needs one of allow, deny, mask, records');
    assert.deepEqual(missing && { line: missing.line, column: missing.column }, at(text, 'id: a'));

    const noDescription = 'rules:\n  - id: a\n    consumers: [court]\n    allow: [Subject.name]\n';
    expectProblem(
      errors(load({ 'rules.yaml': noDescription })),
      'schema',
      'rules.yaml',
      at(noDescription, 'id: a'),
      /^missing "description"$/,
      /why this rule exists/i,
    );
  });

  it('refuses a rule with two effects', () => {
    const text = rules(rule('a', '    consumers: [court]\n    allow: [Subject.name]\n    deny: [Subject.status]\n'));
    expectProblem(
      errors(load({ 'rules.yaml': text })),
      'schema',
      'rules.yaml',
      at(text, 'id: a'),
      /has both allow and deny/,
      /split it/,
    );
  });

  it('refuses malformed field patterns and unknown masks', () => {
    const text = rules(
      rule('a', '    consumers: [court]\n    allow: [Subject]\n'),
      rule('b', '    consumers: [court]\n    mask: { LegalRepresentative.idNumber: ID_NUMBR }\n'),
    );
    const problems = errors(load({ 'rules.yaml': text }));
    const pattern = problems.find((problem) => problem.message === '"Subject" is not a valid field pattern');
    assert.deepEqual(pattern && { line: pattern.line, column: pattern.column }, at(text, 'Subject]'));
    const mask = problems.find((problem) => problem.message === '"ID_NUMBR" is not a known mask');
    assert.deepEqual(mask && { line: mask.line, column: mask.column, hint: mask.hint }, {
      ...at(text, 'ID_NUMBR'),
      hint: 'did you mean ID_NUMBER?',
    });
  });

  it('reports unknown types and fields with schema hints', () => {
    const text = rules(
      rule('a', '    consumers: [court]\n    allow: [Penalty.severity, AdministrativePenalty.sevrity]\n'),
    );
    const problems = errors(load({ 'rules.yaml': text }));
    expectProblem(
      problems,
      'unknown-type',
      'rules.yaml',
      at(text, 'Penalty.severity'),
      /^unknown type "Penalty"$/,
      /^did you mean AdministrativePenalty\.severity\?$/,
    );
    expectProblem(
      problems,
      'unknown-field',
      'rules.yaml',
      at(text, 'AdministrativePenalty.sevrity'),
      /AdministrativePenalty has no field "sevrity"/,
      /^did you mean AdministrativePenalty\.severity\?$/,
    );
  });

  it('refuses enums and scalars as field patterns', () => {
    const text = rules(rule('a', '    consumers: [court]\n    allow: [Severity.MINOR]\n'));
    expectProblem(
      errors(load({ 'rules.yaml': text })),
      'unknown-type',
      'rules.yaml',
      at(text, 'Severity.MINOR'),
      /Severity is an enum/,
    );
  });

  it('refuses masks on fields that are not text', () => {
    const text = rules(rule('a', '    consumers: [court]\n    mask:\n      AnnualReport.revenue: REDACT\n'));
    expectProblem(
      errors(load({ 'rules.yaml': text })),
      'mask-type',
      'rules.yaml',
      at(text, 'AnnualReport.revenue'),
      /mask REDACT cannot apply to AnnualReport\.revenue: it is Float!, not text/,
      /String and ID fields only/,
    );
    const wildcard = rules(rule('a', '    consumers: [court]\n    mask:\n      AnnualReport.*: REDACT\n'));
    expectProblem(
      errors(load({ 'rules.yaml': wildcard })),
      'mask-type',
      'rules.yaml',
      at(wildcard, 'AnnualReport.*'),
      /reaches fields that are not text: year \(Int!\)/,
    );
  });

  it('reports unknown consumers, groups and field sets in rules', () => {
    const text = `groups:\n  agencies: [court, nobody]\nfieldSets:\n  ids: [LegalRepresentative.idNumber]\n${rules(
      rule('a', '    consumers: [cour, agencies]\n    deny: [set:idz]\n'),
    )}`;
    const problems = errors(load({ 'rules.yaml': text }));
    expectProblem(
      problems.filter((problem) => problem.message.startsWith('unknown consumer or group')),
      'unknown-consumer',
      'rules.yaml',
      at(text, 'cour,'),
      /unknown consumer or group "cour"/,
      /did you mean court\?/,
    );
    expectProblem(
      problems.filter((problem) => problem.message === 'unknown consumer "nobody"'),
      'unknown-consumer',
      'rules.yaml',
      at(text, 'nobody'),
      /nobody/,
    );
    expectProblem(
      problems,
      'unknown-field-set',
      'rules.yaml',
      at(text, 'set:idz'),
      /unknown field set "idz"/,
      /did you mean ids\?/,
    );
  });

  it('refuses record rules on types that are not record types', () => {
    const text = rules(rule('a', '    consumers: [court]\n    records:\n      Subject: { history: true }\n'));
    expectProblem(
      errors(load({ 'rules.yaml': text })),
      'not-a-record-type',
      'rules.yaml',
      at(text, 'Subject:'),
      /Subject is not a record type/,
      /AdministrativePenalty/,
    );
  });

  it('refuses to deny or mask the federation key, and names why', () => {
    const text = rules(rule('a', '    consumers: [court]\n    deny: [Subject.uscc]\n'));
    expectProblem(
      errors(load({ 'rules.yaml': text })),
      'always-allowed',
      'rules.yaml',
      at(text, 'Subject.uscc'),
      /Subject\.uscc cannot be denied/,
      /public key every department joins on/,
    );
    const typename = rules(rule('a', '    consumers: [court]\n    deny: [Subject.__typename]\n'));
    expectProblem(
      errors(load({ 'rules.yaml': typename })),
      'always-allowed',
      'rules.yaml',
      at(typename, 'Subject.__typename'),
      /always allowed/,
    );
  });

  it('refuses federation internals as policy subjects', () => {
    const text = rules(rule('a', '    consumers: [court]\n    allow: [Query._entities]\n'));
    expectProblem(
      errors(load({ 'rules.yaml': text })),
      'not-a-policy-subject',
      'rules.yaml',
      at(text, 'Query._entities'),
      /federation machinery/,
    );
  });

  it('reports duplicate ids with the first definition', () => {
    const text = rules(
      rule('a', '    consumers: [court]\n    allow: [Subject.name]\n'),
      rule('a', '    consumers: [court]\n    allow: [Subject.status]\n'),
    );
    const second = at(text, 'id: a', 2);
    expectProblem(
      errors(load({ 'more.yaml': text })),
      'duplicate-id',
      'more.yaml',
      { line: second.line, column: second.column + 4 },
      /rule "a" is already defined at more\.yaml:2:9/,
    );
  });

  it('refuses purposes no consumer of the rule may use', () => {
    const text = rules(rule('a', '    consumers: [court]\n    purposes: [AUDIT]\n    allow: [Subject.status]\n'));
    expectProblem(
      errors(load({ 'rules.yaml': text })),
      'purpose-not-allowed',
      'rules.yaml',
      at(text, 'AUDIT'),
      /no consumer of rule "a" may use purpose AUDIT/,
      /court may use ENFORCEMENT/,
    );
    const unknown = rules(
      rule('a', '    consumers: [court]\n    purposes: [ENFORCMENT]\n    allow: [Subject.status]\n'),
    );
    expectProblem(
      errors(load({ 'rules.yaml': unknown })),
      'unknown-purpose',
      'rules.yaml',
      at(unknown, 'ENFORCMENT'),
      /unknown purpose/,
      /did you mean ENFORCEMENT\?/,
    );
  });

  it('checks consumers: purposes, default purpose, credentials, issuers', () => {
    const text = `purposes:
  - id: AUDIT
    description: Auditing.
issuers:
  - issuer: https://idp.example
    audience: credence
    jwksFile: keys/missing.json
consumers:
  - id: court
    name: Court
    purposes: [AUDIT, AUDITS]
    defaultPurpose: ENFORCEMENT
    mode: reject
  - id: auditor
    name: Auditor
    purposes: [AUDIT]
    mode: filter
    credentials:
      jwt:
        - issuer: https://idp.exampel
          subject: auditor
`;
    const problems = errors(load({ 'consumers.yaml': text, 'rules.yaml': 'rules: []\n' }));
    expectProblem(
      problems,
      'unknown-purpose',
      'consumers.yaml',
      at(text, 'AUDITS'),
      /unknown purpose "AUDITS"/,
      /did you mean AUDIT\?/,
    );
    expectProblem(
      problems,
      'default-purpose',
      'consumers.yaml',
      at(text, 'ENFORCEMENT'),
      /default purpose ENFORCEMENT is not one of the purposes of court/,
    );
    expectProblem(
      problems,
      'credentials',
      'consumers.yaml',
      at(text, 'id: court'),
      /consumer court has no credentials/,
      /new-key/,
    );
    expectProblem(
      problems,
      'unknown-issuer',
      'consumers.yaml',
      at(text, 'https://idp.exampel'),
      /unknown issuer/,
      /did you mean https:\/\/idp\.example\?/,
    );
    expectProblem(
      problems,
      'jwks',
      'consumers.yaml',
      at(text, 'keys/missing.json'),
      /keys\/missing\.json does not exist/,
    );
  });

  it('checks API keys: duplicates and dates', () => {
    const text = CONSUMERS.replace(
      `        - id: auditor-1\n          sha256: "${HASH('b')}"`,
      `        - id: auditor-1\n          sha256: "${HASH('a')}"\n          notBefore: 2026-03-01\n          notAfter: 2026-02-30`,
    );
    const problems = errors(load({ 'consumers.yaml': text }));
    expectProblem(
      problems.filter((problem) => problem.message.startsWith('the same key')),
      'credentials',
      'consumers.yaml',
      at(text, `"${HASH('a')}"`, 2),
      /already listed for court/,
    );
    expectProblem(problems, 'schema', 'consumers.yaml', at(text, '2026-02-30'), /"2026-02-30" is not a real date/);
  });

  it('accepts a consumer with a JWT credential whose issuer has a key set', () => {
    const text =
      `${CONSUMERS}issuers:\n  - issuer: https://idp.example\n    audience: credence\n    jwksFile: keys/idp.jwks.json\n`.replace(
        '    credentials:\n      apiKeys:\n        - id: court-1',
        '    credentials:\n      jwt:\n        - issuer: https://idp.example\n          subject: court\n      apiKeys:\n        - id: court-1',
      );
    const result = load({ 'consumers.yaml': text });
    assert.ok(result.ok, result.ok ? '' : result.errors.map(formatProblem).join('\n'));
    // The version carries the key set it was compiled with, so every instance checks tokens against the same keys.
    assert.deepEqual(result.policy.issuers, [
      {
        issuer: 'https://idp.example',
        audience: 'credence',
        jwksFile: 'keys/idp.jwks.json',
        jwks: '{"keys":[{"kty":"EC","crv":"P-256","x":"x","y":"y"}]}',
      },
    ]);
    assert.deepEqual(result.policy.consumers.get('court')?.jwt, [{ issuer: 'https://idp.example', subject: 'court' }]);
  });

  it('warns about unused groups and field sets and about fields no query can reach', () => {
    const withUnused = load({
      'rules.yaml': `groups:\n  spare: [court]\nfieldSets:\n  spare-fields: [Subject.name]\n${BASE_RULES}${rule('reps', '    consumers: [court]\n    allow: [LegalRepresentative.name]\n')}`,
    });
    assert.ok(withUnused.ok);
    const codes = withUnused.warnings.map((warning) => `${warning.code}: ${warning.message}`);
    assert.ok(codes.includes('unused: group "spare" is not used by any rule'), codes.join('\n'));
    assert.ok(codes.includes('unused: field set "spare-fields" is not used by any rule'), codes.join('\n'));
    const unreachable = withUnused.warnings.find((warning) => warning.code === 'unreachable');
    assert.match(
      unreachable?.message ?? '',
      /no visible field leads to LegalRepresentative for court under ENFORCEMENT/,
    );
    assert.match(unreachable?.hint ?? '', /Subject\.legalRepresentative/);
  });
});

describe('conflicts', () => {
  it('refuses a field both allowed and denied for the same consumer and purpose, naming both rules', () => {
    const text = rules(
      rule('show-phone', '    consumers: [court]\n    allow: [LegalRepresentative.phone]\n'),
      rule('hide-phone', '    consumers: [court, auditor]\n    deny: [LegalRepresentative.phone]\n'),
    );
    const problem = expectProblem(
      errors(load({ 'rules.yaml': text })),
      'conflict',
      'rules.yaml',
      at(text, 'LegalRepresentative.phone', 2),
      /rule "hide-phone" denies LegalRepresentative\.phone; rule "show-phone" \(rules\.yaml:5:13\) allows it; for court under ENFORCEMENT$/,
    );
    assert.match(problem.hint ?? '', /remove one, or narrow the consumers or purposes/);
  });

  it('refuses two different masks on one field', () => {
    const text = rules(
      rule('a', '    consumers: [court]\n    mask: { LegalRepresentative.idNumber: ID_NUMBER }\n'),
      rule('b', '    consumers: [court]\n    mask: { LegalRepresentative.idNumber: REDACT }\n'),
    );
    expectProblem(
      errors(load({ 'rules.yaml': text })),
      'conflict',
      'rules.yaml',
      at(text, 'LegalRepresentative.idNumber', 2),
      /masks LegalRepresentative\.idNumber with REDACT; rule "a" .* masks it with ID_NUMBER/,
    );
  });

  it('refuses allowing and masking the same field (no hidden precedence)', () => {
    const text = rules(
      rule('a', '    consumers: [court]\n    allow: [LegalRepresentative.idNumber]\n'),
      rule('b', '    consumers: [court]\n    mask: { LegalRepresentative.idNumber: ID_NUMBER }\n'),
    );
    expectProblem(
      errors(load({ 'rules.yaml': text })),
      'conflict',
      'rules.yaml',
      at(text, 'LegalRepresentative.idNumber', 2),
      /masks LegalRepresentative\.idNumber with ID_NUMBER/,
    );
  });

  it('refuses two wildcards that disagree, once for all their fields', () => {
    const text = rules(
      rule('a', '    consumers: [court]\n    allow: [LegalRepresentative.*]\n'),
      rule('b', '    consumers: [court]\n    deny: [LegalRepresentative.*]\n'),
    );
    const problem = expectProblem(
      errors(load({ 'rules.yaml': text })),
      'conflict',
      'rules.yaml',
      at(text, 'LegalRepresentative.*', 2),
      /denies LegalRepresentative\.name, LegalRepresentative\.idNumber, LegalRepresentative\.phone/,
    );
    assert.match(problem.hint ?? '', /specific Type\.field pattern overrides a Type\.\* wildcard/);
  });

  it('sees conflicts through groups and field sets', () => {
    const text = `groups:\n  courts: [court]\nfieldSets:\n  contact: [LegalRepresentative.phone]\n${rules(
      rule('a', '    consumers: [courts]\n    allow: [set:contact]\n'),
      rule('b', '    consumers: [court]\n    deny: [LegalRepresentative.phone]\n'),
    )}`;
    expectProblem(
      errors(load({ 'rules.yaml': text })),
      'conflict',
      'rules.yaml',
      at(text, 'LegalRepresentative.phone', 2),
      /rule "b" denies .*rule "a" \(rules\.yaml:\d+:\d+\) allows it/,
    );
  });

  it('does not see a conflict across purposes or consumers', () => {
    const text = rules(
      rule('a', '    consumers: [auditor]\n    purposes: [AUDIT]\n    allow: [Subject.status]\n'),
      rule('b', '    consumers: [auditor]\n    purposes: [ENFORCEMENT]\n    deny: [Subject.status]\n'),
      rule('c', '    consumers: [court]\n    allow: [Subject.status]\n'),
    );
    const result = load({ 'rules.yaml': text });
    assert.ok(result.ok, result.ok ? '' : result.errors.map(formatProblem).join('\n'));
  });

  it('refuses two record rules for the same type, consumer and purpose', () => {
    const text = rules(
      rule('a', '    consumers: [court]\n    records: { AdministrativePenalty: { history: true } }\n'),
      rule('b', '    consumers: [court, auditor]\n    records: { AdministrativePenalty: { history: true } }\n'),
    );
    expectProblem(
      errors(load({ 'rules.yaml': text })),
      'record-conflict',
      'rules.yaml',
      at(text, 'AdministrativePenalty', 2),
      /rule "b" sets which AdministrativePenalty records are visible, as rule "a" does/,
    );
  });
});
