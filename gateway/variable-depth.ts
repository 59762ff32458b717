/**
 * How deep a request's variables may nest. No input of the schema nests more than a few levels,
 * so a value nested deeper is refused (VARIABLES_TOO_DEEP, HTTP 400, with `extensions.limit`)
 * before the gateway or Apollo walks it: a variable nested 40,000 levels deep once overflowed the
 * call stack. The check itself keeps a stack of its own and stops at the limit.
 */
import type { GraphQLError } from 'graphql';
import { codedError, ErrorCode } from '../lib/error-registry.ts';

export const MAX_VARIABLE_DEPTH = 32;

/** Whether some value of `variables` nests lists or objects deeper than `limit`. */
export function variablesTooDeep(
  variables: Readonly<Record<string, unknown>> | undefined,
  limit = MAX_VARIABLE_DEPTH,
): boolean {
  const pending: [unknown, number][] = Object.values(variables ?? {}).map((value) => [value, 1]);
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [value, depth] = next;
    if (value === null || typeof value !== 'object') continue;
    if (depth > limit) return true;
    for (const item of Array.isArray(value) ? value : Object.values(value)) pending.push([item, depth + 1]);
  }
  return false;
}

export function variablesTooDeepError(limit = MAX_VARIABLE_DEPTH): GraphQLError {
  return codedError(ErrorCode.VARIABLES_TOO_DEEP, undefined, { limit });
}
