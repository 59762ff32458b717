/**
 * Stage: persisted operations. Before anything else reads the request's text: a hash becomes its
 * registered text, and a persisted-only consumer's unregistered operation is refused
 * (gateway/persisted-operations.ts). Nothing registers itself.
 */
import { resolvePersistedOperation, type OperationRegistry } from '../persisted-operations.ts';
import type { Stage } from './stage.ts';

export function persistedOperationStage({ operations }: { operations: OperationRegistry }): Stage {
  return {
    name: 'persisted operations',
    received: async ({ request, context }) => {
      await resolvePersistedOperation(request, context.identity.consumer, operations);
    },
  };
}
