/**
 * The optimal inspection problem, solved numerically: given the distribution of a room's time to
 * active T (a CDF on a uniform grid) and a number of looks per room, choose the look times that
 * minimise the mean detection delay (the first look at or after T, minus T). Pure: no clock, no I/O.
 *
 * The first look is at 0. A look at t_j that follows one at t_i happens only when the room was still
 * starting at t_i, so it costs S(t_i) looks per room; the rooms it detects are those with T in
 * (t_i, t_j], each waiting t_j − T. Pricing a look at `priceMs` of delay turns the constrained problem
 * into a shortest path over the grid (the Lagrangian relaxation):
 *
 *   V(i) = price × S(t_i) + min over j in [i + minGap, i + maxGap(i)] of ( ∫_(t_i, t_j] (t_j − x) dF(x) + V(j) )
 *
 * solved backwards in O(grid × window). Bisecting the price finds the cheapest plan that fits the
 * budget. The solution is a policy (the next look from every grid point), not only one list of times,
 * so a room looked at off schedule (a sibling's prompt, a hint, a retry) continues optimally from there.
 */

/** A distribution of time to active on a uniform grid. */
export interface InspectionGrid {
  /** Grid spacing. */
  readonly stepMs: number;
  /** `cdf[i]`: the share of rooms active by `i × stepMs`; non-decreasing, the last point is the horizon. */
  readonly cdf: Float64Array;
}

export interface InspectionLimits {
  /** No two looks closer than this. */
  readonly minGapMs: number;
  /** No two looks further apart than this, but for gaps inside the distribution (below). */
  readonly maxGapMs: number;
  /**
   * A gap may stretch to this (when longer than maxGapMs) if the look that ends it still comes before
   * at least `interiorSurvival` of rooms have turned active: a gap across a stretch between two modes
   * the distribution has shown, never into its tail, where a stale belief would cost most. Default: none.
   */
  readonly interiorGapMs?: number | undefined;
  /** See interiorGapMs. Default 1 (no gap is interior). */
  readonly interiorSurvival?: number | undefined;
}

export interface InspectionPlan {
  readonly stepMs: number;
  /** `next[i]`: the grid point of the next look after a look at grid point i found the room starting. */
  readonly next: Int32Array;
  /** The price of a look, in ms of mean detection delay, at which this plan is optimal. */
  readonly priceMs: number;
  /** Expected looks per room (the first look included) over the grid's horizon. */
  readonly looksPerRoom: number;
  /** Expected detection delay over the grid's horizon. */
  readonly meanDelayMs: number;
}

/** The grid of `cdf` from 0 to `horizonMs`, in at most `maxPoints` steps, none finer than `minStepMs`. */
export function gridOf(cdf: (ms: number) => number, horizonMs: number, minStepMs: number, maxPoints: number): InspectionGrid {
  const stepMs = Math.max(minStepMs, horizonMs / maxPoints);
  const points = Math.max(2, Math.ceil(horizonMs / stepMs) + 1);
  const values = new Float64Array(points);
  let last = 0;
  for (let i = 0; i < points; i++) {
    last = Math.max(last, Math.min(1, cdf(i * stepMs)));
    values[i] = last;
  }
  return { stepMs, cdf: values };
}

/** Expected looks per room of a fixed loop looking every `intervalMs` from 0, over the grid's horizon. */
export function fixedLoopLooks(grid: InspectionGrid, intervalMs: number): number {
  return fixedLoopMoments(grid, intervalMs).mean;
}

/**
 * Mean and variance of a fixed loop's looks per room (every `intervalMs` from 0, over the grid's
 * horizon). A room takes n = 1 + Σ_k 1{T > k × interval} looks (k ≥ 0), so E[n] = 1 + Σ_k S(k × interval)
 * and E[n²] = 1 + 2 Σ_k S(k × interval) + Σ_k (2k + 1) S(k × interval): 2k + 1 pairs (j, k') have k as
 * the larger.
 */
export function fixedLoopMoments(grid: InspectionGrid, intervalMs: number): { readonly mean: number; readonly variance: number } {
  const horizonMs = (grid.cdf.length - 1) * grid.stepMs;
  let survivals = 0;
  let pairs = 0;
  let k = 0;
  for (let t = 0; t < horizonMs; t += intervalMs, k++) {
    const survival = 1 - cdfAt(grid, t);
    survivals += survival;
    pairs += (2 * k + 1) * survival;
  }
  const mean = 1 + survivals;
  return { mean, variance: Math.max(0, 1 + 2 * survivals + pairs - mean * mean) };
}

/**
 * The two plans either side of a budget. Looks and delay trade along a convex curve of which the
 * priced shortest path finds only the corners: the budget usually falls between two of them, and the
 * cheaper alone would leave part of it unspent. A share `overShare` of rooms following `over` and the
 * rest `under` spends exactly the budget (in expectation) at the least mean delay any mix of plans can.
 */
export interface InspectionMix {
  /** The corner at or under the budget: the sparsest plan allowed when even that spends more. */
  readonly under: InspectionPlan;
  /** The next corner, over the budget; undefined when `under` already spends it all or more. */
  readonly over: InspectionPlan | undefined;
  /** The share of rooms that follow `over` (0..1). */
  readonly overShare: number;
}

/**
 * The plans around `looksPerRoom` (within the limits): see InspectionMix. The looks are placed for
 * `grid`; `spendCdf` (on the same points; default `grid.cdf`) is the distribution their cost is
 * counted on, when the plan is placed on a smoothed belief but spends on the belief itself.
 */
export function plansAroundBudget(grid: InspectionGrid, limits: InspectionLimits, looksPerRoom: number, spendCdf: Float64Array = grid.cdf): InspectionMix {
  const solver = new Solver(grid, limits, spendCdf);
  // Looks per room fall as the price rises. Bisect its logarithm: prices span many orders of magnitude.
  let lo = Math.log(1e-3);
  let hi = Math.log(1e7);
  let under = solver.solve(Math.exp(hi));
  if (under.looksPerRoom >= looksPerRoom) return { under, over: undefined, overShare: 0 }; // The gap cap alone spends it.
  let over: InspectionPlan | undefined = solver.solve(Math.exp(lo));
  if (over.looksPerRoom <= looksPerRoom) return { under: over, over: undefined, overShare: 0 }; // Even the densest plan fits.
  for (let iteration = 0; iteration < 24; iteration++) {
    const mid = (lo + hi) / 2;
    const plan = solver.solve(Math.exp(mid));
    if (plan.looksPerRoom <= looksPerRoom) {
      under = plan;
      hi = mid;
    } else {
      over = plan;
      lo = mid;
    }
  }
  const overShare = (looksPerRoom - under.looksPerRoom) / (over.looksPerRoom - under.looksPerRoom);
  return { under, over, overShare: Math.min(1, Math.max(0, overShare)) };
}

/** The plan with the least mean delay among those that spend at most `looksPerRoom` (within the limits). */
export function planWithinBudget(grid: InspectionGrid, limits: InspectionLimits, looksPerRoom: number): InspectionPlan {
  return plansAroundBudget(grid, limits, looksPerRoom).under;
}

/** The plan optimal at `priceMs` per look. */
export function planAtPrice(grid: InspectionGrid, limits: InspectionLimits, priceMs: number): InspectionPlan {
  return new Solver(grid, limits).solve(priceMs);
}

/** A look within this of a grid point is at it: delays are rounded to whole milliseconds. */
const ON_POINT_MS = 0.5 + 1e-6;

/**
 * Delay from a look at `elapsedMs` (which found the room starting) to the next one. Past the horizon,
 * every `pastHorizonMs`.
 */
export function planDelayMs(plan: InspectionPlan, elapsedMs: number, pastHorizonMs: number): number {
  const last = plan.next.length - 1;
  // The look tells T > elapsed; the grid point at or below it is the state that knowledge implies. Looks
  // land on whole milliseconds, up to half of one before the grid point they were aimed at: that point is
  // the state (read as the point below, the room went on from a state it had already passed, on a denser
  // path than the plan counted: 1.4 % more looks on bench:schedule's heavy-tailed shape, docs/schedule.md).
  const i = Math.floor((Math.max(0, elapsedMs) + ON_POINT_MS) / plan.stepMs);
  if (i >= last) return pastHorizonMs;
  return plan.next[i]! * plan.stepMs - elapsedMs;
}

/** The look times of a plan from 0 up to its horizon. */
export function planTimes(plan: InspectionPlan): number[] {
  const times = [0];
  const last = plan.next.length - 1;
  for (let i = 0; i < last; ) {
    i = plan.next[i]!;
    times.push(i * plan.stepMs);
  }
  return times;
}

function cdfAt(grid: InspectionGrid, ms: number): number {
  const x = ms / grid.stepMs;
  const i = Math.floor(x);
  const last = grid.cdf.length - 1;
  if (i >= last) return grid.cdf[last]!;
  const a = grid.cdf[i]!;
  return a + (grid.cdf[i + 1]! - a) * (x - i);
}

class Solver {
  readonly #grid: InspectionGrid;
  readonly #minGap: number;
  readonly #maxGap: number;
  readonly #interiorGap: number;
  /** The last grid point at which at least interiorSurvival of rooms are still starting. */
  readonly #interiorEnd: number;
  /** First moment ∫_(0, t_i] x dF(x), mass spread evenly within each step. */
  readonly #moment: Float64Array;
  readonly #value: Float64Array;
  readonly #next: Int32Array;
  readonly #spendCdf: Float64Array;

  constructor(grid: InspectionGrid, limits: InspectionLimits, spendCdf: Float64Array = grid.cdf) {
    if (spendCdf.length !== grid.cdf.length) throw new RangeError(`spendCdf has ${spendCdf.length} points, the grid ${grid.cdf.length}`);
    this.#grid = grid;
    this.#spendCdf = spendCdf;
    const n = grid.cdf.length;
    this.#minGap = Math.max(1, Math.ceil(limits.minGapMs / grid.stepMs - 1e-9));
    this.#maxGap = Math.max(this.#minGap, Math.floor(limits.maxGapMs / grid.stepMs + 1e-9));
    this.#interiorGap = Math.max(this.#maxGap, Math.floor((limits.interiorGapMs ?? 0) / grid.stepMs + 1e-9));
    const survival = limits.interiorSurvival ?? 1;
    let end = 0;
    while (end + 1 < n && 1 - grid.cdf[end + 1]! >= survival) end++;
    this.#interiorEnd = end;
    this.#moment = new Float64Array(n);
    for (let i = 1; i < n; i++) this.#moment[i] = this.#moment[i - 1]! + (grid.cdf[i]! - grid.cdf[i - 1]!) * (i - 0.5) * grid.stepMs;
    this.#value = new Float64Array(n);
    this.#next = new Int32Array(n);
  }

  solve(priceMs: number): InspectionPlan {
    const { cdf, stepMs } = this.#grid;
    const moment = this.#moment;
    const value = this.#value;
    const next = this.#next;
    const last = cdf.length - 1;
    value[last] = 0;
    next[last] = last;
    for (let i = last - 1; i >= 0; i--) {
      const fi = cdf[i]!;
      const gi = moment[i]!;
      const from = Math.min(last, i + this.#minGap);
      // Up to maxGap, or further up to interiorGap while the look still lands inside the distribution.
      const to = Math.min(last, Math.max(i + this.#maxGap, Math.min(i + this.#interiorGap, this.#interiorEnd)));
      let best = Number.POSITIVE_INFINITY;
      let bestJ = to;
      // From the widest gap down with a strict <: among equal costs (nothing left to find), look seldom.
      for (let j = to; j >= from; j--) {
        const cost = j * stepMs * (cdf[j]! - fi) - (moment[j]! - gi) + value[j]!;
        if (cost < best) {
          best = cost;
          bestJ = j;
        }
      }
      value[i] = best + priceMs * (1 - fi);
      next[i] = bestJ;
    }
    const spend = this.#spendCdf;
    let looks = 1;
    let delay = 0;
    for (let i = 0; i < last; ) {
      const j = next[i]!;
      looks += 1 - spend[i]!;
      delay += j * stepMs * (cdf[j]! - cdf[i]!) - (moment[j]! - moment[i]!);
      i = j;
    }
    // Rooms active by the first look wait nothing; the mean is over every room within the horizon.
    const mass = cdf[last]!;
    return Object.freeze({ stepMs, next: Int32Array.from(next), priceMs, looksPerRoom: looks, meanDelayMs: mass > 0 ? delay / mass : 0 });
  }
}
