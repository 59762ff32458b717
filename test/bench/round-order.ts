/**
 * The order in which the sides of a comparison are loaded in each round: a balanced Latin square
 * (Williams' design). Over `n` rounds (2n when n is odd) every side is loaded in every position
 * equally often, and follows every other side equally often, so a steady drift (the store and the
 * JIT still warming, other load fading) and whatever one side leaves behind for the next favour
 * none. Rotating alone balances positions but not neighbours; rotating and reversing every other
 * round, as an earlier version did, loaded the first of two sides first in every round.
 */
export function roundOrder<T>(sides: readonly T[], round: number): T[] {
  const n = sides.length;
  // The first row: 0, 1, n-1, 2, n-2, ... Each later row adds the round to every entry.
  const first = Array.from({ length: n }, (_, i) => (i % 2 === 1 ? (i + 1) / 2 : (n - i / 2) % n));
  const row = first.map((index) => sides[(index + round) % n] as T);
  // For an odd n the square balances neighbours only with each row's mirror image as well.
  return n % 2 === 1 && Math.floor(round / n) % 2 === 1 ? row.reverse() : row;
}

/**
 * The warm-up before a comparison's measured rounds: every side `seconds` in all, in slices of at
 * most `slice` seconds, in the rounds' own rotating order. Not one side after another: a process
 * left idle while the others run comes back at up to twice its CPU per request for its first
 * minute of load (docs/benchmarks.md, "Idle stacks come back slow"), so the side warmed last
 * would be measured warm and the others half cold. With slices, no side waits longer than the
 * others' slices between two of its own.
 */
export function warmupPlan<T>(sides: readonly T[], seconds: number, slice: number): { side: T; seconds: number }[] {
  const plan: { side: T; seconds: number }[] = [];
  for (let round = 0, left = seconds; left > 0; round++, left -= slice) {
    for (const side of roundOrder(sides, round)) plan.push({ side, seconds: Math.min(slice, left) });
  }
  return plan;
}
