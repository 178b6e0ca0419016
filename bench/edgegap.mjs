/**
 * The Edgegap benchmark (issue 15), on the fake Edgegap (EdgegapSimulator, real time, in this process),
 * in one run:
 *
 * Part 1: N deployments (default 30) per way of waiting, the four ways at once, each on its own fake
 * (its own 20 status requests/s limit), every deployment READY after a seeded log-normal start (median
 * 4 s). For each way: detection latency p50/p95 (the waiter learning READY - the fake turning it READY)
 * and status requests per deployment, counted up to its detection.
 *   (a) Edgegap's own plugin loop: GET /v1/status every 2 s, fixed, per deployment;
 *   (b) room-watcher polling alone: one Fleet at EDGEGAP_DEFAULT_MAX_REQUESTS_PER_SECOND (16/s), waitForActive;
 *   (c) room-watcher through a gateway (the same budget) whose webhook_on_* the create calls named: hints;
 *   (d) the same, with each webhook lost at random (half);
 *   (c') and (d') as (c) and (d), the gateway polling only as a safety net (2 s growing to 8 s).
 *
 * Part 2: M deployments (default 500) created at once, under the fake's 20/s limit, median start 8 s:
 * room-watcher polling alone (16/s) and, on a second fake at the same time, Edgegap's plugin loop. For
 * each: 429s answered, time to detect them all, and fairness: the spread of time-to-detection (READY ->
 * detected) across deployments (p50, p95, max, max/p50).
 *
 * The machine is shared (2 cores, other jobs): read the ratios between ways, not the absolute ms.
 * Run: npm run build && node bench/edgegap.mjs [perWay=30] [burst=500]
 */
import { cpus, loadavg } from "node:os";
import { randomBytes } from "node:crypto";
import { setMaxListeners } from "node:events";
import { Fleet, WebSocketSource, waitForActive } from "../dist/index.js";
import { EDGEGAP_DEFAULT_MAX_REQUESTS_PER_SECOND, EdgegapHttpSource, edgegapWebhookReceiver, edgegapWebhooks } from "../dist/edgegap.js";
import { Gateway } from "../dist/gateway/index.js";
import { EdgegapSimulator } from "../dist/simulator/index.js";
import { percentile } from "./stats.mjs";

const PER_WAY = Number(process.argv[2] ?? 30);
const BURST = Number(process.argv[3] ?? 500);
const TOKEN = "bench-edgegap-token";
const PORT_NAME = "gameport";
const PLUGIN_POLL_MS = 2_000;
const PART_DEADLINE_MS = 90_000;
/** With webhooks carrying the latency, polling is only the safety net for a lost one: 2 s, growing to 8 s. */
const SAFETY_NET_POLL = { pollIntervalMs: 2_000, maxPollIntervalMs: 8_000 };
const started = performance.now();

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (v, digits = 0) => (Number.isFinite(v) ? Number(v.toFixed(digits)) : null);

function readyAt(simulator, id) {
  const entry = simulator.truth(id)?.history.find((h) => h.status === "READY");
  return entry === undefined ? undefined : simulator.realTimeOf(entry.at);
}

/** Edgegap's plugin loop for one deployment: a GET every 2 s until READY; counts the 429s it gets. */
async function pluginWait(simulator, id, counters, signal) {
  for (;;) {
    if (signal.aborted) return undefined;
    const response = await fetch(`${simulator.url}/v1/status/${id}`, { headers: { authorization: `token ${TOKEN}` } });
    if (response.status === 429) {
      counters.rejected++;
      await response.body?.cancel();
    } else {
      const body = await response.json();
      if (/READY$/i.test(String(body.current_status)) || body.running === true) return performance.now();
    }
    await sleep(PLUGIN_POLL_MS);
  }
}

/** Runs one way on its own fake: creates `n` deployments at once and waits for each; returns per-deployment figures. */
async function runWay(way, n, { readyMedianMs, seed }) {
  const simulator = await EdgegapSimulator.start({ seed, token: TOKEN, readyMedianMs, webhookFaults: way.includes("half-lost") ? { dropRate: 0.5 } : {} });
  const counters = { rejected: 0 };
  const deadline = new AbortController();
  setMaxListeners(0, deadline.signal);
  const timer = setTimeout(() => deadline.abort(new Error("deadline")), PART_DEADLINE_MS);
  const closers = [];
  try {
    let waitFor;
    let webhooks;
    if (way === "plugin-2s") {
      waitFor = (id) => pluginWait(simulator, id, counters, deadline.signal);
    } else if (way === "polling") {
      const fleet = new Fleet({ maxRequestsPerSecond: EDGEGAP_DEFAULT_MAX_REQUESTS_PER_SECOND });
      closers.push(() => fleet.close());
      const source = new EdgegapHttpSource({ baseUrl: simulator.url, token: TOKEN, portName: PORT_NAME });
      waitFor = (id) => waitForActive({ roomId: id, source, fleet, timeoutMs: PART_DEADLINE_MS, signal: deadline.signal }).then(() => performance.now());
    } else {
      const secret = randomBytes(16).toString("hex");
      const fleet = new Fleet({ maxRequestsPerSecond: EDGEGAP_DEFAULT_MAX_REQUESTS_PER_SECOND });
      const gateway = await Gateway.start({ source: new EdgegapHttpSource({ baseUrl: simulator.url, token: TOKEN, portName: PORT_NAME }), webhooks: [edgegapWebhookReceiver(secret)], fleet, probeUpstream: false, pollOptions: way.endsWith("slow-poll") ? SAFETY_NET_POLL : undefined });
      closers.push(async () => {
        await gateway.close();
        await fleet.close();
      });
      const hooks = edgegapWebhooks(gateway.httpUrl, secret);
      webhooks = { ready: hooks.webhook_on_ready.url, error: hooks.webhook_on_error.url, terminated: hooks.webhook_on_terminated.url };
      const clientFleet = new Fleet();
      closers.unshift(() => clientFleet.close());
      const source = new WebSocketSource({ url: gateway.url });
      waitFor = (id) => waitForActive({ roomId: id, source, fleet: clientFleet, timeoutMs: PART_DEADLINE_MS, signal: deadline.signal }).then(() => performance.now());
    }
    const ids = Array.from({ length: n }, () => simulator.createDeployment({ scenario: "ready", webhooks }));
    const results = await Promise.all(
      ids.map(async (id) => {
        const detectedAt = await waitFor(id).catch(() => undefined);
        return { id, detectedAt, requests: simulator.statusRequestCount(id) };
      }),
    );
    const rows = results.map((r) => ({ ...r, readyAt: readyAt(simulator, r.id) }));
    return { way, rows, limit429: simulator.faultCounts().limit429 ?? 0, rejectedSeen: counters.rejected, webhooks: simulator.webhookCounts() };
  } finally {
    clearTimeout(timer);
    for (const close of closers) await close();
    await simulator.close();
  }
}

function summarise({ way, rows, limit429, webhooks }) {
  const detected = rows.filter((r) => r.detectedAt !== undefined && r.readyAt !== undefined);
  const latencies = detected.map((r) => Math.max(0, r.detectedAt - r.readyAt));
  const p50 = percentile(latencies, 50);
  return {
    way,
    deployments: rows.length,
    detected: detected.length,
    p50Ms: round(p50),
    p95Ms: round(percentile(latencies, 95)),
    maxMs: round(percentile(latencies, 100)),
    maxOverP50: round(percentile(latencies, 100) / Math.max(1, p50), 1),
    requestsPerDeployment: round(rows.reduce((s, r) => s + r.requests, 0) / rows.length, 2),
    lastDetectedAfterMs: round(Math.max(...detected.map((r) => r.detectedAt)) - Math.min(...rows.map((r) => r.readyAt ?? Infinity)) + 0),
    status429: limit429,
    webhooksSent: webhooks.sent,
    webhooksDropped: webhooks.dropped,
  };
}

const WAYS = ["plugin-2s", "polling", "webhooks", "webhooks-half-lost", "webhooks-slow-poll", "webhooks-half-lost-slow-poll"];
const part1 = (await Promise.all(WAYS.map((way, i) => runWay(way, PER_WAY, { readyMedianMs: 4_000, seed: 100 + i })))).map(summarise);
const part2 = (await Promise.all([runWay("polling", BURST, { readyMedianMs: 8_000, seed: 7 }), runWay("plugin-2s", BURST, { readyMedianMs: 8_000, seed: 7 })])).map(summarise);

const table = (rows, columns) => [`| ${columns.join(" | ")} |`, `|${columns.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${columns.map((c) => String(r[c])).join(" | ")} |`)].join("\n");
console.log(`# Edgegap benchmark, ${new Date().toISOString().slice(0, 10)}, node ${process.version}, ${cpus().length} cores, load ${loadavg()[0]?.toFixed(2)}`);
console.log(`\nPart 1: ${PER_WAY} deployments per way, median start 4 s, each way on its own fake (20 status requests/s)\n`);
console.log(table(part1, ["way", "detected", "p50Ms", "p95Ms", "requestsPerDeployment", "status429", "webhooksSent", "webhooksDropped"]));
const [plugin, polling, hooks, lossy, slowHooks, slowLossy] = part1;
console.log(
  `\nRatios vs the plugin loop: p50 ${round(polling.p50Ms / plugin.p50Ms, 2)}x (polling), ${round(hooks.p50Ms / plugin.p50Ms, 3)}x (webhooks), ${round(lossy.p50Ms / plugin.p50Ms, 2)}x (half lost), ${round(slowHooks.p50Ms / plugin.p50Ms, 3)}x / ${round(slowLossy.p50Ms / plugin.p50Ms, 2)}x (safety-net poll); requests ${[polling, hooks, lossy, slowHooks, slowLossy].map((w) => `${round(w.requestsPerDeployment / plugin.requestsPerDeployment, 2)}x`).join(", ")}`,
);
console.log(`\nPart 2: ${BURST} deployments created at once, median start 8 s, fake limit 20 status requests/s\n`);
console.log(table(part2, ["way", "detected", "status429", "requestsPerDeployment", "p50Ms", "p95Ms", "maxMs", "maxOverP50", "lastDetectedAfterMs"]));
console.log(`\nTotal ${round((performance.now() - started) / 1000, 1)} s`);
