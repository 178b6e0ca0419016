/**
 * The schedule benchmark (issue 17). Run with `npm run bench:schedule` (builds first).
 *
 * For each start-time distribution, one run on the same rooms (the same seeded times to active) for
 * five strategies:
 *   fixed     Hathora's plugins: look every 1 s until active.
 *   sdk       the official SDK's backoff as the wait between looks (500 ms, x1.5, capped at 60 s).
 *   legacy    room-watcher's Fleet with `schedule: "legacy"` (the square-root rule of earlier versions).
 *   optimal   room-watcher's Fleet with its default `schedule: "optimal"`.
 *   oracle    the best fixed schedule for the TRUE distribution at the fixed loop's expected requests
 *             per room, found offline by the same dynamic program (floor 100 ms, no cap on gaps).
 *
 * Simulated time: the two Fleets run for real (their timer heap, request budget, learning, floor) on
 * a fake clock (@sinonjs/fake-timers), against an in-memory source that answers "starting" before the
 * room's time to active and "active" from it. Network time is zero: a look answers the instant it is
 * sent (the issue's oracle counts no network time either), so the latencies are the schedule's alone.
 * Rooms are created one every CREATE_EVERY_MS; each is watched with waitForActive({ createdAt }).
 * Detection latency = the time of the look that saw the room active − its time to active.
 *
 * Prints a markdown table and writes bench/results/schedule.json. Environment: BENCH_ROOMS (rooms per
 * distribution, default 400), BENCH_SEED (default 17), BENCH_WARMUP (rooms before "steady", default 50).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { fileURLToPath } from "node:url";
import FakeTimers from "@sinonjs/fake-timers";
import { Fleet, waitForActive } from "../dist/index.js";
import { fixedLoopLooks, gridOf, planTimes, planWithinBudget } from "../dist/core/inspection-schedule.js";
import { percentile } from "./stats.mjs";

const here = (file) => fileURLToPath(new URL(file, import.meta.url));
const ROOMS = Number(process.env.BENCH_ROOMS ?? 400);
const SEED = Number(process.env.BENCH_SEED ?? 17);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 50);
const ONLY = process.env.BENCH_ONLY?.split(",");
const CREATE_EVERY_MS = 250;
const FLOOR_MS = 100;

// --- seeded draws -------------------------------------------------------------------------------
function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
const normal = (random) => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
/** Standard normal CDF (Abramowitz and Stegun 7.1.26). */
function phi(z) {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}
const logNormal = (medianMs, sigma) => ({
  draw: (random) => medianMs * Math.exp(sigma * normal(random)),
  cdf: (ms) => (ms <= 0 ? 0 : phi(Math.log(ms / medianMs) / sigma)),
});
const uniform = (fromMs, toMs) => ({
  draw: (random) => fromMs + (toMs - fromMs) * random(),
  cdf: (ms) => Math.min(1, Math.max(0, (ms - fromMs) / (toMs - fromMs))),
});
const mixture = (weight, a, b) => ({
  draw: (random) => (random() < weight ? a.draw(random) : b.draw(random)),
  cdf: (ms) => weight * a.cdf(ms) + (1 - weight) * b.cdf(ms),
});

/** Warm processes in 100–600 ms, cold ones booting in seconds. */
const warmCold = (coldMedianMs) => mixture(0.6, uniform(100, 600), logNormal(coldMedianMs, 0.25));
const DISTRIBUTIONS = [
  { name: "tight unimodal", text: "log-normal, median 3 s, σ 0.1", phases: [logNormal(3_000, 0.1)] },
  { name: "warm/cold bimodal", text: "60 % uniform 100–600 ms, 40 % log-normal median 5 s σ 0.25", phases: [warmCold(5_000)] },
  { name: "heavy-tailed", text: "log-normal, median 2 s, σ 1", phases: [logNormal(2_000, 1)] },
  { name: "uniform", text: "uniform 0.5–10.5 s", phases: [uniform(500, 10_500)] },
  { name: "shifting", text: "warm/cold as above; halfway, cold starts 2× slower (median 10 s)", phases: [warmCold(5_000), warmCold(10_000)] },
];

// --- strategies that are a fixed list of look times ----------------------------------------------
const fixedTimes = (horizonMs) => Array.from({ length: Math.ceil(horizonMs / 1_000) + 2 }, (_, k) => k * 1_000);
function sdkTimes(horizonMs) {
  const times = [0];
  for (let gap = 500; times.at(-1) <= horizonMs; gap = Math.min(60_000, gap * 1.5)) times.push(times.at(-1) + gap);
  return times;
}
/** The best fixed schedule for `distribution` at the fixed loop's expected looks per room. */
function oracleTimes(distribution, horizonMs) {
  const grid = gridOf(distribution.cdf, horizonMs, 5, 40_000);
  const plan = planWithinBudget(grid, { minGapMs: FLOOR_MS, maxGapMs: horizonMs }, fixedLoopLooks(grid, 1_000));
  const times = planTimes(plan);
  while (times.at(-1) <= horizonMs * 2) times.push(times.at(-1) + 1_000);
  return times;
}
/** Latency and looks of a fixed list of look times for a room active at `activeAtMs`. */
function onSchedule(times, activeAtMs) {
  const k = times.findIndex((t) => t >= activeAtMs);
  return { latencyMs: times[k] - activeAtMs, requests: k + 1 };
}

// --- the Fleets, on a fake clock ----------------------------------------------------------------
async function runFleet(schedule, activeAtMs) {
  const fake = FakeTimers.createClock(1_000_000);
  const clock = { now: () => fake.now, setTimeout: (cb, ms) => fake.setTimeout(cb, ms), clearTimeout: (h) => fake.clearTimeout(h) };
  const t0 = fake.now;
  const createdAt = activeAtMs.map((_, i) => t0 + i * CREATE_EVERY_MS);
  const requests = new Array(activeAtMs.length).fill(0);
  const detectedAt = new Array(activeAtMs.length).fill(undefined);
  const STARTING = Object.freeze({ observation: Object.freeze({ kind: "starting" }), warnings: Object.freeze([]) });
  const ACTIVE = Object.freeze({
    observation: Object.freeze({ kind: "active", connection: Object.freeze({ exposedPort: Object.freeze({ host: "127.0.0.1", port: 7777, transportType: "udp", name: "default" }), additionalExposedPorts: Object.freeze([]) }) }),
    warnings: Object.freeze([]),
  });
  const source = {
    key: "bench-schedule",
    poll(roomId) {
      const i = Number(roomId.slice(5));
      const now = fake.now;
      if (detectedAt[i] !== undefined) return Promise.resolve(ACTIVE);
      requests[i]++;
      if (now - createdAt[i] < activeAtMs[i]) return Promise.resolve(STARTING);
      detectedAt[i] = now;
      return Promise.resolve(ACTIVE);
    },
  };
  const fleet = new Fleet({ source, clock, random: seededRandom(SEED + 1), schedule });
  const waits = [];
  const cpuStart = process.cpuUsage();
  for (let i = 0; i < activeAtMs.length; i++) {
    fake.setTimeout(() => {
      waits.push(waitForActive({ roomId: `room-${i}`, fleet, createdAt: createdAt[i], timeoutMs: 600_000 }));
    }, i * CREATE_EVERY_MS);
  }
  const lastMs = (activeAtMs.length - 1) * CREATE_EVERY_MS + Math.max(...activeAtMs) + 60_000;
  await fake.tickAsync(lastMs);
  await Promise.all(waits);
  const cpu = process.cpuUsage(cpuStart);
  const model = fleet.activationModel(source);
  const solves = model?.solves ?? 0;
  await fleet.close();
  return {
    latencyMs: activeAtMs.map((a, i) => detectedAt[i] - createdAt[i] - a),
    requests,
    solves,
    cpuMs: (cpu.user + cpu.system) / 1000,
  };
}

// --- measurement --------------------------------------------------------------------------------
function summary(latencies, requests) {
  const mean = latencies.reduce((a, b) => a + b, 0) / latencies.length;
  return {
    rooms: latencies.length,
    p50: Math.round(percentile(latencies, 50)),
    p95: Math.round(percentile(latencies, 95)),
    mean: Math.round(mean),
    requestsPerRoom: Number((requests.reduce((a, b) => a + b, 0) / requests.length).toFixed(2)),
  };
}

const STRATEGIES = ["fixed", "sdk", "legacy", "optimal", "oracle"];
const results = [];
for (const [d, distribution] of DISTRIBUTIONS.entries()) {
  if (ONLY !== undefined && !ONLY.includes(distribution.name)) continue;
  const random = seededRandom(SEED * 100 + d);
  const perPhase = Math.ceil(ROOMS / distribution.phases.length);
  const activeAtMs = [];
  const phaseOf = [];
  for (const [p, phase] of distribution.phases.entries()) {
    for (let i = 0; i < perPhase; i++) {
      activeAtMs.push(Math.max(0, phase.draw(random)));
      phaseOf.push(p);
    }
  }
  const horizonMs = Math.max(...activeAtMs) * 1.2 + 1_000;
  const perRoom = {};
  const fixed = fixedTimes(horizonMs);
  const sdk = sdkTimes(horizonMs);
  const oracles = distribution.phases.map((phase) => oracleTimes(phase, horizonMs));
  const fromList = (timesOf) => {
    const looks = activeAtMs.map((a, i) => onSchedule(timesOf(i), a));
    return { latencyMs: looks.map((l) => l.latencyMs), requests: looks.map((l) => l.requests) };
  };
  perRoom.fixed = fromList(() => fixed);
  perRoom.sdk = fromList(() => sdk);
  perRoom.oracle = fromList((i) => oracles[phaseOf[i]]);
  perRoom.legacy = await runFleet("legacy", activeAtMs);
  perRoom.optimal = await runFleet("optimal", activeAtMs);

  // Windows: every room; after WARMUP rooms; and for a shifting distribution, each phase after WARMUP of its rooms.
  const windows = [{ label: `rooms ${WARMUP + 1}–${perPhase}`, from: WARMUP, to: perPhase }];
  if (distribution.phases.length > 1) windows.push({ label: `after the shift: rooms ${perPhase + WARMUP + 1}–${2 * perPhase}`, from: perPhase + WARMUP, to: 2 * perPhase });
  for (const window of windows) {
    const row = { distribution: distribution.name, text: distribution.text, window: window.label, strategies: {} };
    for (const s of STRATEGIES) {
      row.strategies[s] = summary(perRoom[s].latencyMs.slice(window.from, window.to), perRoom[s].requests.slice(window.from, window.to));
    }
    row.solves = perRoom.optimal.solves;
    row.optimalCpuMs = Math.round(perRoom.optimal.cpuMs);
    results.push(row);
  }
  // The shift, in windows of 10 rooms: how soon the optimal schedule is back near the oracle.
  if (distribution.phases.length > 1) {
    const recovery = [];
    for (let from = perPhase; from < 2 * perPhase; from += 25) {
      const to = Math.min(2 * perPhase, from + 25);
      const o = summary(perRoom.optimal.latencyMs.slice(from, to), perRoom.optimal.requests.slice(from, to));
      const or = summary(perRoom.oracle.latencyMs.slice(from, to), perRoom.oracle.requests.slice(from, to));
      const f = summary(perRoom.fixed.latencyMs.slice(from, to), perRoom.fixed.requests.slice(from, to));
      recovery.push({ rooms: `${from - perPhase + 1}–${to - perPhase}`, meanVsOracle: Number((o.mean / or.mean).toFixed(2)), requestsVsFixed: Number((o.requestsPerRoom / f.requestsPerRoom).toFixed(2)) });
    }
    results.at(-1).recovery = recovery;
  }
}

// --- report -------------------------------------------------------------------------------------
const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, node: process.version, platform: `${os.platform()} ${os.arch()}` };
const ratio = (a, b) => (b === 0 ? "–" : `${(a / b).toFixed(2)}×`);
const lines = [];
lines.push(`Simulated time, no network time. Seed ${SEED}, ${ROOMS} rooms per distribution, one created every ${CREATE_EVERY_MS} ms; "steady" leaves out the first ${WARMUP}. Node ${machine.node}.`);
lines.push("");
lines.push("| distribution | rooms | strategy | p50 | p95 | mean | requests/room | p50 vs fixed | mean vs oracle | p95 vs oracle | requests vs fixed |");
lines.push("|---|---|---|---|---|---|---|---|---|---|---|");
for (const row of results) {
  const { fixed, oracle } = row.strategies;
  for (const s of STRATEGIES) {
    const m = row.strategies[s];
    lines.push(
      `| ${row.distribution} | ${row.window} | ${s} | ${m.p50} ms | ${m.p95} ms | ${m.mean} ms | ${m.requestsPerRoom} | ${ratio(m.p50, fixed.p50)} | ${ratio(m.mean, oracle.mean)} | ${ratio(m.p95, oracle.p95)} | ${ratio(m.requestsPerRoom, fixed.requestsPerRoom)} |`,
    );
  }
}
lines.push("");
lines.push("Targets for `optimal` (issue 17): mean ≤ 1.2× oracle, p95 ≤ 1.2× oracle, requests ≤ 1.0× fixed; p50 ≤ 0.45× fixed on the concentrated shapes.");
lines.push("");
lines.push("| distribution | rooms | mean ≤ 1.2× oracle | p95 ≤ 1.2× oracle | requests ≤ 1.0× fixed | p50 ≤ 0.45× fixed | solves | optimal fleet CPU |");
lines.push("|---|---|---|---|---|---|---|---|");
const CONCENTRATED = new Set(["tight unimodal", "warm/cold bimodal"]);
for (const row of results) {
  const { fixed, oracle, optimal } = row.strategies;
  const mark = (ok, text) => `${ok ? "met" : "**not met**"} (${text})`;
  const meanR = optimal.mean / oracle.mean;
  const p95R = optimal.p95 / oracle.p95;
  const reqR = optimal.requestsPerRoom / fixed.requestsPerRoom;
  const p50R = optimal.p50 / fixed.p50;
  lines.push(
    `| ${row.distribution} | ${row.window} | ${mark(meanR <= 1.2, meanR.toFixed(2))} | ${mark(p95R <= 1.2, p95R.toFixed(2))} | ${mark(reqR <= 1.0, reqR.toFixed(2))} | ${CONCENTRATED.has(row.distribution) ? mark(p50R <= 0.45, p50R.toFixed(2)) : "–"} | ${row.solves} | ${row.optimalCpuMs} ms |`,
  );
}
for (const row of results.filter((r) => r.recovery !== undefined)) {
  lines.push("");
  lines.push(`${row.distribution}, after the shift, in windows of 25 rooms (optimal): ${row.recovery.map((r) => `rooms ${r.rooms}: mean ${r.meanVsOracle}× oracle, ${r.requestsVsFixed}× fixed's requests`).join("; ")}.`);
}
console.log(lines.join("\n"));
mkdirSync(here("./results"), { recursive: true });
writeFileSync(here("./results/schedule.json"), `${JSON.stringify({ date: new Date().toISOString(), machine, seed: SEED, rooms: ROOMS, warmup: WARMUP, results }, null, 2)}\n`);
console.error("wrote bench/results/schedule.json");
