/**
 * Loading a policy: parse -> validate -> compile, from a folder, from a git ref, or from texts in
 * memory. The entry points the gateway, the subgraphs and the CLI call.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { isAbsolute, join, normalize, sep } from 'node:path';
import type { GraphQLSchema } from 'graphql';
import { isPolicyFile } from './bundle.ts';
import type { CompiledPolicy } from '../decision/model.ts';
import { buildApiSchema } from '../decision/api-schema.ts';
import { compilePolicy, policyVersion } from '../decision/compile.ts';
import { parsePolicyFiles } from './parse.ts';
import type { PolicySource } from './parse.ts';
import { sortProblems } from './problems.ts';
import type { PolicyProblem } from './problems.ts';
import { validatePolicy } from '../officers/validate.ts';
import { referenceDataProblems, shippedReferenceData } from '../reference/catalog-coverage.ts';
import type { ReferenceData } from '../reference/catalog-coverage.ts';
import { ReferenceDataError } from '../reference/reference-data.ts';
import { child, positionOf, ProblemSink } from './yaml-source.ts';

/** What explanations show about a rule. */
export interface RuleSummary {
  id: string;
  description: string;
  file: string;
  line: number;
  column: number;
}

export type PolicyLoadResult =
  | { ok: true; policy: CompiledPolicy; warnings: PolicyProblem[]; rules: ReadonlyMap<string, RuleSummary> }
  | { ok: false; errors: PolicyProblem[]; warnings: PolicyProblem[] };

export interface LoadOptions {
  /**
   * Reads a file the policy refers to (a JWKS file) that is not among the files given, relative
   * to the policies folder; undefined when it does not exist.
   */
  readReferencedFile?: (relativePath: string) => string | undefined;
  /**
   * The catalog and measures list the schema is checked against (R1); the shipped
   * `schema/catalog.yaml` and `schema/measures.yaml` by default.
   */
  referenceData?: ReferenceData;
}

/**
 * R1: a policy is only valid over a schema the catalog covers field by field. An invalid shipped
 * catalog is reported like any policy problem, so that no process starts with it.
 */
function catalogCoverageProblems(schema: GraphQLSchema, options: LoadOptions): PolicyProblem[] {
  try {
    return referenceDataProblems(schema, options.referenceData ?? shippedReferenceData());
  } catch (error) {
    if (error instanceof ReferenceDataError) return [...error.problems];
    throw error;
  }
}

function isPolicyFileName(name: string): boolean {
  return name.endsWith('.yaml') || name.endsWith('.yml');
}

/** The policy files of a folder (its `*.yaml` files; `tests/` is not policy): name -> text. */
export async function readPolicyDir(dir: string): Promise<Map<string, string>> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((entry) => entry.isFile() && isPolicyFileName(entry.name))
    .map((entry) => entry.name)
    .sort();
  const texts = await Promise.all(names.map((name) => readFile(join(dir, name), 'utf8')));
  return new Map(names.map((name, index) => [name, texts[index]!]));
}

/**
 * The files of a policies folder at a git ref (`git ls-tree`, `git show <ref>:<path>`), so that
 * `diff` can compare a proposed change with what runs in production. Policy files and key files;
 * `tests/` and `releases/` are left out (bundle.ts). A ref without the folder gives no files (an empty policy); a name that
 * is not a commit throws.
 */
export function readPolicyFilesAtGitRef(ref: string, options: { cwd: string; folder?: string }): Map<string, string> {
  const folder = (options.folder ?? 'policies').replace(/\/+$/, '');
  const git = (args: string[]): string =>
    execFileSync('git', args, {
      cwd: options.cwd,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  try {
    git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  } catch {
    throw new Error(`"${ref}" is not a git commit, branch or tag`);
  }
  const prefix = `${folder}/`;
  const texts = new Map<string, string>();
  for (const path of git(['ls-tree', '-r', '--name-only', '--full-name', ref, '--', prefix]).split('\n').sort()) {
    const name = path.slice(prefix.length);
    if (!path.startsWith(prefix) || !isPolicyFile(name)) continue;
    texts.set(name, git(['show', `${ref}:${path}`]));
  }
  return texts;
}

/** A JWKS file must exist inside the policies folder and hold a key set. */
function checkJwksFiles(source: PolicySource, read: (relativePath: string) => string | undefined): PolicyProblem[] {
  const sink = new ProblemSink(source.files);
  for (const issuer of source.issuers) {
    if (issuer.jwksFile === undefined) continue;
    const place = child(issuer.place, 'jwksFile');
    const path = normalize(issuer.jwksFile).split(sep).join('/');
    if (isAbsolute(path) || path.startsWith('..')) {
      sink.error(
        place,
        'jwks',
        `${issuer.jwksFile} is outside the policies folder`,
        'write the path relative to the policies folder, for example keys/idp.jwks.json',
      );
      continue;
    }
    const text = read(path);
    if (text === undefined) {
      sink.error(place, 'jwks', `${issuer.jwksFile} does not exist`, "save the issuer's public JSON Web Key Set there");
      continue;
    }
    let keys: unknown;
    try {
      keys = (JSON.parse(text) as { keys?: unknown }).keys;
    } catch {
      keys = undefined;
    }
    if (!Array.isArray(keys) || keys.length === 0) {
      sink.error(
        place,
        'jwks',
        `${issuer.jwksFile} is not a JSON Web Key Set`,
        'expected JSON like {"keys": [{"kty": "EC", ...}]}',
      );
    } else if (keys.some((key) => typeof key === 'object' && key !== null && 'd' in key)) {
      sink.error(
        place,
        'jwks',
        `${issuer.jwksFile} contains a private key`,
        'keep only the public key here; remove "d" and rotate the key, it has leaked',
      );
    }
  }
  return sink.problems;
}

function ruleSummaries(source: PolicySource): Map<string, RuleSummary> {
  const rules = new Map<string, RuleSummary>();
  for (const rule of source.rules) {
    const file = source.files.get(rule.place.file);
    const { line, column } = file ? positionOf(file, rule.place) : { line: 1, column: 1 };
    if (!rules.has(rule.id))
      rules.set(rule.id, { id: rule.id, description: rule.description, file: rule.place.file, line, column });
  }
  return rules;
}

/**
 * parse -> validate -> compile over the files of a policies folder (path relative to the folder ->
 * text). The policy is every top-level `*.yaml`/`*.yml`; other entries (`keys/*.jwks.json`) are
 * read when the policy names them, as is `options.readReferencedFile`. Anything else (`tests/`,
 * the JSON Schemas) is ignored, so a whole folder can be passed as it is.
 *
 * The version covers the policy files and the key files they name: a rotated issuer key is a
 * new policy version like any other change.
 */
export function loadPolicyFromTexts(
  files: ReadonlyMap<string, string> | Readonly<Record<string, string>>,
  schema: GraphQLSchema,
  options: LoadOptions = {},
): PolicyLoadResult {
  const all: ReadonlyMap<string, string> = files instanceof Map ? files : new Map(Object.entries(files));
  const texts = new Map([...all].filter(([name]) => !name.includes('/') && isPolicyFileName(name)));
  const parsed = parsePolicyFiles(texts);
  if (!parsed.ok) return { ok: false, errors: sortProblems(parsed.problems), warnings: [] };
  const { problems, resolution } = validatePolicy(parsed.source, schema);
  const referenced = new Map<string, string>();
  const read = (path: string): string | undefined => {
    const text = all.get(path) ?? options.readReferencedFile?.(path);
    if (text !== undefined) referenced.set(path, text);
    return text;
  };
  problems.push(...checkJwksFiles(parsed.source, read));
  problems.push(...catalogCoverageProblems(schema, options));
  const errors = sortProblems(problems.filter((problem) => problem.severity === 'error'));
  const warnings = sortProblems(problems.filter((problem) => problem.severity === 'warning'));
  if (errors.length > 0) return { ok: false, errors, warnings };
  return {
    ok: true,
    policy: compilePolicy(
      parsed.source,
      resolution,
      schema,
      policyVersion(new Map([...texts, ...referenced])),
      referenced,
    ),
    warnings,
    rules: ruleSummaries(parsed.source),
  };
}

/**
 * Loads the policy of a folder against a supergraph (its SDL, or the API schema already built
 * from it with `buildApiSchema`).
 */
export async function loadPolicy(dir: string, supergraph: string | GraphQLSchema): Promise<PolicyLoadResult> {
  const schema = typeof supergraph === 'string' ? buildApiSchema(supergraph) : supergraph;
  const texts = await readPolicyDir(dir);
  return loadPolicyFromTexts(texts, schema, { readReferencedFile: (path) => readIfExists(join(dir, path)) });
}

function readIfExists(path: string): string | undefined {
  try {
    // Synchronous: a key file of a few hundred bytes, read once per policy version.
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
