/**
 * The subjects a department served or changed in one answer, as it reports them to the gateway:
 * the codes (`uscc`) of the records its resolvers returned, in the answer's
 * `extensions.credenceSubjects`. The gateway adds them to the request's access record, so that a
 * mutation or query addressed by a record number (a case number, an application id) names the
 * subject whose data it served, whatever its arguments were called.
 */
export const SERVED_SUBJECTS_EXTENSION = 'credenceSubjects';

/** A code is 18 characters; anything much longer is not one and is not copied into the log. */
export const MAX_CODE_LENGTH = 32;

/** The codes of a department's answer extensions (anything else there is ignored). */
export function servedSubjectsIn(extensions: Readonly<Record<string, unknown>> | undefined): string[] {
  const reported = extensions?.[SERVED_SUBJECTS_EXTENSION];
  if (!Array.isArray(reported)) return [];
  return reported.filter(
    (code): code is string => typeof code === 'string' && code.length > 0 && code.length <= MAX_CODE_LENGTH,
  );
}
