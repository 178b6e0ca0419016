/**
 * The looks per room the optimal schedule may spend: what a fixed loop looking every budget interval
 * would spend on the learned distribution, counted so that neither the sketch's blind spot nor its
 * sampling error lets the plan spend more than the loop (issue 17's third pass, docs/schedule.md). Pure.
 *
 * - **Below the first look.** Every room on a plan is censored into (0, first look], so the sketch cannot
 *   see where inside that interval rooms turn active, and the online EM piles its mass at the top (the
 *   stretch the next interval also covers: Turnbull's innermost interval). The fixed loop's 1 s look falls
 *   inside it on spread-out shapes, and read on the sketch it found too few rooms active there (on
 *   heavy-tailed starts 0.047-0.068 fewer, the count 1.4-2.0 % high: bench/schedule-count.mjs on a build
 *   from before this file; with it, 0.009-0.018 and 0.8-0.9 % at 5dfe49f, 0.002-0.017 and 0.7-1.0 % at
 *   22aafed, where the looks are placed on log-kernel.ts's smoothing). Below the first look
 *   the count reads the sketch as a power law that continues its slope just above it (a distribution
 *   with a density near 0 rises as t^α there).
 * - **The margin.** The count rests on a few dozen rooms. A plan placed on the same noisy sketch spends
 *   more on the rooms to come than it expects (it puts looks where the sample happened to be kind), the
 *   more so the noisier the count: the budget is the count less MARGIN_STANDARD_ERRORS of its standard
 *   error (the loop's looks' spread over the sketch's effective samples). That is 0.4 % of the count on
 *   a tight shape and 3 % on a heavy-tailed one, where a flat 2 % was too much for the first and too
 *   little for the second.
 */
import { fixedLoopMoments, type InspectionGrid } from "./inspection-schedule.js";

/** The budget is the fixed loop's count less this many of its standard errors. */
export const MARGIN_STANDARD_ERRORS = 0.3;
/** The power law's exponent is the sketch's log-slope between the first look and this multiple of it. */
const SLOPE_SPAN = 1.1;
/** Its bounds: 1 is a density flat down to 0 (a rise faster than t^30 is a step). */
const MIN_EXPONENT = 1;
const MAX_EXPONENT = 30;

/**
 * The learned distribution as the budget's count reads it: below `firstLookMs` (the plan's first look
 * after the one at 0), F(first look) × (t / first look)^α, α the log-slope of `cdf` just above it.
 * Unchanged where nothing lies below the first look, or nothing just above it says how it rises.
 */
export function belowFirstLook(cdf: (ms: number) => number, firstLookMs: number | undefined): (ms: number) => number {
  if (firstLookMs === undefined || !(firstLookMs > 0)) return cdf;
  const atFirst = cdf(firstLookMs);
  const above = cdf(firstLookMs * SLOPE_SPAN);
  if (!(atFirst > 0) || !(above > atFirst)) return cdf;
  const exponent = Math.min(MAX_EXPONENT, Math.max(MIN_EXPONENT, Math.log(above / atFirst) / Math.log(SLOPE_SPAN)));
  return (ms) => (ms < firstLookMs ? atFirst * Math.max(0, ms / firstLookMs) ** exponent : cdf(ms));
}

export interface LookBudgetInput {
  /** The learned distribution of time to active. */
  readonly cdf: (ms: number) => number;
  /** `cdf` on the grid the count is taken on (the one the plan's cost is counted on). */
  readonly grid: InspectionGrid;
  /** The fixed loop's interval (pollBudgetIntervalMs). */
  readonly intervalMs: number;
  /** The plan's first look after the one at 0, if there is a plan yet. */
  readonly firstLookMs: number | undefined;
  /** The samples the sketch rests on (Kish's effective sample size of its faded weights). */
  readonly effectiveSamples: number;
}

/** Looks per room the optimal schedule may spend (see above). */
export function lookBudget(input: LookBudgetInput): number {
  const { mean, variance } = fixedLoopMoments(gridBelowFirstLook(input), input.intervalMs);
  const standardError = Math.sqrt(variance / Math.max(1, input.effectiveSamples));
  return Math.max(1, mean - MARGIN_STANDARD_ERRORS * standardError);
}

/** `input.grid` with its points below the first look read as belowFirstLook does; the grid itself when that changes nothing. */
function gridBelowFirstLook({ cdf, grid, firstLookMs }: LookBudgetInput): InspectionGrid {
  const view = belowFirstLook(cdf, firstLookMs);
  if (view === cdf || firstLookMs === undefined) return grid;
  const values = Float64Array.from(grid.cdf);
  // Rising to F(first look), which no later point is below: the grid stays non-decreasing.
  for (let i = 0; i < values.length && i * grid.stepMs < firstLookMs; i++) values[i] = view(i * grid.stepMs);
  return { stepMs: grid.stepMs, cdf: values };
}
