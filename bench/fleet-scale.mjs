/**
 * Scale: N rooms watched at once in this process (one RoomWatcher each, through one Fleet) against an
 * in-memory source that always answers "starting" at once, so what is measured is room-watcher
 * itself. Prints one JSON line: heap bytes per room, event-loop delay p99, requests started per
 * second against the budget, and the fullest 10-second window.
 * Run with --expose-gc.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Fleet, RoomWatcher } from "../dist/index.js";

const rooms = Number(process.argv[2] ?? 1000);
const budget = Number(process.argv[3] ?? 2000);
const settleMs = Number(process.argv[4] ?? 3000);
const measureMs = Number(process.argv[5] ?? 12_000);

const STARTING = Object.freeze({ observation: Object.freeze({ kind: "starting" }), warnings: Object.freeze([]) });
const BUCKET_MS = 100;
const started = [];
let firstRequestAt;
const source = {
  key: "bench-memory",
  poll() {
    const now = performance.now();
    firstRequestAt ??= now;
    const bucket = Math.floor((now - firstRequestAt) / BUCKET_MS);
    started[bucket] = (started[bucket] ?? 0) + 1;
    return Promise.resolve(STARTING);
  },
};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
globalThis.gc();
const heapBefore = process.memoryUsage().heapUsed;
const fleet = new Fleet({ source, maxRequestsPerSecond: budget, learn: true });
const watchers = [];
for (let i = 0; i < rooms; i++) watchers.push(new RoomWatcher({ roomId: `room-${i}`, fleet, timeoutMs: 600_000 }).start());
await sleep(settleMs);
globalThis.gc();
const heapAfter = process.memoryUsage().heapUsed;

const delay = monitorEventLoopDelay({ resolution: 5 });
delay.enable();
const requestsBefore = fleet.stats.requests;
const measureStart = performance.now();
await sleep(measureMs);
const measuredMs = performance.now() - measureStart;
delay.disable();
const requests = fleet.stats.requests - requestsBefore;

// The fullest 10-second window of request starts, over the whole run.
const windowBuckets = 10_000 / BUCKET_MS;
let fullest = 0;
let sum = 0;
for (let i = 0; i < started.length; i++) {
  sum += started[i] ?? 0;
  if (i >= windowBuckets) sum -= started[i - windowBuckets] ?? 0;
  fullest = Math.max(fullest, sum);
}
const stats = fleet.stats;
await Promise.all(watchers.map((w) => w.stop()));
await fleet.close();
console.log(
  JSON.stringify({
    rooms,
    budgetPerSecond: budget,
    heapBytesPerRoom: Math.round((heapAfter - heapBefore) / rooms),
    eventLoopDelayP99Ms: Number((delay.percentile(99) / 1e6).toFixed(2)),
    eventLoopDelayMaxMs: Number((delay.max / 1e6).toFixed(2)),
    achievedPerSecond: Math.round((requests / measuredMs) * 1000),
    demandPerSecond: Math.round(rooms / 2),
    fullest10sWindow: fullest,
    fullest10sWindowVsBudget: Number((fullest / (budget * 10)).toFixed(4)),
    queuedAtEnd: stats.queued,
    timersLeft: fleet.timers.size,
  }),
);
