/**
 * What re-solving the optimal schedule costs a busy learning key: one ActivationModel fed rooms turning
 * active at a given rate for 10 s of the caller's clock, each sample followed by a look (one
 * optimalDelayMs call), as the fleet does. Two ways in the same run:
 *   every 8    the naive baseline: solved again every 8 samples, however fast they come (no clock given);
 *   floor      what the fleet does: also at most once every RESOLVE_FLOOR_MS of the clock.
 * Prints a table: solves and CPU per second of clock, and the floor's CPU against the baseline's.
 * Start times: bench:schedule's heavy-tailed shape (log-normal, median 2 s, σ 1), the costliest to solve.
 *
 *   npm run build && node bench/schedule-solves.mjs [rates, default 4,40,400,1000]
 */
import { ActivationModel, RESOLVE_FLOOR_MS } from "../dist/core/activation-model.js";
import { DEFAULT_POLL_OPTIONS } from "../dist/watch/options.js";
import { mulberry32 as seededRandom } from "../dist/simulator/random.js";
import { logNormal } from "./distributions.mjs";

const RATES = (process.argv[2] ?? "4,40,400,1000").split(",").map(Number);
const SECONDS = 10;
const HEAVY_TAILED = logNormal(2_000, 1);

function run(rate, withClock) {
  const random = seededRandom(17);
  const model = new ActivationModel();
  // Ready, with a plan: the first 40 rooms are not measured.
  const draw = () => HEAVY_TAILED.draw(random);
  for (let i = 0; i < 40; i++) {
    const ms = draw();
    model.record(ms * 0.8, ms);
  }
  model.optimalDelayMs(0, DEFAULT_POLL_OPTIONS, 0.5, 0);
  const solvesBefore = model.solves;
  const samples = rate * SECONDS;
  const start = process.cpuUsage();
  for (let i = 0; i < samples; i++) {
    const ms = draw();
    // Seen starting at 80 % of its time to active, then active: an interval as the plan's looks give.
    model.record(ms * 0.8, ms);
    const nowMs = ((i + 1) * 1_000) / rate;
    model.optimalDelayMs(0, DEFAULT_POLL_OPTIONS, 0.5, withClock ? nowMs : undefined);
  }
  const cpu = process.cpuUsage(start);
  return { solvesPerSecond: (model.solves - solvesBefore) / SECONDS, cpuMsPerSecond: (cpu.user + cpu.system) / 1_000 / SECONDS };
}

// Warm the JIT up first, so the first row is not the one that pays for it.
run(40, false);
console.log(`Re-solving a busy key: ${SECONDS} s of samples at each rate; the floor is ${RESOLVE_FLOOR_MS} ms.\n`);
console.log("| samples a second | every 8: solves/s | every 8: CPU ms/s | floor: solves/s | floor: CPU ms/s | floor's CPU vs every 8 |");
console.log("|---|---|---|---|---|---|");
for (const rate of RATES) {
  const naive = run(rate, false);
  const floor = run(rate, true);
  console.log(
    `| ${rate} | ${naive.solvesPerSecond.toFixed(1)} | ${naive.cpuMsPerSecond.toFixed(1)} | ${floor.solvesPerSecond.toFixed(1)} | ${floor.cpuMsPerSecond.toFixed(1)} | ${(floor.cpuMsPerSecond / naive.cpuMsPerSecond).toFixed(3)}× |`,
  );
}
