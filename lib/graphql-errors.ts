import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { Logger } from './logger.ts';
import { ErrorCode } from './errors.ts';

/**
 * Apollo Server `formatError`: errors raised on purpose (GraphQLError with a code) pass through;
 * anything else (a database failure, a bug) becomes a generic error, so that no stack trace,
 * driver message or internal address reaches a consumer. The original is logged.
 */
export function safeErrorFormatter(log: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (original instanceof GraphQLError && original.extensions.code && original.extensions.code !== ErrorCode.INTERNAL_SERVER_ERROR) {
      return formatted;
    }
    if (formatted.extensions?.code && formatted.extensions.code !== ErrorCode.INTERNAL_SERVER_ERROR) return formatted;
    log.error({ err: original, path: formatted.path }, 'internal error while resolving');
    return {
      message: 'Internal error.',
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    };
  };
}
