/**
 * What the optimal schedule's budget is made of (issue 17's third pass, docs/schedule.md). Run with
 * `npm run build && node bench/schedule-count.mjs`.
 *
 * A sequential simulation of one ActivationModel on its own plan: heavy-tailed rooms (log-normal,
 * median 2 s, σ 1, as in bench:schedule) arrive one after another; each is looked at on the plan of the
 * moment (the fixed backoff until the model is ready) with delays rounded to whole ms, as the fleet
 * does, and recorded as the fleet records it. Before each room, it compares:
 * - the sketch's survival at 1 s, 2 s, ... with the share of the rooms seen so far still starting then
 *   (faded as the sketch fades them): what the fixed loop's count reads;
 * - the fixed loop's looks counted on the sketch, and on the sketch read as the budget reads it
 *   (belowFirstLook, when the build has it), against those rooms' own 1 + ⌈T / 1 s⌉;
 * and, over the rooms, the looks they took against their own fixed-loop looks.
 *
 * Imports ../dist, so it measures whatever was built: check out an older commit and build to compare.
 * Environment: BENCH_SEEDS (default 1,2,3), BENCH_ROOMS (default 4,000; the first 100 are left out).
 */
import * as activation from "../dist/core/activation-model.js";
import { fixedLoopLooks, gridOf } from "../dist/core/inspection-schedule.js";
import { mulberry32 as seededRandom } from "../dist/simulator/random.js";
import { logNormal } from "./distributions.mjs";

const SEEDS = (process.env.BENCH_SEEDS ?? "1,2,3").split(",").map(Number);
const ROOMS = Number(process.env.BENCH_ROOMS ?? 4_000);
const WARMUP = 100;
const MEMORY = 40;
const OPTIONS = { minPollIntervalMs: 100, maxPollIntervalMs: 5_000, pollBudgetIntervalMs: 1_000 };
const SURVIVALS_AT_S = [1, 2, 3, 4, 5, 6, 8, 10, 15, 20];
const HORIZON_MS = 120_000;
const HEAVY_TAILED = logNormal(2_000, 1);
// belowFirstLook exists from 5dfe49f on; before it the budget read the sketch as it is.
const belowFirstLook = await import("../dist/core/look-budget.js").then((m) => m.belowFirstLook).catch(() => undefined);

const loopLooks = (ms) => 1 + Math.max(0, Math.ceil(ms / 1_000));
/** The fixed loop's looks per room counted on `cdf`, on a grid of its own looks (exact at each). */
const countOn = (cdf) => fixedLoopLooks(gridOf(cdf, HORIZON_MS, 1_000, HORIZON_MS / 1_000), 1_000);

function run(seed) {
  const random = seededRandom(seed);
  const model = new activation.ActivationModel({ memorySamples: MEMORY });
  const keep = 1 - 1 / MEMORY;
  // The rooms seen so far, faded as the sketch fades them: weight, fixed-loop looks, still starting at k s.
  let weight = 0;
  let seenLoop = 0;
  const seenStarting = SURVIVALS_AT_S.map(() => 0);
  const sum = { sketch: 0, view: 0, seen: 0, took: 0, own: 0, survival: SURVIVALS_AT_S.map(() => 0), rooms: 0 };
  for (let room = 0; room < ROOMS; room++) {
    const activeAtMs = HEAVY_TAILED.draw(random);
    const draw = random();
    if (room >= WARMUP) {
      const cdf = (ms) => model.cdf(ms);
      const firstLookMs = Math.min(model.optimalDelayMs(0, OPTIONS, 0), model.optimalDelayMs(0, OPTIONS, 0.9999));
      const view = belowFirstLook === undefined ? cdf : belowFirstLook(cdf, firstLookMs);
      sum.sketch += countOn(cdf);
      sum.view += countOn(view);
      sum.seen += seenLoop / weight;
      SURVIVALS_AT_S.forEach((s, k) => (sum.survival[k] += 1 - view(s * 1_000) - seenStarting[k] / weight));
    }
    // The room, on the plan of the moment (the fixed backoff before the model is ready).
    let at = 0;
    let lastStarting = 0;
    let looks = 1;
    let backoff = 500;
    while (at < activeAtMs) {
      lastStarting = at;
      const delay = model.ready ? model.optimalDelayMs(at, OPTIONS, draw) : backoff;
      backoff = Math.min(5_000, backoff * 1.5);
      at += Math.round(delay);
      looks++;
    }
    // Seen starting only at its look at once (at 0), as the fleet tells the sketch.
    model.record(lastStarting, at, lastStarting === 0);
    if (room >= WARMUP) {
      sum.took += looks;
      sum.own += loopLooks(activeAtMs);
      sum.rooms++;
    }
    weight = weight * keep + 1;
    seenLoop = seenLoop * keep + loopLooks(activeAtMs);
    SURVIVALS_AT_S.forEach((s, k) => (seenStarting[k] = seenStarting[k] * keep + (activeAtMs > s * 1_000 ? 1 : 0)));
  }
  const n = sum.rooms;
  return {
    seed,
    survivalError: SURVIVALS_AT_S.map((s, k) => `${s} s ${(sum.survival[k] / n >= 0 ? "+" : "") + (sum.survival[k] / n).toFixed(3)}`).join(", "),
    countOnSketch: sum.sketch / sum.seen,
    countAsBudgeted: sum.view / sum.seen,
    tookVsOwnLoop: sum.took / sum.own,
  };
}

console.log(`heavy-tailed (log-normal, median 2 s, σ 1), ${ROOMS} rooms a seed, the first ${WARMUP} left out; the budget's view below the first look: ${belowFirstLook === undefined ? "not in this build" : "yes"}`);
console.log("");
console.log("| seed | fixed loop's looks on the sketch vs the rooms' own | as the budget counts them | looks the rooms took vs their own fixed loop's | survival error (as the budget reads it) |");
console.log("|---|---|---|---|---|");
for (const seed of SEEDS) {
  const r = run(seed);
  console.log(`| ${r.seed} | ${r.countOnSketch.toFixed(4)}× | ${r.countAsBudgeted.toFixed(4)}× | ${r.tookVsOwnLoop.toFixed(4)}× | ${r.survivalError} |`);
}
