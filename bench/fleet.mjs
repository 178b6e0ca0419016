/**
 * The fleet benchmark (issue 4). Run with `npm run bench` (or `node --expose-gc bench/fleet.mjs`).
 *
 * 1. Detection: against the simulator in real time (seeded; warm and cold processes, no room that never
 *    binds), rooms are created in turn for three strategies, each in a child process of its own:
 *    (a) the fixed 1 s loop of Hathora's plugins, (b) a loop on the official SDK's backoff, (c) room-watcher
 *    with its defaults, and with a denser and a sparser learned schedule (the requests/latency trade-off).
 *    For each: requests per room up to detection, detection latency (simulator turns the room active ->
 *    the strategy knows) p50/p95/p99, CPU time.
 * 2. Scale: 1,000, 10,000 and 100,000 rooms watched at once in one process (bench/fleet-scale.mjs):
 *    heap per room, event-loop delay p99, achieved request rate against the budget.
 *
 * Prints a markdown table and writes bench/results/fleet.json. Environment knobs:
 * BENCH_ROOMS (rooms per strategy, default 200), BENCH_SEED (default 42), BENCH_SCALES (default 1000,10000,100000).
 */
import { fork, execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { systemClock } from "../dist/core/clock.js";
import { Simulator } from "../dist/simulator/index.js";
import { percentile } from "./stats.mjs";

const here = (file) => fileURLToPath(new URL(file, import.meta.url));
const ROOMS = Number(process.env.BENCH_ROOMS ?? 200);
const SEED = Number(process.env.BENCH_SEED ?? 42);
const SCALES = (process.env.BENCH_SCALES ?? "1000,10000,100000").split(",").map(Number);
const SCALE_BUDGET = 2000;
/** Rooms per strategy before the steady state is measured (room-watcher learns from about 20). */
const WARMUP = 40;
const APP = "bench-app";
const STRATEGIES = ["fixed", "sdk", "room-watcher", "room-watcher:90", "room-watcher:150"];
const LABELS = {
  fixed: "fixed 1 s loop (Hathora plugins)",
  sdk: "SDK-style backoff loop",
  "room-watcher": "room-watcher fleet (defaults)",
  "room-watcher:90": "room-watcher, delayPerLookMs 90",
  "room-watcher:150": "room-watcher, delayPerLookMs 150",
};
/** Rooms created per second across all strategies: a busy matchmaker. */
const CREATE_PER_SECOND = 30;

async function detection() {
  const sim = await Simulator.start({ seed: SEED, timeScale: 1, clock: systemClock, neverReadyProbability: 0 });
  const children = Object.fromEntries(
    STRATEGIES.map((strategy) => [strategy, fork(here("./fleet-strategy.mjs"), [strategy, sim.url, APP], { stdio: ["ignore", "inherit", "inherit", "ipc"] })]),
  );
  const detected = Object.fromEntries(STRATEGIES.map((s) => [s, new Map()]));
  const failed = Object.fromEntries(STRATEGIES.map((s) => [s, []]));
  const rooms = Object.fromEntries(STRATEGIES.map((s) => [s, []]));
  let onProgress = () => undefined;
  await Promise.all(
    STRATEGIES.map(
      (strategy) =>
        new Promise((resolve) => {
          children[strategy].on("message", (message) => {
            if (message.type === "ready") resolve();
            if (message.type === "detected") detected[strategy].set(message.roomId, message.detectedAt);
            if (message.type === "failed") failed[strategy].push(message);
            onProgress();
          });
        }),
    ),
  );

  const started = Date.now();
  for (let i = 0; i < ROOMS * STRATEGIES.length; i++) {
    const strategy = STRATEGIES[i % STRATEGIES.length];
    const { roomId, processId } = sim.createRoom(APP);
    rooms[strategy].push(roomId);
    children[strategy].send({ type: "room", roomId, processId });
    await new Promise((resolve) => setTimeout(resolve, 1000 / CREATE_PER_SECOND));
  }
  const total = ROOMS * STRATEGIES.length;
  const settled = () => STRATEGIES.reduce((n, s) => n + detected[s].size + failed[s].length, 0) >= total;
  await new Promise((resolve) => {
    const deadline = setTimeout(resolve, 120_000);
    onProgress = () => {
      if (settled()) {
        clearTimeout(deadline);
        resolve();
      }
    };
    onProgress();
  });
  const elapsedMs = Date.now() - started;

  const results = [];
  for (const strategy of STRATEGIES) {
    const cpu = await new Promise((resolve) => {
      children[strategy].once("message", function onCpu(message) {
        if (message.type === "cpu") resolve(message);
        else children[strategy].once("message", onCpu);
      });
      children[strategy].send({ type: "done" });
    });
    const measure = (roomIds) => {
      const latencies = [];
      let requests = 0;
      let warm = 0;
      for (const roomId of roomIds) {
        requests += sim.requestCount(roomId, "connectionInfo");
        const truth = sim.truth(roomId);
        const becameActive = truth?.history.find((entry) => entry.status === "active");
        const detectedAt = detected[strategy].get(roomId);
        if (becameActive === undefined || detectedAt === undefined) continue;
        if (becameActive.at - truth.history[0].at < 1000) warm++;
        latencies.push(Math.max(0, detectedAt - sim.realTimeOf(becameActive.at)));
      }
      latencies.sort((a, b) => a - b);
      return {
        rooms: roomIds.length,
        detected: latencies.length,
        warmShare: Number((warm / roomIds.length).toFixed(2)),
        requestsPerRoom: Number((requests / roomIds.length).toFixed(2)),
        detectionMs: { p50: Math.round(percentile(latencies, 50)), p95: Math.round(percentile(latencies, 95)), p99: Math.round(percentile(latencies, 99)) },
      };
    };
    results.push({
      strategy,
      label: LABELS[strategy],
      failed: failed[strategy].length,
      all: measure(rooms[strategy]),
      // After the first WARMUP rooms: a matchmaker's fleet runs all day, so this is its steady state.
      steady: measure(rooms[strategy].slice(WARMUP)),
      cpuMs: Math.round(cpu.cpuMs),
      learnedSamples: cpu.samples,
    });
  }
  await sim.close();
  return { elapsedMs, results };
}

function scale() {
  return SCALES.map((rooms) => {
    const output = execFileSync(process.execPath, ["--expose-gc", here("./fleet-scale.mjs"), String(rooms), String(SCALE_BUDGET), "3000", "12000"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    });
    return JSON.parse(output.trim().split("\n").at(-1));
  });
}

const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.platform()} ${os.arch()}` };
console.error(`detection: ${ROOMS} rooms per strategy, seed ${SEED}, real time...`);
const detectionResult = await detection();
console.error(`scale: ${SCALES.join(", ")} rooms, budget ${SCALE_BUDGET}/s...`);
const scaleResult = scale();

const fixed = detectionResult.results.find((r) => r.strategy === "fixed");
const lines = [];
lines.push(`Machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.platform}. Seed ${SEED}, ${ROOMS} rooms per strategy.`);
lines.push("");
lines.push("| strategy | rooms | requests/room | vs fixed | detection p50 | p95 | p99 | p50 vs fixed | CPU ms |");
lines.push("|---|---|---|---|---|---|---|---|---|");
for (const phase of ["all", "steady"]) {
  for (const r of detectionResult.results) {
    const m = r[phase];
    const base = fixed[phase];
    lines.push(
      `| ${r.label} | ${phase === "all" ? `all ${m.rooms}` : `after ${WARMUP}: ${m.rooms}`} | ${m.requestsPerRoom} | ${(m.requestsPerRoom / base.requestsPerRoom).toFixed(2)}× | ${m.detectionMs.p50} ms | ${m.detectionMs.p95} ms | ${m.detectionMs.p99} ms | ${(m.detectionMs.p50 / base.detectionMs.p50).toFixed(2)}× | ${phase === "all" ? r.cpuMs : ""} |`,
    );
  }
}
lines.push("");
lines.push(`| rooms watched | heap/room | event-loop delay p99 | requests/s achieved | budget/s | fullest 10 s window vs budget |`);
lines.push("|---|---|---|---|---|---|");
for (const s of scaleResult) {
  lines.push(
    `| ${s.rooms.toLocaleString("en-US")} | ${s.heapBytesPerRoom} B | ${s.eventLoopDelayP99Ms} ms | ${s.achievedPerSecond} (demand ${s.demandPerSecond}) | ${s.budgetPerSecond} | ${s.fullest10sWindowVsBudget} |`,
  );
}
const table = lines.join("\n");
console.log(table);
mkdirSync(here("./results"), { recursive: true });
writeFileSync(
  here("./results/fleet.json"),
  `${JSON.stringify({ date: new Date().toISOString(), machine, seed: SEED, detection: detectionResult, scale: scaleResult }, null, 2)}\n`,
);
console.error("wrote bench/results/fleet.json");
