/**
 * Each consumer's SDL (`npm run schema -- sdl`) and types generated from it: the SDL is the
 * schema the consumer may query, with descriptions and the catalog notes; GraphQL Code Generator
 * turns it and a sample operation into types, and a typed client using them type-checks (a use
 * of a field the consumer may not see does not).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { codegen } from '@graphql-codegen/core';
import * as operationsPlugin from '@graphql-codegen/typescript-operations';
import { buildSchema, isObjectType, parse, validate, type GraphQLSchema } from 'graphql';
import ts from 'typescript';
import { main, type Io } from '../scripts/schema.ts';

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { stdout: (text) => out.push(text), stderr: (text) => err.push(text), cwd: process.cwd(), env: {} };
  const code = await main(args, io);
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

/** The sample operation of docs/frontend.md: a page of subjects with what the central bank uses. */
const SAMPLE_OPERATION = `
query SubjectPage($first: Int!, $after: String) {
  subjectConnection(first: $first, after: $after) {
    edges { cursor node { uscc name status registeredCapital seriousDishonestyListings { listType listedOn } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

/** A client using the generated types, as docs/frontend.md shows it. */
const CLIENT = `
import type { SubjectPageQuery, SubjectPageQueryVariables } from './types.ts';

export async function* allSubjects(url: string, apiKey: string): AsyncGenerator<SubjectPageQuery['subjectConnection']['edges'][number]['node']> {
  let variables: SubjectPageQueryVariables = { first: 100 };
  for (;;) {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
      body: JSON.stringify({ query: 'query SubjectPage(...)', variables }),
    });
    const { data } = await response.json() as { data: SubjectPageQuery };
    for (const edge of data.subjectConnection.edges) yield edge.node;
    const { hasNextPage, endCursor } = data.subjectConnection.pageInfo;
    if (!hasNextPage || !endCursor) return;
    variables = { first: 100, after: endCursor };
  }
}

export function capitalOf(node: SubjectPageQuery['subjectConnection']['edges'][number]['node']): number {
  const listed: string | undefined = node.seriousDishonestyListings?.[0]?.listedOn;
  void listed;
  return node.registeredCapital;
}
`;

function typeErrors(dir: string, files: string[]): string[] {
  const program = ts.createProgram(
    files.map((file) => join(dir, file)),
    {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      allowImportingTsExtensions: true,
      skipLibCheck: true,
      lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
      types: [],
    },
  );
  return ts
    .getPreEmitDiagnostics(program)
    .map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
}

describe("each consumer's SDL and types from it", () => {
  let dir: string;
  let sdl: string;
  let schema: GraphQLSchema;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'credence-codegen-'));
    const result = await run(['sdl', '--consumer', 'central-bank', '--purpose', 'CREDIT_ASSESSMENT']);
    assert.equal(result.code, 0, result.stderr);
    sdl = result.stdout;
    schema = buildSchema(sdl);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the SDL the consumer sees, with descriptions and catalog notes', () => {
    const subject = schema.getType('Subject');
    assert.ok(isObjectType(subject));
    assert.match(subject.description ?? '', /^A credit subject: a legal person/);
    assert.match(subject.getFields().name?.description ?? '', /Catalog item REG-REGISTRATION/);
    assert.match(subject.getFields().seriousDishonestyListings?.description ?? '', /You receive current records only/);
    const representative = schema.getType('LegalRepresentative');
    assert.ok(isObjectType(representative));
    assert.deepEqual(
      Object.keys(representative.getFields()).sort(),
      ['name'],
      'no ID number or phone for the central bank',
    );
    assert.equal(schema.getType('AccessRecord'), undefined, 'the access log does not exist for the central bank');
    assert.equal(
      schema.getQueryType()?.getFields().subjects?.deprecationReason?.startsWith('Use subjectConnection'),
      true,
    );
  });

  it('shows a masked field with its mask (the public portal sees ID numbers masked)', async () => {
    const result = await run(['sdl', '--consumer', 'public-portal']);
    assert.equal(result.code, 0, result.stderr);
    const portal = buildSchema(result.stdout);
    const representative = portal.getType('LegalRepresentative');
    assert.ok(isObjectType(representative));
    assert.match(
      representative.getFields().idNumber?.description ?? '',
      /Masked for you: the first 4 and last 4 characters stay/,
    );
  });

  it('refuses an unknown consumer or a purpose it may not use, with a code', async () => {
    const unknown = await run(['sdl', '--consumer', 'nobody']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^UNKNOWN_CONSUMER/);
    const purpose = await run(['sdl', '--consumer', 'central-bank', '--purpose', 'ENFORCEMENT']);
    assert.equal(purpose.code, 1);
    assert.match(purpose.stderr, /^PURPOSE_NOT_ALLOWED/);
    assert.equal((await run(['sdl'])).code, 2);
  });

  it('generates types for a sample operation with GraphQL Code Generator, and a typed client type-checks', async () => {
    const document = parse(SAMPLE_OPERATION);
    assert.deepEqual(
      validate(schema, document).map((error) => error.message),
      [],
    );
    const types = await codegen({
      schema: parse(sdl),
      documents: [{ document }],
      filename: 'types.ts',
      // Credence's scalars travel as ISO 8601 strings (Date: YYYY-MM-DD).
      config: { enumType: 'string-literal', useTypeImports: true, scalars: { Date: 'string', DateTime: 'string' } },
      plugins: [{ 'typescript-operations': {} }],
      pluginMap: { 'typescript-operations': operationsPlugin },
    });
    assert.match(types, /export type SubjectPageQuery = /);
    await writeFile(join(dir, 'types.ts'), types);
    await writeFile(join(dir, 'client.ts'), CLIENT);
    assert.deepEqual(typeErrors(dir, ['client.ts']), []);

    // The types hold the consumer to its schema: a field it may not see is a type error.
    await writeFile(
      join(dir, 'misuse.ts'),
      `import type { SubjectPageQuery } from './types.ts';\nexport const id = (q: SubjectPageQuery) => q.subjectConnection.edges[0]?.node.legalRepresentative.idNumber;\n`,
    );
    assert.ok(typeErrors(dir, ['misuse.ts']).some((message) => /legalRepresentative/.test(message)));
    // ...and so does an operation asking for one (codegen validates against the consumer's SDL).
    assert.ok(validate(schema, parse('{ subject(uscc: "x") { legalRepresentative { idNumber } } }')).length > 0);
  });
});
