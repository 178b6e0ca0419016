/**
 * The looks per room the optimal schedule may spend: the fixed loop's count on the learned
 * distribution, read as a power law below the plan's first look, less a margin for its sampling error.
 */
import { describe, expect, it } from "vitest";
import { fixedLoopMoments, gridOf } from "../../src/core/inspection-schedule.js";
import { belowFirstLook, lookBudget, MARGIN_STANDARD_ERRORS } from "../../src/core/look-budget.js";
import { logNormal } from "../helpers/distributions.js";

const HEAVY = logNormal(2_000, 1);
const TIGHT = logNormal(3_000, 0.1);
const countOf = (cdf: (ms: number) => number): number => fixedLoopMoments(gridOf(cdf, 60_000, 25, 2_400), 1_000).mean;

/**
 * What the sketch learns of heavy-tailed starts when every room's first interval is (0, 1,300 ms]: right
 * from the first look on, but inside the interval piled at its top (as the online EM leaves it).
 */
const FIRST_LOOK_MS = 1_300;
const piled = (ms: number): number => (ms < FIRST_LOOK_MS ? HEAVY.cdf(FIRST_LOOK_MS) * (ms / FIRST_LOOK_MS) ** 8 : HEAVY.cdf(ms));

describe("below the first look", () => {
  it("the count reads a power law that continues the slope just above the first look", () => {
    const view = belowFirstLook(piled, FIRST_LOOK_MS);
    const exponent = Math.log(HEAVY.cdf(1.1 * FIRST_LOOK_MS) / HEAVY.cdf(FIRST_LOOK_MS)) / Math.log(1.1);
    expect(view(1_000)).toBeCloseTo(HEAVY.cdf(FIRST_LOOK_MS) * (1_000 / FIRST_LOOK_MS) ** exponent, 9);
    // Near the truth (0.244 by 1 s), where the piled sketch has 0.04.
    expect(Math.abs(view(1_000) - HEAVY.cdf(1_000))).toBeLessThan(0.015);
    expect(piled(1_000)).toBeLessThan(0.05);
    // From the first look on, the sketch itself.
    for (const ms of [FIRST_LOOK_MS, 1_500, 4_000, 20_000]) expect(view(ms)).toBe(piled(ms));
  });

  it("so the fixed loop's count is the truth's, where the piled sketch's is 2 % over", () => {
    const truth = countOf(HEAVY.cdf);
    expect(countOf(piled) / truth).toBeGreaterThan(1.02);
    expect(Math.abs(countOf(belowFirstLook(piled, FIRST_LOOK_MS)) / truth - 1)).toBeLessThan(0.005);
  });

  it("the budget counts on the grid so read, below the first look only", () => {
    const grid = gridOf(piled, 60_000, 25, 2_400);
    const at = (firstLookMs: number | undefined): number => lookBudget({ cdf: piled, grid, intervalMs: 1_000, firstLookMs, effectiveSamples: 1e12 });
    expect(at(undefined)).toBeCloseTo(countOf(piled), 3);
    expect(at(FIRST_LOOK_MS)).toBeCloseTo(countOf(belowFirstLook(piled, FIRST_LOOK_MS)), 3);
  });

  it("changes nothing where the first look comes before any mass, or nothing is known above it", () => {
    // Tight starts: the first look at 2.7 s, a steep rise above it (t^12); the count is the sketch's to 0.1 %.
    expect(Math.abs(countOf(belowFirstLook(TIGHT.cdf, 2_700)) / countOf(TIGHT.cdf) - 1)).toBeLessThan(0.002);
    expect(belowFirstLook(piled, undefined)).toBe(piled);
    expect(belowFirstLook(piled, 0)).toBe(piled);
    const nothingBelow = (ms: number): number => (ms < 5_000 ? 0 : 1);
    expect(belowFirstLook(nothingBelow, 1_000)).toBe(nothingBelow);
    const flatAbove = (ms: number): number => (ms < 10_000 ? 0.5 : 1);
    expect(belowFirstLook(flatAbove, 1_000)).toBe(flatAbove);
  });
});

describe("the margin", () => {
  const budgetOf = (cdf: (ms: number) => number, effectiveSamples: number): number =>
    lookBudget({ cdf, grid: gridOf(cdf, 60_000, 25, 2_400), intervalMs: 1_000, firstLookMs: undefined, effectiveSamples });

  it("is the count's standard error times MARGIN_STANDARD_ERRORS, so it shrinks as samples grow", () => {
    const { mean, variance } = fixedLoopMoments(gridOf(HEAVY.cdf, 60_000, 25, 2_400), 1_000);
    expect(budgetOf(HEAVY.cdf, 79)).toBeCloseTo(mean - MARGIN_STANDARD_ERRORS * Math.sqrt(variance / 79), 9);
    expect(budgetOf(HEAVY.cdf, 20)).toBeLessThan(budgetOf(HEAVY.cdf, 79));
    expect(budgetOf(HEAVY.cdf, 1e12)).toBeCloseTo(mean, 4);
  });

  it("at a mature sketch's 79 samples: 3 % of a heavy-tailed count, under 0.5 % of a tight one", () => {
    const share = (cdf: (ms: number) => number): number => 1 - budgetOf(cdf, 79) / countOf(cdf);
    expect(share(HEAVY.cdf)).toBeGreaterThan(0.025);
    expect(share(HEAVY.cdf)).toBeLessThan(0.035);
    expect(share(TIGHT.cdf)).toBeLessThan(0.005);
  });

  it("never budgets less than the first look", () => {
    // 98 % of rooms active at once, 2 % after 50 s: the loop's looks average 2 with a spread of 7, so one
    // sample's margin (2.1 looks) would leave less than the look at 0.
    const rareSlow = (ms: number): number => (ms < 50_000 ? 0.98 : 1);
    const { mean, variance } = fixedLoopMoments(gridOf(rareSlow, 60_000, 25, 2_400), 1_000);
    expect(mean - MARGIN_STANDARD_ERRORS * Math.sqrt(variance)).toBeLessThan(1);
    expect(budgetOf(rareSlow, 1)).toBe(1);
    expect(budgetOf(rareSlow, 0)).toBe(1);
  });
});
