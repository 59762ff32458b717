/** The benchmark's round order (test/bench/round-order.ts): every side in every position, and after every other side, equally often. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { roundOrder, warmupPlan } from './bench/round-order.ts';

/** How often each side is loaded in each position, and right after each other side, over `rounds` rounds. */
function tally(
  sides: readonly string[],
  rounds: number,
): { positions: Map<string, number>; pairs: Map<string, number> } {
  const positions = new Map<string, number>();
  const pairs = new Map<string, number>();
  const count = (counts: Map<string, number>, key: string): void => void counts.set(key, (counts.get(key) ?? 0) + 1);
  for (let round = 0; round < rounds; round++) {
    const order = roundOrder(sides, round);
    assert.deepEqual([...order].sort(), [...sides].sort(), `round ${round} loads every side once`);
    order.forEach((side, position) => count(positions, `${side}@${position}`));
    for (let i = 1; i < order.length; i++) count(pairs, `${order[i - 1]}>${order[i]}`);
  }
  return { positions, pairs };
}

describe('bench round order', () => {
  it('two sides take turns going first', () => {
    assert.deepEqual(
      Array.from({ length: 4 }, (_, round) => roundOrder(['on', 'off'], round).join(' ')),
      ['on off', 'off on', 'on off', 'off on'],
    );
  });

  for (const sides of [
    ['A', 'B', 'C', 'D'],
    ['A', 'B', 'C'],
    ['A', 'B', 'C', 'D', 'E', 'F'],
  ]) {
    const rounds = sides.length % 2 === 0 ? sides.length : 2 * sides.length;
    it(`${sides.length} sides: over ${rounds} rounds, each position and each neighbour equally often`, () => {
      const { positions, pairs } = tally(sides, rounds);
      assert.equal(positions.size, sides.length * sides.length, 'every side in every position');
      assert.equal(new Set(positions.values()).size, 1, `positions balanced: ${JSON.stringify([...positions])}`);
      assert.equal(pairs.size, sides.length * (sides.length - 1), 'every side after every other side');
      assert.equal(new Set(pairs.values()).size, 1, `neighbours balanced: ${JSON.stringify([...pairs])}`);
    });
  }
});

describe('bench warm-up plan', () => {
  it('gives every side the same warm-up, in slices that take turns, never one side after another', () => {
    const plan = warmupPlan(['credence', 'bare', 'hive'], 12, 5);
    const total = (side: string): number =>
      plan.filter((step) => step.side === side).reduce((sum, step) => sum + step.seconds, 0);
    assert.deepEqual([total('credence'), total('bare'), total('hive')], [12, 12, 12]);
    assert.deepEqual(
      plan.map((step) => step.seconds),
      [5, 5, 5, 5, 5, 5, 2, 2, 2],
    );
    // Between two slices of one side, only one slice of each other side: none idles for long.
    for (const side of ['credence', 'bare', 'hive']) {
      const at = plan.flatMap((step, index) => (step.side === side ? [index] : []));
      for (let i = 1; i < at.length; i++)
        assert.ok((at[i] ?? 0) - (at[i - 1] ?? 0) <= 2 * 3 - 1, `${side}: ${at.join(',')}`);
    }
  });

  it('plans nothing for no warm-up', () => {
    assert.deepEqual(warmupPlan(['on', 'off'], 0, 5), []);
  });
});
