/**
 * Values an officer has still to decide: `scaffold` drafts catalog items whose legal basis,
 * classification and category read `TODO`. No process may start on a catalog that still holds
 * one (R1: every field is catalogued with a decided basis and classification), so the catalog
 * check lists each `TODO` with its line and column before it checks anything else.
 */
import type { PolicyProblem } from '../loading/problems.ts';
import { ProblemSink } from '../loading/yaml-source.ts';
import type { PathSegment, YamlFile } from '../loading/yaml-source.ts';

/** The marker `scaffold` writes where a decision is left to an officer. */
export const UNDECIDED = 'TODO';

export function isUndecided(value: unknown): boolean {
  return typeof value === 'string' && value.trim().toUpperCase().startsWith(UNDECIDED);
}

function collect(value: unknown, path: readonly PathSegment[], found: PathSegment[][]): void {
  if (isUndecided(value)) {
    found.push([...path]);
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => collect(item, [...path, index], found));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) collect(child, [...path, key], found);
  }
}

/** The path of every value still marked `TODO` in a parsed YAML file's data. */
export function undecidedPaths(data: unknown): PathSegment[][] {
  const found: PathSegment[][] = [];
  collect(data, [], found);
  return found;
}

/** Readable name of a catalog path: `ECOLOGY-INSPECTION.legalBasis` rather than `items[3].legalBasis`. */
function describe(data: unknown, path: readonly PathSegment[]): string {
  const [items, index, ...rest] = path;
  const item =
    items === 'items' && typeof index === 'number'
      ? (data as { items?: { code?: unknown }[] }).items?.[index]
      : undefined;
  const code = typeof item?.code === 'string' && !isUndecided(item.code) ? item.code : `items[${String(index)}]`;
  return item ? `${code}.${rest.join('.')}` : path.join('.');
}

/** One error per `TODO` in a catalog file, each at its line and column. */
export function undecidedCatalogProblems(file: YamlFile): PolicyProblem[] {
  const sink = new ProblemSink(new Map([[file.name, file]]));
  for (const path of undecidedPaths(file.data)) {
    sink.error(
      { file: file.name, path },
      'undecided',
      `${describe(file.data, path)} is still ${UNDECIDED}: an officer must decide it before any process starts`,
      'write the decision in place of TODO; see docs/adding-a-department.md',
    );
  }
  return sink.problems;
}
