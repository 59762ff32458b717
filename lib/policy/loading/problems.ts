/**
 * Problems found in policy files, each pinned to a file, line and column, with a hint a privacy
 * officer can act on. Hints may name schema types and fields: officers see the whole schema;
 * partner agencies never see these messages.
 */

export type ProblemCode =
  | 'yaml-syntax'
  | 'schema'
  | 'duplicate-id'
  | 'unknown-purpose'
  | 'unknown-consumer'
  | 'unknown-group'
  | 'unknown-field-set'
  | 'unknown-type'
  | 'unknown-field'
  | 'not-a-policy-subject'
  | 'always-allowed'
  | 'mask-type'
  | 'not-a-record-type'
  | 'conflict'
  | 'record-conflict'
  | 'purpose-not-allowed'
  | 'default-purpose'
  | 'credentials'
  | 'competence'
  | 'unknown-issuer'
  | 'jwks'
  | 'unused'
  | 'unreachable'
  | 'empty-object'
  | 'no-rules'
  | 'undecided'
  | 'interface-mismatch';

export interface PolicyProblem {
  severity: 'error' | 'warning';
  code: ProblemCode;
  /** File name relative to the policies folder, for example `rules.yaml`. */
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  message: string;
  hint?: string;
}

/** `rules.yaml:12:7: message (hint)`, the form editors and terminals turn into links. */
export function formatProblem(problem: PolicyProblem): string {
  const where = `${problem.file}:${problem.line}:${problem.column}`;
  const prefix = problem.severity === 'warning' ? 'warning: ' : '';
  return `${where}: ${prefix}${problem.message}${problem.hint ? ` (${problem.hint})` : ''}`;
}

/** Errors first, then by file and position, so that output is stable and reads top to bottom. */
export function sortProblems(problems: readonly PolicyProblem[]): PolicyProblem[] {
  return [...problems].sort(
    (a, b) =>
      (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1) ||
      a.file.localeCompare(b.file) ||
      a.line - b.line ||
      a.column - b.column ||
      a.message.localeCompare(b.message),
  );
}

function editDistance(a: string, b: string): number {
  const previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0]!;
    previous[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j]!;
      previous[j] = Math.min(above + 1, previous[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return previous[b.length]!;
}

/** The closest candidate, if close enough to be a likely typo (case is ignored). */
export function closest(input: string, candidates: Iterable<string>): string | undefined {
  const lower = input.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(input.length / 3)) ? best : undefined;
}

/** "did you mean X?", or a short list of what is allowed when nothing is close. */
export function suggestion(input: string, candidates: readonly string[], noun: string): string {
  const near = closest(input, candidates);
  if (near !== undefined) return `did you mean ${near}?`;
  if (candidates.length === 0) return `no ${noun} is defined`;
  const shown = candidates.slice(0, 8).join(', ');
  return `known ${noun}s: ${shown}${candidates.length > 8 ? `, … (${candidates.length} in all)` : ''}`;
}
