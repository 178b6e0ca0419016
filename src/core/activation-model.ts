/**
 * What the fleet has learned about how long rooms take to become active, and the poll schedule that
 * follows from it. Pure: no clock, no I/O.
 *
 * Times to active go into a histogram with logarithmic bins (fine where rooms are fast, coarse in the
 * long tail), whose weights decay so the model follows a host whose behaviour changes.
 *
 * The schedule: from a look at t that found the room starting, the next look comes after the shortest
 * gap Δ with  P(active by t+Δ | starting at t) × Δ ≥ 2 × delayPerLookMs.  A look's gap times the chance
 * the room turns active in it is about twice the detection delay that gap costs on average, so every
 * look is given the same share of delay: looks crowd where activation is likely (the square-root rule
 * of optimal inspection spacing, Δ ∝ 1/√density) and thin out where it is not.
 */

export interface ActivationModelOptions {
  /** Samples needed before the model drives the schedule. Default 20. */
  readonly minSamples?: number | undefined;
  /** Total weight kept; beyond it every weight is halved, so old samples fade. Default 2,000. */
  readonly maxWeight?: number | undefined;
}

export interface LearnedScheduleOptions {
  /** The share of detection delay each look may cost; lower means more looks and sooner detection. */
  readonly delayPerLookMs: number;
  /** Never look sooner than this after the last look. */
  readonly minPollIntervalMs: number;
  /** Never wait longer than this between looks. */
  readonly maxPollIntervalMs: number;
}

export const DEFAULT_MIN_SAMPLES = 20;
export const DEFAULT_MAX_WEIGHT = 2_000;

/** Bin edges: 0, then 10 ms growing by 10 % a bin up to ~17 minutes (about 120 bins). */
const FIRST_EDGE_MS = 10;
const GROWTH = 1.1;
const LAST_EDGE_MS = 1_000_000;
const EDGES: readonly number[] = (() => {
  const edges = [0];
  for (let edge = FIRST_EDGE_MS; edge < LAST_EDGE_MS; edge *= GROWTH) edges.push(edge);
  edges.push(LAST_EDGE_MS);
  return edges;
})();
const BINS = EDGES.length - 1;

function binOf(ms: number): number {
  if (ms < FIRST_EDGE_MS) return 0;
  const bin = 1 + Math.floor(Math.log(ms / FIRST_EDGE_MS) / Math.log(GROWTH));
  return Math.min(BINS - 1, bin);
}

export class ActivationModel {
  readonly #weights = new Float64Array(BINS);
  readonly #minSamples: number;
  readonly #maxWeight: number;
  #total = 0;
  #samples = 0;

  constructor(options: ActivationModelOptions = {}) {
    this.#minSamples = options.minSamples ?? DEFAULT_MIN_SAMPLES;
    this.#maxWeight = options.maxWeight ?? DEFAULT_MAX_WEIGHT;
  }

  /** Samples recorded so far (not decayed). */
  get samples(): number {
    return this.#samples;
  }

  /** Whether there is enough to go on. */
  get ready(): boolean {
    return this.#samples >= this.#minSamples;
  }

  /**
   * Records one room's activation, known to lie in (`notActiveAtMs`, `activeAtMs`] after its origin
   * (the last look that saw it starting, the look that saw it active). The weight is spread evenly
   * over that interval, which is what the looks can tell.
   */
  record(notActiveAtMs: number, activeAtMs: number): void {
    const from = Math.max(0, Math.min(notActiveAtMs, activeAtMs));
    const to = Math.max(from, activeAtMs);
    if (!Number.isFinite(to)) return;
    this.#samples++;
    this.#total += 1;
    if (to - from < 1e-9) {
      this.#weights[binOf(from)]! += 1;
    } else {
      for (let bin = binOf(from); bin <= binOf(to); bin++) {
        const lo = Math.max(from, EDGES[bin]!);
        const hi = Math.min(to, EDGES[bin + 1]!);
        if (hi > lo) this.#weights[bin]! += (hi - lo) / (to - from);
      }
    }
    if (this.#total > this.#maxWeight) {
      for (let bin = 0; bin < BINS; bin++) this.#weights[bin]! /= 2;
      this.#total /= 2;
    }
  }

  /** The learned share of rooms active by `ms` after their origin (0..1). */
  cdf(ms: number): number {
    if (this.#total === 0) return 0;
    return this.#massBelow(ms) / this.#total;
  }

  /** The learned `q`-quantile of time to active, in ms (undefined before any sample). */
  quantile(q: number): number | undefined {
    if (this.#total === 0) return undefined;
    return this.#timeAtMass(Math.min(1, Math.max(0, q)) * this.#total, 0, 0);
  }

  /**
   * Delay from a look at `elapsedMs` after the origin (which found the room starting) to the next
   * one, within [minPollIntervalMs, maxPollIntervalMs]. See the schedule above.
   */
  nextDelayMs(elapsedMs: number, options: LearnedScheduleOptions): number {
    const { delayPerLookMs, minPollIntervalMs, maxPollIntervalMs } = options;
    const t = Math.max(0, elapsedMs);
    const below = this.#massBelow(t);
    const remaining = this.#total - below;
    // Past everything seen so far: nothing to aim at, so look as seldom as allowed.
    if (remaining <= this.#total * 1e-6) return maxPollIntervalMs;
    const worth = (gapMs: number): number => ((this.#massBelow(t + gapMs) - below) / remaining) * gapMs;
    const target = 2 * delayPerLookMs;
    if (worth(minPollIntervalMs) >= target) return minPollIntervalMs;
    if (worth(maxPollIntervalMs) < target) return maxPollIntervalMs;
    // worth() grows with the gap: bisect to the millisecond.
    let lo = minPollIntervalMs;
    let hi = maxPollIntervalMs;
    while (hi - lo > 1) {
      const mid = (lo + hi) / 2;
      if (worth(mid) >= target) hi = mid;
      else lo = mid;
    }
    return Math.round(hi);
  }

  #massBelow(ms: number): number {
    if (ms <= 0) return 0;
    const last = binOf(ms);
    let mass = 0;
    for (let bin = 0; bin < last; bin++) mass += this.#weights[bin]!;
    const lo = EDGES[last]!;
    const hi = EDGES[last + 1]!;
    return mass + (this.#weights[last]! * Math.min(1, (ms - lo) / (hi - lo)));
  }

  /** The time at which the cumulative mass reaches `mass`, scanning from `fromMs` whose mass below is `fromMass`. */
  #timeAtMass(mass: number, fromMs: number, fromMass: number): number {
    let bin = binOf(fromMs);
    let cumulative = fromMass;
    let position = fromMs;
    let lastSeen: number | undefined;
    for (; bin < BINS; bin++) {
      const lo = EDGES[bin]!;
      const hi = EDGES[bin + 1]!;
      const weight = this.#weights[bin]!;
      const start = Math.max(lo, position);
      const inBin = weight * ((hi - start) / (hi - lo));
      if (cumulative + inBin >= mass && weight > 0) {
        return start + ((mass - cumulative) / weight) * (hi - lo);
      }
      if (weight > 0) lastSeen = hi;
      cumulative += inBin;
      position = hi;
    }
    // The weights' float sum can fall a hair short of the total: the top is then the end of what was seen.
    return lastSeen ?? LAST_EDGE_MS;
  }
}
