/**
 * What the fleet has learned about how long rooms take to become active, and the poll schedules that
 * follow from it. Pure: no clock, no I/O.
 *
 * The sketch: times to active in a histogram with logarithmic bins (fine where rooms are fast, coarse in
 * the long tail). Every new sample counts 1 and every older one fades by (1 − 1/memorySamples), so a
 * host whose behaviour changes is followed within a few dozen rooms.
 *
 * What looks see is censored, and the sketch learns from it as such. A room seen starting at t1 and
 * active at t2 turned active somewhere in (t1, t2]: its weight is spread over that interval in
 * proportion to what the sketch already believes there (one online step of Turnbull's self-consistency
 * EM), with a share spread by the belief smoothed over neighbouring bins (the smoothing step of EMS,
 * Silverman et al. 1990), so that a belief the looks never tested can still move, toward where rooms
 * are known to turn active rather than evenly across the interval. Where the interval is short (within
 * a doubling of its start) or is a room's first (seen starting only at its look at once), the belief
 * inside it is not used: no look can test it there, and a belief too late would confirm itself. The
 * weight goes instead where the density seen next to the interval, continued into it, would put the mass
 * the sketch believes there (CONTINUED_SPAN). A room that ended or was let go while starting is known
 * only to take longer than its last look (right-censored): its weight goes to the sketch's mass beyond
 * that look, as Kaplan–Meier would put it.
 *
 * Two schedules read it:
 * - "optimal" (the default): the look times that minimise the mean detection delay for the looks per
 *   room the budget allows, solved on the sketch by dynamic programming (see inspection-schedule.ts),
 *   recomputed every few samples (at most every RESOLVE_FLOOR_MS of the caller's clock) and cached.
 * - "legacy": from a look at t that found the room starting, the next look comes after the shortest
 *   gap Δ with  P(active by t+Δ | starting at t) × Δ ≥ 2 × delayPerLookMs  (the square-root rule of
 *   inspection spacing, Δ ∝ 1/√density).
 */
import { gridOf, type InspectionLimits, type InspectionMix, type InspectionPlan, planDelayMs, plansAroundBudget } from "./inspection-schedule.js";
import { logKernelCdf } from "./log-kernel.js";
import { lookBudget } from "./look-budget.js";

export interface ActivationModelOptions {
  /** Samples needed before the model drives the schedule. Default 20. */
  readonly minSamples?: number | undefined;
  /** How many recent samples the sketch remembers: one seen k samples ago counts (1 − 1/memorySamples)^k. Default 40. */
  readonly memorySamples?: number | undefined;
}

export interface LearnedScheduleOptions {
  /** The share of detection delay each look may cost; lower means more looks and sooner detection. */
  readonly delayPerLookMs: number;
  /** Never look sooner than this after the last look. */
  readonly minPollIntervalMs: number;
  /** Never wait longer than this between looks. */
  readonly maxPollIntervalMs: number;
}

export interface OptimalScheduleOptions {
  /** Never look sooner than this after the last look. */
  readonly minPollIntervalMs: number;
  /**
   * Never wait longer than this between looks, nor longer than OPTIMAL_CAP_BUDGETS budget intervals,
   * whichever is longer; twice that across a stretch inside the learned distribution (optimalLimits).
   */
  readonly maxPollIntervalMs: number;
  /** Spend per room at most the looks a fixed loop looking this often would, on the learned distribution. */
  readonly pollBudgetIntervalMs: number;
}

export const DEFAULT_MIN_SAMPLES = 20;
export const DEFAULT_MEMORY_SAMPLES = 40;
/**
 * The share of an interval's weight spread by the belief smoothed over ±NEAR_BINS bins (a triangular
 * kernel in log-time) rather than by the belief itself: enough that a belief the looks never tested
 * can move, and it moves toward the mass nearby. The inside of an interval every room is censored into
 * alike cannot be seen; a share spread evenly (0.05 until issue 17's second pass) made it flat over
 * time, painting mass across the stretch between warm and cold starts and drawing looks there.
 * bench:schedule: warm/cold mean 1.26× → 1.17× the oracle's (docs/schedule.md).
 */
const NEAR_SHARE = 0.05;
/**
 * While the sketch is young the share is larger: NEAR_BURN_IN / samples, up to NEAR_MAX_SHARE (0.5 at
 * 20 samples, 0.1 at 100, NEAR_SHARE from 200). The first rooms are spread evenly (nothing is believed
 * yet) or over the fixed backoff's coarse intervals, and what the held share keeps of that would
 * otherwise persist: warm starts believed up to 1.2 s, a look there, and the belief kept
 * (bench:schedule: before the shift, seed 17, 1.40× → 1.22× the oracle's mean).
 */
const NEAR_BURN_IN = 10;
const NEAR_MAX_SHARE = 0.5;
/**
 * Inside an interval no look can split, the online EM keeps whatever shape the sketch had there: a belief
 * too late confirms itself, since no look comes early enough to show it wrong (issue 17's fifth pass). So
 * a room's weight (but for the smoothed share) is spread as the density seen next to the interval would
 * continue into it, until the mass the sketch believes in the interval is used up, evenly over that
 * stretch:
 * - from its bottom up, where the interval is within CONTINUED_SPAN times its start (farther, it may
 *   span a stretch where rooms seldom turn active, such as that between warm and cold starts, and its
 *   weight follows the belief, which puts it on either side);
 * - from its top down, for a room seen starting only once (at its look at once, as a rule): nothing is
 *   seen below that interval.
 * bench:schedule, over 20 runs: before the shift 1.207× → 1.166× the oracle's mean, warm/cold 1.189× →
 * 1.154×, heavy-tailed p95 1.194× → 1.179× (docs/schedule.md, issue 17's sixth pass).
 */
const CONTINUED_SPAN = 2;
/** The smoothing kernel's half-width, in bins (±2 bins is about ±20 % of time). */
const NEAR_BINS = 2;
/** Samples between two solutions of the optimal schedule. */
const RESOLVE_EVERY_SAMPLES = 8;
/**
 * Nor more often than this, by the caller's clock. A solve costs about 10 ms on a heavy-tailed sketch, so a
 * key whose rooms turned active 1,000 times a second solved 125 times a second and needed 1.2 s of CPU a
 * second; held to 4 solves a second it needs 40–50 ms (`npm run bench:solves`). A key whose rooms turn
 * active fewer than 32 times a second is solved every 8 samples as before (bench:schedule, at about 4 a
 * second, prints the same figures with the floor as without).
 */
export const RESOLVE_FLOOR_MS = 250;
/**
 * The optimal schedule may wait up to this many budget intervals between looks (5 s at the defaults):
 * across a stretch where rooms seldom turn active (between warm and cold starts) a long gap is what
 * frees the looks for where they do, and the cap bounds what a stale sketch costs a room it misjudged.
 */
const OPTIMAL_CAP_BUDGETS = 5;
/**
 * A gap may be up to INTERIOR_CAP_FACTOR times the cap where the look that ends it still finds at least
 * INTERIOR_SURVIVAL of rooms starting: across the stretch between warm and cold starts, when cold starts
 * take longer than the cap (cold starts 2× slower in bench:schedule's shifting shape: 6.3 s between the
 * modes), a capped gap costs every cold room a look there. Into the tail the cap holds: a longer cap
 * everywhere (8 s) cost the 50 rooms after a shift 2.5× the oracle's mean (docs/schedule.md).
 */
const INTERIOR_CAP_FACTOR = 2;
const INTERIOR_SURVIVAL = 0.05;
/** Grid points of the optimal schedule's solution (its cost is grid × window). */
const MAX_GRID_POINTS = 2_000;
/**
 * The schedule is placed on the sketch smoothed in log-time by a triangular kernel of this standard
 * deviation (about ±10 %) beyond each bin's own width (log-kernel.ts): a few dozen samples leave gaps a
 * new room may well fall in, and a plan fitted to every gap of the sample looks past them. Until issue
 * 17's fourth pass it was the mean of the sketch at 0.9, 1 and 1.1 times t, three atoms and a fifth
 * narrower (0.087 with the bin's width, against 0.104): on bench:schedule the kernel brought heavy-tailed
 * p95 from 1.22× to 1.20× the oracle's, and the 50 rooms after the shift from 1.77× / 1.76× to 1.51× /
 * 1.24× (docs/schedule.md).
 */
const SMOOTH_SIGMA = 0.1;

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
/** The sketch's bin edges in ms (for a benchmark that holds a known distribution as the sketch would). */
export const SKETCH_EDGES_MS: readonly number[] = EDGES;

/** The longest wait between two looks of the optimal schedule, but for gaps inside the distribution (optimalLimits). */
function optimalCapMs(options: OptimalScheduleOptions): number {
  return Math.max(options.maxPollIntervalMs, options.minPollIntervalMs, OPTIMAL_CAP_BUDGETS * options.pollBudgetIntervalMs);
}

/** The optimal schedule's limits: the inspection limits, with the interior gap always set. */
export type OptimalLimits = InspectionLimits & { readonly interiorGapMs: number };

/** The limits the optimal schedule's looks are planned within (and held to when taken). */
export function optimalLimits(options: OptimalScheduleOptions): OptimalLimits {
  const capMs = optimalCapMs(options);
  return { minGapMs: options.minPollIntervalMs, maxGapMs: capMs, interiorGapMs: capMs * INTERIOR_CAP_FACTOR, interiorSurvival: INTERIOR_SURVIVAL };
}

/** The optimal plans at one version of the sketch, and what they were solved within. */
interface SolvedPlan {
  readonly limits: OptimalLimits;
  readonly budgetIntervalMs: number;
  readonly version: number;
  /** The caller's clock when it was solved, if it gave one. */
  readonly atMs: number | undefined;
  readonly mix: InspectionMix;
}

/** The earliest look after the one at 0 of either plan: below it, every room is censored alike. */
function firstLookMs(mix: InspectionMix): number {
  const first = (plan: InspectionPlan): number => plan.next[0]! * plan.stepMs;
  return mix.over === undefined ? first(mix.under) : Math.min(first(mix.under), first(mix.over));
}

/** Whether a plan solved at `atMs` is under RESOLVE_FLOOR_MS old at `nowMs` (a clock that went back counts as old). */
function solvedWithin(atMs: number | undefined, nowMs: number | undefined): boolean {
  if (atMs === undefined || nowMs === undefined) return false;
  const age = nowMs - atMs;
  return age >= 0 && age < RESOLVE_FLOOR_MS;
}

function binOf(ms: number): number {
  if (ms < FIRST_EDGE_MS) return 0;
  const bin = 1 + Math.floor(Math.log(ms / FIRST_EDGE_MS) / Math.log(GROWTH));
  return Math.min(BINS - 1, bin);
}

export class ActivationModel {
  readonly #weights = new Float64Array(BINS);
  /** Scratch for record(): the smoothed belief over the bins of one interval. */
  readonly #near = new Float64Array(BINS);
  readonly #minSamples: number;
  readonly #keep: number;
  #total = 0;
  /** The sum of the squared faded weights of the samples (Kish's effective sample size is total² / this). */
  #totalSquared = 0;
  #samples = 0;
  #censored = 0;
  /** Changes to the sketch so far: the cached plan knows which it was solved at. */
  #version = 0;
  #plan: SolvedPlan | undefined;
  #solves = 0;

  constructor(options: ActivationModelOptions = {}) {
    this.#minSamples = options.minSamples ?? DEFAULT_MIN_SAMPLES;
    const memory = options.memorySamples ?? DEFAULT_MEMORY_SAMPLES;
    this.#keep = Number.isFinite(memory) ? Math.max(0, 1 - 1 / Math.max(1, memory)) : 1;
  }

  /** Samples recorded so far (not decayed), right-censored ones not included. */
  get samples(): number {
    return this.#samples;
  }

  /** Right-censored samples (rooms let go or ended while starting) that added weight. */
  get censored(): number {
    return this.#censored;
  }

  /** Times the optimal schedule was solved (each costs a few ms; see docs/schedule.md). */
  get solves(): number {
    return this.#solves;
  }

  /**
   * The samples the sketch rests on, older ones counting less as they fade (Kish's effective sample size
   * of the faded weights): the samples while few, about 2 × memorySamples − 1 once many.
   */
  get effectiveSamples(): number {
    return this.#totalSquared > 0 ? (this.#total * this.#total) / this.#totalSquared : 0;
  }

  /** Whether there is enough to go on. */
  get ready(): boolean {
    return this.#samples >= this.#minSamples;
  }

  /**
   * Records one room's activation, known to lie in (`notActiveAtMs`, `activeAtMs`] after its origin
   * (the last look that saw it starting, the look that saw it active). `seenStartingOnce`: that look was
   * the only one that found it starting (as a rule its look at once), so nothing is seen of it below the
   * interval.
   */
  record(notActiveAtMs: number, activeAtMs: number, seenStartingOnce = false): void {
    const from = Math.max(0, Math.min(notActiveAtMs, activeAtMs));
    const to = Math.max(from, activeAtMs);
    if (!Number.isFinite(to)) return;
    this.#fade();
    this.#samples++;
    this.#version++;
    this.#total += 1;
    this.#totalSquared += 1;
    if (to - from < 1e-9) {
      this.#weights[binOf(from)]! += 1;
      return;
    }
    // Shares of the interval by the sketch so far, read before any of this sample is added.
    const first = binOf(from);
    const last = binOf(to);
    const believed = this.#massBelow(to) - this.#massBelow(from);
    const near = this.#near;
    let nearTotal = 0;
    for (let bin = first; bin <= last; bin++) {
      near[bin] = this.#smoothedWeight(bin) * this.#overlap(bin, from, to);
      nearTotal += near[bin]!;
    }
    // With nothing believed inside the interval, nothing says where in it: spread it evenly.
    const known = believed > 1e-12 && nearTotal > 1e-12;
    const nearShare = Math.max(NEAR_SHARE, Math.min(NEAR_MAX_SHARE, NEAR_BURN_IN / this.#samples));
    const stretch = known ? this.#continued(from, to, believed, seenStartingOnce) : undefined;
    for (let bin = first; bin <= last; bin++) {
      const overlap = this.#overlap(bin, from, to);
      if (!(overlap > 0)) continue;
      const width = EDGES[bin + 1]! - EDGES[bin]!;
      this.#weights[bin]! += known
        ? (1 - nearShare) *
            (stretch === undefined ? (this.#weights[bin]! * overlap) / believed : (width * this.#overlap(bin, stretch.fromMs, stretch.toMs)) / (stretch.toMs - stretch.fromMs)) +
          nearShare * (near[bin]! / nearTotal)
        : (width * overlap) / (to - from);
    }
  }

  /**
   * Where in (from, to] a room's weight goes when the density seen next to the interval is continued
   * into it: a stretch of that density, as long as the mass the sketch believes in the interval needs
   * (see CONTINUED_SPAN). Undefined where nothing is seen next to it: the weight follows the belief.
   */
  #continued(from: number, to: number, believed: number, seenStartingOnce: boolean): { fromMs: number; toMs: number } | undefined {
    if (seenStartingOnce) {
      // Below the interval nothing is seen: the density seen just above it is continued down from its top.
      const density = this.#densityIn(to, to * GROWTH);
      return density > 0 ? { fromMs: Math.max(from, to - believed / density), toMs: to } : undefined;
    }
    if (from > 0 && to <= CONTINUED_SPAN * from) {
      const density = this.#densityIn(from / GROWTH, from);
      return density > 0 ? { fromMs: from, toMs: Math.min(to, from + believed / density) } : undefined;
    }
    return undefined;
  }

  /** The sketch's mass per ms over (loMs, hiMs]. */
  #densityIn(loMs: number, hiMs: number): number {
    return (this.#massBelow(hiMs) - this.#massBelow(loMs)) / (hiMs - loMs);
  }

  /**
   * Records a room known only to take longer than `startingAtMs` after its origin (it ended, or every
   * watch let go, while it was starting). Its weight follows the sketch's mass beyond that time; with
   * none there yet, nothing can be said of where it goes and it is left out.
   */
  recordCensored(startingAtMs: number): void {
    const from = Math.max(0, startingAtMs);
    if (!Number.isFinite(from)) return;
    const beyond = this.#total - this.#massBelow(from);
    if (!(beyond > this.#total * 1e-6)) return;
    this.#fade();
    this.#censored++;
    this.#version++;
    const first = binOf(from);
    const lo = EDGES[first]!;
    const hi = EDGES[first + 1]!;
    const scale = 1 / beyond;
    // The part of the first bin above `from`, then every bin above it, each in proportion to its weight.
    this.#weights[first]! += this.#weights[first]! * Math.max(0, (hi - Math.max(lo, from)) / (hi - lo)) * scale;
    for (let bin = first + 1; bin < BINS; bin++) this.#weights[bin]! += this.#weights[bin]! * scale;
    this.#total += 1;
    this.#totalSquared += 1;
  }

  /** The share of bin `bin` that lies within (from, to]. */
  #overlap(bin: number, from: number, to: number): number {
    const lo = EDGES[bin]!;
    const hi = EDGES[bin + 1]!;
    return Math.max(0, Math.min(to, hi) - Math.max(from, lo)) / (hi - lo);
  }

  /** The weight of bin `bin` smoothed over ±NEAR_BINS bins by a triangular kernel. */
  #smoothedWeight(bin: number): number {
    let weight = 0;
    for (let k = -NEAR_BINS; k <= NEAR_BINS; k++) {
      const other = bin + k;
      if (other >= 0 && other < BINS) weight += (NEAR_BINS + 1 - Math.abs(k)) * this.#weights[other]!;
    }
    return weight;
  }

  #fade(): void {
    if (this.#keep === 1) return;
    for (let bin = 0; bin < BINS; bin++) this.#weights[bin]! *= this.#keep;
    this.#total *= this.#keep;
    this.#totalSquared *= this.#keep * this.#keep;
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
   * one on the legacy square-root schedule, within [minPollIntervalMs, maxPollIntervalMs].
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

  /**
   * Delay from a look at `elapsedMs` after the origin (which found the room starting) to the next one
   * on the optimal schedule, within [minPollIntervalMs, maxPollIntervalMs]. See the schedule above.
   * `roomDraw` is the room's own uniform draw in [0, 1), fixed for its life: the budget usually falls
   * between two optimal plans, and the rooms whose draw is under the denser plan's share follow it.
   * `nowMs`, the caller's clock, holds a re-solve to RESOLVE_FLOOR_MS after the last; without it the plan
   * is solved again every RESOLVE_EVERY_SAMPLES samples however fast they come.
   */
  optimalDelayMs(elapsedMs: number, options: OptimalScheduleOptions, roomDraw: number, nowMs?: number): number {
    const solved = this.#solvedFor(options, nowMs);
    if (solved === undefined) return optimalCapMs(options);
    const { mix, limits } = solved;
    const plan = mix.over !== undefined && roomDraw < mix.overShare ? mix.over : mix.under;
    const delay = planDelayMs(plan, elapsedMs, limits.maxGapMs);
    // Within the plan's own limits: a gap the plan stretched inside the distribution is kept whole (cut
    // at the cap, it cost each room a look the plan never counted: 1.04× the fixed loop's requests).
    return Math.round(Math.min(limits.interiorGapMs, Math.max(limits.minGapMs, delay)));
  }

  /**
   * The optimal plans for `options` and the limits they were solved within, solved again once the
   * sketch has moved on by a few samples and RESOLVE_FLOOR_MS has passed on the caller's clock (or at
   * once for other options). Called on every look: the cached plan is checked against the options'
   * numbers, with nothing built.
   */
  #solvedFor(options: OptimalScheduleOptions, nowMs: number | undefined): SolvedPlan | undefined {
    if (this.#total === 0) return undefined;
    const { minPollIntervalMs, pollBudgetIntervalMs } = options;
    const capMs = optimalCapMs(options);
    const cached = this.#plan;
    if (
      cached !== undefined &&
      cached.limits.minGapMs === minPollIntervalMs &&
      cached.limits.maxGapMs === capMs &&
      cached.budgetIntervalMs === pollBudgetIntervalMs &&
      (this.#version - cached.version < RESOLVE_EVERY_SAMPLES || solvedWithin(cached.atMs, nowMs))
    ) {
      return cached;
    }
    const limits = optimalLimits(options);
    // Far enough that almost nothing the sketch knows lies beyond; past it, looks go at the cap.
    const horizonMs = Math.min(LAST_EDGE_MS, (this.quantile(0.9995) ?? 0) * 1.05 + capMs);
    const stepMs = Math.max(1, minPollIntervalMs / 4);
    const smoothed = gridOf(logKernelCdf({ edges: EDGES, weights: this.#weights }, SMOOTH_SIGMA), horizonMs, stepMs, MAX_GRID_POINTS);
    // The looks are placed on the smoothed sketch but spent on the sketch itself: smoothing widens the
    // distribution, so on the smoothed one a narrow mode seems to keep rooms starting for longer, and a
    // plan that seems to spend the budget there leaves part of it unspent (0.91× the fixed loop's
    // requests on the bench's tight shape, where it cost a tenth of the mean delay: docs/schedule.md).
    const learned = gridOf((ms) => this.cdf(ms), horizonMs, stepMs, MAX_GRID_POINTS);
    // Counted below the first look the rooms now take (the last plan's), less the count's sampling error.
    const budget = lookBudget({
      cdf: (ms) => this.cdf(ms),
      grid: learned,
      intervalMs: pollBudgetIntervalMs,
      firstLookMs: cached === undefined ? undefined : firstLookMs(cached.mix),
      effectiveSamples: this.effectiveSamples,
    });
    const mix = plansAroundBudget(smoothed, limits, budget, learned.cdf);
    this.#solves++;
    this.#plan = { limits, budgetIntervalMs: pollBudgetIntervalMs, version: this.#version, atMs: nowMs, mix };
    return this.#plan;
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
