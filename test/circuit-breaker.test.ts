/** The circuit breaker's states on a clock the test moves. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCircuitBreaker, type CircuitState } from '../gateway/circuit-breaker.ts';

function breaker(): {
  circuit: ReturnType<typeof createCircuitBreaker>;
  clock: { now: number };
  changes: CircuitState[];
} {
  const clock = { now: 0 };
  const changes: CircuitState[] = [];
  const circuit = createCircuitBreaker({
    failureThreshold: 3,
    cooldownMs: 1000,
    now: () => clock.now,
    onStateChange: (state) => changes.push(state),
  });
  return { circuit, clock, changes };
}

describe('circuit breaker', () => {
  it('opens after the threshold of consecutive failures, not before, and a success resets the count', () => {
    const { circuit } = breaker();
    circuit.failed();
    circuit.failed();
    circuit.succeeded();
    circuit.failed();
    circuit.failed();
    assert.equal(circuit.state, 'closed');
    assert.equal(circuit.tryAcquire(), true);
    circuit.failed();
    assert.equal(circuit.state, 'open');
    assert.equal(circuit.tryAcquire(), false);
  });

  it('lets one probe through after the cool-down; its success closes the circuit', () => {
    const { circuit, clock, changes } = breaker();
    for (let i = 0; i < 3; i += 1) circuit.failed();
    clock.now = 999;
    assert.equal(circuit.tryAcquire(), false);
    clock.now = 1000;
    assert.equal(circuit.tryAcquire(), true, 'the probe');
    assert.equal(circuit.state, 'half-open');
    assert.equal(circuit.tryAcquire(), false, 'only one probe at a time');
    circuit.succeeded();
    assert.equal(circuit.state, 'closed');
    assert.equal(circuit.tryAcquire(), true);
    assert.deepEqual(changes, ['open', 'half-open', 'closed']);
  });

  it('opens again for a whole cool-down when the probe fails', () => {
    const { circuit, clock } = breaker();
    for (let i = 0; i < 3; i += 1) circuit.failed();
    clock.now = 1000;
    assert.equal(circuit.tryAcquire(), true);
    circuit.failed();
    assert.equal(circuit.state, 'open');
    clock.now = 1999;
    assert.equal(circuit.tryAcquire(), false);
    clock.now = 2000;
    assert.equal(circuit.tryAcquire(), true);
  });
});
