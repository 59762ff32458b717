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
