/**
 * A circuit breaker for one department: after `failureThreshold` consecutive failed calls
 * (unreachable, timed out, HTTP error) the circuit opens and calls fail at once, without
 * reaching the department, for `cooldownMs`; then one probe call is let through (half-open).
 * Its success closes the circuit, its failure opens it for another cool-down. A failing
 * department is thus asked once per cool-down instead of by every request, and its callers
 * get their answer (with DEPARTMENT_UNAVAILABLE) at once instead of after a timeout.
 */
export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  failureThreshold: number;
  cooldownMs: number;
  /** Told of each change of state (for the log). */
  onStateChange?: (state: CircuitState) => void;
  now?: () => number;
}

export interface CircuitBreaker {
  readonly state: CircuitState;
  /** True if a call may go out now; in half-open state only the one probe may. */
  tryAcquire(): boolean;
  succeeded(): void;
  failed(): void;
  /** A call let through ended with nothing to say about this circuit: its probe slot, if it held it, is free again. */
  release(): void;
}

export function createCircuitBreaker(options: CircuitBreakerOptions): CircuitBreaker {
  const now = options.now ?? Date.now;
  let state: CircuitState = 'closed';
  let failures = 0;
  let openedAt = 0;
  let probing = false;
  const become = (next: CircuitState): void => {
    if (next === state) return;
    state = next;
    options.onStateChange?.(next);
  };
  const open = (): void => {
    openedAt = now();
    probing = false;
    become('open');
  };
  return {
    get state() {
      return state;
    },
    tryAcquire: () => {
      if (state === 'closed') return true;
      if (state === 'open' && now() - openedAt >= options.cooldownMs) become('half-open');
      if (state === 'half-open' && !probing) {
        probing = true;
        return true;
      }
      return false;
    },
    succeeded: () => {
      failures = 0;
      probing = false;
      become('closed');
    },
    failed: () => {
      failures += 1;
      if (state === 'half-open' || failures >= options.failureThreshold) open();
    },
    release: () => {
      probing = false;
    },
  };
}
