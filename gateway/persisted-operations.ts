/**
 * Persisted operations at the gateway. A request may name its operation by hash (Apollo's APQ
 * format, `extensions.persistedQuery.sha256Hash`); the text comes from the operations registered
 * for its consumer in `policies/operations/`. A consumer with `persistedOperationsOnly: true` in
 * the policy gets only its registered operations executed, whether it sends the hash or the text.
 *
 * Nothing is registered by sending it: Apollo Server's own automatic registration is off, so an
 * unknown hash is `PERSISTED_QUERY_NOT_FOUND` and an unregistered text from a persisted-only
 * consumer `OPERATION_NOT_REGISTERED`. A hash the gateway does not know makes it read the folder
 * again (at most once per `reloadIntervalMs`), so newly registered operations work without restart.
 */
import { codedError, ErrorCode } from '../lib/error-registry.ts';
import type { Logger } from '../lib/logger.ts';
import type { Consumer } from '../lib/policy/decision/model.ts';
import { operationHash, readRegisteredOperations } from '../lib/policy/decision/registered-operations.ts';

export interface OperationRegistry {
  /** The registered text of `hash` for `consumer`, reading the folder again if it is not known. */
  find(consumer: string, hash: string): Promise<string | undefined>;
}

export function createOperationRegistry(options: {
  policiesDir: string;
  log: Logger;
  reloadIntervalMs?: number;
}): OperationRegistry {
  const interval = options.reloadIntervalMs ?? 2000;
  let registered = new Map<string, Map<string, string>>();
  let loadedAt = -Infinity;
  let loading: Promise<void> | undefined;
  const reload = (): Promise<void> =>
    (loading ??= readRegisteredOperations(options.policiesDir)
      .then(
        (operations) => {
          registered = operations;
        },
        (error: unknown) => {
          // A broken manifest keeps the operations read before; operators see why.
          options.log.error({ reason: (error as Error).message }, 'persisted operations could not be read');
        },
      )
      .finally(() => {
        loadedAt = Date.now();
        loading = undefined;
      }));
  return {
    find: async (consumer, hash) => {
      const known = registered.get(consumer)?.get(hash);
      if (known !== undefined || Date.now() - loadedAt < interval) return known;
      await reload();
      return registered.get(consumer)?.get(hash);
    },
  };
}

interface PersistedQueryExtension {
  version?: unknown;
  sha256Hash?: unknown;
}

/** What persisted operations need of a request: Apollo Server's `GraphQLRequest`, which this edits in place. */
export interface PersistableRequest {
  query?: string;
  extensions?: Record<string, unknown>;
}

/**
 * Resolves a request's persisted operation: a hash becomes its registered text, the extension is
 * removed (Apollo Server's own persisted-query handling is off and must not see it), and a
 * persisted-only consumer's unregistered operation is refused. Throws the refusal.
 */
export async function resolvePersistedOperation(
  request: PersistableRequest,
  consumer: Consumer,
  registry: OperationRegistry,
): Promise<void> {
  const { persistedQuery, ...otherExtensions } = (request.extensions ?? {}) as {
    persistedQuery?: PersistedQueryExtension;
  };
  if (persistedQuery) {
    request.extensions = otherExtensions;
    const hash = persistedQuery.sha256Hash;
    if (persistedQuery.version !== 1 || typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) {
      throw codedError(ErrorCode.BAD_REQUEST, 'Send persistedQuery as { version: 1, sha256Hash: <64 hex digits> }.');
    }
    if (request.query === undefined) {
      const body = await registry.find(consumer.id, hash);
      if (body === undefined) throw codedError(ErrorCode.PERSISTED_QUERY_NOT_FOUND);
      request.query = body;
    } else if (operationHash(request.query) !== hash) {
      throw codedError(ErrorCode.BAD_REQUEST, 'The persisted query hash does not match the query sent.');
    }
  }
  if (consumer.persistedOperationsOnly) {
    const registered =
      request.query !== undefined && (await registry.find(consumer.id, operationHash(request.query))) !== undefined;
    if (!registered) {
      throw codedError(ErrorCode.OPERATION_NOT_REGISTERED);
    }
  }
}
