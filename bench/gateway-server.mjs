/**
 * The gateway under benchmark, in a process of its own so its memory is its own. Started by
 * bench/gateway.mjs and bench/cluster.mjs (through bench/children.mjs) with --expose-gc and an IPC
 * channel. Its clock reads epoch time with sub-millisecond precision, so the `at` it stamps on each
 * message lets subscribers in another process measure delivery latency. Messages in: {type:"memory"}
 * (answers heap and RSS after a full GC, CPU time, event-loop delay and the gateway's stats),
 * {type:"metrics"} (its Prometheus text), {type:"close"} (answered by "closed").
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Fleet } from "../dist/index.js";
import { Gateway } from "../dist/gateway/index.js";
import { epochNow } from "./time.mjs";

const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();

// Optional last: more Gateway options as JSON (bench/cluster.mjs passes `redis`, for the shared mode).
const [upstream, appId, hintToken, maxRequestsPerSecond, pollOptions, extraOptions] = process.argv.slice(2);
const clock = {
  now: epochNow,
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle),
};
const fleet = new Fleet({ clock, maxRequestsPerSecond: Number(maxRequestsPerSecond), maxInFlight: 64 });
const gateway = await Gateway.start({
  baseUrl: upstream,
  appId,
  hintToken: hintToken === "-" ? undefined : hintToken,
  fleet,
  clock,
  defaultMetrics: false,
  pollOptions: pollOptions === undefined ? undefined : JSON.parse(pollOptions),
  limits: { maxConnections: 50_000, heartbeatIntervalMs: 15_000 },
  ...(extraOptions === undefined ? {} : JSON.parse(extraOptions)),
});

function memory() {
  globalThis.gc?.();
  globalThis.gc?.();
  const { heapUsed, rss } = process.memoryUsage();
  const loopDelayMs = { p50: Number((loop.percentile(50) / 1e6).toFixed(2)), p99: Number((loop.percentile(99) / 1e6).toFixed(2)) };
  const { user, system } = process.cpuUsage();
  return { heapUsed, rss, loopDelayMs, cpuMs: (user + system) / 1000 };
}

process.on("message", async (message) => {
  if (message.type === "memory") process.send({ type: "memory", ...memory(), stats: gateway.stats });
  if (message.type === "metrics") process.send({ type: "metrics", text: await gateway.metricsText() });
  if (message.type === "close") {
    await gateway.close();
    await fleet.close();
    process.send({ type: "closed" }, () => process.disconnect());
  }
});
process.send({ type: "ready", url: gateway.url, httpUrl: gateway.httpUrl, instanceId: gateway.instanceId, ...memory() });
