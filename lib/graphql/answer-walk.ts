/**
 * The one walk over a GraphQL answer's data. Two shapes of it, each written once:
 *
 * - along a response path (`['subjects', '@', 'name']`, `@` for each list level): the gateway
 *   puts denied fields back as null there, a department masks fields there;
 * - over every object of the answer: the gateway removes what it added for its own use and puts
 *   the caller's response keys back in one pass.
 *
 * Answers are as deep as the operation, which passed the depth limit, so recursion is bounded.
 */

export type AnswerRecord = Record<string, unknown>;

/**
 * Calls `visit` with each object that holds the field at the end of `path`, and the concrete path
 * of that field (list indexes included). Stops where the answer is null, not an object, or not a
 * list where the path expects one; walks only through keys the answer really holds.
 */
export function forEachAtPath(
  data: unknown,
  path: readonly string[],
  visit: (holder: AnswerRecord, key: string, at: readonly (string | number)[]) => void,
): void {
  const last = path.length - 1;
  const step = (value: unknown, depth: number, concrete: (string | number)[]): void => {
    if (value === null || value === undefined || typeof value !== 'object') return;
    const segment = path[depth] as string;
    if (segment === '@') {
      if (Array.isArray(value)) value.forEach((item, index) => step(item, depth + 1, [...concrete, index]));
      return;
    }
    const record = value as AnswerRecord;
    if (depth === last) {
      visit(record, segment, [...concrete, segment]);
      return;
    }
    if (Object.hasOwn(record, segment)) step(record[segment], depth + 1, [...concrete, segment]);
  };
  if (last >= 0) step(data, 0, []);
}

/** Calls `visit` on every object of an answer, parent before children (lists walked through); `visit` may change the object in place. */
export function forEachObject(value: unknown, visit: (record: AnswerRecord) => void): void {
  if (Array.isArray(value)) {
    for (const item of value) forEachObject(item, visit);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const record = value as AnswerRecord;
  visit(record);
  for (const child of Object.values(record)) forEachObject(child, visit);
}
