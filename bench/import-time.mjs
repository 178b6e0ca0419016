/**
 * The import-time benchmark (issue 13). Run with `npm run bench:import` (after `npm run build`).
 *
 * What importing room-watcher costs a process, against what it cost when the package had one wide entry
 * that loaded everything (the gateway with pino, prom-client and ws, and the simulator). That old entry is
 * reconstructed from today's build as the three entries imported together (dist/index.js,
 * dist/gateway/index.js, dist/simulator/index.js), which loads the same modules. Each sample is a fresh
 * child process (nothing cached in memory between samples; the OS file cache is warm for both after the
 * first), the two kinds alternating, BENCH_IMPORT_RUNS (default 15) of each. Measured in the child: the
 * `await import()` alone; in the parent: the child's whole life, spawn to exit (Node's own start-up
 * included). Prints the medians and their ratio, and writes bench/results/import-time.json.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { percentile, stats } from "./stats.mjs";

const RUNS = Number(process.env.BENCH_IMPORT_RUNS ?? 15);
const dist = (file) => new URL(`../dist/${file}`, import.meta.url).href;
const KINDS = {
  core: { label: "room-watcher (the core entry, dist/index.js)", urls: [dist("index.js")] },
  wide: { label: "the old wide entry (core + gateway + simulator entries)", urls: [dist("index.js"), dist("gateway/index.js"), dist("simulator/index.js")] },
};
// The real old entry too, when given: the dist/index.js of a build of an older commit (the one-entry
// package), e.g. BENCH_IMPORT_PREVIOUS=/tmp/old/dist/index.js after `git worktree add /tmp/old d553820`.
if (process.env.BENCH_IMPORT_PREVIOUS !== undefined) {
  KINDS.previous = { label: `the previous package's entry (${process.env.BENCH_IMPORT_PREVIOUS})`, urls: [new URL(`file://${process.env.BENCH_IMPORT_PREVIOUS}`).href] };
}

/** One fresh process importing `urls`: the import's own duration (ms, measured inside) and the process's (spawn to exit). */
function sample(urls) {
  const script = `const t0 = performance.now(); await Promise.all(${JSON.stringify(urls)}.map((u) => import(u))); console.log(performance.now() - t0);`;
  const started = process.hrtime.bigint();
  const out = execFileSync(process.execPath, ["--input-type=module", "--eval", script], { encoding: "utf8" });
  const processMs = Number(process.hrtime.bigint() - started) / 1e6;
  return { importMs: Number(out.trim()), processMs };
}

const commit = (() => {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8", cwd: fileURLToPath(new URL("..", import.meta.url)) }).trim();
  } catch {
    return "unknown";
  }
})();
const load = os.loadavg()[0].toFixed(2);
const kinds = Object.keys(KINDS);
const samples = Object.fromEntries(kinds.map((kind) => [kind, []]));
// Alternate, and reverse the order every round, so that no kind always runs right after another.
for (let round = 0; round < RUNS; round++) {
  const order = round % 2 === 0 ? kinds : [...kinds].reverse();
  for (const kind of order) samples[kind].push(sample(KINDS[kind].urls));
}

const median = (values) => percentile(values, 50);
const summary = Object.fromEntries(
  Object.entries(samples).map(([kind, list]) => [kind, { import: stats(list.map((s) => s.importMs)), process: stats(list.map((s) => s.processMs)) }]),
);
const ratio = (kind, field) => median(samples[kind].map((s) => s[field])) / median(samples.core.map((s) => s[field]));
const importRatio = ratio("wide", "importMs");
const processRatio = ratio("wide", "processMs");

const cpu = os.cpus();
console.log(
  `import time: ${RUNS} fresh processes of each, alternating; Node ${process.version}, ${cpu.length} × ${cpu[0]?.model ?? "cpu"}, ` +
    `${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, commit ${commit}, load average ${load} at the start`,
);
console.log("");
console.log("| what is imported | import p50 | min | max | process p50 | min | max |");
console.log("|---|---|---|---|---|---|---|");
for (const kind of kinds) {
  const s = summary[kind];
  console.log(`| ${KINDS[kind].label} | ${s.import.p50} ms | ${s.import.min} ms | ${s.import.max} ms | ${s.process.p50} ms | ${s.process.min} ms | ${s.process.max} ms |`);
}
console.log("");
for (const kind of kinds.filter((k) => k !== "core")) {
  console.log(`median ratio, ${kind} / core: import ${ratio(kind, "importMs").toFixed(2)}×, whole process ${ratio(kind, "processMs").toFixed(2)}×`);
}

mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(
  new URL("./results/import-time.json", import.meta.url),
  `${JSON.stringify({ runs: RUNS, node: process.version, commit, loadAverage: Number(load), summary, importRatio, processRatio, samples }, null, 2)}\n`,
);
console.error("wrote bench/results/import-time.json");
