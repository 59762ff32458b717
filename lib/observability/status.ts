/**
 * What a process answers on `/status` (its main listener, for the console and `npm start`, and its
 * operator listener beside `/metrics`): the policy release in force, readiness with each check,
 * and the state of its stores; the gateway adds each department's circuit. The same shape for the
 * gateway and every department, so the console reads them alike.
 *
 * Nothing personal and nothing a consumer does not already learn from its own answers: no
 * address, no URI, no key, no count of anyone's traffic (those are metrics, on the operator
 * listener only). docs/operations.md says why it stays on the main listener too.
 */
import { checkReadiness, type ReadinessCheck } from '../http.ts';
import type { PolicyRuntime } from '../policy/releases/policy-in-force.ts';

export interface ProcessStatus {
  service: string;
  policy: ReturnType<PolicyRuntime['status']>;
  ready: boolean;
  checks: Record<string, 'ok' | 'unavailable'>;
  /** Each store this process uses, as a word (`connected`, `ready`, `writable`, `broken`, `memory`, `off`, ...). */
  stores: Record<string, string>;
  /** The gateway only: each department's circuit (`closed`, `open`, `half-open`). */
  circuits?: Record<string, string>;
}

export function processStatus(options: {
  service: string;
  policies: Pick<PolicyRuntime, 'status'>;
  readiness: readonly ReadinessCheck[];
  stores: () => Record<string, string>;
  circuits?: () => Record<string, string>;
}): () => Promise<ProcessStatus> {
  return async () => {
    const { ready, checks } = await checkReadiness(options.readiness);
    return {
      service: options.service,
      policy: options.policies.status(),
      ready,
      checks,
      stores: options.stores(),
      ...(options.circuits ? { circuits: options.circuits() } : {}),
    };
  };
}
