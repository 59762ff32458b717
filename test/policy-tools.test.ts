/**
 * The privacy officers' tools: coverage report, explain, diff (folders and git refs), policy
 * tests, new-key, and the `npm run policy` command line over them.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'graphql';
import { hashApiKey } from '../lib/identity/api-keys.ts';
import { buildApiSchema, policyFields, policyTypes } from '../lib/policy/decision/api-schema.ts';
import { coverageReport, formatCoverage } from '../lib/policy/officers/coverage.ts';
import { diffPolicies, formatPolicyDiff } from '../lib/policy/officers/diff.ts';
import { explainOperation, formatExplanation } from '../lib/policy/officers/explain.ts';
import { loadPolicy, readPolicyFilesAtGitRef } from '../lib/policy/loading/load-policy.ts';
import type { PolicyLoadResult } from '../lib/policy/loading/load-policy.ts';
import type { CompiledPolicy } from '../lib/policy/decision/model.ts';
import { main } from '../scripts/policy.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const POLICIES = join(ROOT, 'policies');
const schema = buildApiSchema(readFileSync(join(ROOT, 'schema/supergraph.graphql'), 'utf8'));

function ok(result: PolicyLoadResult): Extract<PolicyLoadResult, { ok: true }> {
  assert.ok(result.ok, result.ok ? '' : result.errors.map((error) => error.message).join('\n'));
  return result;
}

async function cli(args: string[], cwd = ROOT): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await main(args, {
    stdout: (text) => stdout.push(text),
    stderr: (text) => stderr.push(text),
    cwd,
    env: {},
  });
  return { code, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
}

/** A copy of the shipped policies folder to edit. */
function copyPolicies(): string {
  const dir = mkdtempSync(join(tmpdir(), 'credence-policies-'));
  cpSync(POLICIES, dir, { recursive: true });
  return dir;
}

function edit(path: string, from: string, to: string): void {
  const text = readFileSync(path, 'utf8');
  assert.ok(text.includes(from), `${path} contains ${from}`);
  writeFileSync(path, text.replace(from, to));
}

describe('policy tools', () => {
  let shipped: Extract<PolicyLoadResult, { ok: true }>;
  let policy: CompiledPolicy;
  const temporary: string[] = [];
  const scratch = (): string => {
    const dir = copyPolicies();
    temporary.push(dir);
    return dir;
  };

  before(async () => {
    shipped = ok(await loadPolicy(POLICIES, schema));
    policy = shipped.policy;
  });
  after(() => {
    for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
  });

  describe('coverage', () => {
    it('lists every field of the schema per consumer and purpose', () => {
      const report = coverageReport(policy, schema);
      // The six agencies of the matrix and the four department consumers that record and restore.
      assert.equal(report.length, 13);
      const portal = report.find((view) => view.consumer === 'public-portal')!;
      const representative = portal.types.find((type) => type.typeName === 'LegalRepresentative')!;
      assert.deepEqual(representative, {
        typeName: 'LegalRepresentative',
        visible: ['name'],
        masked: [{ field: 'idNumber', mask: 'ID_NUMBER' }],
        denied: ['phone'],
      });
      const fieldCount = portal.types.reduce(
        (sum, type) => sum + type.visible.length + type.masked.length + type.denied.length,
        0,
      );
      assert.equal(
        fieldCount,
        policyTypes(schema).reduce((sum, type) => sum + policyFields(type).length, 0),
      );
      assert.equal(portal.records.length, 6);
    });

    it('reads compactly: one line per type, grouped', () => {
      const text = formatCoverage(coverageReport(policy, schema));
      assert.match(text, /^public-portal \/ PUBLIC_DISCLOSURE \(filter mode\)$/m);
      assert.match(text, /^ {2}LegalRepresentative +visible: name \| masked: idNumber\(ID_NUMBER\) \| denied: phone$/m);
      assert.match(text, /^ {2}AnnualReport +all denied$/m);
      assert.match(
        text,
        /^ {4}AdministrativePenalty +current, inside the disclosure window \(portal-disclosure-window\)$/m,
      );
      assert.match(text, /^ {4}SeriousDishonestyListing +current and history \(court-history\)$/m);
    });
  });

  describe('explain', () => {
    const query = parse(`query Q($uscc: ID!) {
      subject(uscc: $uscc) {
        rep: legalRepresentative { name idNumber phone }
        ...Penalties
        registeredCapital
        restorationApplications { status }
      }
    }
    fragment Penalties on Subject { administrativePenalties { severity } }`);

    it('gives each field its outcome and the rule that decided, with "default deny" when none did', () => {
      const explanation = explainOperation(policy, schema, {
        consumer: 'public-portal',
        purpose: 'PUBLIC_DISCLOSURE',
        document: query,
      });
      assert.equal(explanation.kind, 'explained');
      if (explanation.kind !== 'explained') return;
      const byPath = new Map(explanation.fields.map((field) => [field.path, field]));
      assert.deepEqual(byPath.get('subject.rep.idNumber'), {
        path: 'subject.rep.idNumber',
        coordinate: 'LegalRepresentative.idNumber',
        effect: 'mask',
        mask: 'ID_NUMBER',
        ruleId: 'portal-masked-id-numbers',
      });
      assert.equal(byPath.get('subject.rep.phone')?.ruleId, 'portal-no-phones');
      assert.equal(byPath.get('subject.administrativePenalties.@.severity')?.effect, 'allow');
      assert.deepEqual(byPath.get('subject.restorationApplications'), {
        path: 'subject.restorationApplications',
        coordinate: 'Subject.restorationApplications',
        effect: 'deny',
        ruleId: null,
      });
      assert.deepEqual(explanation.records, [
        {
          typeName: 'AdministrativePenalty',
          rule: { ruleId: 'portal-disclosure-window', history: false, disclosureWindow: true },
        },
      ]);

      const text = formatExplanation(explanation, shipped.rules);
      assert.match(
        text,
        /subject\.rep\.idNumber +LegalRepresentative\.idNumber +masked ID_NUMBER +portal-masked-id-numbers \(rules\.yaml:\d+\)/,
      );
      assert.match(text, /subject\.restorationApplications +Subject\.restorationApplications +denied +default deny/);
      assert.match(text, /AdministrativePenalty +current, inside the disclosure window +portal-disclosure-window/);
      assert.match(
        text,
        /verdict: answered; 3 denied field\(s\) come back null with a FORBIDDEN error \(filter mode\)/,
      );
    });

    it('refuses a purpose the consumer may not use, and an invalid operation', () => {
      const refused = explainOperation(policy, schema, {
        consumer: 'tax-bureau',
        purpose: 'ENFORCEMENT',
        document: query,
      });
      assert.equal(refused.kind, 'refused');
      const invalid = explainOperation(policy, schema, {
        consumer: 'tax-bureau',
        purpose: 'TAX_ADMINISTRATION',
        document: parse('{ subject(uscc: "x") { nope } }'),
      });
      assert.equal(invalid.kind, 'invalid');
    });

    it('runs from the command line', async () => {
      const dir = scratch();
      writeFileSync(
        join(dir, 'q.graphql'),
        '{ subject(uscc: "91110000600037341L") { legalRepresentative { phone } taxPayments { amount } } }',
      );
      const court = await cli([
        'explain',
        '--dir',
        dir,
        '--consumer',
        'court-enforcement',
        '--purpose',
        'ENFORCEMENT',
        '--query',
        join(dir, 'q.graphql'),
      ]);
      assert.equal(court.code, 0, court.stderr);
      assert.match(
        court.stdout,
        /subject\.legalRepresentative\.phone +LegalRepresentative\.phone +visible +court-enforcement-fields/,
      );
      assert.match(court.stdout, /subject\.taxPayments +Subject\.taxPayments +denied +no-trade-secrets/);
      assert.match(court.stdout, /verdict: refused \(reject mode\): 2 denied field\(s\) requested/);
    });
  });

  describe('diff', () => {
    it('reports fields gained and lost, masks and record rules changed, consumer changes', async () => {
      const dir = scratch();
      edit(
        join(dir, 'rules.yaml'),
        '      set:personal-id-numbers: ID_NUMBER',
        '      LegalRepresentative.idNumber: REDACT\n      IndividualDebtor.idNumber: ID_NUMBER',
      );
      edit(
        join(dir, 'rules.yaml'),
        '      - TaxCreditRating.*\n      - set:trade-secrets',
        '      - TaxCreditRating.*',
      );
      edit(
        join(dir, 'rules.yaml'),
        '    purposes: [CREDIT_ASSESSMENT]\n    allow:\n      - set:subject-lookup',
        '    purposes: [CREDIT_ASSESSMENT]\n    allow:\n      - Subject.restorationApplications\n      - RestorationApplication.status\n      - set:subject-lookup',
      );
      edit(
        join(dir, 'rules.yaml'),
        '      AbnormalOperationEntry: { history: true, disclosureWindow: false }',
        '      AbnormalOperationEntry: { history: false, disclosureWindow: false }',
      );
      edit(join(dir, 'consumers.yaml'), '    mode: filter', '    mode: reject');
      const changed = ok(await loadPolicy(dir, schema));

      const diff = diffPolicies(policy, changed.policy, schema);
      assert.deepEqual(diff.consumers, [{ consumer: 'public-portal', changes: ['mode: filter -> reject'] }]);
      const byView = new Map(diff.views.map((view) => [`${view.consumer}/${view.purpose}`, view]));
      assert.deepEqual([...byView.keys()].sort(), [
        'central-bank/CREDIT_ASSESSMENT',
        'court-enforcement/ENFORCEMENT',
        'public-portal/PUBLIC_DISCLOSURE',
        'tax-bureau/TAX_ADMINISTRATION',
      ]);
      assert.deepEqual(byView.get('public-portal/PUBLIC_DISCLOSURE')?.masks, [
        { coordinate: 'LegalRepresentative.idNumber', from: 'ID_NUMBER', to: 'REDACT' },
      ]);
      assert.deepEqual(byView.get('tax-bureau/TAX_ADMINISTRATION')?.lost, [
        'AnnualReport.year',
        'AnnualReport.revenue',
        'AnnualReport.profit',
        'AnnualReport.totalAssets',
        'Subject.annualReports',
        'Subject.taxPayments',
        'TaxPayment.year',
        'TaxPayment.amount',
      ]);
      assert.deepEqual(byView.get('central-bank/CREDIT_ASSESSMENT')?.gained, [
        { coordinate: 'RestorationApplication.status' },
        { coordinate: 'Subject.restorationApplications' },
      ]);
      assert.deepEqual(byView.get('court-enforcement/ENFORCEMENT')?.records, [
        {
          typeName: 'AbnormalOperationEntry',
          from: { history: true, disclosureWindow: false },
          to: { history: false, disclosureWindow: false },
        },
      ]);

      const text = formatPolicyDiff(diff);
      assert.match(text, /^ {2}~ LegalRepresentative\.idNumber: ID_NUMBER -> REDACT$/m);
      assert.match(text, /^ {2}- TaxPayment\.amount$/m);
      assert.match(text, /^ {2}\+ Subject\.restorationApplications$/m);
      assert.match(text, /^ {2}~ AbnormalOperationEntry records: current and history -> current only$/m);

      const fromCli = await cli(['diff', POLICIES, dir]);
      assert.equal(fromCli.code, 0, fromCli.stderr);
      assert.ok(fromCli.stdout.endsWith(text));
      assert.match(formatPolicyDiff(diffPolicies(policy, policy, schema)), /no change in what any consumer sees/);
    });

    it('reads policies at git refs', async () => {
      // A scratch repository built with git plumbing: one commit with the shipped policies.
      const repo = mkdtempSync(join(tmpdir(), 'credence-policy-repo-'));
      temporary.push(repo);
      const git = (args: string[], input?: string): string =>
        execFileSync('git', args, {
          cwd: repo,
          encoding: 'utf8',
          input,
          env: {
            ...process.env,
            GIT_AUTHOR_NAME: 't',
            GIT_AUTHOR_EMAIL: 't@example',
            GIT_COMMITTER_NAME: 't',
            GIT_COMMITTER_EMAIL: 't@example',
          },
        }).trim();
      git(['init', '--quiet']);
      // A tree object per folder, bottom up: what `git add` and `git commit` would write.
      const tree = (folder: string): string =>
        git(
          ['mktree'],
          readdirSync(folder, { withFileTypes: true })
            .map((entry) => {
              const path = join(folder, entry.name);
              return entry.isDirectory()
                ? `040000 tree ${tree(path)}\t${entry.name}`
                : `100644 blob ${git(['hash-object', '-w', path])}\t${entry.name}`;
            })
            .join('\n'),
        );
      const policiesTree = tree(POLICIES);
      const root = git(['mktree'], `040000 tree ${policiesTree}\tpolicies`);
      git(['update-ref', 'refs/heads/main', git(['commit-tree', root, '-m', 'policies'])]);

      const texts = readPolicyFilesAtGitRef('main', { cwd: repo });
      assert.deepEqual(
        [...texts.keys()],
        [
          'consumers.yaml',
          'departments.yaml',
          'keys/court-idp.jwks.json',
          'policy-test.schema.json',
          'policy.schema.json',
          'rules.yaml',
        ],
      );
      assert.throws(() => readPolicyFilesAtGitRef('no-such-ref', { cwd: repo }), /not a git commit/);

      const same = await cli(['diff', 'main', '--dir', POLICIES], repo);
      assert.equal(same.code, 0, same.stderr);
      assert.match(
        same.stdout,
        new RegExp(`policy ${policy.version} -> ${policy.version}\nno change in what any consumer sees`),
      );
    });
  });

  describe('policy tests', () => {
    it('pass on the shipped policy, one file per consumer of the matrix', async () => {
      const result = await cli(['test']);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      for (const consumer of [
        'public-portal',
        'procurement-centre',
        'court-enforcement',
        'tax-bureau',
        'central-bank',
        'privacy-office',
      ]) {
        assert.match(result.stdout, new RegExp(`^pass {2}${consumer} /`, 'm'));
      }
      assert.match(result.stdout, /\d+ passed, 0 failed$/);
    });

    it('fail, with the difference, when a case expects something the policy does not say', async () => {
      const dir = scratch();
      edit(
        join(dir, 'tests/public-portal.yaml'),
        '    denied: [LegalRepresentative.phone]',
        '    denied: []\n    # deliberately wrong: the portal never sees phones',
      );
      edit(
        join(dir, 'tests/public-portal.yaml'),
        '    masked: { LegalRepresentative.idNumber: ID_NUMBER }',
        '    masked: { LegalRepresentative.idNumber: REDACT, LegalRepresentative.phone: PHONE }',
      );
      const result = await cli(['test', '--dir', dir]);
      assert.equal(result.code, 1);
      assert.match(
        result.stdout,
        /^FAIL {2}public-portal \/ PUBLIC_DISCLOSURE: registry data is public.* \(tests\/public-portal\.yaml:9\)$/m,
      );
      assert.match(
        result.stdout,
        /^ {8}LegalRepresentative\.idNumber: expected masked REDACT, got masked ID_NUMBER \(portal-masked-id-numbers\)$/m,
      );
      assert.match(
        result.stdout,
        /^ {8}LegalRepresentative\.phone: expected masked PHONE, got denied \(portal-no-phones\)$/m,
      );
      assert.match(result.stdout, /1 failed$/);
    });

    it('report malformed test files with their position', async () => {
      const dir = scratch();
      writeFileSync(
        join(dir, 'tests/broken.yaml'),
        'cases:\n  - name: no consumer\n    query: "{ subjects { uscc } }"\n    visble: []\n',
      );
      const result = await cli(['test', '--dir', dir]);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /^tests\/broken\.yaml:4:5: unknown key "visble" \(did you mean visible\?\)$/m);
    });

    it('exit with the npm script too', () => {
      const run = spawnSync(process.execPath, [join(ROOT, 'scripts/policy.ts'), 'test'], {
        encoding: 'utf8',
        cwd: ROOT,
      });
      assert.equal(run.status, 0, run.stdout + run.stderr);
      const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
        scripts: Record<string, string>;
      };
      assert.equal(manifest.scripts['policy'], 'node scripts/policy.ts');
    });
  });

  describe('validate', () => {
    it('prints the version and the coverage report of a valid policy', async () => {
      const result = await cli(['validate']);
      assert.equal(result.code, 0, result.stderr);
      assert.match(
        result.stdout,
        new RegExp(`^policy ${policy.version} is valid: 13 consumers, \\d+ rules, 0 warning\\(s\\)`),
      );
      assert.match(result.stdout, /^privacy-office \/ AUDIT \(reject mode\)$/m);
      const json = JSON.parse((await cli(['validate', '--json'])).stdout) as {
        ok: boolean;
        version: string;
        coverage: unknown[];
      };
      assert.deepEqual([json.ok, json.version, json.coverage.length], [true, policy.version, 13]);
    });

    it('prints file:line:col errors and exits 1 on an invalid policy', async () => {
      const dir = scratch();
      edit(join(dir, 'rules.yaml'), '    deny: [set:phone-numbers]', '    deny: [set:phone-numbers, Subject.uscc]');
      const result = await cli(['validate', '--dir', dir]);
      assert.equal(result.code, 1);
      assert.match(
        result.stderr,
        /^rules\.yaml:\d+:31: Subject\.uscc cannot be denied \(it is the public key every department joins on/m,
      );
      const json = JSON.parse((await cli(['validate', '--dir', dir, '--json'])).stdout) as {
        ok: boolean;
        errors: { code: string }[];
      };
      assert.deepEqual([json.ok, json.errors.map((error) => error.code)], [false, ['always-allowed']]);
    });

    it('explains how to call it', async () => {
      const result = await cli(['frobnicate']);
      assert.equal(result.code, 2);
      assert.match(result.stderr, /unknown command "frobnicate"[\s\S]*usage: npm run policy/);
    });
  });

  describe('new-key', () => {
    it('prints a fresh key and the sha256 line that matches it', async () => {
      const result = await cli(['new-key', 'tax-bureau']);
      assert.equal(result.code, 0, result.stderr);
      const key = /^ {2}(cred_[A-Za-z0-9_-]{43})$/m.exec(result.stdout)?.[1];
      const sha256 = /sha256: "([0-9a-f]{64})"/.exec(result.stdout)?.[1];
      assert.ok(key && sha256);
      assert.equal(hashApiKey(key), sha256);
      assert.match(result.stdout, /notAfter/);
      assert.equal(result.stderr, '');
      const other = await cli(['new-key', 'tax-bureau']);
      assert.ok(!other.stdout.includes(key), 'every key is new');
      assert.match((await cli(['new-key', 'tax-bureu'])).stderr, /no consumer "tax-bureu"/);
    });
  });

  describe('register-operations', () => {
    it('registers each operation of a .graphql file with its fragments under the hash of its text, once, and refuses invalid ones', async () => {
      const dir = scratch();
      const file = join(dir, 'portal.graphql');
      writeFileSync(
        file,
        'query Subject($code: ID!) { subject(uscc: $code) { ...Names } }\nfragment Names on Subject { name }\nquery Catalog { catalog { code } }\n',
      );
      const result = await cli(['register-operations', 'public-portal', file, '--dir', dir]);
      assert.equal(result.code, 0, result.stderr);
      const manifest = JSON.parse(readFileSync(join(dir, 'operations', 'public-portal.json'), 'utf8')) as {
        format: string;
        operations: { id: string; name: string; body: string }[];
      };
      assert.equal(manifest.format, 'apollo-persisted-query-manifest');
      assert.deepEqual(
        manifest.operations.map((operation) => operation.name),
        ['Subject', 'Catalog'],
      );
      const subject = manifest.operations[0];
      assert.ok(subject);
      assert.match(subject.body, /fragment Names on Subject/);
      assert.equal(subject.id, createHash('sha256').update(subject.body).digest('hex'));
      assert.ok(result.stdout.includes(subject.id), 'the hash is printed for the frontend team');
      assert.equal((await cli(['register-operations', 'public-portal', file, '--dir', dir])).code, 0);
      assert.equal(
        (JSON.parse(readFileSync(join(dir, 'operations', 'public-portal.json'), 'utf8')) as { operations: unknown[] })
          .operations.length,
        2,
        'registered once',
      );

      writeFileSync(file, 'query Wrong { subject(uscc: "x") { nam } }');
      const invalid = await cli(['register-operations', 'public-portal', file, '--dir', dir]);
      assert.equal(invalid.code, 1);
      assert.match(invalid.stderr, /Wrong is not valid against the schema/);
    });
  });
});
