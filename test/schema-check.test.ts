/**
 * Schema checks (`npm run schema -- check <git-ref>`): a deliberately breaking change (a field
 * removed), a dangerous one (an enum value added) and safe ones (a field added, a deprecation)
 * against the committed supergraph, and the consumers whose registered persisted operations the
 * breaking change would break, named; consumers whose operations do not use it are not.
 */
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Kind, parse, print, visit, type EnumTypeDefinitionNode, type ObjectTypeDefinitionNode } from 'graphql';
import { DEFAULT_POLICIES_DIR, DEFAULT_SUPERGRAPH_PATH } from '../lib/policy/releases/process-policy.ts';
import { operationsOfDocument } from '../lib/policy/decision/registered-operations.ts';
import { isPolicySource } from './support/release.ts';
import { main, type Io } from '../scripts/schema.ts';

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { stdout: (text) => out.push(text), stderr: (text) => err.push(text), cwd: process.cwd(), env: {} };
  return { code: await main(args, io), stdout: out.join('\n'), stderr: err.join('\n') };
}

/** The supergraph with `Type.field` removed, and optionally an enum value added. */
async function changedSupergraph(change: {
  remove?: [string, string];
  addEnumValue?: [string, string];
}): Promise<string> {
  const document = parse(await readFile(DEFAULT_SUPERGRAPH_PATH, 'utf8'));
  return print(
    visit(document, {
      ObjectTypeDefinition: (node: ObjectTypeDefinitionNode) =>
        change.remove && node.name.value === change.remove[0]
          ? { ...node, fields: node.fields?.filter((field) => field.name.value !== change.remove?.[1]) }
          : undefined,
      EnumTypeDefinition: (node: EnumTypeDefinitionNode) =>
        change.addEnumValue && node.name.value === change.addEnumValue[0]
          ? {
              ...node,
              values: [
                ...(node.values ?? []),
                {
                  kind: Kind.ENUM_VALUE_DEFINITION,
                  name: { kind: Kind.NAME, value: change.addEnumValue[1] },
                  directives: [],
                },
              ],
            }
          : undefined,
    }),
  );
}

async function register(policiesDir: string, consumer: string, text: string): Promise<void> {
  await mkdir(join(policiesDir, 'operations'), { recursive: true });
  const manifest = { format: 'apollo-persisted-query-manifest', version: 1, operations: operationsOfDocument(text) };
  await writeFile(join(policiesDir, 'operations', `${consumer}.json`), JSON.stringify(manifest, null, 2));
}

describe('schema check', () => {
  let dir: string;
  let policiesDir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'credence-schema-check-'));
    policiesDir = join(dir, 'policies');
    await cp(DEFAULT_POLICIES_DIR, policiesDir, { recursive: true, filter: isPolicySource });
    await register(
      policiesDir,
      'central-bank',
      'query BankSubject($uscc: ID!) { subject(uscc: $uscc) { name registeredCapital } }',
    );
    await register(
      policiesDir,
      'tax-bureau',
      'query TaxPage { subjectConnection(first: 50) { edges { node { uscc name } } pageInfo { hasNextPage endCursor } } }',
    );
    await register(policiesDir, 'court-enforcement', 'query OldList { subjects(first: 10) { uscc } }');
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('the current supergraph against HEAD with no change: nothing breaks', async () => {
    const result = await run(['check', 'HEAD', '--dir', policiesDir]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /BREAKING \(0\)/);
    assert.match(result.stdout, /none of the registered persisted operations would break/);
  });

  it('a deliberately breaking change names the consumer whose registered operation it breaks', async () => {
    const supergraph = join(dir, 'breaking.graphql');
    await writeFile(
      supergraph,
      await changedSupergraph({
        remove: ['Subject', 'registeredCapital'],
        addEnumValue: ['RegistrationStatus', 'MERGED'],
      }),
    );
    const result = await run(['check', 'HEAD', '--dir', policiesDir, '--supergraph', supergraph]);
    console.log(result.stdout);
    assert.equal(result.code, 1, 'a break of a registered operation fails the check');
    assert.match(result.stdout, /BREAKING \(1\)\n {2}- Subject\.registeredCapital was removed\./);
    assert.match(
      result.stdout,
      /DANGEROUS \(1\)\n {2}- MERGED was added to enum type RegistrationStatus\.\n\nSAFE \(0\)/,
    );
    assert.match(
      result.stdout,
      /CONSUMERS AFFECTED \(1\)\n {2}- central-bank: operation BankSubject would break\n {6}Cannot query field "registeredCapital" on type "Subject"\./,
    );
    assert.doesNotMatch(result.stdout, /tax-bureau|court-enforcement/);
  });

  it('removing the deprecated field breaks only the consumer still using it', async () => {
    const supergraph = join(dir, 'no-subjects.graphql');
    await writeFile(supergraph, await changedSupergraph({ remove: ['Query', 'subjects'] }));
    const result = await run(['check', 'HEAD', '--dir', policiesDir, '--supergraph', supergraph]);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /- court-enforcement: operation OldList would break/);
    assert.doesNotMatch(result.stdout, /central-bank:|tax-bureau:/);
  });

  it('safe changes are reported as safe and pass', async () => {
    const supergraph = join(dir, 'safe.graphql');
    const text = (await readFile(DEFAULT_SUPERGRAPH_PATH, 'utf8')).replace(
      '"""Registered address."""',
      '"""Registered address, as on the business licence."""',
    );
    await writeFile(supergraph, text);
    const result = await run(['check', 'HEAD', '--dir', policiesDir, '--supergraph', supergraph]);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /SAFE \(1\)\n {2}- Subject\.address has a new description\./);
  });

  it('an unknown ref is refused with a code', async () => {
    const result = await run(['check', 'no-such-ref-anywhere', '--dir', policiesDir]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^SCHEMA_REF_UNAVAILABLE/);
  });
});
