/**
 * Single use of gateway assertions: a department claims each assertion's id in the shared store
 * (Redis SET NX with an expiry, shared by every instance of every department; in memory without
 * Redis) before it answers. The claim outlives the assertion, so an assertion captured on its way
 * is refused the second time anywhere, and the store holds at most one short key per live
 * assertion. One Redis round trip per department call.
 */
import type { SharedStore } from '../stores/shared-store.ts';
import { ErrorCode } from '../error-registry.ts';
import { IdentityError } from './identity-error.ts';
import type { AssertedIdentity } from './assertion.ts';

/** Clock skew tolerated on the assertion's expiry: the claim is kept this much longer. */
const CLAIM_MARGIN_MS = 10_000;

export interface ReplayGuard {
  /** Throws ASSERTION_REPLAYED when the assertion was used before, ASSERTION_CHECK_UNAVAILABLE when that cannot be known. */
  claim(asserted: Pick<AssertedIdentity, 'assertionId' | 'expiresAt'>, now?: Date): Promise<void>;
}

export function createReplayGuard(store: SharedStore, namespace: string): ReplayGuard {
  return {
    async claim({ assertionId, expiresAt }, now = new Date()) {
      let first: boolean;
      try {
        first = await store.claim(
          `${namespace}:assertion:${assertionId}`,
          Math.max(1, expiresAt.getTime() - now.getTime()) + CLAIM_MARGIN_MS,
        );
      } catch (error) {
        // Fail closed: an assertion whose single use cannot be checked is not honoured.
        throw new IdentityError(ErrorCode.ASSERTION_CHECK_UNAVAILABLE, { detail: (error as Error).message });
      }
      if (!first) throw new IdentityError(ErrorCode.ASSERTION_REPLAYED, { detail: `assertion ${assertionId}` });
    },
  };
}
