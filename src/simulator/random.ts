/**
 * A small seeded PRNG (mulberry32) so that every simulator run is reproducible from its seed.
 * Not for cryptography: it only has to be fast, deterministic and well spread.
 */

/** A deterministic source of random draws. */
export interface Random {
  /** A number in [0, 1). */
  next(): number;
  /** An integer in [min, max) (max exclusive). */
  int(min: number, max: number): number;
  /** A number in [min, max). */
  uniform(min: number, max: number): number;
  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T;
  /** A log-normal draw with the given median and sigma (of the underlying normal). */
  lognormal(medianMs: number, sigma: number): number;
  /** True with probability `p` (p <= 0 never, p >= 1 always; neither consumes a draw). */
  chance(p: number): boolean;
}

/** mulberry32 from a 32-bit seed: uniform draws in [0, 1). The one copy (tests and benchmarks seed theirs here too). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** FNV-1a, so a stream label turns into a seed offset without another dependency. */
function hashLabel(label: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) {
    hash ^= label.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * A PRNG for `seed`. `stream` names an independent sequence from the same seed, so that (for example)
 * fault draws never shift the room ids the world draws.
 */
export function createRandom(seed: number, stream = ""): Random {
  const next = mulberry32(Math.trunc(seed) ^ hashLabel(stream));

  return {
    next,
    int(min, max) {
      if (!(max > min)) throw new RangeError(`int(${min}, ${max}): max must be greater than min`);
      return min + Math.floor(next() * (max - min));
    },
    uniform(min, max) {
      return min + next() * (max - min);
    },
    pick(items) {
      if (items.length === 0) throw new RangeError("pick() needs a non-empty list");
      return items[Math.floor(next() * items.length)] as (typeof items)[number];
    },
    lognormal(medianMs, sigma) {
      // Box-Muller; 1 - next() is in (0, 1], so the log never sees 0.
      const u1 = 1 - next();
      const u2 = next();
      const normal = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
      return medianMs * Math.exp(sigma * normal);
    },
    chance(p) {
      if (p <= 0) return false;
      if (p >= 1) return true;
      return next() < p;
    },
  };
}
