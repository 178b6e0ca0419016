/** Seeded random numbers for tests: the same draws on every run, unlike Math.random. */

/** mulberry32: a small, fast 32-bit PRNG; uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

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
