/**
 * The optimal inspection problem on small grids, where every schedule can be enumerated: the dynamic
 * program must return the true optimum (the least mean delay among schedules within the budget), and
 * the known answers of a few hand-worked cases.
 */
import { describe, expect, it } from "vitest";
import { fixedLoopLooks, fixedLoopMoments, gridOf, type InspectionGrid, planAtPrice, planDelayMs, plansAroundBudget, planTimes, planWithinBudget } from "../../src/core/inspection-schedule.js";

/** A grid from point masses: `masses[k]` of the rooms turn active in the step ending at grid point k. */
function gridOfMasses(stepMs: number, masses: readonly number[]): InspectionGrid {
  const cdf = new Float64Array(masses.length);
  let sum = 0;
  for (let k = 0; k < masses.length; k++) {
    sum += masses[k]!;
    cdf[k] = sum;
  }
  return { stepMs, cdf };
}

/** Mean delay and looks of looks at `times` (grid points, starting at 0), mass spread evenly within each step. */
function evaluate(grid: InspectionGrid, points: readonly number[]): { delay: number; looks: number } {
  let delay = 0;
  let looks = 1;
  for (let k = 1; k < points.length; k++) {
    const i = points[k - 1]!;
    const j = points[k]!;
    looks += 1 - grid.cdf[i]!;
    for (let cell = i + 1; cell <= j; cell++) delay += (grid.cdf[cell]! - grid.cdf[cell - 1]!) * (j - cell + 0.5) * grid.stepMs;
  }
  return { delay: delay / grid.cdf[grid.cdf.length - 1]!, looks };
}

/** Every schedule from 0 to the last grid point with gaps in [minGap, maxGap] steps. */
function* schedules(last: number, minGap: number, maxGap: number, from = 0, prefix: number[] = [0]): Generator<number[]> {
  if (from === last) {
    yield prefix;
    return;
  }
  for (let j = from + minGap; j <= Math.min(last, from + maxGap); j++) yield* schedules(last, minGap, maxGap, j, [...prefix, j]);
  if (from + minGap > last) yield* schedules(last, minGap, maxGap, last, [...prefix, last]);
}

const CASES = [
  { name: "one point mass", masses: [0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0], minGap: 1, maxGap: 12 },
  { name: "two modes", masses: [0, 0.3, 0.3, 0, 0, 0, 0, 0, 0.2, 0.2, 0, 0, 0], minGap: 1, maxGap: 13 },
  { name: "uniform", masses: [0, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1], minGap: 1, maxGap: 10 },
  { name: "a floor of 2 steps, a cap of 4", masses: [0, 0.05, 0.1, 0.4, 0.2, 0.1, 0.05, 0.05, 0.03, 0.02, 0, 0], minGap: 2, maxGap: 4 },
  { name: "a long tail", masses: [0, 0.4, 0.2, 0.1, 0.08, 0.06, 0.05, 0.04, 0.03, 0.02, 0.01, 0.01], minGap: 1, maxGap: 11 },
];

describe("the dynamic program returns the optimum of every schedule on small grids", () => {
  it.each(CASES)("$name: at each price, no enumerated schedule has a lower delay + price × looks", ({ masses, minGap, maxGap }) => {
    const grid = gridOfMasses(100, masses);
    const last = masses.length - 1;
    const all = [...schedules(last, minGap, maxGap)].map((points) => ({ points, ...evaluate(grid, points) }));
    expect(all.length).toBeGreaterThan(3);
    for (const priceMs of [0.5, 10, 50, 200, 1_000]) {
      const plan = planAtPrice(grid, { minGapMs: minGap * 100, maxGapMs: maxGap * 100 }, priceMs);
      const best = Math.min(...all.map((s) => s.delay + priceMs * s.looks));
      expect(plan.meanDelayMs + priceMs * plan.looksPerRoom, `price ${priceMs}`).toBeCloseTo(best, 6);
      // The plan's own figures are those of its times.
      const own = evaluate(grid, planTimes(plan).map((ms) => Math.round(ms / 100)));
      expect(plan.meanDelayMs).toBeCloseTo(own.delay, 6);
      expect(plan.looksPerRoom).toBeCloseTo(own.looks, 6);
    }
  });

  it.each(CASES)("$name: within a budget of looks, the least delay any schedule within it has (up to the price's convex hull)", ({ masses, minGap, maxGap }) => {
    const grid = gridOfMasses(100, masses);
    const last = masses.length - 1;
    const all = [...schedules(last, minGap, maxGap)].map((points) => evaluate(grid, points));
    for (const budget of [2, 2.5, 3, 4]) {
      const plan = planWithinBudget(grid, { minGapMs: minGap * 100, maxGapMs: maxGap * 100 }, budget);
      const feasible = all.filter((s) => s.looks <= budget + 1e-9);
      if (feasible.length === 0) continue;
      expect(plan.looksPerRoom).toBeLessThanOrEqual(budget + 1e-9);
      // The Lagrangian plan is optimal among plans on the lower convex hull of (looks, delay): it is
      // never worse than the best schedule that spends at most the hull point below the budget.
      const bestAtPlanLooks = Math.min(...all.filter((s) => s.looks <= plan.looksPerRoom + 1e-9).map((s) => s.delay));
      expect(plan.meanDelayMs).toBeCloseTo(bestAtPlanLooks, 6);
    }
  });
});

describe("the two plans around a budget", () => {
  it.each(CASES)("$name: the mix spends exactly the budget, at no more delay than any schedule within it", ({ masses, minGap, maxGap }) => {
    const grid = gridOfMasses(100, masses);
    const last = masses.length - 1;
    const all = [...schedules(last, minGap, maxGap)].map((points) => evaluate(grid, points));
    const limits = { minGapMs: minGap * 100, maxGapMs: maxGap * 100 };
    for (const budget of [2, 2.3, 2.5, 2.8, 3, 3.5, 4]) {
      const feasible = all.filter((s) => s.looks <= budget + 1e-9);
      if (feasible.length === 0) continue;
      const { under, over, overShare } = plansAroundBudget(grid, limits, budget);
      expect(under.looksPerRoom).toBeLessThanOrEqual(budget + 1e-9);
      const looks = over === undefined ? under.looksPerRoom : overShare * over.looksPerRoom + (1 - overShare) * under.looksPerRoom;
      const delay = over === undefined ? under.meanDelayMs : overShare * over.meanDelayMs + (1 - overShare) * under.meanDelayMs;
      if (over !== undefined) {
        expect(over.looksPerRoom).toBeGreaterThan(budget);
        expect(looks, `looks at budget ${budget}`).toBeCloseTo(budget, 6);
      }
      // The mix lies on the lower convex hull of (looks, delay): no single schedule within the budget beats it.
      expect(delay, `delay at budget ${budget}`).toBeLessThanOrEqual(Math.min(...feasible.map((s) => s.delay)) + 1e-6);
    }
  });

  it("where the budget falls between two corners, the mix beats the cheaper corner alone", () => {
    // Two modes: the corners' looks jump, and a budget between them leaves part unspent by `under` alone.
    const grid = gridOfMasses(100, CASES[1]!.masses);
    const limits = { minGapMs: 100, maxGapMs: 1_300 };
    const gains = [2.3, 2.5, 2.8, 3.5].map((budget) => {
      const { under, over, overShare } = plansAroundBudget(grid, limits, budget);
      return over === undefined ? 0 : under.meanDelayMs - (overShare * over.meanDelayMs + (1 - overShare) * under.meanDelayMs);
    });
    expect(Math.max(...gains)).toBeGreaterThan(1);
    expect(planWithinBudget(grid, limits, 2.5)).toEqual(plansAroundBudget(grid, limits, 2.5).under);
  });
});

describe("placed on one distribution, spent on another", () => {
  it.each(CASES)("$name: the looks per room are counted on spendCdf, the plans still placed on the grid", ({ masses, minGap, maxGap }) => {
    const grid = gridOfMasses(100, masses);
    // Another distribution on the same points: every room active a step later than on the grid.
    const shifted = Float64Array.from(grid.cdf, (_, i) => (i === 0 ? 0 : grid.cdf[i - 1]!));
    const limits = { minGapMs: minGap * 100, maxGapMs: maxGap * 100 };
    const budget = 2.5;
    const plain = plansAroundBudget(grid, limits, budget);
    const spent = plansAroundBudget(grid, limits, budget, shifted);
    for (const plan of [spent.under, spent.over]) {
      if (plan === undefined) continue;
      const times = planTimes(plan);
      const looks = 1 + times.slice(0, -1).reduce((sum, ms) => sum + 1 - shifted[ms / 100]!, 0);
      expect(plan.looksPerRoom).toBeCloseTo(looks, 9);
    }
    if (spent.over !== undefined) expect(spent.overShare * spent.over.looksPerRoom + (1 - spent.overShare) * spent.under.looksPerRoom).toBeCloseTo(budget, 6);
    // With the default, the grid is both.
    expect(plansAroundBudget(grid, limits, budget, grid.cdf)).toEqual(plain);
  });

  it("refuses a spendCdf that is not on the grid's points", () => {
    const grid = gridOfMasses(100, CASES[0]!.masses);
    expect(() => plansAroundBudget(grid, { minGapMs: 100, maxGapMs: 1_000 }, 2, new Float64Array(3))).toThrow(RangeError);
  });
});

describe("hand-worked cases", () => {
  it("every room at 500 ms, two looks: the second look lands on it, no delay", () => {
    const grid = gridOfMasses(100, [0, 0, 0, 0, 0, 1, 0, 0]);
    const plan = planWithinBudget(grid, { minGapMs: 100, maxGapMs: 10_000 }, 2);
    // The mass is spread evenly over (400, 500]: the look at 500 waits 50 ms on average.
    expect(planTimes(plan)).toEqual([0, 500, 700]);
    expect(plan.meanDelayMs).toBeCloseTo(50, 9);
    expect(plan.looksPerRoom).toBeCloseTo(2, 9);
  });

  it("the floor holds even when every room is due at once", () => {
    const grid = gridOfMasses(25, [0, 0.5, 0.5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const plan = planAtPrice(grid, { minGapMs: 100, maxGapMs: 1_000 }, 0.001);
    const times = planTimes(plan);
    for (let k = 1; k < times.length; k++) expect(times[k]! - times[k - 1]!).toBeGreaterThanOrEqual(100);
    // From between grid points, at most a step less (the model's optimalDelayMs clamps to the floor);
    // the horizon (400 ms) ends it sooner only within the last floor's width of it.
    for (let ms = 0; ms < 300; ms += 5) expect(planDelayMs(plan, ms, 1_000), `from ${ms}`).toBeGreaterThanOrEqual(100 - 25);
  });

  it("a gap may stretch past maxGapMs across a stretch inside the distribution, never into its tail", () => {
    // Half the rooms in 0.1–0.6 s, 45 % in 7–9 s, 5 % in 9–20 s; 100 ms steps. With a 5 s cap the plan
    // must look once in the empty 0.6–7 s stretch; with interior gaps up to 10 s (where the look ending
    // the gap still finds 5 % of rooms starting) it need not, but the tail keeps the 5 s cap.
    const masses = new Array<number>(201).fill(0);
    for (let k = 2; k <= 6; k++) masses[k] = 0.5 / 5;
    for (let k = 71; k <= 90; k++) masses[k] = 0.45 / 20;
    for (let k = 91; k <= 200; k++) masses[k] = 0.05 / 110;
    const grid = gridOfMasses(100, masses);
    const survival = (ms: number) => 1 - grid.cdf[Math.round(ms / 100)]!;
    const gapsOf = (times: readonly number[]) => times.slice(1).map((t, k) => ({ from: times[k]!, to: t }));
    const cappedPlan = planAtPrice(grid, { minGapMs: 100, maxGapMs: 5_000 }, 300);
    const interiorPlan = planAtPrice(grid, { minGapMs: 100, maxGapMs: 5_000, interiorGapMs: 10_000, interiorSurvival: 0.05 }, 300);
    const capped = planTimes(cappedPlan);
    expect(Math.max(...gapsOf(capped).map((g) => g.to - g.from))).toBeLessThanOrEqual(5_000);
    expect(capped.some((t) => t > 700 && t < 7_000)).toBe(true);
    const interior = planTimes(interiorPlan);
    expect(interior.some((t) => t > 700 && t < 7_000)).toBe(false);
    for (const { from, to } of gapsOf(interior)) {
      expect(to - from, `gap ${from}–${to}`).toBeLessThanOrEqual(10_000);
      if (to - from > 5_000) expect(survival(to), `gap ${from}–${to}`).toBeGreaterThanOrEqual(0.05);
    }
    // The look saved in the stretch is worth something: less delay for fewer looks at the same price.
    expect(interiorPlan.meanDelayMs + 300 * interiorPlan.looksPerRoom).toBeLessThan(cappedPlan.meanDelayMs + 300 * cappedPlan.looksPerRoom);
  });

  it("a room whose looks land on whole milliseconds stays on its plan's path", () => {
    // A spread-out shape on a grid whose step is not a whole number of ms (as the model's are: its
    // horizon over 2,000 points). A look aimed at 1,144.1 ms lands at 1,144: read as the grid point
    // below, the room went on from a state it had passed, on a denser path than the plan counted.
    const logistic = (ms: number) => 1 / (1 + (2_000 / Math.max(ms, 1e-9)) ** 1.7);
    const grid = gridOf(logistic, 63_559, 25, 2_000);
    expect(Number.isInteger(grid.stepMs)).toBe(false);
    const plan = planAtPrice(grid, { minGapMs: 100, maxGapMs: 5_000 }, 800);
    const planned = planTimes(plan).filter((t) => t < 40_000);
    expect(planned.length).toBeGreaterThan(10);
    const taken = [0];
    while (taken.length < planned.length) taken.push(taken.at(-1)! + Math.round(planDelayMs(plan, taken.at(-1)!, 5_000)));
    taken.forEach((t, k) => expect(Math.abs(t - planned[k]!), `look ${k}: ${t} against ${planned[k]}`).toBeLessThanOrEqual(0.5));
  });

  it("a fixed loop's looks: 1 + the survival at each of its looks", () => {
    // Uniform over (0, 1000]: a 250 ms loop looks at 0, 250, 500, 750 and 1000 (survival 1, .75, .5, .25).
    const grid = gridOfMasses(250, [0, 0.25, 0.25, 0.25, 0.25]);
    expect(fixedLoopLooks(grid, 250)).toBeCloseTo(1 + 1 + 0.75 + 0.5 + 0.25, 9);
    // A room in the k-th quarter takes k + 1 looks, each quarter a quarter of rooms: 2, 3, 4, 5.
    const { mean, variance } = fixedLoopMoments(grid, 250);
    expect(mean).toBeCloseTo(3.5, 9);
    expect(variance).toBeCloseTo((1.5 ** 2 + 0.5 ** 2 + 0.5 ** 2 + 1.5 ** 2) / 4, 9);
    // Every room at 500 ms: three looks each, no spread.
    expect(fixedLoopMoments(gridOfMasses(250, [0, 0, 1, 0, 0]), 250).variance).toBeCloseTo(0, 9);
  });
});
