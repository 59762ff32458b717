import { GraphQLError } from 'graphql';
import { checkUscc } from './uscc.ts';

/**
 * Error codes a partner agency can act on. Every error Credence returns carries one of these in
 * `extensions.code`; messages never contain stack traces or internal addresses.
 */
export const ErrorCode = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  BAD_REQUEST: 'BAD_REQUEST',
  NOT_FOUND: 'NOT_FOUND',
  DEPARTMENT_UNAVAILABLE: 'DEPARTMENT_UNAVAILABLE',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Validates a USCC argument, throwing `BAD_USER_INPUT` that names the failing position. */
export function assertUscc(code: string, argumentName = 'uscc'): string {
  const fault = checkUscc(code);
  if (fault) {
    throw new GraphQLError(`Invalid Unified Social Credit Code in "${argumentName}": ${fault.message}`, {
      extensions: { code: ErrorCode.BAD_USER_INPUT, argumentName, position: fault.position },
    });
  }
  return code;
}
