import { unwrapResolverError } from '@apollo/server/errors';
import type { GraphQLFormattedError } from 'graphql';
import type { Logger } from './logger.ts';
import { ErrorCode, registryMessage } from './error-registry.ts';

/** Errors of the MongoDB driver and mongoose that mean the store cannot be reached (not a bad query). */
const STORE_UNREACHABLE =
  /^Mongo(ose)?(ServerSelection|Network|NetworkTimeout|PoolCleared|NotConnected|TopologyClosed|ClientClosed)Error$/;
/**
 * Socket errors the driver lets through unwrapped, as when the store closes a connection while a
 * command is being written to it (Node's "socket has been ended by the other party" is EPIPE).
 */
const SOCKET_FAILURES = new Set(['EPIPE', 'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT']);

/** @apollo/gateway's code for a subgraph error without a code of its own: its raw message is not for consumers. */
const DOWNSTREAM_SERVICE_ERROR = 'DOWNSTREAM_SERVICE_ERROR';

export function isStoreUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  return (
    STORE_UNREACHABLE.test(error.name) ||
    (code !== undefined && SOCKET_FAILURES.has(code)) ||
    (error.name === 'MongooseError' && /buffering timed out/.test(error.message))
  );
}

/**
 * Apollo Server `formatError`: errors raised on purpose (GraphQLError with a code) pass through;
 * a store that cannot be reached is `STORE_UNAVAILABLE` (the caller may try again shortly);
 * anything else (a database failure, a bug) becomes a generic error, so that no stack trace,
 * driver message or internal address reaches a consumer. The original is logged.
 */
export function safeErrorFormatter(log: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    const code = formatted.extensions?.code;
    if (code && code !== ErrorCode.INTERNAL_SERVER_ERROR && code !== DOWNSTREAM_SERVICE_ERROR) {
      // @apollo/gateway adds the subgraph's name as `serviceName`; the consumer's contract is
      // `department`, set on purpose where it helps (DEPARTMENT_UNAVAILABLE), nothing else.
      if (formatted.extensions && 'serviceName' in formatted.extensions) {
        const { serviceName, ...extensions } = formatted.extensions;
        return { ...formatted, extensions: { ...extensions, department: extensions.department ?? serviceName } };
      }
      return formatted;
    }
    if (isStoreUnavailable(original)) {
      log.warn({ reason: (original as Error).message, path: formatted.path }, 'store unavailable');
      return {
        message: registryMessage(ErrorCode.STORE_UNAVAILABLE),
        ...(formatted.path ? { path: formatted.path } : {}),
        extensions: { code: ErrorCode.STORE_UNAVAILABLE },
      };
    }
    log.error({ err: original, path: formatted.path }, 'internal error while resolving');
    return {
      message: registryMessage(ErrorCode.INTERNAL_SERVER_ERROR),
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    };
  };
}
