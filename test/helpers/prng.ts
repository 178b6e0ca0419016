/** Seeded random numbers for tests: the same draws on every run, unlike Math.random. */

/** mulberry32: a small, fast 32-bit PRNG; uniform in [0, 1). The simulator's own, so there is one copy. */
export { mulberry32 as seededRandom } from "../../src/simulator/random.js";

/** A standard normal draw (Box-Muller) from a uniform source. */
export function normal(random: () => number): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** The largest number of times in any half-open window [t, t + windowMs) (times sorted ascending). */
export function maxInWindow(sortedTimes: readonly number[], windowMs: number): number {
  let best = 0;
  let end = 0;
  for (let start = 0; start < sortedTimes.length; start++) {
    const from = sortedTimes[start] as number;
    while (end < sortedTimes.length && (sortedTimes[end] as number) < from + windowMs) end++;
    best = Math.max(best, end - start);
  }
  return best;
}
