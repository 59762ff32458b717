/**
 * Reference data shipped with the schema (the national catalog, the national measures list): YAML
 * files read once per process, checked against a JSON Schema so that every mistake points at its
 * line and column like a policy mistake does.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { formatProblem } from '../loading/problems.ts';
import type { PolicyProblem } from '../loading/problems.ts';
import { parseYamlFile, schemaProblems } from '../loading/yaml-source.ts';
import type { YamlFile } from '../loading/yaml-source.ts';

export const PROJECT_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** A reference file's name in problems: relative to the project, as officers and editors see it. */
export function displayName(path: string): string {
  return relative(PROJECT_ROOT, path).split('\\').join('/');
}

export type Parsed<T> = { ok: true; value: T; file: YamlFile } | { ok: false; problems: PolicyProblem[] };

/** YAML syntax, then shape (JSON Schema); the data typed as `T` once both pass. */
export function parseReferenceFile<T>(name: string, text: string, jsonSchema: object): Parsed<T> {
  const { file, problems } = parseYamlFile(name, text);
  if (problems.length > 0) return { ok: false, problems };
  const validate = new Ajv({ allErrors: true, verbose: true, allowUnionTypes: true }).compile<T>(jsonSchema);
  const shape = schemaProblems(file, validate);
  if (shape.length > 0) return { ok: false, problems: shape };
  return { ok: true, value: file.data as T, file };
}

/** Thrown when a shipped reference file is invalid: a process must not start with it. */
export class ReferenceDataError extends Error {
  readonly problems: readonly PolicyProblem[];

  constructor(what: string, problems: readonly PolicyProblem[]) {
    super(`${what} is invalid:\n${problems.map(formatProblem).join('\n')}`);
    this.name = 'ReferenceDataError';
    this.problems = problems;
  }
}

export function readReferenceFile(path: string): { name: string; text: string } {
  return { name: displayName(path), text: readFileSync(path, 'utf8') };
}
