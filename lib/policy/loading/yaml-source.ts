/**
 * YAML files with positions: parse a file keeping its syntax tree, check its shape against a JSON
 * Schema, and turn any path inside the data (`rules[3].mask["Foo.bar"]`) back into a line and
 * column, so that every problem points at the text the officer wrote.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document, Node, Pair } from 'yaml';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { suggestion } from './problems.ts';
import type { PolicyProblem, ProblemCode } from './problems.ts';

export type PathSegment = string | number;

/** A place in a file: the path of a value, or of the key that names it. */
export interface Place {
  file: string;
  path: readonly PathSegment[];
  key?: boolean;
}

export interface YamlFile {
  name: string;
  text: string;
  document: Document.Parsed;
  lineCounter: LineCounter;
  /** The plain data; `{}` for an empty file, undefined when the YAML has syntax errors. */
  data: unknown;
}

export function parseYamlFile(name: string, text: string): { file: YamlFile; problems: PolicyProblem[] } {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const problems: PolicyProblem[] = document.errors.map((error) => {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    return {
      severity: 'error',
      code: 'yaml-syntax',
      file: name,
      line,
      column: col,
      message: error.message.split('\n')[0] ?? error.message,
      hint: 'check the indentation and that every "key: value" has a space after the colon',
    };
  });
  const data: unknown = problems.length > 0 ? undefined : (document.toJS({ maxAliasCount: 100 }) ?? {});
  return { file: { name, text, document, lineCounter, data }, problems };
}

/** The child place of a place: `child(rule, 'consumers', 2)`. */
export function child(place: Place, ...segments: PathSegment[]): Place {
  return { file: place.file, path: [...place.path, ...segments] };
}

export function keyOf(place: Place, segment: PathSegment): Place {
  return { file: place.file, path: [...place.path, segment], key: true };
}

function keyText(pair: Pair): string | undefined {
  const key = pair.key;
  if (isScalar(key)) return String(key.value);
  return typeof key === 'string' ? key : undefined;
}

/** The node at a path, or the deepest node that exists on the way (a missing key points at its map). */
function nodeAt(file: YamlFile, path: readonly PathSegment[], key: boolean): Node | null {
  let node: unknown = file.document.contents;
  for (let i = 0; i < path.length; i++) {
    if (isAlias(node)) node = node.resolve(file.document);
    const segment = path[i]!;
    if (isMap(node)) {
      const pair = node.items.find((item) => keyText(item) === String(segment));
      if (!pair) break;
      if (key && i === path.length - 1 && isScalar(pair.key)) return pair.key;
      node = pair.value;
    } else if (isSeq(node)) {
      const item: unknown = node.items[Number(segment)];
      if (item === undefined) break;
      node = item;
    } else {
      break;
    }
  }
  return node !== null && typeof node === 'object' && 'range' in node ? (node as Node) : null;
}

export function positionOf(file: YamlFile, place: Place): { line: number; column: number } {
  const node = nodeAt(file, place.path, place.key === true);
  const offset = node?.range?.[0] ?? 0;
  const { line, col } = file.lineCounter.linePos(offset);
  return { line, column: col };
}

/** Builds problems at places of a set of files. */
export class ProblemSink {
  readonly problems: PolicyProblem[] = [];
  readonly #files: ReadonlyMap<string, YamlFile>;

  constructor(files: ReadonlyMap<string, YamlFile>) {
    this.#files = files;
  }

  error(place: Place, code: ProblemCode, message: string, hint?: string): void {
    this.add('error', place, code, message, hint);
  }

  warning(place: Place, code: ProblemCode, message: string, hint?: string): void {
    this.add('warning', place, code, message, hint);
  }

  /** `rules.yaml:12:7`, for messages that point at a second place. */
  where(place: Place): string {
    const file = this.#files.get(place.file);
    if (!file) return place.file;
    const { line, column } = positionOf(file, place);
    return `${place.file}:${line}:${column}`;
  }

  private add(severity: 'error' | 'warning', place: Place, code: ProblemCode, message: string, hint?: string): void {
    const file = this.#files.get(place.file);
    const { line, column } = file ? positionOf(file, place) : { line: 1, column: 1 };
    this.problems.push({ severity, code, file: place.file, line, column, message, ...(hint ? { hint } : {}) });
  }
}

function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'));
}

function param(error: ErrorObject, name: string): unknown {
  const params: Record<string, unknown> = error.params;
  return params[name];
}

function schemaString(error: ErrorObject, name: 'title' | 'description'): string | undefined {
  const value: unknown = error.parentSchema?.[name];
  return typeof value === 'string' ? value : undefined;
}

function kindOf(value: unknown): string {
  if (value === null) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map of keys';
  return typeof value === 'string' ? 'text' : `a ${typeof value}`;
}

const EXPECTED: Record<string, string> = {
  array: 'a list',
  object: 'a map of keys',
  string: 'text',
  boolean: 'true or false',
  number: 'a number',
  'array,object': 'a list or a map of keys',
};

/** One JSON Schema error as a problem an officer can read. Undefined for errors another one explains. */
function describeSchemaError(
  error: ErrorObject,
): { path: PathSegment[]; key: boolean; message: string; hint?: string } | undefined {
  const path: PathSegment[] = pointerSegments(error.instancePath);
  // The branches of a oneOf only explain why the oneOf failed; its own error says it better.
  if (/\/oneOf\/\d+\//.test(error.schemaPath)) return undefined;
  if (error.keyword === 'propertyNames') return undefined;
  const title = schemaString(error, 'title');
  const description = schemaString(error, 'description');
  if (error.propertyName !== undefined) {
    // A bad key of a map (a field pattern used as a mask key, a group name, ...).
    const name = error.propertyName;
    const allowed = error.keyword === 'enum' ? (param(error, 'allowedValues') as string[]) : undefined;
    return {
      path: [...path, name],
      key: true,
      message:
        error.keyword === 'enum'
          ? `"${name}" is not a known ${title ?? 'key'}`
          : `"${name}" is not a valid ${title ?? 'key'}`,
      hint: allowed ? suggestion(name, allowed, title ?? 'value') : description,
    };
  }
  switch (error.keyword) {
    case 'additionalProperties': {
      const name = String(param(error, 'additionalProperty'));
      const known = Object.keys((error.parentSchema?.['properties'] ?? {}) as Record<string, unknown>);
      return {
        path: [...path, name],
        key: true,
        message: `unknown key "${name}"`,
        hint: suggestion(name, known, 'key'),
      };
    }
    case 'required': {
      const name = String(param(error, 'missingProperty'));
      const properties = (error.parentSchema?.['properties'] ?? {}) as Record<string, { description?: unknown }>;
      const about = properties[name]?.description;
      return { path, key: false, message: `missing "${name}"`, ...(typeof about === 'string' ? { hint: about } : {}) };
    }
    case 'enum': {
      const allowed = (param(error, 'allowedValues') as unknown[]).map(String);
      if (typeof error.data !== 'string') {
        return {
          path,
          key: false,
          message: `expected a ${title ?? 'value'}, found ${kindOf(error.data)}`,
          hint: `one of ${allowed.join(', ')}`,
        };
      }
      return {
        path,
        key: false,
        message: `"${String(error.data)}" is not a known ${title ?? 'value'}`,
        hint: suggestion(String(error.data), allowed, title ?? 'value'),
      };
    }
    case 'pattern':
      return {
        path,
        key: false,
        message: `"${String(error.data)}" is not a valid ${title ?? 'value'}`,
        ...(description ? { hint: description } : {}),
      };
    case 'type': {
      const expected = String(param(error, 'type'));
      return { path, key: false, message: `expected ${EXPECTED[expected] ?? expected}, found ${kindOf(error.data)}` };
    }
    case 'minItems':
    case 'minProperties':
    case 'minLength':
      return { path, key: false, message: 'must not be empty' };
    case 'uniqueItems': {
      const second = Number(param(error, 'i'));
      const items = Array.isArray(error.data) ? error.data : [];
      return { path: [...path, second], key: false, message: `"${String(items[second])}" is listed twice` };
    }
    case 'oneOf': {
      const branches = (error.schema ?? []) as { required?: string[] }[];
      const names = branches.map((branch) => branch.required?.[0]).filter((name): name is string => name !== undefined);
      const passing = param(error, 'passingSchemas');
      const present = Array.isArray(passing) ? passing.map((index) => names[Number(index)]).filter(Boolean) : [];
      const list = names.join(', ');
      return present.length > 0
        ? {
            path,
            key: false,
            message: `has both ${present.join(' and ')}; exactly one of ${list} is allowed here`,
            hint: 'split it in two',
          }
        : { path, key: false, message: `needs one of ${list}` };
    }
    default:
      return { path, key: false, message: error.message ?? `fails ${error.keyword}` };
  }
}

/** Checks a file's data against a compiled JSON Schema; problems point at the offending text. */
export function schemaProblems(file: YamlFile, validate: ValidateFunction): PolicyProblem[] {
  if (validate(file.data)) return [];
  const seen = new Set<string>();
  const problems: PolicyProblem[] = [];
  for (const error of validate.errors ?? []) {
    const described = describeSchemaError(error);
    if (!described) continue;
    const { line, column } = positionOf(file, { file: file.name, path: described.path, key: described.key });
    const id = `${line}:${column}:${described.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    problems.push({
      severity: 'error',
      code: 'schema',
      file: file.name,
      line,
      column,
      message: described.message,
      ...(described.hint ? { hint: described.hint } : {}),
    });
  }
  return problems;
}
