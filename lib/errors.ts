import { GraphQLError } from 'graphql';
import { checkUscc } from './uscc.ts';

/**
 * Error codes a partner agency can act on. Every error Credence returns carries one of these in
 * `extensions.code`; messages never contain stack traces or internal addresses.
 */
export const ErrorCode = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  BAD_REQUEST: 'BAD_REQUEST',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  POLICY_VERSION_UNAVAILABLE: 'POLICY_VERSION_UNAVAILABLE',
  NOT_FOUND: 'NOT_FOUND',
  DEPARTMENT_UNAVAILABLE: 'DEPARTMENT_UNAVAILABLE',
  /** The access log cannot be written: no data is released (HTTP 503). */
  ACCESS_LOG_UNAVAILABLE: 'ACCESS_LOG_UNAVAILABLE',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
  STORE_UNAVAILABLE: 'STORE_UNAVAILABLE',
  BATCHING_NOT_ALLOWED: 'BATCHING_NOT_ALLOWED',
  RATE_LIMITED: 'RATE_LIMITED',
  QUOTA_EXCEEDED: 'QUOTA_EXCEEDED',
  PERSISTED_QUERY_NOT_FOUND: 'PERSISTED_QUERY_NOT_FOUND',
  OPERATION_NOT_REGISTERED: 'OPERATION_NOT_REGISTERED',
  OPERATION_RESOLUTION_FAILURE: 'OPERATION_RESOLUTION_FAILURE',
  /** A write outside the consumer's competence (authority, kind of record, basis issuer): nothing is written. */
  OUTSIDE_COMPETENCE: 'OUTSIDE_COMPETENCE',
  /** A department's gateway assertion was issued for another department, another request, or was used already (401). */
  ASSERTION_AUDIENCE_MISMATCH: 'ASSERTION_AUDIENCE_MISMATCH',
  ASSERTION_REQUEST_MISMATCH: 'ASSERTION_REQUEST_MISMATCH',
  ASSERTION_REPLAYED: 'ASSERTION_REPLAYED',
  /** A variable's value nested deeper than any input of the schema (HTTP 400), refused before anything walks it. */
  VARIABLES_TOO_DEEP: 'VARIABLES_TOO_DEEP',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Bad input: `BAD_USER_INPUT`, naming the argument or input field at fault in `extensions.field`. */
export function badInput(message: string, field: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.BAD_USER_INPUT, field, ...extensions } });
}

/** Validates a USCC argument, throwing `BAD_USER_INPUT` that names the argument (`field`) and the failing position. */
export function assertUscc(code: string, field = 'uscc'): string {
  const fault = checkUscc(code);
  if (fault) throw badInput(`Invalid Unified Social Credit Code in "${field}": ${fault.message}`, field, { position: fault.position });
  return code;
}

/**
 * An error raised before execution (authentication, purpose, policy version) that also sets the
 * HTTP status of the answer: Apollo Server honours `extensions.http.status` from a context function.
 */
export function requestError(message: string, code: string, status: number): GraphQLError {
  return new GraphQLError(message, { extensions: { code, http: { status } } });
}
