/**
 * `npm run policy -- <command>`: the privacy officers' tools. A thin shell over lib/policy:
 * argument parsing, file reading and printing live here; every decision is made by the library.
 *
 *   validate [--dir policies] [--json]                 errors with file:line:col, else the coverage report
 *   explain --consumer X --purpose P --query q.graphql  each field of an operation and the rule that decided it
 *   diff <a> [<b>]                                     a and b: policy folders or git refs (b: the working folder)
 *   test [--dir policies]                              runs policies/tests/*.yaml
 *   new-key <consumer-id>                              a fresh API key and the line to paste
 *   schema                                             regenerates policies/*.schema.json from the supergraph
 *   register-operations <consumer> <file>              registers a consumer's operations (.graphql or Apollo manifest .json)
 *   release [--note text] [--from-release N]           validates, tests and signs the folder as the next release
 *   verify-release [file]                              checks a release's signature (default: the newest)
 *   release-key [--out dir]                            a new release key pair
 *   status                                             the release every process enforces, stale ones marked
 *   scaffold --subgraph <name> --sdl <file> [--url u]  drafts a new department's catalog items and policy file
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse, validate } from 'graphql';
import type { GraphQLSchema } from 'graphql';
import { generateApiKey, hashApiKey } from '../lib/identity/api-keys.ts';
import { buildApiSchema } from '../lib/policy/decision/api-schema.ts';
import { coverageReport, formatCoverage } from '../lib/policy/officers/coverage.ts';
import { diffPolicies, formatPolicyDiff } from '../lib/policy/officers/diff.ts';
import { explainOperation, formatExplanation } from '../lib/policy/officers/explain.ts';
import { generatedJsonSchemaFiles, NAME_PATTERN } from '../lib/policy/officers/json-schema.ts';
import {
  OPERATIONS_FOLDER,
  operationsOfDocument,
  readManifest,
  registerOperations,
  type RegisteredOperation,
} from '../lib/policy/decision/registered-operations.ts';
import { loadPolicy, loadPolicyFromTexts, readPolicyFilesAtGitRef } from '../lib/policy/loading/load-policy.ts';
import type { PolicyLoadResult } from '../lib/policy/loading/load-policy.ts';
import { parsePolicyFiles } from '../lib/policy/loading/parse.ts';
import {
  formatPolicyTestResults,
  parsePolicyTestFiles,
  readPolicyTestFiles,
  runPolicyTests,
} from '../lib/policy/officers/policy-tests.ts';
import { formatProblem } from '../lib/policy/loading/problems.ts';
import type { PolicyProblem } from '../lib/policy/loading/problems.ts';
import { policyCommandEnvironment, readToolSettings } from './config.ts';
import { RELEASE_COMMANDS } from './policy-release.ts';
import { scaffoldCommand } from './policy-scaffold.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
}

const USAGE = `usage: npm run policy -- <command> [options]

  validate [--dir policies] [--json]
  explain --consumer <id> --purpose <PURPOSE> --query <file.graphql> [--operation <name>] [--dir policies] [--json]
  diff <a> [<b>] [--folder policies] [--json]     a, b: policy folders or git refs; b defaults to --dir
  test [--dir policies] [--json]
  new-key <consumer-id> [--dir policies]
  schema [--dir policies]                         regenerate policy.schema.json and policy-test.schema.json
  register-operations <consumer-id> <file> [--dir policies]
                                                  register operations (.graphql, or an Apollo persisted query
                                                  manifest .json) in operations/<consumer-id>.json
  release [--note <text>] [--from-release <N>] [--dir policies]
                                                  validate, run the policy tests, sign the folder as the next
                                                  release and publish it; --from-release N signs release N's
                                                  content again as the next release (a rollback) and writes
                                                  it back into the folder
  verify-release [<file>] [--dir policies]        check a release file's signature (default: the newest)
  release-key [--out <dir>]                       make a release key pair (release-key.pem, release-key.pub.pem)
  status                                          the release each gateway and department enforces
  scaffold --subgraph <name> --sdl <file> [--url <url>] [--schema-dir schema]
                                                  compose a new department's SDL into a candidate supergraph,
                                                  draft its catalog items (TODO for an officer) and its policy
                                                  file (deny by default), and list what is left to decide

common: --supergraph <file> (default: $SUPERGRAPH_PATH or schema/supergraph.graphql)`;

/** A mistake in the command line: the message and the usage. */
export class UsageError extends Error {}
/** A problem with what the command was asked to read: the message only. */
export class CommandError extends Error {}

export function option(values: Record<string, string | boolean | undefined>, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

export function required(values: Record<string, string | boolean | undefined>, name: string): string {
  const value = option(values, name);
  if (value === undefined) throw new UsageError(`--${name} is required`);
  return value;
}

export function printProblems(io: Io, problems: readonly PolicyProblem[]): void {
  for (const problem of problems) (problem.severity === 'error' ? io.stderr : io.stdout)(formatProblem(problem));
}

export interface Context {
  io: Io;
  dir: string;
  schema: () => GraphQLSchema;
  json: boolean;
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** Loads the policy, printing its problems; undefined when it has errors. */
async function loadOrReport(
  ctx: Context,
  load: () => Promise<PolicyLoadResult> | PolicyLoadResult,
  label?: string,
): Promise<Extract<PolicyLoadResult, { ok: true }> | undefined> {
  const result = await load();
  if (!ctx.json) {
    if (label && !result.ok) ctx.io.stderr(`${label}:`);
    printProblems(ctx.io, result.ok ? result.warnings : [...result.errors, ...result.warnings]);
  }
  return result.ok ? result : undefined;
}

async function validateCommand(ctx: Context): Promise<number> {
  const result = await loadPolicy(ctx.dir, ctx.schema());
  if (ctx.json) {
    ctx.io.stdout(
      JSON.stringify(
        result.ok
          ? {
              ok: true,
              version: result.policy.version,
              warnings: result.warnings,
              coverage: coverageReport(result.policy, ctx.schema()),
            }
          : { ok: false, errors: result.errors, warnings: result.warnings },
        null,
        2,
      ),
    );
    return result.ok ? 0 : 1;
  }
  printProblems(ctx.io, result.ok ? result.warnings : [...result.errors, ...result.warnings]);
  if (!result.ok) {
    ctx.io.stderr(`\n${result.errors.length} error(s): the policy is not valid`);
    return 1;
  }
  const { policy } = result;
  ctx.io.stdout(
    `policy ${policy.version} is valid: ${policy.consumers.size} consumers, ${result.rules.size} rules, ${result.warnings.length} warning(s)\n`,
  );
  ctx.io.stdout(formatCoverage(coverageReport(policy, ctx.schema())));
  return 0;
}

async function explainCommand(ctx: Context): Promise<number> {
  const consumer = required(ctx.values, 'consumer');
  const purpose = required(ctx.values, 'purpose');
  const queryFile = resolve(ctx.io.cwd, required(ctx.values, 'query'));
  const loaded = await loadOrReport(ctx, () => loadPolicy(ctx.dir, ctx.schema()));
  if (!loaded) return 1;
  let document;
  try {
    document = parse(readFileSync(queryFile, 'utf8'));
  } catch (error) {
    ctx.io.stderr(`${relative(ctx.io.cwd, queryFile)}: ${(error as Error).message}`);
    return 1;
  }
  const operationName = option(ctx.values, 'operation');
  const explanation = explainOperation(loaded.policy, ctx.schema(), {
    consumer,
    purpose,
    document,
    ...(operationName ? { operationName } : {}),
  });
  if (ctx.json) ctx.io.stdout(JSON.stringify({ version: loaded.policy.version, ...explanation }, null, 2));
  else ctx.io.stdout(`policy ${loaded.policy.version}\n${formatExplanation(explanation, loaded.rules)}`);
  return explanation.kind === 'explained' ? 0 : 1;
}

/** A policy from a folder, or from a git ref of the repository the command runs in. */
function policySide(
  ctx: Context,
  spec: string,
): { label: string; load: () => Promise<PolicyLoadResult> | PolicyLoadResult } {
  const path = resolve(ctx.io.cwd, spec);
  if (existsSync(path) && statSync(path).isDirectory())
    return { label: spec, load: () => loadPolicy(path, ctx.schema()) };
  const folder = option(ctx.values, 'folder') ?? 'policies';
  return {
    label: `${spec}:${folder}`,
    load: () => {
      let texts;
      try {
        texts = readPolicyFilesAtGitRef(spec, { cwd: ctx.io.cwd, folder });
      } catch (error) {
        throw new CommandError(`${spec} is not a folder; ${(error as Error).message}`);
      }
      if (texts.size === 0) ctx.io.stderr(`note: no ${folder}/ folder at ${spec}: compared as an empty policy`);
      return loadPolicyFromTexts(texts, ctx.schema());
    },
  };
}

async function diffCommand(ctx: Context): Promise<number> {
  const [first, second] = ctx.positionals;
  if (first === undefined) throw new UsageError('diff needs a policy folder or git ref to compare');
  const a = policySide(ctx, first);
  const b =
    second !== undefined
      ? policySide(ctx, second)
      : { label: relative(ctx.io.cwd, ctx.dir) || '.', load: () => loadPolicy(ctx.dir, ctx.schema()) };
  const before = await loadOrReport(ctx, a.load, a.label);
  const after = await loadOrReport(ctx, b.load, b.label);
  if (!before || !after) return 1;
  const diff = diffPolicies(before.policy, after.policy, ctx.schema());
  ctx.io.stdout(ctx.json ? JSON.stringify(diff, null, 2) : `${a.label} -> ${b.label}\n${formatPolicyDiff(diff)}`);
  return 0;
}

async function testCommand(ctx: Context): Promise<number> {
  const loaded = await loadOrReport(ctx, () => loadPolicy(ctx.dir, ctx.schema()));
  if (!loaded) return 1;
  const { cases, problems } = parsePolicyTestFiles(await readPolicyTestFiles(ctx.dir));
  if (problems.length > 0) {
    printProblems(ctx.io, problems);
    return 1;
  }
  if (cases.length === 0) {
    ctx.io.stderr(`no test cases in ${join(relative(ctx.io.cwd, ctx.dir) || '.', 'tests')}`);
    return 1;
  }
  const results = runPolicyTests(loaded.policy, ctx.schema(), cases);
  ctx.io.stdout(
    ctx.json
      ? JSON.stringify(results, null, 2)
      : `policy ${loaded.policy.version}\n${formatPolicyTestResults(results)}`,
  );
  return results.every((result) => result.passed) ? 0 : 1;
}

async function newKeyCommand(ctx: Context): Promise<number> {
  const consumer = ctx.positionals[0];
  if (consumer === undefined) throw new UsageError('new-key needs the consumer id');
  if (!new RegExp(NAME_PATTERN).test(consumer))
    throw new UsageError(`"${consumer}" is not a consumer id (lower-case words joined by hyphens)`);
  const parsed = parsePolicyFiles(
    new Map(
      (await readdir(ctx.dir))
        .filter((name) => name.endsWith('.yaml'))
        .map((name) => [name, readFileSync(join(ctx.dir, name), 'utf8')]),
    ),
  );
  if (parsed.ok && !parsed.source.consumers.some((candidate) => candidate.id === consumer)) {
    ctx.io.stderr(
      `warning: no consumer "${consumer}" in ${relative(ctx.io.cwd, ctx.dir) || '.'}; add the consumer before its key`,
    );
  }
  const key = generateApiKey();
  const today = new Date().toISOString().slice(0, 10);
  ctx.io.stdout(
    [
      `New API key for ${consumer}. Give it to the agency once, over a secure channel; Credence stores only its hash:`,
      '',
      `  ${key}`,
      '',
      `Paste under credentials: apiKeys: of ${consumer} in consumers.yaml:`,
      '',
      `        - id: ${consumer}-${today.replaceAll('-', '')}`,
      `          sha256: "${hashApiKey(key)}"`,
      `          notBefore: ${today}`,
      '',
      'Rotation: keep the old key while the agency switches over, then give the old key notAfter: <date>',
      '(or revoked: true at once if it leaked). Run npm run policy -- validate before deploying.',
    ].join('\n'),
  );
  return 0;
}

async function schemaCommand(ctx: Context): Promise<number> {
  for (const [name, text] of Object.entries(generatedJsonSchemaFiles(ctx.schema()))) {
    writeFileSync(join(ctx.dir, name), text);
    ctx.io.stdout(`wrote ${relative(ctx.io.cwd, join(ctx.dir, name))}`);
  }
  return 0;
}

async function registerOperationsCommand(ctx: Context): Promise<number> {
  const [consumer, file] = ctx.positionals;
  if (consumer === undefined || file === undefined)
    throw new UsageError('register-operations needs the consumer id and a .graphql or manifest .json file');
  if (!new RegExp(NAME_PATTERN).test(consumer))
    throw new UsageError(`"${consumer}" is not a consumer id (lower-case words joined by hyphens)`);
  const path = resolve(ctx.io.cwd, file);
  if (!existsSync(path)) throw new CommandError(`${file}: no such file`);
  const schema = ctx.schema();
  let operations: RegisteredOperation[];
  try {
    operations = path.endsWith('.json')
      ? (await readManifest(path)).operations
      : operationsOfDocument(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new CommandError(`${file}: ${(error as Error).message}`);
  }
  // An operation that does not validate against the schema would only ever be refused.
  for (const operation of operations) {
    const errors = validate(schema, parse(operation.body));
    if (errors.length > 0)
      throw new CommandError(
        `${file}: operation ${operation.name} is not valid against the schema: ${errors.map((error) => error.message).join('; ')}`,
      );
  }
  const manifest = await registerOperations(ctx.dir, consumer, operations);
  ctx.io.stdout(
    [
      `Registered for ${consumer} in ${relative(ctx.io.cwd, join(ctx.dir, OPERATIONS_FOLDER, `${consumer}.json`))} (${manifest.operations.length} in all):`,
      ...operations.map((operation) => `  ${operation.name}  sha256:${operation.id}`),
      '',
      'Clients send { "extensions": { "persistedQuery": { "version": 1, "sha256Hash": "<hash>" } }, "variables": … }.',
    ].join('\n'),
  );
  return 0;
}

const COMMANDS: Record<string, (ctx: Context) => Promise<number>> = {
  validate: validateCommand,
  explain: explainCommand,
  diff: diffCommand,
  test: testCommand,
  'new-key': newKeyCommand,
  schema: schemaCommand,
  'register-operations': registerOperationsCommand,
  ...RELEASE_COMMANDS,
  scaffold: scaffoldCommand,
};

export async function main(argv: readonly string[], io: Io): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        dir: { type: 'string' },
        json: { type: 'boolean' },
        supergraph: { type: 'string' },
        consumer: { type: 'string' },
        purpose: { type: 'string' },
        query: { type: 'string' },
        operation: { type: 'string' },
        folder: { type: 'string' },
        note: { type: 'string' },
        'from-release': { type: 'string' },
        out: { type: 'string' },
        subgraph: { type: 'string' },
        sdl: { type: 'string' },
        url: { type: 'string' },
        'schema-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    io.stderr(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const [commandName, ...rest] = positionals;
  const command = commandName !== undefined ? COMMANDS[commandName] : undefined;
  if (values['help'] === true || !command) {
    (command || values['help'] === true ? io.stdout : io.stderr)(
      commandName && !command ? `unknown command "${commandName}"\n\n${USAGE}` : USAGE,
    );
    return values['help'] === true ? 0 : 2;
  }
  const supergraphPath =
    option(values, 'supergraph') ?? io.env['SUPERGRAPH_PATH'] ?? join(ROOT, 'schema/supergraph.graphql');
  let schema: GraphQLSchema | undefined;
  const ctx: Context = {
    io,
    dir: resolve(io.cwd, option(values, 'dir') ?? join(ROOT, 'policies')),
    // Built on first use: new-key needs no schema.
    schema: () => (schema ??= buildApiSchema(readFileSync(resolve(io.cwd, supergraphPath), 'utf8'))),
    json: values['json'] === true,
    values,
    positionals: rest,
  };
  try {
    return await command(ctx);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof CommandError) {
      io.stderr(error.message);
      return 1;
    }
    throw error;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2), {
    stdout: (text) => console.log(text),
    stderr: (text) => console.error(text),
    // npm runs scripts from the package root; INIT_CWD is where the officer typed the command.
    cwd: readToolSettings().invocationDir ?? process.cwd(),
    env: policyCommandEnvironment(),
  });
}
